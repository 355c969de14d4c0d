"""The index read from spot markets: per-market price state and the index "path" over them.

:class:`SpotPriceState` listens to one spot market's matching engine and keeps what an index rule
reads: the last trade (price, time, seq) and the touch (best bid and ask, and the time and seq of
the last event that changed the book). :class:`SpotIndexPath` is the index process's path for
``index.process.kind = "spot"``: at each sampling instant it applies the configured rule
(:mod:`exchange_sim.markets.index_rule`) to the live sources and remembers, as the sample's cause,
the update of the source that moved it most: among the sources the value came from, the one whose
price times weight changed most since the previous sample (ties and no move: the latest update).
With ``price = "last"`` that update is, among the trades since the previous sample, the last trade
of the taker order whose trades moved the last price most (a sweep counts as one move, from the
price before its first trade), so the chain runs to the taker who moved the market, not to
whichever small trade printed last. Pure: it reads state,
schedules nothing.
"""

from __future__ import annotations

from fractions import Fraction

from exchange_sim.markets.index_rule import combine, round_to_tick
from exchange_sim.pricing.index import SpotIndex

_BOOK_STATUSES = frozenset(("rested", "cancelled", "amended"))


class SpotPriceState:
    """What one spot market's prices look like to an index rule (engine listeners)."""

    __slots__ = (
        "_group_id",
        "_group_start",
        "book",
        "book_seq",
        "book_ts",
        "last_trade_price",
        "last_trade_seq",
        "last_trade_ts",
        "mover_move",
        "mover_seq",
        "name",
    )

    def __init__(self, name: str, book) -> None:
        self.name = name
        self.book = book
        self.last_trade_price: int | None = None
        self.last_trade_ts = -1
        self.last_trade_seq: int | None = None
        self.book_ts = -1
        self.book_seq: int | None = None
        self._group_id: int | None = None
        self._group_start: int | None = None
        self.mover_move = -1
        self.mover_seq: int | None = None
        """Since :meth:`restart_mover`: the last trade of the taker order whose trades moved the
        last price most (its move from the price before the order's first trade)."""

    def restart_mover(self) -> None:
        self.mover_move = -1
        self.mover_seq = None

    def on_trade(self, now, seq, maker, taker, price, size) -> None:
        if taker.order_id != self._group_id:
            self._group_id = taker.order_id
            self._group_start = (
                self.last_trade_price if self.last_trade_price is not None else price
            )
        move = abs(price - self._group_start)
        if move >= self.mover_move:
            self.mover_move = move
            self.mover_seq = seq
        self.last_trade_price = price
        self.last_trade_ts = now
        self.last_trade_seq = seq
        self.book_ts = now
        self.book_seq = seq

    def on_order_event(self, now, seq, order, status) -> None:
        if status in _BOOK_STATUSES:
            self.book_ts = now
            self.book_seq = seq

    def price(self, use_mid: bool) -> tuple[Fraction | None, int, int | None]:
        """``(price, last update ts, seq of that update)`` by the rule's price choice."""
        if not use_mid:
            price = self.last_trade_price
            return (
                None if price is None else Fraction(price),
                self.last_trade_ts,
                self.last_trade_seq,
            )
        bid, ask = self.book.best_bid_ticks, self.book.best_ask_ticks
        if bid is None or ask is None:
            return None, self.book_ts, self.book_seq
        return Fraction(bid + ask, 2), self.book_ts, self.book_seq


class SpotIndexPath:
    """The index process's path for a spot index (see the module docstring)."""

    __slots__ = ("_band", "_last", "_method", "_sources", "_staleness", "_use_mid", "cause")

    def __init__(self, config: SpotIndex, states: dict[str, SpotPriceState]) -> None:
        self._sources = [
            (states[source.market], Fraction(source.weight)) for source in config.sources
        ]
        self._use_mid = config.price == "mid"
        self._method = config.method
        self._band = config.outlier_band_ppb
        self._staleness = config.staleness
        self._last: list[Fraction | None] = [None] * len(self._sources)
        """Each source's price at the previous sample (``None``: not live then)."""
        self.cause: int | None = None
        """The seq of the update of the source that moved the last sample most (see
        :meth:`price_at`)."""

    def price_at(self, t_ns: int) -> int | None:
        """The index at ``t_ns`` in ticks, ``None`` when no source is live."""
        prices, weights, seqs, moves = [], [], [], []
        last = self._last
        for i, (state, weight) in enumerate(self._sources):
            price, updated, seq = state.price(self._use_mid)
            if not self._use_mid and state.mover_seq is not None:
                seq = state.mover_seq  # the order whose trades moved the last price most
            state.restart_mover()
            if price is None or t_ns - updated > self._staleness:
                last[i] = None
                continue
            before = last[i]
            last[i] = price
            prices.append(price)
            weights.append(weight)
            seqs.append(seq)
            moves.append(0 if before is None else weight * abs(price - before))
        if not prices:
            self.cause = None
            return None
        value, used = combine(prices, weights, self._method, self._band)
        # The cause: the update of the used source whose weighted price moved most since the
        # previous sample (what moved the index); with no move, the latest update among them.
        best = None
        for i in used:
            if seqs[i] is None:
                continue
            key = (moves[i], seqs[i])
            if best is None or key > best:
                best = key
        self.cause = None if best is None else best[1]
        return round_to_tick(value)
