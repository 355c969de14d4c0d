"""The funding rule of one instrument, its cap kinds, and presets modelled on six venues.

Every rate field is stored in parts per billion (config text writes a decimal fraction, e.g.
``interest = "0.0001"`` for 0.01 %), every duration in ns (``interval = "8h"``). The formula's
rates (``interest``, ``clamp`` and a cap whose ``cap_applies_to`` is ``formula_rate``) are quoted
per ``rate_period`` (8 h at every venue in the reference); what is paid each ``interval`` is the
formula rate scaled by ``interval / rate_period`` (:func:`exchange_sim.funding.rate.funding_rate`).

Sources: ``reference/exchange_mechanics.md`` §6 (per venue), §8 items 1-3 and 7 (where they
disagree), §9 W17 and W21. Values not found in the reference are marked ``[assumption]``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import attrs

from exchange_sim.core.units import NS_PER_HOUR, NS_PER_MIN, NS_PER_S

PREMIUM_FORMULAS = ("impact", "mid", "impact_mid")
REFERENCE_PRICES = ("index", "mark", "oracle")
AVERAGING_MODES = ("mean", "linear_weighted", "median_mean")
RATE_FORMULAS = ("clamped_interest", "premium_plus_interest")
CAP_BASES = ("formula_rate", "interval_rate")


@attrs.frozen(kw_only=True)
class NoCap:
    """No cap or floor on the funding rate."""

    KIND: ClassVar[str] = "none"


@attrs.frozen(kw_only=True)
class FixedCap:
    """A fixed symmetric cap/floor ``±limit`` (BitMEX ±0.375 % per 8 h §6.3; OKX BTC ±0.375 %
    §6.5; Hyperliquid 4 % per hour §6.7; Binance fixed ±2 %/±3 % by announcement §6.2)."""

    KIND: ClassVar[str] = "fixed"
    limit: int = attrs.field(
        default=3_750_000,
        metadata={"unit": "rate", "min": 0, "help": "cap and (negated) floor of the rate"},
    )


@attrs.frozen(kw_only=True)
class MaintenanceMultipleCap:
    """``±multiplier x MMR`` with the maintenance margin rate at max leverage (Binance §6.2:
    multiplier 0.75 by default, 1 for some symbols; §8 item 7 records the disagreement)."""

    KIND: ClassVar[str] = "maintenance_multiple"
    multiplier: int = attrs.field(
        default=750_000_000,
        metadata={"unit": "rate", "min": 0, "help": "k in cap = k x maintenance margin rate"},
    )


@attrs.frozen(kw_only=True)
class MarginSpreadCap:
    """``±factor x (IMF - MMF)`` (dYdX v4 ``funding_rate_clamp_factor``, 600 % on mainnet, §6.6;
    W17: 600 % x 2 % = 12 % per 8 h)."""

    KIND: ClassVar[str] = "margin_spread"
    factor: int = attrs.field(
        default=6_000_000_000,
        metadata={"unit": "rate", "min": 0, "help": "factor in cap = factor x (IMF - MMF)"},
    )


FundingCap = NoCap | FixedCap | MaintenanceMultipleCap | MarginSpreadCap


def _choice(options: tuple[str, ...]):
    def check(instance: object, attribute: attrs.Attribute, value: str) -> None:
        if value not in options:
            raise ValueError(f"{attribute.name} must be one of {', '.join(options)}, not {value!r}")

    return check


def _positive(instance: object, attribute: attrs.Attribute, value: int) -> None:
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0, not {value!r}")


@attrs.frozen(kw_only=True)
class FundingRule:
    """How one instrument's funding rate is sampled, computed, capped, scaled and paid.

    Defaults are the common template of §6.1 (Binance-like, 8 h). Validators run once, when the
    config is built, never per event.
    """

    premium_formula: str = attrs.field(
        default="impact",
        validator=_choice(PREMIUM_FORMULAS),
        metadata={
            "choices": PREMIUM_FORMULAS,
            "help": "impact: impact bid/ask excess over the reference (§6.1); mid: "
            "(best-bid/ask mid - reference)/reference (OKX §6.5); impact_mid: "
            "(impact bid + impact ask)/2/reference - 1 (Hyperliquid HIP-3 §6.7)",
        },
    )
    premium_reference: str = attrs.field(
        default="index",
        validator=_choice(REFERENCE_PRICES),
        metadata={
            "choices": REFERENCE_PRICES,
            "help": "price the impact prices are compared with (§8 item 1); the premium is "
            "divided by the oracle when this is oracle, else by the index",
        },
    )
    averaging: str = attrs.field(
        default="linear_weighted",
        validator=_choice(AVERAGING_MODES),
        metadata={
            "choices": AVERAGING_MODES,
            "help": "how the interval's samples are averaged (§8 item 2): mean, linear_weighted "
            "(sum i*P_i / sum i), median_mean (dYdX: mean of zero-padded per-sample medians)",
        },
    )
    min_votes_per_sample: int = attrs.field(
        default=0,
        metadata={
            "min": 0,
            "help": "median_mean only: votes are zero-padded to this count before each median",
        },
    )
    rate_formula: str = attrs.field(
        default="clamped_interest",
        validator=_choice(RATE_FORMULAS),
        metadata={
            "choices": RATE_FORMULAS,
            "help": "clamped_interest: F = P + clamp(I - P, -clamp, +clamp) (§6.1); "
            "premium_plus_interest: F = P + I (dYdX §6.6; OKX §6.5 with I = 0)",
        },
    )
    interest: int = attrs.field(
        default=100_000,
        metadata={"unit": "rate", "help": "interest rate I per rate_period (0.01 % per 8 h)"},
    )
    clamp: int = attrs.field(
        default=500_000,
        metadata={"unit": "rate", "min": 0, "help": "half-width d of the clamp on I - P"},
    )
    cap: FundingCap = attrs.field(
        factory=NoCap, metadata={"help": "cap/floor of the rate (kind: none, fixed, ...)"}
    )
    cap_applies_to: str = attrs.field(
        default="interval_rate",
        validator=_choice(CAP_BASES),
        metadata={
            "choices": CAP_BASES,
            "help": "formula_rate: cap the per-rate_period rate before scaling (dYdX); "
            "interval_rate: cap the rate paid each interval (Binance, Hyperliquid 4 %/h)",
        },
    )
    rate_period: int = attrs.field(
        default=8 * NS_PER_HOUR,
        validator=_positive,
        metadata={"unit": "duration", "help": "period the formula's rates are quoted for"},
    )
    interval: int = attrs.field(
        default=8 * NS_PER_HOUR,
        validator=_positive,
        metadata={
            "unit": "duration",
            "help": "time between payments; each pays the formula rate x interval/rate_period",
        },
    )
    sampling: int = attrs.field(
        default=5 * NS_PER_S,
        validator=_positive,
        metadata={"unit": "duration", "help": "time between premium samples"},
    )
    vote_interval: int = attrs.field(
        default=0,
        metadata={
            "unit": "duration",
            "min": 0,
            "help": "median_mean only: time between premium votes within a sample (0: unused)",
        },
    )
    impact_margin: Decimal = attrs.field(
        default=Decimal(200),
        metadata={
            "unit": "decimal",
            "min": 0,
            "help": "margin (settlement-asset units) whose max-leverage notional is the impact "
            "notional: IMN = impact_margin / initial margin rate",
        },
    )
    settlement_price: str = attrs.field(
        default="mark",
        validator=_choice(REFERENCE_PRICES),
        metadata={"choices": REFERENCE_PRICES, "help": "price a position's notional is taken at"},
    )
    settlement_delay: int = attrs.field(
        default=0,
        metadata={
            "unit": "duration",
            "min": 0,
            "help": "delay between the funding timestamp (positions snapshotted) and payment",
        },
    )

    rate_fixed_before: int = attrs.field(
        default=0,
        metadata={
            "unit": "duration",
            "min": 0,
            "help": "the rate paid at each funding timestamp is fixed this long before it, from "
            "the samples up to then (later samples count toward the next rate); OKX §6.5: the "
            "rate of 07:59 is paid at 08:00. 0: fixed at the timestamp",
        },
    )

    in_maintenance_margin: bool = attrs.field(
        default=False,
        metadata={
            "help": "from each funding_rate event on, that rate is added to the maintenance rate "
            "of the side paying it (longs if > 0, shorts if < 0; the receiving side unchanged): "
            "BitMEX's 'MM = 0.5 % + exit taker fee + funding rate' (§2.2, §3.2, uncertain)"
        },
    )

    def __attrs_post_init__(self) -> None:
        if self.rate_fixed_before >= self.interval:
            raise ValueError(
                f"rate_fixed_before ({self.rate_fixed_before} ns) must be shorter than the "
                f"interval ({self.interval} ns)"
            )
        if self.rate_fixed_before and self.settlement_delay:
            raise ValueError(
                "rate_fixed_before and settlement_delay cannot both be set (a rate fixed ahead "
                "is paid at the timestamp)"
            )

    @property
    def min_samples(self) -> int:
        """median_mean pads samples with zeros to ``interval // sampling`` (dYdX: 3,600/60 = 60)."""
        return self.interval // self.sampling


