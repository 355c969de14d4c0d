"""An additional perpetual of the venue (``[[perpetuals]]``): its own index, mark, margin tiers,
matching rules, funding and liquidation engine, and its own tick and lot (the instrument's by
default; money is the instrument's settlement asset) (:mod:`exchange_sim.venue.instrument`)."""

from __future__ import annotations

from decimal import Decimal

import attrs

from exchange_sim.accounts.margin_config import BracketTiersConfig, MarginTiersConfig
from exchange_sim.funding.config import FundingConfig
from exchange_sim.liquidation.config import LiquidationConfig
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.pricing.index import IndexConfig
from exchange_sim.pricing.mark_config import MarkConfig

PERPETUAL_SECTIONS = ("index", "mark", "margin", "matching", "funding", "liquidation")
"""The sections an additional perpetual has of its own (the venue preset lays its tables under
each of them as under the root's)."""


@attrs.frozen(kw_only=True)
class PerpetualConfig:
    """One more perpetual contract of another underlying, settled in the instrument's settlement
    asset (money unit), with its own tick and lot (``tick_size``, ``lot_size``; the instrument's
    when left out). Its prices and sizes, and those of the participants trading it, are on its
    grid."""

    OWN_GRID = True
    """Its table's prices and sizes are on its own grid (:func:`~exchange_sim.config.loader.
    table_grid`)."""

    symbol: str = attrs.field(
        default="ETHUSDT",
        metadata={"plain_name": True, "help": "the contract's name (its events' `instrument`)"},
    )
    tick_size: Decimal | None = attrs.field(
        default=None,
        metadata={"unit": "decimal", "help": "price increment (quote); the instrument's if unset"},
    )
    lot_size: Decimal | None = attrs.field(
        default=None,
        metadata={"unit": "decimal", "help": "size increment (base); the instrument's if unset"},
    )
    index: IndexConfig = attrs.field(factory=IndexConfig, metadata={"help": "index price"})
    mark: MarkConfig = attrs.field(factory=MarkConfig, metadata={"help": "mark price"})
    margin: MarginTiersConfig = attrs.field(
        factory=BracketTiersConfig, metadata={"help": "margin tiers"}
    )
    matching: MatchingConfig = attrs.field(
        factory=MatchingConfig, metadata={"help": "order validation, self-trade prevention, band"}
    )
    funding: FundingConfig = attrs.field(
        factory=FundingConfig, metadata={"help": "funding rate and payments"}
    )
    liquidation: LiquidationConfig = attrs.field(
        factory=LiquidationConfig, metadata={"help": "its liquidation engine, fund, vault, ADL"}
    )
    shared_insurance_fund: bool = attrs.field(
        default=False,
        metadata={
            "help": "draw on the first perpetual's insurance fund (one fund, counted once) "
            "instead of a fund of its own; its liquidation.insurance_fund is then unused"
        },
    )
