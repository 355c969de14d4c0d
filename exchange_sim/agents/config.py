"""Configuration of the participants (pure data: no simpy), one table per ``kind``.

The behaviour of each kind is in its own module (:mod:`.market_maker`, :mod:`.noise`,
:mod:`.leveraged`, :mod:`.arbitrageur`, :mod:`.adaptive_maker`, :mod:`.execution`); the last two
kinds' tables live in :mod:`.maker_config` and are re-exported here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import attrs

from exchange_sim.agents.fields import base_deposit_field, market_field
from exchange_sim.agents.maker_config import AdaptiveMakerConfig, ExecutionConfig
from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.kernel.latency import ConstantLatency, LatencyModel, LinkLatency, constant_link

__all__ = [
    "AdaptiveMakerConfig",
    "BasisArbitrageurConfig",
    "ExecutionConfig",
    "LeveragedTraderConfig",
    "MarginCallResponse",
    "MarketMakerConfig",
    "NoiseTraderConfig",
]


@attrs.frozen(kw_only=True)
class MarketMakerConfig:
    KIND: ClassVar[str] = "market_maker"
    name: str = attrs.field(default="mm", metadata={"help": "participant name"})
    market: str = market_field()
    reference: str = attrs.field(
        default="index",
        metadata={
            "choices": ("index", "fundamental"),
            "help": "the price its ladder is centred on: the venue's index or the fundamental",
        },
    )
    base_deposit: int = base_deposit_field()
    levels: int = attrs.field(
        default=10, metadata={"min": 1, "max": 100_000, "help": "quotes per side"}
    )
    half_spread: int = attrs.field(
        default=5,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "reference to first quote",
            "user_default": "0.5",
        },
    )
    level_spacing: int = attrs.field(
        default=5,
        metadata={
            "unit": "price",
            "min": 1,
            "help": "distance between levels",
            "user_default": "0.5",
        },
    )
    level_size: int = attrs.field(
        default=500,
        metadata={"unit": "size", "min": 1, "help": "size of each quote"},
    )
    requote_threshold: int = attrs.field(
        default=5,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "move that triggers a requote",
            "user_default": "0.5",
        },
    )
    inventory_skew: int = attrs.field(
        default=0,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "quote shift per lot held",
            "user_default": "0",
        },
    )
    reject_backoff: int = attrs.field(
        default=NS_PER_S,
        metadata={
            "unit": "duration",
            "min": 1,
            "help": "after a rejected quote, no new ladder for this long; doubles per rejected "
            "ladder in a row, up to reject_backoff_max",
        },
    )
    reject_backoff_max: int = attrs.field(
        default=60 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "longest pause after rejections"},
    )
    index_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=1_000_000),
        metadata={"help": "delay before it sees a new index price"},
    )
    deposit: int = attrs.field(
        default=10_000_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "deposit"},
    )
    leverage: int = attrs.field(default=20, metadata={"min": 1, "help": "leverage of each account"})
    latency: LinkLatency = attrs.field(
        factory=constant_link(2_000_000), metadata={"help": "order link"}
    )


@attrs.frozen(kw_only=True)
class NoiseTraderConfig:
    KIND: ClassVar[str] = "noise"
    name: str = attrs.field(default="noise", metadata={"help": "group name"})
    market: str = market_field()
    base_deposit: int = base_deposit_field()
    count: int = attrs.field(
        default=20, metadata={"min": 1, "max": 10_000_000, "help": "traders in the group"}
    )
    rate_per_second: Decimal = attrs.field(
        default=Decimal("0.5"),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 1_000_000,
            "help": "orders a second per trader",
        },
    )
    market_fraction: Decimal = attrs.field(
        default=Decimal("0.3"),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "share of market orders"},
    )
    size_min: int = attrs.field(
        default=1,
        metadata={"unit": "size", "min": 1, "help": "order size from"},
    )
    size_max: int = attrs.field(
        default=200,
        metadata={"unit": "size", "min": 1, "help": "order size to"},
    )
    limit_offset_max: int = attrs.field(
        default=20,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "limit distance from touch, up to",
            "user_default": "2",
        },
    )
    limit_lifetime: int = attrs.field(
        default=10_000_000_000,
        metadata={"unit": "duration", "min": 1, "help": "cancel unfilled limits after"},
    )
    feed_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=20_000_000), metadata={"help": "market-data delay"}
    )
    deposit: int = attrs.field(
        default=100_000_000_000,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "deposit of each account",
            "user_default": "100000",
        },
    )
    leverage: int = attrs.field(default=10, metadata={"min": 1, "help": "leverage of each account"})
    latency: LinkLatency = attrs.field(
        factory=constant_link(20_000_000), metadata={"help": "order link"}
    )

    def __attrs_post_init__(self) -> None:
        if self.size_max < self.size_min:
            raise ValueError(f"size_max ({self.size_max}) must be >= size_min ({self.size_min})")


@attrs.frozen(kw_only=True)
class MarginCallResponse:
    reaction_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5_000_000_000),
        metadata={"help": "from receiving a margin call to acting on it"},
    )
    top_up_probability: Decimal = attrs.field(
        default=Decimal("0.3"),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "chance to top up"},
    )
    top_up_fraction: Decimal = attrs.field(
        default=Decimal("0.5"),
        metadata={"unit": "decimal", "min": 0, "help": "top-up as a share of the deposit"},
    )
    reduce_probability: Decimal = attrs.field(
        default=Decimal("0.3"),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "chance to reduce instead"},
    )
    reduce_fraction: Decimal = attrs.field(
        default=Decimal("0.5"),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "share of the position cut"},
    )

    def __attrs_post_init__(self) -> None:
        if self.top_up_probability + self.reduce_probability > 1:
            raise ValueError("top_up_probability + reduce_probability must be <= 1")


@attrs.frozen(kw_only=True)
class CollateralHolding:
    """One collateral asset a leveraged trader deposits besides its wallet."""

    asset: str = attrs.field(default="", metadata={"help": "the asset (one of collateral[].asset)"})
    deposit: int = attrs.field(
        default=0,
        metadata={"unit": "money", "min": 0, "help": "units deposited (sized as if at par)"},
    )


@attrs.frozen(kw_only=True)
class LeveragedTraderConfig:
    KIND: ClassVar[str] = "leveraged"
    name: str = attrs.field(default="leveraged", metadata={"help": "group name"})
    count: int = attrs.field(
        default=50, metadata={"min": 1, "max": 10_000_000, "help": "traders in the group"}
    )
    deposit: int = attrs.field(
        default=1_000_000_000,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "each trader's deposit",
            "user_default": "1000",
        },
    )
    market: str = attrs.field(
        default="",
        metadata={"help": "perpetual traded: empty for the instrument, or a perpetuals[] symbol"},
    )
    accounts_of: str = attrs.field(
        default="",
        metadata={
            "help": "another leveraged group (same count, another perpetual) whose accounts this "
            "group trades with: one account, one wallet, a position in each market (cross "
            "margin: a loss in one can liquidate the other)"
        },
    )
    collateral_asset: str = attrs.field(
        default="",
        metadata={
            "help": "a collateral asset (one of collateral[].asset) each trader also deposits; "
            "cross margin only"
        },
    )
    collateral_deposit: int = attrs.field(
        default=0,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "units of collateral_asset each trader deposits (sized as if at par)",
        },
    )
    collateral: tuple[CollateralHolding, ...] = attrs.field(
        default=(),
        metadata={
            "help": "more collateral assets each trader deposits, a list of {asset, deposit} "
            "tables (after collateral_asset's, each asset once; cross margin only)"
        },
    )
    leverages: tuple[int, ...] = attrs.field(
        default=(10, 20, 50), metadata={"min": 1, "help": "leverage drawn uniformly from this list"}
    )
    margin_mode: str = attrs.field(
        default="cross", metadata={"choices": ("cross", "isolated"), "help": "margin mode"}
    )
    long_fraction: Decimal = attrs.field(
        default=Decimal("0.7"),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "share opening long"},
    )
    position_fraction: Decimal = attrs.field(
        default=Decimal("0.9"),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "share of max notional used"},
    )
    entry_start: int = attrs.field(
        default=0, metadata={"unit": "duration", "min": 0, "help": "entries from"}
    )
    entry_end: int = attrs.field(
        default=10_000_000_000, metadata={"unit": "duration", "min": 1, "help": "entries until"}
    )
    entry_retries: int = attrs.field(
        default=0,
        metadata={
            "min": 0,
            "max": 1_000,
            "help": "times an entry that ends with lots unfilled (expired, cut, refused) is sent "
            "again for the rest; 0 = never (without the life-cycle keys only)",
        },
    )
    entry_retry_delay: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "wait before an entry is sent again"},
    )
    observation_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=20_000_000),
        metadata={"help": "delay before a trader sees a new index price"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(20_000_000), metadata={"help": "order link"}
    )
    response: MarginCallResponse = attrs.field(
        factory=MarginCallResponse, metadata={"help": "margin-call behaviour"}
    )
    # The life cycle (agents/lifecycle.py); left at their defaults, a trader enters once and holds.
    arrival: str = attrs.field(
        default="window",
        metadata={
            "choices": ("window", "poisson"),
            "help": "first entry: uniform in [entry_start, entry_end), or entry_start plus an "
            "exponential wait at arrival_rate",
        },
    )
    arrival_rate: Decimal = attrs.field(
        default=Decimal("0.01"),
        metadata={"unit": "decimal", "min": 0, "max": 1_000, "help": "poisson: a second each"},
    )
    holding: str = attrs.field(
        default="forever",
        metadata={
            "choices": ("forever", "exponential", "fixed"),
            "help": "how long a position is held before the trader closes it",
        },
    )
    holding_time: int = attrs.field(
        default=600 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "mean (exponential) or exact (fixed)"},
    )
    stop_loss: int = attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": RATE_SCALE - 1,
            "help": "close when the observed price moves this fraction against the entry; 0 = none",
        },
    )
    take_profit: int = attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": RATE_SCALE - 1,
            "help": "close when it moves this fraction in favour; 0 = none",
        },
    )
    trigger_price: str = attrs.field(
        default="index",
        metadata={
            "choices": ("index", "last_trade"),
            "help": "the observed price stops and take-profits trigger on",
        },
    )
    reentry_probability: Decimal = attrs.field(
        default=Decimal(0),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 1,
            "help": "chance to re-enter after an exit",
        },
    )
    reentry_delay: int = attrs.field(
        default=60 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "mean wait before a re-entry"},
    )

    def __attrs_post_init__(self) -> None:
        if not self.leverages:
            raise ValueError("leverages must not be empty")
        if self.entry_end <= self.entry_start:
            raise ValueError("entry_end must be after entry_start")
        if self.entry_retries and self.life_cycle:
            raise ValueError("entry_retries applies without the life-cycle keys")

    def collateral_holdings(self) -> list[tuple[str, int]]:
        """``(asset, units)`` each trader deposits: ``collateral_asset``'s first, then
        ``collateral``'s in order."""
        first = [(self.collateral_asset, self.collateral_deposit)] if self.collateral_asset else []
        return first + [(holding.asset, holding.deposit) for holding in self.collateral]

    @property
    def life_cycle(self) -> bool:
        """Whether any life-cycle key differs from today's enter-once-and-hold behaviour."""
        return bool(
            self.arrival != "window"
            or self.holding != "forever"
            or self.stop_loss
            or self.take_profit
            or self.reentry_probability
        )


