"""Configuration of spot markets (pure data, no simpy).

A spot market is a venue of its own (book, matching engine, its own balances); the perpetual's
index can be computed from the spot markets' prices by a venue's index rule (the ``spot`` kind of
``index.process``, :class:`~exchange_sim.pricing.index.SpotIndex`), so forced selling on the
perpetual reaches the index only through what arbitrageurs and other participants carry to the
spot books.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from exchange_sim.core.units import NS_PER_MS, NS_PER_S
from exchange_sim.matching.config import MatchingConfig


@attrs.frozen(kw_only=True)
class SpotMarketConfig:
    """One spot market on the instrument's grid (same tick, lot and quote money unit)."""

    name: str = attrs.field(
        default="spot", metadata={"help": "the market's name (its events' `market` field)"}
    )
    maker_fee_ppb: int = attrs.field(
        default=100_000, metadata={"unit": "rate", "help": "maker fee on quote notional"}
    )
    taker_fee_ppb: int = attrs.field(
        default=100_000, metadata={"unit": "rate", "help": "taker fee on quote notional"}
    )
    matching: MatchingConfig = attrs.field(
        factory=MatchingConfig, metadata={"help": "order validation and self-trade prevention"}
    )


@attrs.frozen(kw_only=True)
class NewsItem:
    """A jump of the fundamental value at a given time (e.g. a tariff headline)."""

    at: int = attrs.field(default=0, metadata={"unit": "duration", "min": 0, "help": "when"})
    jump: Decimal = attrs.field(
        default=Decimal("-0.05"),
        metadata={
            "unit": "decimal",
            "min": Decimal("-0.99"),
            "max": 10,
            "help": "relative jump of the fundamental value (-0.05 = a 5 % fall)",
        },
    )
    headline: str = attrs.field(default="news", metadata={"help": "a label for the log"})


@attrs.frozen(kw_only=True)
class FundamentalConfig:
    """The latent fundamental value of the underlying: geometric Brownian motion plus scheduled
    news jumps. No venue publishes it; participants that watch it (informed traders, makers
    anchored on it) see it after their own latency. Off by default (then the index process is
    the only exogenous price)."""

    enabled: bool = attrs.field(default=False, metadata={"help": "simulate a fundamental value"})
    start_price: int = attrs.field(
        default=500_000, metadata={"unit": "price", "min": 1, "help": "value at t = 0"}
    )
    volatility_annual: Decimal = attrs.field(
        default=Decimal("0.5"),
        metadata={"unit": "decimal", "min": 0, "max": 100, "help": "annualised volatility"},
    )
    cadence: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": NS_PER_MS, "help": "how often it moves"},
    )
    news: tuple[NewsItem, ...] = attrs.field(
        default=(), metadata={"help": "list of {at, jump, headline} tables"}
    )

    def __attrs_post_init__(self) -> None:
        times = [item.at for item in self.news]
        if times != sorted(times):
            raise ValueError("news must be in time order")
