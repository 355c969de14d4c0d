"""Configuration of the matching engine."""

from __future__ import annotations

import attrs

from exchange_sim.core.units import RATE_SCALE

STP_CANCEL_NEWEST = "cancel_newest"
STP_CANCEL_OLDEST = "cancel_oldest"
STP_CANCEL_BOTH = "cancel_both"
STP_NONE = "none"
STP_MODES = (STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_NONE)


@attrs.frozen(kw_only=True)
class MatchingConfig:
    """Order validation, self-trade prevention and the price band of the matching engine."""

    min_price_ticks: int = attrs.field(
        default=1, metadata={"min": 1, "help": "lowest accepted limit price, in ticks"}
    )
    max_price_ticks: int = attrs.field(
        default=10**12, metadata={"min": 1, "help": "highest accepted limit price, in ticks"}
    )
    max_order_lots: int = attrs.field(
        default=10**9, metadata={"min": 1, "help": "largest accepted order size, in lots"}
    )
    stp: str = attrs.field(
        default=STP_CANCEL_NEWEST,
        metadata={
            "choices": STP_MODES,
            "help": "self-trade prevention: which side of a would-be self trade is cancelled",
        },
    )
    price_band_ppb: int = attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": RATE_SCALE - 1,
            "help": "market/IOC/FOK orders do not trade beyond reference*(1 +/- band); 0 = off",
        },
    )

    def __attrs_post_init__(self) -> None:
        if self.max_price_ticks < self.min_price_ticks:
            raise ValueError(
                f"max_price_ticks ({self.max_price_ticks}) must be >= "
                f"min_price_ticks ({self.min_price_ticks})"
            )
