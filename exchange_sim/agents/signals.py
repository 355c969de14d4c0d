"""Rolling statistics a participant keeps over what it observed: realised volatility and sums.

Both are windows over the participant's own observation times (ns). Volatility is a float
*statistic* (never money); whoever turns it into a price does so with
:func:`~exchange_sim.core.rounding.div_round` on :meth:`RollingVolatility.ppb`.
"""

from __future__ import annotations

import math
from collections import deque

from exchange_sim.core.units import RATE_SCALE


class RollingVolatility:
    """Realised volatility over the last ``window_ns``: ``sqrt(sum r_i^2)`` of the log returns
    ``r_i = ln(p_i / p_{i-1})`` between consecutive observations, over the returns whose later
    observation is less than ``window_ns`` old (no mean is taken out: a steady trend counts as
    volatility, which is what a quoting market maker has to survive). The sum is kept running (a
    constant path gives exactly 0)."""

    __slots__ = ("_last", "_returns", "_sum", "_window")

    def __init__(self, window_ns: int) -> None:
        self._window = window_ns
        self._returns: deque[tuple[int, float]] = deque()
        self._sum = 0.0
        self._last: float | None = None

    def add(self, now: int, price: float) -> None:
        """One observation at ``now`` (a positive price, any unit)."""
        last = self._last
        self._last = price
        if last is not None and price != last:
            r = math.log(price / last)
            square = r * r
            self._returns.append((now, square))
            self._sum += square
        self._evict(now)

    def _evict(self, now: int) -> None:
        returns = self._returns
        cutoff = now - self._window
        while returns and returns[0][0] <= cutoff:
            self._sum -= returns.popleft()[1]
        if not returns:
            self._sum = 0.0

    def value(self, now: int) -> float:
        """The realised volatility at ``now`` (a fraction, e.g. 0.01 = a 1 % move)."""
        self._evict(now)
        total = self._sum
        return math.sqrt(total) if total > 0.0 else 0.0

    def ppb(self, now: int) -> int:
        """:meth:`value` in whole parts per billion, rounded up (never understated)."""
        return math.ceil(self.value(now) * RATE_SCALE)


class RollingSum:
    """The sum of integer values added over the last ``window_ns`` (exact)."""

    __slots__ = ("_items", "_total", "_window")

    def __init__(self, window_ns: int) -> None:
        self._window = window_ns
        self._items: deque[tuple[int, int]] = deque()
        self._total = 0

    def add(self, now: int, value: int) -> None:
        self._items.append((now, value))
        self._total += value

    def total(self, now: int) -> int:
        items = self._items
        cutoff = now - self._window
        while items and items[0][0] <= cutoff:
            self._total -= items.popleft()[1]
        return self._total
