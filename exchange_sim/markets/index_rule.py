"""Index rules (pure): one index price from several spot markets' prices.

Exact: prices are :class:`fractions.Fraction` of ticks (a mid is half a tick when the spread is
odd), weights exact fractions; the single rounding is the final one, to the nearest tick with
ties up (as the mark rules round: an index is not money). Rules (exchange_mechanics.md):

* ``weighted_mean`` (Binance §1.1): ``Σ w_i p_i / Σ w_i`` over the live sources; a source more
  than ``outlier_band`` from the median of all live sources gets weight 0, and if more than one
  does, the median of all live sources is used instead;
* ``weighted_median`` (Hyperliquid's oracle, §1.6): the price at which the cumulative weight of
  the sources sorted by price first reaches half the total;
* ``median``: the plain median (the mean of the middle two for an even count).

A source is *live* when it has a price and updated within the staleness window (Binance: a source
with no update for 10 s gets weight 0). :func:`combine` also says which sources the result came
from, so the ``index_price`` can name the latest of them as its cause.
"""

from __future__ import annotations

from fractions import Fraction

from exchange_sim.core.units import RATE_SCALE


def _median(values: list[Fraction]) -> Fraction:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def combine(
    prices: list[Fraction], weights: list[Fraction], method: str, outlier_band_ppb: int
) -> tuple[Fraction, list[int]]:
    """The index of live sources ``prices`` (with ``weights``) and the positions of the sources
    its value came from. ``prices`` must not be empty."""
    if method == "median" or len(prices) == 1:
        value = _median(prices)
        return value, [i for i, p in enumerate(prices) if _is_median_source(p, prices, value)]
    if method == "weighted_median":
        order = sorted(range(len(prices)), key=lambda i: (prices[i], i))
        total = sum(weights)
        running = Fraction(0)
        for i in order:
            running += weights[i]
            if 2 * running >= total:
                return prices[i], [i]
        return prices[order[-1]], [order[-1]]
    median = _median(prices)
    band = Fraction(outlier_band_ppb, RATE_SCALE) * median
    if outlier_band_ppb:
        outliers = [i for i, p in enumerate(prices) if abs(p - median) > band]
    else:
        outliers = []
    if len(outliers) > 1:
        return median, [i for i, p in enumerate(prices) if _is_median_source(p, prices, median)]
    used = [i for i in range(len(prices)) if i not in outliers and weights[i] > 0]
    total = sum(weights[i] for i in used)
    if not total:
        return median, [i for i, p in enumerate(prices) if _is_median_source(p, prices, median)]
    return sum(weights[i] * prices[i] for i in used) / total, used


def _is_median_source(price: Fraction, prices: list[Fraction], median: Fraction) -> bool:
    """Whether ``price`` is (one of) the middle value(s) the median came from."""
    ordered = sorted(prices)
    middle = len(ordered) // 2
    middles = {ordered[middle]} if len(ordered) % 2 else {ordered[middle - 1], ordered[middle]}
    return price in middles


def round_to_tick(value: Fraction) -> int:
    """To the nearest tick, ties up; at least one tick."""
    ticks = (2 * value.numerator + value.denominator) // (2 * value.denominator)
    return ticks if ticks >= 1 else 1
