"""The market-data feed: top of book, depth and trades, published to subscribers with latency.

Book changes within one instant are coalesced: the first change schedules one publication in the
``FEED`` phase of that instant (after all of the instant's matching), and each subscriber whose
view changed receives one message after its own feed latency, in the ``AGENT`` phase. Every
message carries the exchange timestamp ``ts_exchange`` so a subscriber can compare it with its
receive time. Feed deliveries are views, not state changes, so they are not logged.

What a subscriber receives depends on the channels it chose in :meth:`MarketDataFeed.subscribe`:

* **Top of book only** (``depth_levels=0, trades=False``, the default): a :class:`TopOfBook`
  ``(ts_exchange, best_bid, bid_lots, best_ask, ask_lots, last_trade_price, seq)`` (ticks and
  lots; a missing side is ``None``), sent when any of the five book fields changed.
* **Depth and/or trades**: a :class:`FeedUpdate` (a named tuple, so immutable)
  ``(ts_exchange, bids, asks, last_trade_price, trades, seq)``. ``bids`` / ``asks`` are the best
  ``depth_levels`` levels per side, best first, as tuples of ``(price_ticks, lots)`` (empty
  tuples without the depth channel). ``trades`` is every trade printed in the instant, in print
  order, as :data:`Trade` tuples ``(ts_exchange, trade_seq, price_ticks, size_lots,
  aggressor_side)`` (empty without the trade channel or when nothing traded), so a sweep of 50
  fills is one message. The message is sent when the visible depth or the last trade price
  changed (depth channel) or when the instant printed trades (trade channel).

Every message carries ``seq``, the latest logged event that changed what the view shows before it
was taken: for the top of book and one level of depth, the latest event that changed the best
bid or ask or the lots at them (a maker re-sending a deeper level does not count); for deeper
views, the latest event that changed the book (a trade, or an order resting, cancelled or
amended). A participant reacting to the view names it as its order's cause, so the causal log
runs through market data honestly.
**Index** subscribers (:meth:`MarketDataFeed.subscribe_index`) receive an :class:`IndexUpdate`
after each ``index_price``, and **liquidation-stream** subscribers
(:meth:`MarketDataFeed.subscribe_liquidations`) a :class:`LiquidationNotice` after each forced
fill, each after their own latency.

Cost: per instant with a book change the feed reads the book once per side (to the deepest level
any subscriber asked for) and compares one view per distinct ``(depth_levels, trades)`` channel
group, then schedules one delivery per subscriber whose view changed; a trade costs one small
tuple only while some subscriber has the trade channel. Subscribers sharing a channel group share
the last-sent view (a depth view starts as an empty book with no trade yet), so, like the original
feed, a late subscriber first hears at the next change its group sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import LatencySampler
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, SELL

Trade = tuple
"""``(ts_exchange, trade_seq, price_ticks, size_lots, aggressor_side)``; side BUY=1 / SELL=-1."""
SnapshotHandler = Callable[[int, object], None]


_BOOK_STATUSES = frozenset(("rested", "cancelled", "amended"))
"""Order outcomes that change the book without a trade (trades are heard separately)."""


class TopOfBook(NamedTuple):
    """The top-of-book view (see the module docstring); index 1 and 3 are bid and ask."""

    ts_exchange: int
    best_bid: int | None
    bid_lots: int | None
    best_ask: int | None
    ask_lots: int | None
    last_trade_price: int | None
    seq: int | None
    """The latest event that changed the book before this view (``None``: none yet)."""


Snapshot = TopOfBook


class FeedUpdate(NamedTuple):
    """One instant's view for a depth/trade subscriber (see the module docstring)."""

    ts_exchange: int
    """Exchange time (ns) of the instant the view was taken in."""
    bids: tuple[tuple[int, int], ...]
    """Best bid levels ``(price_ticks, lots)``, best first; ``()`` without the depth channel."""
    asks: tuple[tuple[int, int], ...]
    """Best ask levels ``(price_ticks, lots)``, best first; ``()`` without the depth channel."""
    last_trade_price: int | None
    """Price (ticks) of the latest trade ever printed, ``None`` before the first."""
    trades: tuple[Trade, ...]
    """The instant's trades in print order; ``()`` without the trade channel or trades."""
    seq: int | None = None
    """The latest event that changed the book before this view (``None``: none yet)."""


class IndexUpdate(NamedTuple):
    """An index publication as a subscriber receives it (after its own latency)."""

    ts_exchange: int
    """When the venue published it, ns."""
    price_ticks: int
    """The index price, ticks."""
    seq: int
    """The ``index_price`` event's seq (what a reaction to it names as its cause)."""