@attrs.frozen(kw_only=True)
class BasisArbitrageurConfig:
    KIND: ClassVar[str] = "arbitrageur"
    name: str = attrs.field(default="arb", metadata={"help": "participant name"})
    deposit: int = attrs.field(
        default=100_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "deposit", "user_default": "100000"},
    )
    leverage: int = attrs.field(default=5, metadata={"min": 1, "help": "account leverage"})
    threshold: int = attrs.field(
        default=1_000_000,
        metadata={
            "unit": "rate",
            "min": 1,
            "help": "mid-vs-index premium beyond which it trades; unwinds inside half of it",
        },
    )
    clip_size: int = attrs.field(
        default=1_000,
        metadata={"unit": "size", "min": 1, "help": "size of each order", "user_default": "1"},
    )
    max_position: int = attrs.field(
        default=10_000,
        metadata={
            "unit": "size",
            "min": 1,
            "help": "largest position either way (its capital limit)",
            "user_default": "10",
        },
    )
    check_interval: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "how often it compares mid and index"},
    )
    reject_backoff: int = attrs.field(
        default=10 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "pause after a rejected order"},
    )
    observation_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5_000_000),
        metadata={"help": "delay before it sees a new index price or top of book"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(5_000_000), metadata={"help": "order link"}
    )
