"""Exact building blocks of the run metrics: unit output, drawdowns, percentiles, peak rates.

Every computation here is on integers (ticks, lots, money minor units, ns); floats appear only in
the user-unit copies written next to the integers (:class:`Out`) and in ratios, which are formed
as exact :class:`fractions.Fraction` values and converted once (correctly rounded). See
``docs/metrics.md`` for the definitions.
"""

from __future__ import annotations

from array import array
from fractions import Fraction

from exchange_sim.core.units import NS_PER_S, RATE_SCALE, Scale

PERCENTILES = (50, 90, 99)
"""The percentiles reported for every latency (nearest rank)."""


def ratio(num: int, den: int) -> float | None:
    """``num / den`` as the float nearest the exact ratio; ``None`` when ``den`` is 0."""
    return None if den == 0 else float(Fraction(num, den))


class Out:
    """Writes one quantity twice: in user units (a float) and as its exact integer.

    The user-unit key has no unit suffix; the integer twin is suffixed with its unit: money
    ``_minor`` (minor units of the settlement asset), price ``_ticks``, size ``_lots``, time
    ``_ns``, rate ``_ppb``. ``None`` is written to both keys when the value is unknown.
    """

    def __init__(self, scale: Scale) -> None:
        self.scale = scale

    def money(self, out: dict, name: str, minor: int | None) -> dict:
        out[name] = None if minor is None else float(self.scale.money_decimal(minor))
        out[f"{name}_minor"] = minor
        return out

    def price(self, out: dict, name: str, ticks: int | None) -> dict:
        out[name] = None if ticks is None else float(self.scale.price_decimal(ticks))
        out[f"{name}_ticks"] = ticks
        return out

    def size(self, out: dict, name: str, lots: int | None) -> dict:
        out[name] = None if lots is None else float(self.scale.size_decimal(lots))
        out[f"{name}_lots"] = lots
        return out

    def time(self, out: dict, name: str, ns: int | None) -> dict:
        out[name] = None if ns is None else ns / NS_PER_S
        out[f"{name}_ns"] = ns
        return out

    def rate(self, out: dict, name: str, ppb: int | None) -> dict:
        out[name] = None if ppb is None else ppb / RATE_SCALE
        out[f"{name}_ppb"] = ppb
        return out


class Drawdown:
    """Running maximum drawdown of one price series, in one pass.

    ``update(price, ts)`` feeds the next sample. The running peak moves on ``price >= peak`` (an
    equal price moves the peak's time to the later sample: the peak nearest the fall). The
    maximum drawdown is the largest ``(peak - price) / peak`` seen so far, compared exactly by
    cross-multiplication; it is replaced only by a strictly larger one (a tie keeps the earlier
    trough). ``update`` says which of the two happened, so a caller can pair a snapshot of its
    own state with the trough.
    """

    __slots__ = (
        "best_peak",
        "best_peak_ts",
        "best_trough",
        "best_trough_ts",
        "count",
        "first",
        "last",
        "max",
        "min",
        "peak",
        "peak_ts",
    )

    def __init__(self) -> None:
        self.count = 0
        self.first: int | None = None
        self.last: int | None = None
        self.min: int | None = None
        self.max: int | None = None
        self.peak: int | None = None
        self.peak_ts: int | None = None
        self.best_peak: int | None = None
        self.best_peak_ts: int | None = None
        self.best_trough: int | None = None
        self.best_trough_ts: int | None = None

    def update(self, price: int, ts: int) -> tuple[bool, bool]:
        """Feed one sample; return ``(new_running_peak, new_max_drawdown)``."""
        self.count += 1
        low, high = self.min, self.max
        if low is None or high is None:  # the first sample (first, min and max are set together)
            self.first = self.min = self.max = price
        else:
            self.min = min(low, price)
            self.max = max(high, price)
        self.last = price
        peak = self.peak
        if peak is None or price >= peak:
            self.peak, self.peak_ts = price, ts
            return True, False
        drop = peak - price
        best_peak, best_trough = self.best_peak, self.best_trough  # set together
        if (
            best_peak is None
            or best_trough is None
            or drop * best_peak > (best_peak - best_trough) * peak
        ):
            self.best_peak, self.best_peak_ts = peak, self.peak_ts
            self.best_trough, self.best_trough_ts = price, ts
            return False, True
        return False, False

    def fraction(self) -> Fraction:
        """The maximum drawdown as an exact fraction of its peak (0 when the price never fell)."""
        best_peak, best_trough = self.best_peak, self.best_trough  # set together
        if best_peak is None or best_trough is None:
            return Fraction(0)
        return Fraction(best_peak - best_trough, best_peak)

    def result(self, out: Out) -> dict:
        result: dict = {"samples": self.count}
        for name in ("first", "last", "min", "max"):
            out.price(result, name, getattr(self, name))
        best_peak, best_trough = self.best_peak, self.best_trough  # set together
        if best_peak is None or best_trough is None:
            result["max_drawdown"] = None
            return result
        dd: dict = {"fraction": float(self.fraction())}
        out.price(dd, "drop", best_peak - best_trough)
        out.price(dd, "peak", self.best_peak)
        out.time(dd, "peak_time", self.best_peak_ts)
        out.price(dd, "trough", self.best_trough)
        out.time(dd, "trough_time", self.best_trough_ts)
        result["max_drawdown"] = dd
        return result


def nearest_rank(sorted_values, percent: int):
    """The ``percent``-th percentile by nearest rank: the value of 1-based rank
    ``ceil(percent x n / 100)`` (at least 1) in ascending order; ``None`` for no values."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = max(1, -((-percent * n) // 100))
    return sorted_values[rank - 1]


class Samples:
    """Integer samples (one signed 64-bit int each) and their nearest-rank percentiles."""

    __slots__ = ("values",)

    def __init__(self) -> None:
        self.values = array("q")

    def add(self, value: int) -> None:
        self.values.append(value)

    def result(self, out: Out, kind: str) -> dict:
        """``count``, ``p50``/``p90``/``p99``/``max`` (and ``min``) as durations (``kind`` =
        ``"time"``: seconds and ``_ns``) or plain counts (``kind`` = ``"count"``)."""
        ordered = sorted(self.values)
        result: dict = {"count": len(ordered)}
        points = [(f"p{p}", nearest_rank(ordered, p)) for p in PERCENTILES]
        points.append(("max", ordered[-1] if ordered else None))
        points.insert(0, ("min", ordered[0] if ordered else None))
        for name, value in points:
            if kind == "time":
                out.time(result, name, value)
            else:
                result[name] = value
        return result


class PeakRate:
    """The largest number of marks in one 1-second bucket ``[k s, (k+1) s)`` of ``ts``.

    Timestamps must not decrease (log order). A tie keeps the earlier second.
    """

    __slots__ = ("best", "best_second", "count", "second")

    def __init__(self) -> None:
        self.second: int | None = None
        self.count = 0
        self.best = 0
        self.best_second: int | None = None

    def mark(self, ts: int) -> None:
        second = ts // NS_PER_S
        if second != self.second:
            self.second, self.count = second, 0
        self.count += 1
        if self.count > self.best:
            self.best, self.best_second = self.count, second

    def result(self, out: Out) -> dict:
        result: dict = {"count": self.best}
        start = None if self.best_second is None else self.best_second * NS_PER_S
        out.time(result, "second_start", start)
        return result
