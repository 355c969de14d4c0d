"""The venue's mark price: the configured venue rule, run in the ``MARK`` phase on a cadence.

Every ``cadence`` the rule is fed the current index, best bid/ask and last trade; when the mark
changes a ``mark_price`` event is logged and listeners (the risk monitor) are called.

**Honest cause.** A ``mark_price`` names the input that moved it. The rule declares the inputs it
can read (``INPUTS``) and reports after each update which of them determined the value
(``determined_by``: the candidate a median picked, every term of a mean). The inputs are the
``index`` (``index_price`` events), the ``touch`` (the mid, moved by a resting order joining the
book, a cancel, an amend or a trade) and the last ``trade``. Between two marks each input keeps its
**mover**: the one event that changed it most (largest |change|, all in half ticks so the mid
compares with prices; ties go to the later event). The mark names, among the inputs that determined
it, the mover of the input that moved most since the previous mark (ties: the later mover); when no
determining input moved, the latest event among them. A rule that splits its value into a part per
input (``components``: Binance's ``Index + MA(basis)`` is the index plus the basis average) is
judged by how much each part changed instead of how much the raw input did: a perpetual trading
below its index moves Binance's mark through the basis average long after the touch itself stopped
moving. Why: in a falling market the latest touch change is usually an uninformed quote, while the
event that moved the price is the sweep (or the index sample) that did; "latest" attribution lost
cascades in the noise. A rule that reads only the index (BitMEX's fair price, dYdX's oracle) is
never caused by a trade, and the causal tree shows only the feedback paths the venue's rule has.
``None`` before any input.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from exchange_sim.kernel.environment import Phase
from exchange_sim.pricing.mark import build_mark_rule
from exchange_sim.pricing.mark_config import MarkConfig

_TOUCH_STATUSES = frozenset(("rested", "cancelled", "amended"))
"""Order outcomes that can move the touch without a trade (trades are heard separately)."""

MarkListener = Callable[[int, int, int], None]
"""Called as ``listener(now_ns, mark_ticks, mark_event_seq)``."""


def _component_change(now: dict, before: dict, name: str) -> Fraction:
    """|change| of one input's part of the mark since the previous mark, in half ticks (the
    raw inputs' moves are in half ticks too)."""
    if name not in now:
        return Fraction(0)
    return 2 * abs(Fraction(*now[name]) - Fraction(*before[name]))


class _Input:
    """One input of the mark between two marks: its value then and now, its latest event and
    its mover (the event that changed it most)."""

    __slots__ = ("best", "group", "group_start", "half", "mover", "seq", "start", "value")

    def __init__(self, half_ticks: bool = False) -> None:
        self.half = 1 if half_ticks else 2
        """Changes are compared in half ticks: the mid is kept in half ticks already."""
        self.value: int | None = None
        self.start: int | None = None
        self.seq: int | None = None
        self.mover: int | None = None
        self.best = -1
        self.group: int | None = None
        self.group_start: int | None = None

    def note(self, value: int | None, seq: int, group: int | None = None) -> None:
        """A new value from event ``seq``; events of one ``group`` (a taker order's trades)
        are one move, measured from the value before the group's first event."""
        before = self.value
        if group is not None:
            if group != self.group:
                self.group = group
                self.group_start = before
            before = self.group_start
        change = 0 if before is None or value is None else self.half * abs(value - before)
        if change >= self.best:
            self.best = change
            self.mover = seq
        if value is not None:  # a one-sided book has no mid: the next mid is compared with the last
            self.value = value
        self.seq = seq

    def total(self) -> int:
        """|value now - value at the previous mark| in half ticks (0 when it is unknown now; for
        an input that appeared since the previous mark, its mover's change)."""
        if self.value is None:
            return 0
        if self.start is None:
            return max(self.best, 0)
        return self.half * abs(self.value - self.start)

    def restart(self) -> None:
        """A mark was published: measure from here."""
        self.start = self.value
        self.best = -1
        self.mover = self.seq


class MarkPriceService:
    __slots__ = (
        "_book",
        "_cadence",
        "_components",
        "_env",
        "_feed",
        "_index",
        "_log",
        "_moves",
        "_rule",
        "_touch",
        "listeners",
        "price",
        "rule",
    )

    def __init__(self, env, log, config: MarkConfig, index_publisher, engine, feed) -> None:
        self._env = env
        self._log = log
        self._cadence = config.cadence
        self.rule = build_mark_rule(config.rule)
        self._index = index_publisher
        self._book = engine.book
        self._feed = feed
        self._moves = {"index": _Input(), "touch": _Input(half_ticks=True), "trade": _Input()}
        self._components: dict | None = None
        """The rule's ``components`` at the previous mark."""
        self._touch: tuple[int | None, int | None] = (None, None)
        self.price: int | None = None
        self.listeners: list[MarkListener] = []

    def current(self) -> int | None:
        """The price now (ticks), ``None`` before the first."""
        return self.price

    def on_index(self, now: int, price: int, seq: int) -> None:
        """Index listener: an ``index_price``."""
        self._moves["index"].note(price, seq)

    def on_trade(self, now, seq, maker, taker, price, size) -> None:
        """Trade listener: the last price (and the touch, if the trade moved it). The trades of
        one taker order count as one move, from the price before its first trade."""
        self._moves["trade"].note(price, seq, taker.order_id)
        self._note_touch(seq)

    def on_order_event(self, now, seq, order, status) -> None:
        """Order listener: an order joining or leaving the book may move the touch."""
        if status in _TOUCH_STATUSES:
            self._note_touch(seq)

    def _note_touch(self, seq: int) -> None:
        book = self._book
        bid, ask = book.best_bid_ticks, book.best_ask_ticks
        touch = (bid, ask)
        if touch != self._touch:
            self._touch = touch
            # The mid in half ticks; a one-sided book has no mid (its change is not measured).
            self._moves["touch"].note(None if bid is None or ask is None else bid + ask, seq)

    def input_cause(self) -> int | None:
        """The seq of the event that moved the mark (module docstring)."""
        rule = self.rule
        used = rule.determined_by
        now = getattr(rule, "components", None)
        before = self._components
        best = None  # (move, mover seq)
        latest = None
        for name, move in self._moves.items():
            if name not in used or move.seq is None:
                continue
            if latest is None or move.seq > latest:
                latest = move.seq
            total: int | Fraction
            if now is not None and before is not None and now.keys() == before.keys():
                total = _component_change(now, before, name)
            else:  # not split, or the median picked another candidate: the raw input's move
                total = move.total()
            if total and (best is None or (total, move.mover) > best):
                best = (total, move.mover)
        self._components = now
        return latest if best is None else best[1]

    def start(self) -> None:
        self._env.call_at(0, Phase.MARK, self._tick)

    def _tick(self, _event) -> None:
        env = self._env
        env.call_at(self._cadence, Phase.MARK, self._tick)
        index = self._index.price
        if index is None:
            return
        book = self._book
        mark = self.rule.update(
            env.now, index, book.best_bid(), book.best_ask(), self._feed.last_trade_price
        )
        if mark == self.price:
            return
        self.price = mark
        now = env.now
        seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "mark_price",
                "cause": self.input_cause(),
                "price": mark,
                "index_price": index,
            }
        )
        for move in self._moves.values():
            move.restart()
        for listener in self.listeners:
            listener(now, mark, seq)
