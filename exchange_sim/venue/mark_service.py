"""The venue's mark price: the configured venue rule, run in the ``MARK`` phase on a cadence.

Every ``cadence`` the rule is fed the current index, best bid/ask and last trade; when the mark
changes a ``mark_price`` event is logged and listeners (the risk monitor) are called.

**Honest cause.** A ``mark_price``'s ``cause`` is the latest event among the inputs its value
came from: the rule declares the inputs it can read (``INPUTS``) and reports after each update
which of them determined the value (``determined_by``: the candidate a median picked, every term
of a mean). The inputs are the latest ``index_price`` (``index``), the latest event that changed
the touch (``touch``: a resting order joining the book, a cancel, an amend or a trade that moved
the best bid or ask) and the latest ``trade`` (``trade``). A rule that reads only the index
(BitMEX's fair price, dYdX's oracle) is therefore never caused by a trade, a Binance mark whose
median is the last price is caused by that trade, and the causal tree shows only the feedback
paths the venue's rule has. ``None`` before any input.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.kernel.environment import Phase
from exchange_sim.pricing.mark import build_mark_rule
from exchange_sim.pricing.mark_config import MarkConfig

_TOUCH_STATUSES = frozenset(("rested", "cancelled", "amended"))
"""Order outcomes that can move the touch without a trade (trades are heard separately)."""

MarkListener = Callable[[int, int, int], None]
"""Called as ``listener(now_ns, mark_ticks, mark_event_seq)``."""


class MarkPriceService:
    __slots__ = (
        "_book",
        "_cadence",
        "_env",
        "_feed",
        "_index",
        "_index_seq",
        "_log",
        "_rule",
        "_touch",
        "_touch_seq",
        "_trade_seq",
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
        self._index_seq: int | None = None
        self._touch_seq: int | None = None
        self._trade_seq: int | None = None
        self._touch: tuple[int | None, int | None] = (None, None)
        self.price: int | None = None
        self.listeners: list[MarkListener] = []

    def current(self) -> int | None:
        """The price now (ticks), ``None`` before the first."""
        return self.price

    def on_index(self, now: int, price: int, seq: int) -> None:
        """Index listener: the latest ``index_price``."""
        self._index_seq = seq

    def on_trade(self, now, seq, maker, taker, price, size) -> None:
        """Trade listener: the latest ``trade`` (and the touch, if the trade moved it)."""
        self._trade_seq = seq
        self._note_touch(seq)

    def on_order_event(self, now, seq, order, status) -> None:
        """Order listener: an order joining or leaving the book may move the touch."""
        if status in _TOUCH_STATUSES:
            self._note_touch(seq)

    def _note_touch(self, seq: int) -> None:
        book = self._book
        touch = (book.best_bid_ticks, book.best_ask_ticks)
        if touch != self._touch:
            self._touch = touch
            self._touch_seq = seq

    def input_cause(self) -> int | None:
        """The seq of the latest input event the rule's last value came from (module docstring)."""
        used = self.rule.determined_by
        cause = None
        for name, seq in (
            ("index", self._index_seq),
            ("touch", self._touch_seq),
            ("trade", self._trade_seq),
        ):
            if name in used and seq is not None and (cause is None or seq > cause):
                cause = seq
        return cause

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
        seq = self._log.emit(now, "mark_price", self.input_cause(), price=mark, index_price=index)
        for listener in self.listeners:
            listener(now, mark, seq)
