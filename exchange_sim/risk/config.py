"""Configuration of the risk monitor."""

from __future__ import annotations

import attrs

from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.kernel.latency import ConstantLatency, LatencyModel


@attrs.frozen(kw_only=True)
class RiskConfig:
    mode: str = attrs.field(
        default="index",
        metadata={
            "choices": ("index", "sweep"),
            "help": "index: check accounts whose trigger price a mark update crosses; "
            "sweep: check every account every sweep_interval",
        },
    )
    sweep_interval: int = attrs.field(
        default=NS_PER_S, metadata={"unit": "duration", "min": 1, "help": "sweep mode's period"}
    )
    margin_check_latency: LatencyModel = attrs.field(
        factory=ConstantLatency, metadata={"help": "from a trigger crossing to the margin check"}
    )
    check_price: str = attrs.field(
        default="check_time",
        metadata={
            "choices": ("check_time", "trigger_time"),
            "help": "which mark the check uses: the one at check time or the one that crossed",
        },
    )
    margin_call_ratio: int = attrs.field(
        default=3 * RATE_SCALE // 2,
        metadata={
            "unit": "rate",
            "min": RATE_SCALE,
            "help": "margin call when equity < ratio x MM",
        },
    )
    notify_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=100_000_000),
        metadata={"help": "from a margin call to the trader receiving it"},
    )
    close_first: str = attrs.field(
        default="largest_margin",
        metadata={
            "choices": ("largest_margin", "largest_loss", "triggered"),
            "help": "a cross account with positions in several perpetuals (perpetuals[]): which "
            "position its liquidation closes first: the one with the largest maintenance "
            "margin, the largest unrealised loss, or the one whose market triggered the check",
        },
    )
    margin_call_cooldown: int = attrs.field(
        default=60 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "no repeat call to an account within this"},
    )
    forced_closures: bool = attrs.field(
        default=True,
        metadata={
            "help": "false: an account found past maintenance is logged (margin_check outcome "
            "past_maintenance) and left as it is, never liquidated: the counterfactual baseline "
            "of run.amplification"
        },
    )
    verify_with_sweep: bool = attrs.field(
        default=False,
        metadata={"help": "index mode: also scan all accounts at each mark and fail on a mismatch"},
    )
