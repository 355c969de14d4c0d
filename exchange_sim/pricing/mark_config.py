"""Configuration of the mark price: the venue rule (one table per ``kind``) and the cadence.

Pure data (no simpy): the rules themselves are in :mod:`exchange_sim.pricing.mark`.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from exchange_sim.core.units import NS_PER_S

# --- config --------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class BinanceMarkConfig:
    KIND: ClassVar[str] = "binance"
    basis_window: int = attrs.field(
        default=30 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "span of the basis moving average"},
    )
    basis_cadence: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "time between basis samples"},
    )

    def __attrs_post_init__(self) -> None:
        if self.basis_window % self.basis_cadence:
            raise ValueError("basis_window must be a whole multiple of basis_cadence")


@attrs.frozen(kw_only=True)
class OkxMarkConfig(BinanceMarkConfig):
    """OKX's index + MA(basis) (§1.4): Binance's basis sampling, without the median."""

    KIND: ClassVar[str] = "okx"
    basis_window: int = attrs.field(
        default=60 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "span of the basis moving average"},
    )


@attrs.frozen(kw_only=True)
class BitmexMarkConfig:
    KIND: ClassVar[str] = "bitmex"


@attrs.frozen(kw_only=True)
class HyperliquidMarkConfig:
    KIND: ClassVar[str] = "hyperliquid"
    ema_sample_interval: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "grid on which the EMAs take samples"},
    )
    mark_ema_timescale: int = attrs.field(
        default=150 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "EMA of (mid - oracle)"},
    )
    fallback_ema_timescale: int = attrs.field(
        default=30 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "EMA of median(bid, ask, last)"},
    )


@attrs.frozen(kw_only=True)
class DydxMarkConfig:
    KIND: ClassVar[str] = "dydx"


@attrs.frozen(kw_only=True)
class IndexMarkConfig:
    KIND: ClassVar[str] = "index"


@attrs.frozen(kw_only=True)
class LastTradeMarkConfig:
    KIND: ClassVar[str] = "last_trade"


MarkRuleConfig = (
    BinanceMarkConfig
    | OkxMarkConfig
    | BitmexMarkConfig
    | HyperliquidMarkConfig
    | DydxMarkConfig
    | IndexMarkConfig
    | LastTradeMarkConfig
)


@attrs.frozen(kw_only=True)
class MarkConfig:
    rule: MarkRuleConfig = attrs.field(
        factory=BinanceMarkConfig, metadata={"help": "venue rule for the mark price"}
    )
    cadence: int = attrs.field(
        default=NS_PER_S, metadata={"unit": "duration", "min": 1, "help": "mark update interval"}
    )