BINANCE = FundingRule(
    premium_formula="impact",
    premium_reference="index",
    averaging="linear_weighted",
    rate_formula="clamped_interest",
    interest=100_000,
    clamp=500_000,
    cap=MaintenanceMultipleCap(multiplier=750_000_000),
    cap_applies_to="interval_rate",
    interval=8 * NS_PER_HOUR,
    sampling=5 * NS_PER_S,
    impact_margin=Decimal(200),
    settlement_price="mark",
    settlement_delay=15 * NS_PER_S,
)
"""Binance USDⓈ-M, exchange_mechanics.md §6.2: premium vs index every 5 s; linearly weighted for
intervals > 1 h ([3p, uncertain]; set ``averaging="mean"`` for 1 h symbols); I = 0.01 % per 8 h,
clamp 0.05 %; IMN = 200 USDT / IMR at max leverage; since 2025-09-18 an N-hour symbol pays
F/(8/N) (``interval``); cap ±0.75 x MMR on the rate paid (§8 item 7: 1 x MMR or fixed ±2 %/±3 % for
some symbols); paid on mark-price notional, "up to 15 seconds" after the timestamp."""

BITMEX = FundingRule(
    premium_formula="impact",
    premium_reference="mark",
    averaging="mean",
    rate_formula="clamped_interest",
    interest=100_000,
    clamp=500_000,
    cap=FixedCap(limit=3_750_000),
    cap_applies_to="interval_rate",
    interval=8 * NS_PER_HOUR,
    sampling=NS_PER_MIN,
    settlement_price="mark",
    in_maintenance_margin=True,
)
"""BitMEX, §6.3: premium vs mark divided by spot (index); I = (quote - base)/3 per 8 h (W21; the
0.06 %/0.03 % per day pair of §6.4 gives 0.01 %); clamp 0.05 %; cap ±0.375 % per 8 h (±1.125 %/day);
``FundingAmount = MarkValue x F``. [assumption] simple mean of 1-minute samples and the 200-unit
impact margin: the reference gives neither BitMEX's averaging nor its IMN. The rate is added to
the paying side's maintenance margin (§2.2 [3p], §3.2 [uncertain]; ``in_maintenance_margin``)."""