class LiquidationNotice(NamedTuple):
    """One forced fill on the public liquidation stream (Binance's force-order stream): the
    side of the venue's order (-1 sells a long), its price and size; ``seq`` is the
    ``liquidation_fill`` event."""

    ts_exchange: int
    side: int
    price_ticks: int
    size_lots: int
    seq: int


class Subscription:
    """One subscriber: its handler, feed latency and channels (returned by ``subscribe``)."""

    __slots__ = ("_group", "depth_levels", "handler", "latency", "trades")

    def __init__(
        self,
        handler: SnapshotHandler,
        latency: LatencySampler,
        depth_levels: int,
        trades: bool,
        group: _ChannelGroup,
    ) -> None:
        self.handler = handler
        self.latency = latency
        self.depth_levels = depth_levels
        self.trades = trades
        self._group = group


class _ChannelGroup:
    """Subscribers with the same channels see the same view: its last-sent value and this one."""

    __slots__ = ("depth_levels", "last_view", "message", "trades")

    def __init__(self, depth_levels: int, trades: bool) -> None:
        self.depth_levels = depth_levels
        self.trades = trades
        self.last_view: tuple = ((), (), None)  # an empty book before any trade
        self.message: object = None  # the instant's message, None when the view did not change


class MarketDataFeed:
    __slots__ = (
        "_book",
        "_book_seq",
        "_env",
        "_extended_groups",
        "_groups",
        "_index_subscribers",
        "_liquidation_subscribers",
        "_max_depth",
        "_pending_trades",
        "_scheduled",
        "_subscribers",
        "_top_group",
        "_touch",
        "_touch_seq",
        "_trade_subscribers",
        "last_trade_price",
        "snapshot",
    )

    def __init__(self, env: PhasedEnvironment, engine: MatchingEngine) -> None:
        self._env = env
        self._book = engine.book
        self._subscribers: list[Subscription] = []
        self._groups: dict[tuple[int, bool], _ChannelGroup] = {}
        self._top_group: _ChannelGroup | None = None
        self._extended_groups: list[_ChannelGroup] = []
        self._max_depth = 0
        self._trade_subscribers = 0
        self._pending_trades: list[Trade] = []
        self._scheduled = False
        self.last_trade_price: int | None = None
        self.snapshot: Snapshot | None = None
        """The latest top-of-book snapshot that differed from its predecessor."""
        self._index_subscribers: list[tuple[SnapshotHandler, LatencySampler]] = []
        self._book_seq: int | None = None
        self._touch: tuple = (None, None, None, None)
        """(best bid, its lots, best ask, its lots) after the latest book change."""
        self._touch_seq: int | None = None
        """The latest event that changed ``_touch``."""
        self._liquidation_subscribers: list[tuple[SnapshotHandler, LatencySampler]] = []

    def subscribe(
        self,
        handler: SnapshotHandler,
        latency: LatencySampler,
        depth_levels: int = 0,
        trades: bool = False,
    ) -> Subscription:
        """Deliver ``handler(receive_ns, message)`` after ``latency`` on every change it can see.

        ``depth_levels`` (levels per side, >= 0) turns on the depth channel and ``trades`` the
        trade channel; with neither the message is the original top-of-book tuple, otherwise a
        :class:`FeedUpdate` (module docstring).
        """
        if depth_levels < 0:
            raise ValueError(f"depth_levels must be >= 0, got {depth_levels}")
        trades = bool(trades)
        key = (depth_levels, trades)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _ChannelGroup(depth_levels, trades)
            if key == (0, False):
                self._top_group = group
            else:
                self._extended_groups.append(group)
        sub = Subscription(handler, latency, depth_levels, trades, group)
        if depth_levels > self._max_depth:
            self._max_depth = depth_levels
        if trades:
            self._trade_subscribers += 1
        self._subscribers.append(sub)
        return sub

    def subscribe_liquidations(self, handler: SnapshotHandler, latency: LatencySampler) -> None:
        """Deliver ``handler(receive_ns, LiquidationNotice)`` ``latency`` after every forced fill
        of the venue's liquidation engine, fund or vault (in the AGENT phase)."""
        self._liquidation_subscribers.append((handler, latency))

    def on_liquidation_fill(self, now: int, seq: int, side: int, price: int, lots: int) -> None:
        """Liquidation listener: schedule each liquidation-stream subscriber's delivery."""
        if not self._liquidation_subscribers:
            return
        notice = LiquidationNotice(now, side, price, lots, seq)
        call_at = self._env.call_at
        for handler, latency in self._liquidation_subscribers:
            call_at(latency.draw(), Phase.AGENT, self._deliver, (handler, notice))

    def subscribe_index(self, handler: SnapshotHandler, latency: LatencySampler) -> None:
        """Deliver ``handler(receive_ns, IndexUpdate)`` ``latency`` after every index publication
        (in the AGENT phase), in subscription order."""
        self._index_subscribers.append((handler, latency))

    def on_index(self, now: int, price: int, seq: int) -> None:
        """Index listener: schedule each index subscriber's delivery."""
        if not self._index_subscribers:
            return
        update = IndexUpdate(now, price, seq)
        call_at = self._env.call_at
        for handler, latency in self._index_subscribers:
            call_at(latency.draw(), Phase.AGENT, self._deliver, (handler, update))

    def on_order_event(self, now, seq, order, status) -> None:
        if status in _BOOK_STATUSES:
            self._book_seq = seq
            self._note_touch(seq)
        if not self._scheduled:
            self._schedule()

    def _note_touch(self, seq: int) -> None:
        book = self._book
        bid, ask = book.best_bid_ticks, book.best_ask_ticks
        touch = (
            bid,
            None if bid is None else book.bids[bid].total_lots,
            ask,
            None if ask is None else book.asks[ask].total_lots,
        )
        if touch != self._touch:
            self._touch = touch
            self._touch_seq = seq

    def on_trade(self, now, seq, maker, taker, price, size) -> None:
        self._book_seq = seq
        self._note_touch(seq)
        self.last_trade_price = price
        if self._trade_subscribers:
            self._pending_trades.append((now, seq, price, size, taker.side))
        if not self._scheduled:
            self._schedule()

    def _schedule(self) -> None:
        self._scheduled = True
        self._env.call_at(0, Phase.FEED, self._publish)

    def _publish(self, _event) -> None:
        self._scheduled = False
        env = self._env
        # Sim time is integer ns (PhasedEnvironment); simpy's stubs say int | float.
        now = env.now
        book = self._book
        last_price = self.last_trade_price

        # Top of book: always maintained (``snapshot`` is public), sent to the (0, False) group.
        bid, ask = book.best_bid_ticks, book.best_ask_ticks
        bid_lots = None if bid is None else book.bids[bid].total_lots
        ask_lots = None if ask is None else book.asks[ask].total_lots
        book_seq = self._book_seq
        touch_seq = self._touch_seq
        snapshot = TopOfBook(now, bid, bid_lots, ask, ask_lots, last_price, touch_seq)
        top_changed = snapshot[1:6] != (self.snapshot[1:6] if self.snapshot else None)
        if top_changed:
            self.snapshot = snapshot
        top_group = self._top_group
        if top_group is not None:
            top_group.message = snapshot if top_changed else None

        # Depth / trade groups: read the book once to the deepest level asked for.
        any_extended = False
        if self._extended_groups:
            trades: tuple[Trade, ...] = ()
            if self._pending_trades:
                trades = tuple(self._pending_trades)
                self._pending_trades.clear()
            max_depth = self._max_depth
            all_bids = tuple(book.depth(BUY, max_depth)) if max_depth else ()
            all_asks = tuple(book.depth(SELL, max_depth)) if max_depth else ()
            for group in self._extended_groups:
                group.message = None
                levels = group.depth_levels
                bids: tuple[tuple[int, int], ...] = ()
                asks: tuple[tuple[int, int], ...] = ()
                changed = False
                if levels:
                    bids, asks = all_bids[:levels], all_asks[:levels]
                    view = (bids, asks, last_price)
                    if view != group.last_view:
                        group.last_view = view
                        changed = True
                group_trades = trades if group.trades else ()
                if changed or group_trades:
                    seq = touch_seq if levels == 1 and not group_trades else book_seq
                    group.message = FeedUpdate(now, bids, asks, last_price, group_trades, seq)
                    any_extended = True
        if not (top_changed or any_extended):
            return

        # One delivery per subscriber whose view changed, in subscription order.
        for sub in self._subscribers:
            message = sub._group.message
            if message is not None:
                env.call_at(sub.latency.draw(), Phase.AGENT, self._deliver, (sub.handler, message))

    def _deliver(self, payload) -> None:
        handler, message = payload
        handler(self._env.now, message)
