"""The venue's mark price: the configured venue rule, run in the ``MARK`` phase on a cadence.

Every ``cadence`` the rule is fed the current index, best bid/ask and last trade; when the mark
changes a ``mark_price`` event is logged and listeners (risk monitor, funding, liquidation) are
called. The event's ``cause`` is the most recent input that could have moved it (the latest
``index_price`` or ``trade`` event), so the log's causal chain runs from a liquidation's fills
through the mark to the next margin check.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.kernel.environment import Phase
from exchange_sim.pricing.mark import build_mark_rule
from exchange_sim.pricing.mark_config import MarkConfig

MarkListener = Callable[[int, int, int], None]
"""Called as ``listener(now_ns, mark_ticks, mark_event_seq)``."""


class MarkPriceService:
    __slots__ = (
        "_book",
        "_cadence",
        "_env",
        "_feed",
        "_index",
        "_input_seq",
        "_log",
        "_rule",
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
        self._input_seq: int | None = None
        self.price: int | None = None
        self.listeners: list[MarkListener] = []

    def current(self) -> int | None:
        """The price now (ticks), ``None`` before the first."""
        return self.price

    def on_index(self, now: int, price: int, seq: int) -> None:
        self._input_seq = seq

    def on_trade(self, now, seq, maker, taker, price, size) -> None:
        self._input_seq = seq

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
        seq = self._log.emit(now, "mark_price", self._input_seq, price=mark, index_price=index)
        for listener in self.listeners:
            listener(now, mark, seq)
