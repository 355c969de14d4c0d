"""Funding: premium samples, the rate formula per venue, exact settlement between longs and shorts.

Pure core (no simpy): :mod:`.premium` turns impact prices into premium samples (ppb),
:mod:`.rate` averages them and applies interest, clamp, cap and interval scaling under a
:class:`~exchange_sim.funding.config.FundingRule`, :mod:`.settlement` turns a rate into exact
integer payments plus a non-negative residue for the exchange's funding residue account.
Venue presets live in :mod:`.config`. Sources: ``reference/exchange_mechanics.md`` §6, §8, §9.
"""

from exchange_sim.funding.config import (
    BINANCE,
    BITMEX,
    BYBIT,
    DYDX,
    HYPERLIQUID,
    OKX,
    PRESETS,
    FixedCap,
    FundingCap,
    FundingRule,
    MaintenanceMultipleCap,
    MarginSpreadCap,
    NoCap,
)
from exchange_sim.funding.payments import FUNDING_RESIDUE_LEDGER, settle
from exchange_sim.funding.premium import (
    impact_notional_minor,
    impact_premium_ppb,
    impact_price_ticks,
    mid_premium_ppb,
    premium_for_rule_ppb,
)
from exchange_sim.funding.rate import FundingRate, average_premium_ppb, funding_rate

__all__ = [
    "BINANCE",
    "BITMEX",
    "BYBIT",
    "DYDX",
    "FUNDING_RESIDUE_LEDGER",
    "HYPERLIQUID",
    "OKX",
    "PRESETS",
    "FixedCap",
    "FundingCap",
    "FundingRate",
    "FundingRule",
    "MaintenanceMultipleCap",
    "MarginSpreadCap",
    "NoCap",
    "average_premium_ppb",
    "funding_rate",
    "impact_notional_minor",
    "impact_premium_ppb",
    "impact_price_ticks",
    "mid_premium_ppb",
    "premium_for_rule_ppb",
    "settle",
]
