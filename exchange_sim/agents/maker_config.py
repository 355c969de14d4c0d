"""Configuration of the adaptive market maker and the execution agent (pure data: no simpy).

Re-exported by :mod:`exchange_sim.agents.config` with the other participants' tables; the
behaviour is in :mod:`.adaptive_maker` and :mod:`.execution`. Thresholds and options that can be
off are off at ``0``.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from exchange_sim.agents.fields import base_deposit_field, market_field
from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.kernel.latency import ConstantLatency, LatencyModel, LinkLatency, constant_link

MS = 1_000_000


@attrs.frozen(kw_only=True)
class AdaptiveMakerConfig:
    KIND: ClassVar[str] = "adaptive_maker"
    name: str = attrs.field(default="amm", metadata={"help": "participant name"})
    market: str = market_field()
    reference: str = attrs.field(
        default="index",
        metadata={
            "choices": ("index", "fundamental"),
            "help": "the price feed its weight_index reads: the venue's index or the fundamental",
        },
    )
    base_deposit: int = base_deposit_field()
    deposit: int = attrs.field(
        default=1_000_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "deposit", "user_default": "1000000"},
    )
    leverage: int = attrs.field(default=20, metadata={"min": 1, "help": "account leverage"})
    levels: int = attrs.field(
        default=5, metadata={"min": 1, "max": 10_000, "help": "quotes per side"}
    )
    level_sizes: tuple[int, ...] = attrs.field(
        default=(500,),
        metadata={
            "unit": "size",
            "min": 1,
            "help": "size of each level, best first; the last repeats for deeper levels",
        },
    )
    level_spacing: int = attrs.field(
        default=5,
        metadata={"unit": "price", "min": 0, "help": "distance between levels"},
    )
    base_half_spread: int = attrs.field(
        default=5,
        metadata={"unit": "price", "min": 1, "help": "half spread with no volatility"},
    )
    vol_multiplier: int = attrs.field(
        default=200_000_000,
        metadata={
            "unit": "rate",
            "min": 0,
            "help": "half spread added per unit of realised volatility x fair value "
            "(1.0 = one realised move over vol_window)",
        },
    )
    vol_window: int = attrs.field(
        default=10 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "window of the realised volatility"},
    )
    vol_source: str = attrs.field(
        default="index",
        metadata={"choices": ("index", "mid"), "help": "prices the volatility is measured on"},
    )
    initial_price: int = attrs.field(
        default=0,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "the price it assumes before it has seen a reference price or a book "
            "(yesterday's close; lets makers open a market whose index is built from their own "
            "quotes); 0 = none, it waits for a price",
        },
    )
    weight_index: int = attrs.field(
        default=RATE_SCALE,
        metadata={"unit": "rate", "min": 0, "help": "weight of the last index in fair value"},
    )
    weight_mid: int = attrs.field(
        default=0,
        metadata={"unit": "rate", "min": 0, "help": "weight of the book's mid in fair value"},
    )
    flow_weight: int = attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "help": "fair value shift, as a fraction of it, per lot of net aggressor volume "
            "over flow_window",
        },
    )
    flow_window: int = attrs.field(
        default=5 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "window of the trade-flow signal"},
    )
    inventory_skew: int = attrs.field(
        default=0,
        metadata={"unit": "price", "min": 0, "help": "fair value lowered per skew_unit held"},
    )
    skew_unit: int = attrs.field(
        default=1_000,
        metadata={"unit": "size", "min": 1, "help": "inventory that moves fair by inventory_skew"},
    )
    requote_threshold: int = attrs.field(
        default=5,
        metadata={
            "unit": "price",
            "min": 1,
            "help": "requote when fair value or half spread moved this much",
        },
    )
    requote_interval: int = attrs.field(
        default=5 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "requote at least this often; 0 = off"},
    )
    withdraw_volatility: int = attrs.field(
        default=10_000_000,
        metadata={"unit": "rate", "min": 0, "help": "withdraw above this realised vol; 0 = off"},
    )
    withdraw_inventory: int = attrs.field(
        default=10_000,
        metadata={"unit": "size", "min": 0, "help": "withdraw above this |inventory|; 0 = off"},
    )
    withdraw_margin_use: int = attrs.field(
        default=800_000_000,
        metadata={
            "unit": "rate",
            "min": 0,
            "help": "withdraw above this estimated margin use (position IM / equity); 0 = off; "
            "not measured on a spot market",
        },
    )
    unwind_inventory: bool = attrs.field(
        default=True,
        metadata={
            "help": "withdrawn for inventory, keep quoting the side that reduces it (at most the "
            "position in all)"
        },
    )
    restore_delay: int = attrs.field(
        default=5 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "calm this long before quoting again"},
    )
    restore_size: int = attrs.field(
        default=RATE_SCALE // 2,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": RATE_SCALE,
            "help": "quote size (fraction of full) after a restore",
        },
    )
    size_recovery: int = attrs.field(
        default=10 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "reduced size doubles after this long"},
    )
    reject_backoff: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "pause after a rejected quote; doubles"},
    )
    reject_backoff_max: int = attrs.field(
        default=60 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "longest pause after rejections"},
    )
    reject_stop_after: int = attrs.field(
        default=0,
        metadata={
            "min": 0,
            "help": "stop quoting after this many rejected ladders in a row; 0 = never",
        },
    )
    index_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=MS),
        metadata={"help": "delay before it sees a new index price"},
    )
    feed_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=MS),
        metadata={"help": "market-data delay (top level and trades)"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(2 * MS), metadata={"help": "order link"}
    )

    def __attrs_post_init__(self) -> None:
        if not self.level_sizes:
            raise ValueError("level_sizes must not be empty")
        if self.reject_backoff_max < self.reject_backoff:
            raise ValueError("reject_backoff_max must be >= reject_backoff")
        if not (self.weight_index or self.weight_mid):
            raise ValueError("weight_index or weight_mid must be positive")


@attrs.frozen(kw_only=True)
class ExecutionConfig:
    KIND: ClassVar[str] = "execution"
    name: str = attrs.field(default="exec", metadata={"help": "participant name"})
    side: str = attrs.field(
        default="sell", metadata={"choices": ("buy", "sell"), "help": "side of the metaorder"}
    )
    total_size: int = attrs.field(
        default=10_000,
        metadata={"unit": "size", "min": 1, "help": "metaorder size", "user_default": "10"},
    )
    start: int = attrs.field(
        default=10 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "when it starts"},
    )
    style: str = attrs.field(
        default="twap",
        metadata={
            "choices": ("twap", "pov"),
            "help": "twap: equal children over duration; pov: a share of the market's volume",
        },
    )
    duration: int = attrs.field(
        default=30 * NS_PER_S,
        metadata={
            "unit": "duration",
            "min": 1,
            "help": "twap: spread over this; pov: sends nothing after this",
        },
    )
    child_interval: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "time between child orders"},
    )
    participation: int = attrs.field(
        default=100_000_000,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": RATE_SCALE,
            "help": "pov: share of the volume it saw since the last child",
        },
    )
    order_type: str = attrs.field(
        default="ioc",
        metadata={
            "choices": ("market", "ioc"),
            "help": "children are market orders, or IOC limits limit_offset through the touch",
        },
    )
    limit_offset: int = attrs.field(
        default=100,
        metadata={"unit": "price", "min": 0, "help": "ioc: limit this far beyond the touch"},
    )
    deposit: int = attrs.field(
        default=100_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "deposit", "user_default": "100000"},
    )
    leverage: int = attrs.field(default=10, metadata={"min": 1, "help": "account leverage"})
    index_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5 * MS),
        metadata={"help": "delay before it sees a new index price"},
    )
    feed_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5 * MS),
        metadata={"help": "market-data delay (top level and trades)"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(5 * MS), metadata={"help": "order link"}
    )
