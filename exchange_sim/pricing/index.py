"""Exogenous index price paths (pure): geometric Brownian motion with jumps, scripted, CSV replay.

A path answers ``price_at(t_ns) -> ticks`` for non-decreasing ``t_ns``. The SimPy process in
:mod:`exchange_sim.pricing.index_process` samples it on a cadence and publishes it after an oracle
latency.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import ClassVar

import attrs
import numpy as np

from exchange_sim.core.rounding import DOWN, div_round, quantize_price
from exchange_sim.core.units import NS_PER_DAY, NS_PER_S, RATE_SCALE, Scale
from exchange_sim.kernel.latency import ConstantLatency, LatencyModel

YEAR_NS = 365 * NS_PER_DAY


@attrs.frozen(kw_only=True)
class ScriptPoint:
    at: int = attrs.field(default=0, metadata={"unit": "duration", "min": 0, "help": "time"})
    price: int = attrs.field(default=1, metadata={"unit": "price", "min": 1, "help": "price"})


@attrs.frozen(kw_only=True)
class GbmIndex:
    """Geometric Brownian motion with optional compound-Poisson jumps in log price."""

    KIND: ClassVar[str] = "gbm"
    start_price: int = attrs.field(
        default=500_000,
        metadata={"unit": "price", "min": 1, "help": "price at t = 0"},
    )
    # The bounds keep exp(log price) finite over any sensible run: |drift| and volatility of
    # 100 (10,000 %) a year, a jump of e^±10 at most on average, 10,000 jumps a day.
    volatility_annual: Decimal = attrs.field(
        default=Decimal("0.6"),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 100,
            "help": "annualised volatility of log price",
        },
    )
    drift_annual: Decimal = attrs.field(
        default=Decimal(0),
        metadata={
            "unit": "decimal",
            "min": -100,
            "max": 100,
            "help": "annualised drift of log price",
        },
    )
    jump_intensity_per_day: Decimal = attrs.field(
        default=Decimal(0),
        metadata={"unit": "decimal", "min": 0, "max": 10_000, "help": "expected jumps a day"},
    )
    jump_mean: Decimal = attrs.field(
        default=Decimal(0),
        metadata={"unit": "decimal", "min": -10, "max": 10, "help": "mean of a jump in log price"},
    )
    jump_std: Decimal = attrs.field(
        default=Decimal("0.02"),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 10,
            "help": "std deviation of a jump in log price",
        },
    )


@attrs.frozen(kw_only=True)
class ScriptedIndex:
    """A path through given (time, price) points; flat before the first and after the last."""

    KIND: ClassVar[str] = "scripted"
    points: tuple[ScriptPoint, ...] = attrs.field(
        default=(ScriptPoint(at=0, price=500_000),),
        metadata={"help": "list of {at, price} tables, times non-decreasing"},
    )
    interpolation: str = attrs.field(
        default="linear",
        metadata={"choices": ("linear", "step"), "help": "between points: linear or step"},
    )

    def __attrs_post_init__(self) -> None:
        if not self.points:
            raise ValueError("points must not be empty")
        times = [p.at for p in self.points]
        if times != sorted(times):
            raise ValueError("points must be in non-decreasing time order")


@attrs.frozen(kw_only=True)
class CsvIndex:
    """Replay of a ``timestamp,price`` CSV file, or of one column of a multi-column file (see
    docs/config.md for the format)."""

    KIND: ClassVar[str] = "csv"
    path: str = attrs.field(default="", metadata={"help": "CSV file, relative to the config file"})
    column: str = attrs.field(
        default="",
        metadata={
            "help": "the price column of a multi-column CSV (timestamp,<name>,...); "
            "empty = a timestamp,price file"
        },
    )
    interpolation: str = attrs.field(
        default="step", metadata={"choices": ("linear", "step"), "help": "between rows"}
    )
    off_grid: str = attrs.field(
        default="error",
        metadata={
            "choices": ("error", "nearest"),
            "help": "a price that is not a multiple of the tick: error, or snap to nearest tick",
        },
    )


@attrs.frozen(kw_only=True)
class ExternalIndex:
    """No path of its own: the index moves only when a driver pushes prices into the venue
    (``venue.index.push(delay_ns, price)``), e.g. a test, a script using the Python API, or a
    re-drive of recorded index samples. ``start_price`` is published at t = 0 (``0`` = none)."""

    KIND: ClassVar[str] = "external"
    start_price: int = attrs.field(
        default=0,
        metadata={"unit": "price", "min": 0, "help": "price published at t = 0 (0 = none)"},
    )


@attrs.frozen(kw_only=True)
class SpotSource:
    """One spot market read by the index rule, with its weight."""

    market: str = attrs.field(default="spot", metadata={"help": "a spot market's name"})
    weight: Decimal = attrs.field(
        default=Decimal(1),
        metadata={"unit": "decimal", "min": 0, "max": 10**6, "help": "weight in the index"},
    )


INDEX_METHODS = ("weighted_mean", "weighted_median", "median")


@attrs.frozen(kw_only=True)
class SpotIndex:
    """The index computed from spot markets (Binance's rule by default, exchange_mechanics.md
    §1.1: a weighted average of the sources; a source more than ``outlier_band`` from the median
    of all sources gets weight 0, and if more than one does, the median of all is used; a source
    with no update for ``staleness`` gets weight 0). ``weighted_median`` is Hyperliquid's oracle
    (§1.6), ``median`` a plain median of the live sources."""

    KIND: ClassVar[str] = "spot"
    sources: tuple[SpotSource, ...] = attrs.field(
        factory=lambda: (SpotSource(),),
        metadata={"help": "list of {market, weight} tables"},
    )
    price: str = attrs.field(
        default="last",
        metadata={
            "choices": ("last", "mid"),
            "help": "each source's price: its last trade, or its book's mid",
        },
    )
    method: str = attrs.field(
        default="weighted_mean",
        metadata={"choices": INDEX_METHODS, "help": "how the live sources are combined"},
    )
    outlier_band_ppb: int = attrs.field(
        default=50_000_000,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": RATE_SCALE,
            "help": "a source this far from the median gets weight 0 (0 = off)",
        },
    )
    staleness: int = attrs.field(
        default=10 * NS_PER_S,
        metadata={
            "unit": "duration",
            "min": 1,
            "help": "a source with no update for this long gets weight 0",
        },
    )

    def __attrs_post_init__(self) -> None:
        if not self.sources:
            raise ValueError("sources must not be empty")
        names = [source.market for source in self.sources]
        if len(set(names)) != len(names):
            raise ValueError("each spot market may be a source once")
        if sum(source.weight for source in self.sources) <= 0:
            raise ValueError("the sources' weights must not all be 0")


IndexProcess = GbmIndex | ScriptedIndex | CsvIndex | ExternalIndex | SpotIndex


@attrs.frozen(kw_only=True)
class IndexConfig:
    cadence: int = attrs.field(
        default=1_000_000_000,
        metadata={"unit": "duration", "min": 1, "help": "how often the index is sampled"},
    )
    oracle_latency: LatencyModel = attrs.field(
        factory=ConstantLatency,
        metadata={"help": "delay from sampling to publication on the venue"},
    )
    process: IndexProcess = attrs.field(factory=GbmIndex, metadata={"help": "the price path"})


class GbmPath:
    """GBM (plus jumps) advanced exactly by the elapsed time between calls."""

    __slots__ = (
        "_drift",
        "_jump_mean",
        "_jump_std",
        "_jumps",
        "_last_t",
        "_log_price",
        "_rng",
        "_tick",
        "_vol",
    )

    def __init__(self, config: GbmIndex, scale: Scale, rng: np.random.Generator) -> None:
        self._tick = float(scale.tick_size)
        self._log_price = math.log(config.start_price * self._tick)
        self._vol = float(config.volatility_annual)
        self._drift = float(config.drift_annual)
        self._jumps = float(config.jump_intensity_per_day)
        self._jump_mean = float(config.jump_mean)
        self._jump_std = float(config.jump_std)
        self._rng = rng
        self._last_t = 0

    def price_at(self, t_ns: int) -> int:
        dt_ns = t_ns - self._last_t
        if dt_ns > 0:
            self._last_t = t_ns
            years = dt_ns / YEAR_NS
            vol = self._vol
            step = (self._drift - 0.5 * vol * vol) * years
            step += vol * math.sqrt(years) * float(self._rng.standard_normal())
            if self._jumps > 0:
                count = int(self._rng.poisson(self._jumps * dt_ns / NS_PER_DAY))
                if count:
                    step += float(np.sum(self._rng.normal(self._jump_mean, self._jump_std, count)))
            self._log_price += step
        return quantize_price(math.exp(self._log_price), self._tick)


class PointsPath:
    """Interpolates between (t_ns, ticks) points: used by scripted paths and CSV replay."""

    __slots__ = ("_i", "_linear", "_points")

    def __init__(self, points: list[tuple[int, int]], linear: bool) -> None:
        self._points = points
        self._linear = linear
        self._i = 0

    def price_at(self, t_ns: int) -> int:
        points = self._points
        i = self._i
        while i + 1 < len(points) and points[i + 1][0] <= t_ns:
            i += 1
        self._i = i
        t0, p0 = points[i]
        if t_ns <= t0 or i + 1 == len(points) or not self._linear:
            return p0
        t1, p1 = points[i + 1]
        # Linear interpolation, floored (DOWN) onto the tick grid.
        return p0 + div_round((p1 - p0) * (t_ns - t0), t1 - t0, DOWN)


class ExternalPath:
    """The "path" of an external index: only a start price; the publisher samples nothing."""

    __slots__ = ("start_price",)
    external = True

    def __init__(self, start_price: int) -> None:
        self.start_price = start_price


def build_path(
    config: GbmIndex | ScriptedIndex | CsvIndex | ExternalIndex,
    scale: Scale,
    rng: np.random.Generator,
    base_dir: str,
):
    """The pure path object for an index process config (a :class:`SpotIndex` has none: the
    venue builds its ``SpotIndexPath`` from the spot markets)."""
    if isinstance(config, ExternalIndex):
        return ExternalPath(config.start_price)
    if isinstance(config, GbmIndex):
        return GbmPath(config, scale, rng)
    if isinstance(config, ScriptedIndex):
        points = [(p.at, p.price) for p in config.points]
        return PointsPath(points, config.interpolation == "linear")
    from exchange_sim.pricing.csv_replay import read_price_csv

    points = read_price_csv(
        config.path, base_dir, scale, snap=config.off_grid == "nearest", column=config.column
    )
    return PointsPath(points, config.interpolation == "linear")
