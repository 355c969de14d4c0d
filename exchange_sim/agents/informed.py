"""Informed traders: they watch the fundamental value and trade the market toward it.

An informed trader sees the latent fundamental (and so a news jump) after its own
``fundamental_latency``, and the market's top of book after ``feed_latency``. Each time either
changes, and every ``check_interval``, it compares them: when the best bid is more than
``threshold`` above the value it **sells** ``min(clip_size, room)`` as an IOC limit at the value
plus half the threshold (rounded up: it never sells below that), and mirror-wise **buys** when
the best ask is more than ``threshold`` below it. ``room`` keeps its position within
``max_position`` (and, on a spot market, its sells within the base it holds). One order in
flight at a time. This is how news reaches prices: the rest of the market learns it only from
the trades informed flow makes. Each order names as cause the later of the two views it read
(the fundamental update, the market-data view).
"""

from __future__ import annotations

from exchange_sim.agents.flow_config import InformedTraderConfig
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder

CLOSED = frozenset(("filled", "cancelled", "expired", "rejected"))


def _later(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None or a > b else b


class InformedTrader:
    """One account trading toward the fundamental value (see the module docstring)."""

    __slots__ = (
        "_cfg",
        "_env",
        "_gateway",
        "_in_flight",
        "_next_order_id",
        "_spot",
        "account_id",
        "ask",
        "bid",
        "book_seq",
        "orders_sent",
        "position_lots",
        "value",
        "value_seq",
    )

    def __init__(
        self, env, gateway, config: InformedTraderConfig, account_id: int, next_order_id, spot: bool
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._cfg = config
        self._next_order_id = next_order_id
        self._spot = spot
        self._in_flight: int | None = None
        self.account_id = account_id
        self.value: int | None = None
        self.value_seq: int | None = None
        self.bid: int | None = None
        self.ask: int | None = None
        self.book_seq: int | None = None
        self.position_lots = 0
        self.orders_sent = 0

    def start(self) -> None:
        cfg, me = self._cfg, self.account_id
        if cfg.deposit:
            self._gateway.send(me, Deposit(cfg.deposit), None)
        if cfg.base_deposit:
            self._gateway.send(me, Deposit(cfg.base_deposit, asset="base"), None)
        self._env.call_at(cfg.check_interval, Phase.AGENT, self._tick)

    # -- what it sees ----------------------------------------------------------------------------
    def on_fundamental(self, now: int, update) -> None:
        self.value, self.value_seq = update.price_ticks, update.seq
        self._decide()

    def on_snapshot(self, now: int, snapshot) -> None:
        self.bid, self.ask, self.book_seq = snapshot.best_bid, snapshot.best_ask, snapshot.seq
        self._decide()

    def _tick(self, _payload) -> None:
        self._env.call_at(self._cfg.check_interval, Phase.AGENT, self._tick)
        self._decide()

    # -- decision --------------------------------------------------------------------------------
    def _decide(self) -> None:
        value = self.value
        if self._in_flight is not None or value is None:
            return
        cfg = self._cfg
        threshold, half = cfg.threshold, cfg.threshold // 2
        position = self.position_lots
        bid, ask = self.bid, self.ask
        if bid is not None and bid * RATE_SCALE > value * (RATE_SCALE + threshold):
            room = cfg.max_position + position
            if self._spot:
                room = min(room, cfg.base_deposit + position)
            price = div_round(value * (RATE_SCALE + half), RATE_SCALE, UP)
            self._send(SELL, price, min(cfg.clip_size, room))
        elif ask is not None and ask * RATE_SCALE < value * (RATE_SCALE - threshold):
            price = div_round(value * (RATE_SCALE - half), RATE_SCALE, DOWN)
            self._send(BUY, price, min(cfg.clip_size, cfg.max_position - position))

    def _send(self, side: int, price: int, lots: int) -> None:
        if lots <= 0 or price < 1:
            return
        order = SubmitOrder(self._next_order_id(), side, price, lots, tif=IOC)
        self._in_flight = order.order_id
        self.orders_sent += 1
        self._gateway.send(self.account_id, order, _later(self.value_seq, self.book_seq))

    # -- venue reports ---------------------------------------------------------------------------
    def on_order_update(self, now: int, seq: int, update) -> None:
        if update.order_id == self._in_flight and update.status in CLOSED:
            self._in_flight = None

    def on_fill(self, now: int, seq: int, fill) -> None:
        self.position_lots += fill.side * fill.size_lots

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        self.position_lots += transfer.side * transfer.size_lots
