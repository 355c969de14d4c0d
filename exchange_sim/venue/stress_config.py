"""Configuration of the reactive stress-mitigation policies (``[stress]``; pure data, no simpy).

Each policy is off by default; with every one off a run is exactly what it was without the
section (the same event log). What each does: :mod:`exchange_sim.venue.stress` and
docs/mechanics.md, "Stress-mitigation policies".
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import attrs

from exchange_sim.config.loader import FieldProblem
from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.liquidation.adl_cap import AdlCapConfig
from exchange_sim.pricing.mark_smoothing import MarkSmoothingConfig

BREAKER_ACTIONS = ("halt", "band")
BREAKER_SOURCES = ("mark", "last_trade")


def _enabled(help_text: str):
    return attrs.field(default=False, metadata={"help": help_text})


def _duration(default: int, help_text: str, minimum: int = 1):
    return attrs.field(
        default=default, metadata={"unit": "duration", "min": minimum, "help": help_text}
    )


def _rate(default: int, help_text: str, maximum: int | None = RATE_SCALE):
    meta: dict = {"unit": "rate", "min": 0, "help": help_text}
    if maximum is not None:
        meta["max"] = maximum
    return attrs.field(default=default, metadata=meta)


@attrs.frozen(kw_only=True)
class CircuitBreakerConfig:
    """Trip when the mark (or the last trade price) moved more than ``move`` within ``window``:
    halt the perpetual for
    ``duration`` (action ``halt``), or set its price band to ``band`` for ``duration``."""

    enabled: bool = _enabled("trip on a fast price move")
    source: str = attrs.field(
        default="mark",
        metadata={
            "choices": BREAKER_SOURCES,
            "help": "price watched: each mark_price, or each trade's price on the perpetual",
        },
    )
    move: int = _rate(
        50_000_000, "move of the price from the window's high (or low) that trips it (0.05 = 5 %)"
    )
    window: int = _duration(60 * NS_PER_S, "rolling window the move is measured over")
    action: str = attrs.field(
        default="halt",
        metadata={
            "choices": BREAKER_ACTIONS,
            "help": "halt: halt trading (and liquidations) on the perpetual; band: set its band",
        },
    )
    duration: int = _duration(30 * NS_PER_S, "how long the halt (or band) lasts")
    band: int = _rate(
        10_000_000, "action band: the price band while tripped (0 = no band)", RATE_SCALE - 1
    )

    def __attrs_post_init__(self) -> None:
        if self.action not in BREAKER_ACTIONS:
            raise FieldProblem("action", self.action, "must be halt or band")
        if self.source not in BREAKER_SOURCES:
            raise FieldProblem("source", self.source, "must be mark or last_trade")


@attrs.frozen(kw_only=True)
class DynamicMarginConfig:
    """Every ``cadence``, scale every maintenance rate by ``factor = max(vol term, concentration
    term)``, capped at ``max_factor``; applied only when it moved by at least ``min_change``."""

    CLOCK_WHEN_ENABLED: ClassVar[bool] = True
    """The step budget counts ``cadence`` only while the policy is on."""

    enabled: bool = _enabled("scale maintenance rates with volatility / OI concentration")
    cadence: int = _duration(10 * NS_PER_S, "time between recomputations")
    window: int = _duration(60 * NS_PER_S, "window of mark returns for the realised volatility")
    vol_threshold: int = _rate(
        10_000_000,
        "realised volatility over the window (root of summed squared returns) "
        "above which the factor rises",
    )
    vol_slope: Decimal = attrs.field(
        default=Decimal(20),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 10_000,
            "help": "factor added per unit of volatility above the threshold (20: +0.2 per 1 %)",
        },
    )
    concentration_threshold: int = _rate(
        RATE_SCALE,
        "largest account's share of open interest above which the factor rises (1 = never)",
    )
    concentration_slope: Decimal = attrs.field(
        default=Decimal(2),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 10_000,
            "help": "factor added per unit of OI share above the threshold",
        },
    )
    max_factor: Decimal = attrs.field(
        default=Decimal(3),
        metadata={"unit": "decimal", "min": 1, "max": 100, "help": "largest factor applied"},
    )
    min_change: int = _rate(
        100_000_000, "smallest factor change applied (0.1): each change costs O(accounts)", None
    )

    def __attrs_post_init__(self) -> None:
        for name in ("vol_slope", "concentration_slope", "max_factor"):
            num, den = getattr(self, name).as_integer_ratio()
            if (num * RATE_SCALE) % den:
                raise FieldProblem(name, getattr(self, name), "at most 9 decimals")


def to_ppb(value: Decimal) -> int:
    """A decimal (checked to 9 decimals at load) as an int in parts per billion."""
    num, den = value.as_integer_ratio()
    return num * RATE_SCALE // den


@attrs.frozen(kw_only=True)
class LiquidationThrottleConfig:
    """Adaptive throughput: accounts started per second fall with thin depth on the side the
    close-out hits. Replaces ``liquidation.throughput`` while enabled."""

    enabled: bool = _enabled("pace liquidation starts by the book's depth")
    max_throughput: int = attrs.field(
        default=10, metadata={"min": 1, "help": "accounts started per second at full depth"}
    )
    min_throughput: int = attrs.field(
        default=1, metadata={"min": 1, "help": "accounts started per second however thin"}
    )
    reference_depth: int = attrs.field(
        default=100_000,
        metadata={
            "unit": "size",
            "min": 0,
            "help": "resting size within depth_band at which the full throughput is allowed",
        },
    )
    depth_band: int = _rate(
        10_000_000, "depth counted within this distance of the touch (0.01 = 1 %)", RATE_SCALE - 1
    )

    def __attrs_post_init__(self) -> None:
        if self.min_throughput > self.max_throughput:
            raise FieldProblem("min_throughput", self.min_throughput, "above max_throughput")


@attrs.frozen(kw_only=True)
class StressConfig:
    """Reactive stress-mitigation policies, each off by default."""

    circuit_breaker: CircuitBreakerConfig = attrs.field(
        factory=CircuitBreakerConfig, metadata={"help": "halt or band on a fast mark move"}
    )
    dynamic_margin: DynamicMarginConfig = attrs.field(
        factory=DynamicMarginConfig,
        metadata={"help": "maintenance rates scaled with volatility / OI concentration"},
    )
    liquidation_throttle: LiquidationThrottleConfig = attrs.field(
        factory=LiquidationThrottleConfig,
        metadata={"help": "liquidation starts per second paced by book depth"},
    )
    mark_smoothing: MarkSmoothingConfig = attrs.field(
        factory=MarkSmoothingConfig, metadata={"help": "median or EMA over the venue's mark"}
    )
    adl_cap: AdlCapConfig = attrs.field(
        factory=AdlCapConfig, metadata={"help": "most one ADL event closes of one account"}
    )

    @property
    def any_enabled(self) -> bool:
        return (
            self.circuit_breaker.enabled
            or self.dynamic_margin.enabled
            or self.liquidation_throttle.enabled
            or self.mark_smoothing.kind != "none"
            or self.adl_cap.enabled
        )
