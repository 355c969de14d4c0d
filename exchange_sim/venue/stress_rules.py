"""Decision rules of the stress-mitigation policies (pure, integer; no simpy).

:mod:`exchange_sim.venue.stress` decides *when* they are asked; these decide *what*:

* :class:`MoveWindow`: the highest and lowest mark of a rolling window and whether the newest
  mark is more than ``move`` away from either (the circuit breaker's trip test);
* :class:`ReturnWindow` and :func:`margin_factor_ppb`: realised volatility of the mark over a
  window and the maintenance-rate factor it (or open-interest concentration) calls for;
* :func:`throttle_gap_ns`: the gap between two liquidation starts for the depth in the book.
"""

from __future__ import annotations

from collections import deque
from math import isqrt

from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import NS_PER_S, RATE_SCALE


class MoveWindow:
    """Marks of the last ``window_ns`` with their running high and low (monotonic deques:
    O(1) amortised per mark)."""

    __slots__ = ("_highs", "_lows", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self._highs: deque[tuple[int, int]] = deque()
        self._lows: deque[tuple[int, int]] = deque()

    def add(self, now_ns: int, price: int) -> None:
        """A new mark at ``now_ns``; marks at or before ``now_ns - window_ns`` drop out."""
        highs, lows = self._highs, self._lows
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((now_ns, price))
        while lows and lows[-1][1] >= price:
            lows.pop()
        lows.append((now_ns, price))
        start = now_ns - self.window_ns
        while highs[0][0] <= start:
            highs.popleft()
        while lows[0][0] <= start:
            lows.popleft()

    def clear(self) -> None:
        self._highs.clear()
        self._lows.clear()

    def move_ppb(self, price: int) -> int:
        """The larger of the fall from the window's high and the rise from its low, as a
        fraction of that high (low), ppb rounded DOWN (0 for an empty window)."""
        if not self._highs:
            return 0
        high, low = self._highs[0][1], self._lows[0][1]
        fall = div_round((high - price) * RATE_SCALE, high, DOWN) if high > 0 else 0
        rise = div_round((price - low) * RATE_SCALE, low, DOWN) if low > 0 else 0
        return max(fall, rise, 0)


def tripped(move_ppb: int, threshold_ppb: int) -> bool:
    """The breaker trips on a move *more than* the threshold."""
    return move_ppb > threshold_ppb


class ReturnWindow:
    """Squared relative mark returns (ppb squared) of the last ``window_ns``; their sum is the
    realised variance over the window."""

    __slots__ = ("_last", "_returns", "_sum", "window_ns")

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self._returns: deque[tuple[int, int]] = deque()
        self._sum = 0
        self._last: int | None = None

    def add(self, now_ns: int, price: int) -> None:
        last = self._last
        self._last = price
        if last is None or last <= 0:
            return
        r = div_round((price - last) * RATE_SCALE, last, DOWN)
        self._returns.append((now_ns, r * r))
        self._sum += r * r

    def volatility_ppb(self, now_ns: int) -> int:
        """Root of the summed squared returns within ``(now - window, now]``, ppb (rounded
        down)."""
        returns, start = self._returns, now_ns - self.window_ns
        while returns and returns[0][0] <= start:
            self._sum -= returns.popleft()[1]
        return isqrt(self._sum)


def excess_factor_ppb(value_ppb: int, threshold_ppb: int, slope_ppb: int) -> int:
    """``slope x max(0, value - threshold)`` in ppb (rounded UP: a rate the trader owes)."""
    excess = value_ppb - threshold_ppb
    return div_round(excess * slope_ppb, RATE_SCALE, UP) if excess > 0 else 0


def margin_factor_ppb(
    vol_ppb: int,
    share_ppb: int,
    vol_threshold_ppb: int,
    vol_slope_ppb: int,
    share_threshold_ppb: int,
    share_slope_ppb: int,
    max_factor_ppb: int,
) -> int:
    """``min(max_factor, 1 + max(vol term, concentration term))``, ppb."""
    extra = max(
        excess_factor_ppb(vol_ppb, vol_threshold_ppb, vol_slope_ppb),
        excess_factor_ppb(share_ppb, share_threshold_ppb, share_slope_ppb),
    )
    return min(RATE_SCALE + extra, max_factor_ppb)


def worth_applying(target_ppb: int, current_ppb: int, min_change_ppb: int) -> bool:
    """Apply a new factor when it moved at least ``min_change``, or when it is back to exactly
    1 (so a calm market always returns to the configured tiers)."""
    if target_ppb == current_ppb:
        return False
    return target_ppb == RATE_SCALE or abs(target_ppb - current_ppb) >= min_change_ppb


def largest_share_ppb(positions, open_interest_lots: int) -> int:
    """The largest ``|position|`` as a share of one side's open interest, ppb (rounded DOWN);
    0 without open interest. O(accounts)."""
    if open_interest_lots <= 0:
        return 0
    largest = max((abs(size) for size in positions), default=0)
    return div_round(largest * RATE_SCALE, open_interest_lots, DOWN)


def throttle_gap_ns(
    depth_lots: int, reference_depth_lots: int, max_throughput: int, min_throughput: int
) -> int:
    """ns between two liquidation starts: ``1 / throughput`` with ``throughput = max_throughput
    x min(1, depth / reference_depth)``, at least ``min_throughput`` (gaps rounded UP: never
    faster than allowed)."""
    slowest = div_round(NS_PER_S, min_throughput, UP)
    if depth_lots >= reference_depth_lots:
        return div_round(NS_PER_S, max_throughput, UP)
    if depth_lots <= 0:
        return slowest
    gap = div_round(NS_PER_S * reference_depth_lots, max_throughput * depth_lots, UP)
    return min(gap, slowest)
