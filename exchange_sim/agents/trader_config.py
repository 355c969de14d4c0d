"""Configuration of the strategy traders (pure data: no simpy), one table per ``kind``: trend
followers, dip buyers, carry traders and the liquidation hunter.

The behaviour of each kind is in its own module (:mod:`.trend`, :mod:`.dip_buyer`, :mod:`.carry`,
:mod:`.hunter`); the mechanics the first three share in :mod:`.signal_group`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import attrs

from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.kernel.latency import ConstantLatency, LatencyModel, LinkLatency, constant_link

PRICE_SOURCES = ("index", "last_trade")


def _rate(default: int, help: str, low: int = 0) -> int:
    return attrs.field(
        default=default,
        metadata={"unit": "rate", "min": low, "max": RATE_SCALE - 1, "help": help},
    )


def _duration(default: int, help: str) -> int:
    return attrs.field(default=default, metadata={"unit": "duration", "min": 1, "help": help})


@attrs.frozen(kw_only=True)
class SignalGroupConfig:
    """Keys shared by the trend, dip and carry groups (see :mod:`.signal_group`)."""

    name: str = attrs.field(default="signal", metadata={"help": "group name"})
    count: int = attrs.field(
        default=20, metadata={"min": 1, "max": 10_000_000, "help": "traders in the group"}
    )
    deposit: int = attrs.field(
        default=10_000_000_000,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "each trader's deposit",
            "user_default": "10000",
        },
    )
    leverage: int = attrs.field(
        default=5, metadata={"min": 1, "max": 1_000, "help": "leverage of each account"}
    )
    position_fraction: Decimal = attrs.field(
        default=Decimal("0.5"),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "share of max notional used"},
    )
    max_position: int = attrs.field(
        default=0,
        metadata={"unit": "size", "min": 0, "help": "largest entry of a trader; 0 = no cap"},
    )
    threshold_min: int = _rate(2_000_000, "entry thresholds are drawn from", 1)
    threshold_max: int = _rate(10_000_000, "entry thresholds are drawn up to", 1)
    exit_fraction: int = _rate(
        300_000_000, "exit when the signal in its favour falls below this share of its threshold"
    )
    stop_loss: int = _rate(20_000_000, "close at this adverse move from the entry; 0 = none")
    take_profit: int = _rate(0, "close at this favourable move from the entry; 0 = none")
    cooldown: int = _duration(30 * NS_PER_S, "wait after an exit before it can enter again")
    observation_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=20_000_000),
        metadata={"help": "delay before it sees an index price or market data"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(20_000_000), metadata={"help": "order link"}
    )

    def __attrs_post_init__(self) -> None:
        if self.threshold_max < self.threshold_min:
            raise ValueError("threshold_max must be >= threshold_min")


@attrs.frozen(kw_only=True)
class TrendFollowerConfig(SignalGroupConfig):
    """Sells into falls and buys into rises: the signal is the observed price's change over
    ``lookback``."""

    KIND: ClassVar[str] = "trend"
    name: str = attrs.field(default="trend", metadata={"help": "group name"})
    price_source: str = attrs.field(
        default="index",
        metadata={"choices": PRICE_SOURCES, "help": "the price it watches"},
    )
    lookback: int = _duration(30 * NS_PER_S, "the signal is the price change over this")


@attrs.frozen(kw_only=True)
class DipBuyerConfig(SignalGroupConfig):
    """Buys after a drop from the recent high it observed; takes profit on a rebound and stops
    out below."""

    KIND: ClassVar[str] = "dip_buyer"
    name: str = attrs.field(default="dip", metadata={"help": "group name"})
    price_source: str = attrs.field(
        default="index",
        metadata={"choices": PRICE_SOURCES, "help": "the price it watches"},
    )
    high_window: int = _duration(300 * NS_PER_S, "the recent high is the highest price over this")
    threshold_min: int = _rate(20_000_000, "it buys after a drop from the high of at least", 1)
    threshold_max: int = _rate(60_000_000, "drop thresholds are drawn up to", 1)
    exit_fraction: int = _rate(0, "share of its threshold below which the drop ends it; 0 = never")
    take_profit: int = _rate(20_000_000, "close at this rebound from the entry; 0 = none")
    stop_loss: int = _rate(30_000_000, "close at this further fall from the entry; 0 = none")
    cooldown: int = _duration(60 * NS_PER_S, "wait after an exit before it can buy again")


@attrs.frozen(kw_only=True)
class CarryTraderConfig(SignalGroupConfig):
    """Takes the side that receives funding when the perpetual trades away from the index (the
    premium funding is computed from): short when the mid is rich, long when cheap; unwinds when
    the premium normalises."""

    KIND: ClassVar[str] = "carry"
    name: str = attrs.field(default="carry", metadata={"help": "group name"})
    leverage: int = attrs.field(
        default=3, metadata={"min": 1, "max": 1_000, "help": "leverage of each account"}
    )
    max_position: int = attrs.field(
        default=1_000,
        metadata={
            "unit": "size",
            "min": 0,
            "help": "largest position of a trader; 0 = no cap",
            "user_default": "1",
        },
    )
    threshold_min: int = _rate(1_000_000, "premium (mid vs index) from which it enters, from", 1)
    threshold_max: int = _rate(3_000_000, "premium thresholds are drawn up to", 1)
    exit_fraction: int = _rate(250_000_000, "unwind when the premium falls below this share")
    stop_loss: int = _rate(30_000_000, "close at this adverse move of the mid; 0 = none")


@attrs.frozen(kw_only=True)
class LiquidationHunterConfig:
    """An adversary pushing the price into where it estimates liquidations cluster (see
    :mod:`.hunter`)."""

    KIND: ClassVar[str] = "hunter"
    name: str = attrs.field(default="hunter", metadata={"help": "participant name"})
    deposit: int = attrs.field(
        default=1_000_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "deposit", "user_default": "1000000"},
    )
    leverage: int = attrs.field(
        default=10, metadata={"min": 1, "max": 1_000, "help": "account leverage"}
    )
    assumed_leverages: tuple[int, ...] = attrs.field(
        default=(10, 20, 50),
        metadata={"min": 1, "help": "leverages it assumes the crowd uses, equally likely"},
    )
    assumed_maintenance: int = _rate(4_000_000, "maintenance margin rate it assumes")
    bucket: int = attrs.field(
        default=100,
        metadata={
            "unit": "price",
            "min": 1,
            "help": "width of its liquidation-price buckets",
            "user_default": "10",
        },
    )
    max_distance: int = _rate(20_000_000, "largest distance to a cluster it pushes toward", 1)
    min_cluster: int = attrs.field(
        default=5_000,
        metadata={
            "unit": "size",
            "min": 1,
            "help": "smallest estimated cluster worth a push",
            "user_default": "5",
        },
    )
    max_push: int = attrs.field(
        default=5_000,
        metadata={
            "unit": "size",
            "min": 1,
            "help": "most it sells (buys) to push: the book to the cluster must be thinner",
            "user_default": "5",
        },
    )
    push_through: int = attrs.field(
        default=10,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "its push's limit is this far beyond the cluster edge",
            "user_default": "1",
        },
    )
    depth_levels: int = attrs.field(
        default=50, metadata={"min": 1, "max": 10_000, "help": "book levels per side it watches"}
    )
    rebuy_levels: int = attrs.field(
        default=5, metadata={"min": 1, "max": 1_000, "help": "bids it rests to buy back into"}
    )
    rebuy_spacing: int = attrs.field(
        default=50,
        metadata={
            "unit": "price",
            "min": 1,
            "help": "distance between those bids, the first one below its push limit",
            "user_default": "5",
        },
    )
    check_interval: int = _duration(NS_PER_S, "time between its evaluations of the last view")
    quiet_period: int = _duration(3 * NS_PER_S, "exit once no liquidation was seen for this")
    max_hold: int = _duration(30 * NS_PER_S, "exit after this when no cascade starts")
    cooldown: int = _duration(60 * NS_PER_S, "wait after an exit before estimating again")
    observation_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5_000_000),
        metadata={"help": "delay before it sees market data and liquidation notices"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(5_000_000), metadata={"help": "order link"}
    )

    def __attrs_post_init__(self) -> None:
        if not self.assumed_leverages:
            raise ValueError("assumed_leverages must not be empty")


@attrs.frozen(kw_only=True)
class OracleManipulatorConfig:
    """An adversary that holds a perpetual position and pushes one spot source of the index
    (see :mod:`.manipulator`)."""

    KIND: ClassVar[str] = "oracle_manipulator"
    name: str = attrs.field(default="manipulator", metadata={"help": "participant name"})
    spot_market: str = attrs.field(
        default="spot", metadata={"help": "the spot market (index source) it pushes"}
    )
    direction: str = attrs.field(
        default="down",
        metadata={
            "choices": ("down", "up"),
            "help": "down: it sells the spot source and is short the perpetual; up: the mirror",
        },
    )
    deposit: int = attrs.field(
        default=1_000_000_000_000,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "margin deposited on the perpetual",
            "user_default": "1000000",
        },
    )
    leverage: int = attrs.field(
        default=10, metadata={"min": 1, "max": 1_000, "help": "perpetual account leverage"}
    )
    perp_lots: int = attrs.field(
        default=0,
        metadata={
            "unit": "size",
            "min": 0,
            "help": "perpetual position it opens (short when pushing down); 0 = none",
        },
    )
    open_at: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "when it opens that position (market)"},
    )
    close_at: int = attrs.field(
        default=0,
        metadata={
            "unit": "duration",
            "min": 0,
            "help": "when it closes what it holds (reduce-only market); 0 = never",
        },
    )
    spot_deposit: int = attrs.field(
        default=0,
        metadata={"unit": "money", "min": 0, "help": "quote money on the spot market (to buy)"},
    )
    base_deposit: int = attrs.field(
        default=0,
        metadata={"unit": "size", "min": 0, "help": "base inventory on the spot market (to sell)"},
    )
    push_start: int = attrs.field(
        default=30 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "when the first push starts"},
    )
    push_window: int = attrs.field(
        default=10 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "how long each push lasts"},
    )
    pushes: int = attrs.field(
        default=1, metadata={"min": 1, "max": 1_000, "help": "number of pushes"}
    )
    push_every: int = attrs.field(
        default=60 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "from one push's start to the next's"},
    )
    sweep_every: int = attrs.field(
        default=NS_PER_S // 2,
        metadata={
            "unit": "duration",
            "min": 1_000_000,
            "help": "time between its sweeps within a push",
        },
    )
    push_depth: int = _rate(
        100_000_000, "its sweeps' limit: this far beyond the touch it saw when the push began", 1
    )
    budget: int = attrs.field(
        default=100_000_000_000,
        metadata={
            "unit": "money",
            "min": 1,
            "help": "spot notional it trades per push, counted at the touch it saw",
            "user_default": "100000",
        },
    )
    depth_levels: int = attrs.field(
        default=50, metadata={"min": 1, "max": 10_000, "help": "spot book levels per side it sees"}
    )
    observation_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=5_000_000),
        metadata={"help": "delay before it sees the spot book"},
    )
    latency: LinkLatency = attrs.field(
        factory=constant_link(5_000_000), metadata={"help": "order link to the perpetual"}
    )
    spot_latency: LinkLatency = attrs.field(
        factory=constant_link(5_000_000), metadata={"help": "order link to the spot market"}
    )

    def __attrs_post_init__(self) -> None:
        if self.pushes > 1 and self.push_every < self.push_window:
            raise ValueError("push_every must be >= push_window when pushes > 1")
