"""Configuration of the participants that carry value between markets (pure data, no simpy):
informed traders (the fundamental value into prices) and spot-perpetual arbitrageurs (the
perpetual's flow into the spot books the index reads, and back)."""

from __future__ import annotations

from typing import ClassVar

import attrs

from exchange_sim.agents.fields import base_deposit_field, market_field
from exchange_sim.core.units import NS_PER_S
from exchange_sim.kernel.latency import ConstantLatency, LatencyModel, LinkLatency, constant_link


@attrs.frozen(kw_only=True)
class InformedTraderConfig:
    KIND: ClassVar[str] = "informed"
    name: str = attrs.field(default="informed", metadata={"help": "participant name"})
    market: str = market_field()
    deposit: int = attrs.field(
        default=1_000_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "quote money deposited"},
    )
    base_deposit: int = base_deposit_field()
    leverage: int = attrs.field(
        default=5, metadata={"min": 1, "help": "account leverage (perpetual)"}
    )
    threshold: int = attrs.field(
        default=2_000_000,
        metadata={
            "unit": "rate",
            "min": 1,
            "help": "trades when the touch is this far from the fundamental it saw",
        },
    )
    clip_size: int = attrs.field(
        default=1_000, metadata={"unit": "size", "min": 1, "help": "size of each order"}
    )
    max_position: int = attrs.field(
        default=20_000,
        metadata={"unit": "size", "min": 1, "help": "largest position either way"},
    )
    check_interval: int = attrs.field(
        default=NS_PER_S // 2,
        metadata={"unit": "duration", "min": 1, "help": "how often it compares price and value"},
    )
    fundamental_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=1_000_000),
        metadata={"help": "how soon it sees the fundamental value (and its news)"},
    )
    feed_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5_000_000),
        metadata={"help": "market-data delay"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(5_000_000), metadata={"help": "order link"}
    )


@attrs.frozen(kw_only=True)
class SpotArbitrageurConfig:
    KIND: ClassVar[str] = "spot_arbitrageur"
    name: str = attrs.field(default="spot_arb", metadata={"help": "participant name"})
    spot_market: str = attrs.field(
        default="spot", metadata={"help": "the spot market it hedges on"}
    )
    deposit: int = attrs.field(
        default=1_000_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "margin deposited on the perpetual"},
    )
    spot_deposit: int = attrs.field(
        default=1_000_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "quote money deposited on the spot market"},
    )
    base_deposit: int = base_deposit_field()
    leverage: int = attrs.field(
        default=5, metadata={"min": 1, "help": "perpetual account leverage"}
    )
    threshold: int = attrs.field(
        default=1_000_000,
        metadata={
            "unit": "rate",
            "min": 1,
            "help": "perpetual-vs-spot basis (mid to mid) beyond which it trades; it unwinds "
            "inside half of it",
        },
    )
    clip_size: int = attrs.field(
        default=1_000, metadata={"unit": "size", "min": 1, "help": "size of each perp order"}
    )
    max_position: int = attrs.field(
        default=20_000,
        metadata={"unit": "size", "min": 1, "help": "largest hedged position (its capital)"},
    )
    check_interval: int = attrs.field(
        default=NS_PER_S // 2,
        metadata={"unit": "duration", "min": 1, "help": "how often it compares the two books"},
    )
    hedge_slippage: int = attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": 1_000_000_000,
            "help": "how far through the spot touch its hedge may trade (an IOC at the touch "
            "times 1 +/- this); 0 = at the touch only",
        },
    )
    reject_backoff: int = attrs.field(
        default=5 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "pause after a rejected order"},
    )
    observation_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5_000_000),
        metadata={"help": "market-data delay on both books"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(5_000_000), metadata={"help": "order link to the perpetual"}
    )
    spot_latency: LinkLatency = attrs.field(
        factory=constant_link(5_000_000), metadata={"help": "order link to the spot market"}
    )
