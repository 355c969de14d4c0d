"""Configuration of interventions on a timeline (pure data, no simpy): a list of tables, each
with ``at`` (when) and a ``kind``. See :mod:`exchange_sim.venue.interventions` for what each
does; every one is logged as an ``intervention`` event (root kind ``intervention``)."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import attrs

from exchange_sim.config.loader import FieldProblem
from exchange_sim.core.units import RATE_SCALE


def _at():
    return attrs.field(default=0, metadata={"unit": "duration", "min": 0, "help": "when"})


def _duration(help_text: str):
    return attrs.field(
        default=0, metadata={"unit": "duration", "min": 0, "help": help_text + " (0 = for good)"}
    )


@attrs.frozen(kw_only=True)
class HaltTrading:
    """Halt matching on a market: new orders and amends are rejected (``trading_halted``),
    cancels still work; on the perpetual the liquidation engine starts no account meanwhile."""

    KIND: ClassVar[str] = "halt"
    at: int = _at()
    market: str = attrs.field(
        default="", metadata={"help": "market halted: empty for the perpetual, or a spot market"}
    )
    duration: int = _duration("how long until trading resumes")


@attrs.frozen(kw_only=True)
class LiquidationOutage:
    """The liquidation engine starts no account: hand-offs queue up until it is back."""

    KIND: ClassVar[str] = "liquidation_outage"
    at: int = _at()
    duration: int = _duration("how long the engine is out")


@attrs.frozen(kw_only=True)
class OracleOutage:
    """The index is not published: the venue keeps its last index until the oracle is back."""

    KIND: ClassVar[str] = "oracle_outage"
    at: int = _at()
    duration: int = _duration("how long no index price is published")


@attrs.frozen(kw_only=True)
class MarginRates:
    """Multiply every maintenance margin rate (and deduction) by ``factor`` from then on; every
    position's liquidation price moves at once."""

    KIND: ClassVar[str] = "margin_rates"
    at: int = _at()
    factor: Decimal = attrs.field(
        default=Decimal(2),
        metadata={
            "unit": "decimal",
            "min": Decimal("0.01"),
            "max": 100,
            "help": "rate factor, at most 9 decimals (it is applied in ppb)",
        },
    )

    def __attrs_post_init__(self) -> None:
        num, den = self.factor.as_integer_ratio()
        if (num * RATE_SCALE) % den:
            raise FieldProblem(
                "factor", self.factor, "not a whole multiple of the rate resolution 1E-9"
            )

    @property
    def factor_ppb(self) -> int:
        """The factor in parts per billion (exact: checked at load)."""
        num, den = self.factor.as_integer_ratio()
        return num * RATE_SCALE // den


@attrs.frozen(kw_only=True)
class PriceBand:
    """Set the perpetual's price band (market, IOC and FOK orders do not trade beyond
    reference x (1 +/- band); 0 turns it off)."""

    KIND: ClassVar[str] = "price_band"
    at: int = _at()
    band_ppb: int = attrs.field(
        default=50_000_000,
        metadata={"unit": "rate", "min": 0, "max": RATE_SCALE - 1, "help": "the new band"},
    )


@attrs.frozen(kw_only=True)
class FundTopUp:
    """Money injected into the insurance fund (counted as money put in)."""

    KIND: ClassVar[str] = "fund_top_up"
    at: int = _at()
    amount: int = attrs.field(
        default=1_000_000_000_000,
        metadata={"unit": "money", "min": 1, "help": "amount added to the fund"},
    )


InterventionConfig = (
    HaltTrading | LiquidationOutage | OracleOutage | MarginRates | PriceBand | FundTopUp
)
