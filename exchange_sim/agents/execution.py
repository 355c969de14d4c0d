"""An execution agent: works one metaorder (TWAP or POV) through the gateway, to measure impact.

At ``start`` it logs ``metaorder`` ``start`` with its arrival price: the mid of the last top of
book it saw, rounded against it (a buy's down, a sell's up), or the last index when the book had
no two sides. Then:

* **TWAP**: ``n = max(1, duration // child_interval)`` children, one every ``child_interval``
  from ``start``, of ``total_size // n`` lots each, the first ``total_size % n`` one lot larger
  (so they add up to ``total_size``). An unfilled remainder is not carried over. Cause: ``None``
  (its own schedule).
* **POV**: every ``child_interval`` after ``start`` and before ``start + duration``, a child of
  ``floor(participation x V)`` lots, at least one and at most what is left (``total_size`` less
  what filled and what is still open), where ``V`` is the volume of the trades it saw on the
  trade channel since the previous child, less its own fills (known from its fill reports by the
  time it sizes). Cause: the latest trades view it summed (``None`` when it saw no trade).

A child is a market order, or an IOC limit ``limit_offset`` beyond the touch it saw (a buy at
ask + offset, a sell at bid - offset; the index when that side was empty). ``end`` is logged once
nothing more will be sent and every child has closed and reported all its fills: filled lots,
VWAP, the arrival price and the signed impact (positive = the price moved against it). Its
account is funded by a ``Deposit`` at t = 0 and opened with its own leverage by the wiring.
"""

from __future__ import annotations

from exchange_sim.agents.maker_config import ExecutionConfig
from exchange_sim.core.contract import InverseContract, lots_value
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder

CLOSED = frozenset(("filled", "expired", "cancelled", "rejected"))


