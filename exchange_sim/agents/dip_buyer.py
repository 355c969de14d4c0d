"""Dip buyers: buy after a drop from the recent high they observed, take profit on a rebound,
stop out below.

The signal is minus the drop of the observed price (the index, or the last trade of each instant:
``price_source``) from the highest price it observed over ``high_window``: ``(high - price) /
high`` in ppb, floored (a monotonic queue keeps the window's high in O(1) amortised per
observation). A member buys when the drop reaches its threshold; it closes at ``take_profit``
above its entry or ``stop_loss`` below it (:mod:`.signal_group`); each entry names the price
update that made the drop cross its threshold.
"""

from __future__ import annotations

from collections import deque

from exchange_sim.agents.signal_group import SignalGroup
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE


class DipBuyerGroup(SignalGroup):
    ORIENTATION = -1
    ENTRY_REASON = "dip"
    FADE_REASON = "signal_faded"

    __slots__ = ("_highs",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._highs: deque = deque()
        """``(receive_ns, price)`` with prices strictly falling: the front is the window's high."""

    @property
    def recent_high(self) -> int | None:
        return self._highs[0][1] if self._highs else None

    def on_index(self, now: int, update) -> None:
        """Index subscription (``price_source = "index"``)."""
        self._observe(now, update.price_ticks, update.seq)

    def on_trades(self, now: int, update) -> None:
        """Feed handler, trade channel (``price_source = "last_trade"``)."""
        if update.trades:
            last = update.trades[-1]
            self._observe(now, last[2], last[1])

    def _observe(self, now: int, price: int, seq: int | None) -> None:
        self._observe_price(price, seq)
        highs = self._highs
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((now, price))
        horizon = now - self._cfg.high_window
        while highs[0][0] < horizon:
            highs.popleft()
        high = highs[0][1]
        drop = div_round((high - price) * RATE_SCALE, high, DOWN)
        self._on_signal(-drop, seq, price)
