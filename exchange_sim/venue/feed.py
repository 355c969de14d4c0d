"""The market-data feed: top of book and last trade, published to subscribers with latency.

Book changes within one instant are coalesced: the first change schedules one snapshot in the
``FEED`` phase of that instant (after all of the instant's matching), and each subscriber receives
it after its own feed latency, in the ``AGENT`` phase. A snapshot is an immutable tuple
``(ts_exchange, best_bid, bid_lots, best_ask, ask_lots, last_trade_price)`` (ticks and lots; a
missing side is ``None``), so a subscriber can compare the exchange time with its receive time.
Feed deliveries are views, not state changes, so they are not logged.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.sim.kernel import Phase, PhasedEnvironment, PhasedTimeout
from exchange_sim.sim.latency import LatencySampler

Snapshot = tuple
SnapshotHandler = Callable[[int, Snapshot], None]


class MarketDataFeed:
    __slots__ = ("_book", "_env", "_scheduled", "_subscribers", "last_trade_price", "snapshot")

    def __init__(self, env: PhasedEnvironment, engine: MatchingEngine) -> None:
        self._env = env
        self._book = engine.book
        self._subscribers: list[tuple[SnapshotHandler, LatencySampler]] = []
        self._scheduled = False
        self.last_trade_price: int | None = None
        self.snapshot: Snapshot | None = None
        engine.order_listeners.append(self._on_order_event)
        engine.trade_listeners.append(self._on_trade)

    def subscribe(self, handler: SnapshotHandler, latency: LatencySampler) -> None:
        self._subscribers.append((handler, latency))

    def _on_order_event(self, now, seq, order, status) -> None:
        if not self._scheduled:
            self._schedule()

    def _on_trade(self, now, seq, maker, taker, price, size) -> None:
        self.last_trade_price = price
        if not self._scheduled:
            self._schedule()

    def _schedule(self) -> None:
        self._scheduled = True
        event = PhasedTimeout(self._env, 0, Phase.FEED)
        event.callbacks.append(self._publish)

    def _publish(self, _event) -> None:
        self._scheduled = False
        book = self._book
        bids = book.depth(1, 1)
        asks = book.depth(-1, 1)
        bid, bid_lots = bids[0] if bids else (None, None)
        ask, ask_lots = asks[0] if asks else (None, None)
        snapshot = (self._env.now, bid, bid_lots, ask, ask_lots, self.last_trade_price)
        if snapshot[1:] == (self.snapshot[1:] if self.snapshot else None):
            return
        self.snapshot = snapshot
        env = self._env
        for handler, latency in self._subscribers:
            event = PhasedTimeout(env, latency.draw(), Phase.AGENT, snapshot)
            event.callbacks.append(lambda e, h=handler: h(e.env.now, e._value))