class _Child:
    __slots__ = ("expected", "received", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.received = 0
        self.expected: int | None = None  # lots filled, once the order has closed


class ExecutionAgent:
    """One account working one metaorder (see the module docstring)."""

    __slots__ = (
        "_arrival",
        "_cfg",
        "_children",
        "_env",
        "_gateway",
        "_log",
        "_mptl",
        "_next_child",
        "_next_order_id",
        "_own",
        "_plan",
        "_price_lots",
        "_seen",
        "_seen_seq",
        "_sending_done",
        "account_id",
        "ask",
        "bid",
        "child_sizes",
        "ended",
        "filled_lots",
        "index",
        "notional",
        "side",
        "started",
    )

    def __init__(
        self,
        env,
        gateway,
        log,
        config: ExecutionConfig,
        account_id: int,
        next_order_id,
        money_per_tick_lot: int,
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._log = log
        self._cfg = config
        self._next_order_id = next_order_id
        self._mptl = money_per_tick_lot
        self.account_id = account_id
        self.side = BUY if config.side == "buy" else SELL
        self.index: int | None = None
        self.bid: int | None = None
        self.ask: int | None = None
        self._seen: list[tuple[int, int]] = []
        self._seen_seq: int | None = None
        self._own: set[int] = set()
        self._children: dict[int, _Child] = {}
        self._arrival: int | None = None
        self._plan = (0, 0, 0)
        self._next_child = 0
        self._sending_done = False
        self.started = False
        self.ended = False
        self.child_sizes: list[int] = []
        self.filled_lots = 0
        self.notional = 0
        """The value of its children's fills: sum of price x size x money per tick-lot (an
        inverse contract: of each fill's value in coin)."""
        self._price_lots = 0

    def start(self) -> None:
        cfg = self._cfg
        if cfg.deposit:
            self._gateway.send(self.account_id, Deposit(cfg.deposit), None)
        self._env.call_at(cfg.start, Phase.AGENT, self._begin)

    # -- what it sees ------------------------------------------------------------------------------
    def on_index(self, now: int, update) -> None:
        self.index = update.price_ticks

    def on_feed(self, now: int, view) -> None:
        """One level of depth and the instant's trades."""
        self.bid = view.bids[0][0] if view.bids else None
        self.ask = view.asks[0][0] if view.asks else None
        if view.trades:
            self._seen.extend((trade[1], trade[3]) for trade in view.trades)
            self._seen_seq = view.seq

    # -- the metaorder -----------------------------------------------------------------------------
    def _begin(self, _payload) -> None:
        cfg = self._cfg
        now = self._env.now
        bid, ask = self.bid, self.ask
        if bid is not None and ask is not None:
            self._arrival = div_round(bid + ask, 2, DOWN if self.side == BUY else UP)
        else:
            self._arrival = self.index
        self.started = True
        self._emit(
            now,
            None,
            "start",
            arrival_price_ticks=self._arrival,
            best_bid_ticks=bid,
            best_ask_ticks=ask,
            index_ticks=self.index,
        )
        if cfg.style == "twap":
            n = max(1, cfg.duration // cfg.child_interval)
            self._plan = (n, *divmod(cfg.total_size, n))
            self._twap_child(None)
        else:
            self._seen.clear()
            self._seen_seq = None
            self._env.call_at(cfg.child_interval, Phase.AGENT, self._pov_child)

    def _twap_child(self, _payload) -> None:
        n, base, extra = self._plan
        i = self._next_child
        self._next_child = i + 1
        if i + 1 < n:
            self._env.call_at(self._cfg.child_interval, Phase.AGENT, self._twap_child)
        else:
            self._sending_done = True
        size = base + (1 if i < extra else 0)
        if size:
            self._send_child(size, None)
        self._maybe_end(None)

    def _pov_child(self, _payload) -> None:
        cfg = self._cfg
        now = self._env.now
        own = self._own
        volume = sum(size for seq, size in self._seen if seq not in own)
        cause = self._seen_seq if volume else None
        self._seen.clear()
        self._seen_seq = None
        if now >= self._deadline():
            self._sending_done = True
            self._maybe_end(None)
            return
        self._env.call_at(cfg.child_interval, Phase.AGENT, self._pov_child)
        open_lots = sum(c.size - c.received for c in self._children.values())
        left = cfg.total_size - self.filled_lots - open_lots
        if left > 0:
            wanted = max(1, div_round(cfg.participation * volume, RATE_SCALE, DOWN))
            self._send_child(min(wanted, left), cause)

    def _deadline(self) -> int:
        return self._cfg.start + self._cfg.duration

    def _send_child(self, size: int, cause: int | None) -> None:
        cfg = self._cfg
        side = self.side
        price = None
        if cfg.order_type == "ioc":
            touch = self.ask if side == BUY else self.bid
            if touch is None:
                touch = self.index
            if touch is None or touch + side * cfg.limit_offset < 1:
                self._emit(self._env.now, cause, "child", child_lots=0)
                return
            price = touch + side * cfg.limit_offset
        order_id = self._next_order_id()
        self._emit(self._env.now, cause, "child", child_lots=size, order_id=order_id)
        self._children[order_id] = _Child(size)
        self.child_sizes.append(size)
        self._gateway.send(self.account_id, SubmitOrder(order_id, side, price, size, IOC), cause)

    # -- reports -----------------------------------------------------------------------------------
    def on_fill(self, now: int, seq: int, fill) -> None:
        child = self._children.get(fill.order_id)
        if child is None:
            return  # a venue order on its account (its liquidation): not part of the metaorder
        self._own.add(seq)
        child.received += fill.size_lots
        self.filled_lots += fill.size_lots
        self.notional += lots_value(self._mptl, -self.side, fill.size_lots, fill.price_ticks)
        self._price_lots += fill.price_ticks * fill.size_lots
        self._settle(fill.order_id, child, seq)

    def on_order_update(self, now: int, seq: int, update) -> None:
        child = self._children.get(update.order_id)
        if child is None or update.status not in CLOSED:
            return
        if update.status == "filled":
            child.expected = update.size_lots
        elif update.status == "rejected":
            child.expected = 0
        else:
            child.expected = update.size_lots - update.remaining_lots
        self._settle(update.order_id, child, seq)

    def _settle(self, order_id: int, child: _Child, seq: int) -> None:
        """A child is done once it has closed and every fill it reported has arrived."""
        if child.expected is not None and child.received >= child.expected:
            del self._children[order_id]
            if self._cfg.style == "pov" and self.filled_lots >= self._cfg.total_size:
                self._sending_done = True
            self._maybe_end(seq)

    def _maybe_end(self, cause: int | None) -> None:
        if self.ended or not self._sending_done or self._children:
            return
        self.ended = True
        filled, notional, arrival, side = self.filled_lots, self.notional, self._arrival, self.side
        vwap = impact = impact_ppb = None
        mptl = self._mptl
        if filled and isinstance(mptl, InverseContract):
            # The average price of contracts is the harmonic one: lots x k / their value.
            bought = filled * mptl.k
            vwap = div_round(bought, notional, UP if side == BUY else DOWN)
            if arrival is not None:
                impact = side * (vwap - arrival)
                at_arrival = notional * arrival
                impact_ppb = div_round(side * (bought - at_arrival) * RATE_SCALE, at_arrival, UP)
        elif filled:
            price_lots = self._price_lots  # sum of price x lots of the fills, in ticks x lots
            vwap = div_round(price_lots, filled, UP if side == BUY else DOWN)
            if arrival is not None:
                impact = side * (vwap - arrival)
                at_arrival = filled * arrival
                impact_ppb = div_round(
                    side * (price_lots - at_arrival) * RATE_SCALE, at_arrival, UP
                )
        self._emit(
            self._env.now,
            cause,
            "end",
            arrival_price_ticks=arrival,
            index_ticks=self.index,
            filled_lots=filled,
            notional_minor=notional,
            vwap_ticks=vwap,
            impact_ticks=impact,
            impact_ppb=impact_ppb,
        )

    def _emit(self, now: int, cause: int | None, phase: str, **fields) -> int:
        record = dict.fromkeys(_FIELDS)
        record.update(fields)
        return self._log.emit(
            now,
            "metaorder",
            cause,
            account_id=self.account_id,
            phase=phase,
            side=self.side,
            style=self._cfg.style,
            total_lots=self._cfg.total_size,
            **record,
        )


_FIELDS = (
    "child_lots",
    "order_id",
    "arrival_price_ticks",
    "best_bid_ticks",
    "best_ask_ticks",
    "index_ticks",
    "filled_lots",
    "notional_minor",
    "vwap_ticks",
    "impact_ticks",
    "impact_ppb",
)