BYBIT = FundingRule(
    premium_formula="impact",
    premium_reference="index",
    averaging="linear_weighted",
    rate_formula="clamped_interest",
    interest=100_000,
    clamp=500_000,
    cap=NoCap(),
    interval=8 * NS_PER_HOUR,
    sampling=NS_PER_MIN,
    settlement_price="mark",
)
"""Bybit, §6.4: per-minute premium, linear weights (n = 480 for 8 h), I = 0.01 % per 8 h, clamp
0.05 %. [assumption] No cap: the reference gives no default limit ("Bybit may temporarily change
the funding limits"); reference = index (§6.1: mark was the *older* Bybit rule); paid on
mark-price notional; impact margin 200 (the older text's IMN table is ambiguous)."""

OKX = FundingRule(
    premium_formula="mid",
    premium_reference="index",
    averaging="mean",
    rate_formula="premium_plus_interest",
    interest=0,
    clamp=0,
    cap=FixedCap(limit=3_750_000),
    cap_applies_to="interval_rate",
    interval=8 * NS_PER_HOUR,
    sampling=NS_PER_MIN,
    settlement_price="mark",
    rate_fixed_before=NS_PER_MIN,
)
"""OKX (2024 text), §6.5: ``F = Clamp[MA(Premium - Interest), floor, cap]``, Interest = 0,
``Premium = (mid - Index)/Index`` every minute, MA over the last interval; cap ±0.375 % (BTC; ETH
and others ±0.75 %, ±1.5 % or ±3 %: set ``cap``). The rate paid at 00:00, 08:00 and 16:00 is the
one fixed a minute earlier (the older page's "rate of 07:59, 15:59 and 23:59", §6.5), so the MA
runs over the interval's samples up to the fix. [assumption] that the 2024 MA rule keeps the
older page's one-minute fix; paid on mark-price notional."""

