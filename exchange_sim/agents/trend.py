"""Trend followers: sell into falls and buy into rises.

The signal is the change of the price the group observes (the index after its observation
latency, or the last trade of each instant on its feed's trade channel: ``price_source``) over
``lookback``: ``(price - reference) / reference`` in ppb, floored, where ``reference`` is the last
price observed at least ``lookback`` before now (no signal until one is that old). A member enters
with the signal's sign when ``|signal|`` reaches its threshold and exits when the move in its
favour fades below ``exit_fraction`` of it, or on its stop (:mod:`.signal_group`). Every entry and
exit names the price update that crossed the level as its cause.
"""

from __future__ import annotations

from collections import deque

from exchange_sim.agents.signal_group import SignalGroup


class TrendFollowerGroup(SignalGroup):
    ORIENTATION = 1
    ENTRY_REASON = "trend"
    FADE_REASON = "signal_faded"

    __slots__ = ("_history",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._history: deque = deque()
        """``(receive_ns, price)`` observed, oldest first, trimmed to one beyond the lookback."""

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
        history = self._history
        history.append((now, price))
        horizon = now - self._cfg.lookback
        while len(history) > 1 and history[1][0] <= horizon:
            history.popleft()
        seen_at, reference = history[0]
        if seen_at > horizon:
            return
        self._on_signal(self.change_ppb(price, reference), seq, price)