DYDX = FundingRule(
    premium_formula="impact",
    premium_reference="index",
    averaging="median_mean",
    min_votes_per_sample=15,
    rate_formula="premium_plus_interest",
    interest=0,
    clamp=0,
    cap=MarginSpreadCap(factor=6_000_000_000),
    cap_applies_to="formula_rate",
    interval=NS_PER_HOUR,
    sampling=NS_PER_MIN,
    vote_interval=NS_PER_S,
    impact_margin=Decimal(500),
    settlement_price="oracle",
)
"""dYdX v4, §6.6 and W17: premium vs index (the oracle), IMN = 500 USDC / IMF; per 60 s sample the
median of the votes zero-padded to 15, per 1 h tick the mean of the samples zero-padded to 60;
R_8h = premium + default_funding (0 for cross markets; 1 bp for isolated markets); cap
±600 % x (IMF - MMF) on R_8h; paid hourly as R_8h x 3,600/28,800 on oracle-price notional.
[assumption] one vote per second (one per block; the block time is not in the reference)."""

HYPERLIQUID = FundingRule(
    premium_formula="impact",
    premium_reference="oracle",
    averaging="mean",
    rate_formula="clamped_interest",
    interest=100_000,
    clamp=500_000,
    cap=FixedCap(limit=40_000_000),
    cap_applies_to="interval_rate",
    interval=NS_PER_HOUR,
    sampling=5 * NS_PER_S,
    settlement_price="oracle",
)
"""Hyperliquid, §6.7: premium vs the oracle divided by the oracle, 5 s samples averaged over the
hour, ``F_8h = P + clamp(I - P, ±0.05 %)`` with I = 0.01 % per 8 h, paid every hour at 1/8 of it and
capped at 4 % per hour (``F_hourly = clamp(F_8h/8, ±4 %)``, §8 item 3: the docs' own example stops
at the 8 h rate; set ``rate_period = interval = "1h"`` for that reading); paid on oracle-price
notional. HIP-3 perps: ``premium_formula="impact_mid"``. [assumption] impact margin 200."""

PRESETS: dict[str, FundingRule] = {
    "binance": BINANCE,
    "bitmex": BITMEX,
    "bybit": BYBIT,
    "okx": OKX,
    "dydx": DYDX,
    "hyperliquid": HYPERLIQUID,
}


@attrs.frozen(kw_only=True)
class FundingConfig:
    """The ``[funding]`` section: whether funding runs, and the instrument's funding rule."""

    enabled: bool = attrs.field(
        default=True, metadata={"help": "sample premiums, compute rates and settle funding"}
    )
    rule: FundingRule = attrs.field(
        factory=FundingRule, metadata={"help": "how the rate is sampled, computed and paid"}
    )
