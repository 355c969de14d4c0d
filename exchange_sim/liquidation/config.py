"""Configuration of the liquidation engine: close-out policy, pacing, waterfall, fund and vault.

Units follow :mod:`exchange_sim.config`: durations int ns, rates int ppb, money int minor units
(defaults are written for the default instrument, 6 money decimals; ``user_default`` shows them in
the settlement asset). The close-out policy is chosen by ``kind`` (exchange_mechanics.md §4):

* ``binance`` (§4.1): one IOC sized to restore maintenance, liquidation fee, then takeover;
* ``tiered`` (BitMEX §4.2 / Bybit §4.3): FOK down one risk tier, then a limit at bankruptcy;
* ``dydx`` (§4.5): IOC at the fillable price per interval, capped fee, per-interval limits;
* ``hyperliquid`` (§4.6): market orders, 20 % slices above a threshold, backstop at 2/3 MM;
* ``market``: one market order for the whole position (the naive baseline).

The **waterfall** lists, in order, who absorbs what the book cannot: ``book`` (always first),
``fund`` (insurance-fund takeover at bankruptcy, and paying negative balances back to 0),
``vault`` (backstop vault takeover), ``adl`` (auto-deleveraging of opposite positions) and
``socialise`` (clawback of recorded bad debt from profitable accounts).
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from exchange_sim.config.loader import FieldProblem
from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.liquidation.adl import AdlConfig
from exchange_sim.liquidation.insurance_fund import InsuranceFundConfig

STAGES = ("book", "fund", "vault", "adl", "socialise")
POSITION_STAGES = ("fund", "vault", "adl")
ORDER_LIMITS = ("bankruptcy", "none")
VAULT_PRICES = ("bankruptcy", "mark_discount")
COOLDOWN_ACTIONS = ("full", "wait")

USDC = 1_000_000
"""One unit of the default settlement asset in minor units (6 decimals): for defaults only."""


@attrs.frozen(kw_only=True)
class BinancePolicyConfig:
    """Binance "Smart Liquidation" (§4.1)."""

    KIND: ClassVar[str] = "binance"
    order_limit: str = attrs.field(
        default="bankruptcy",
        metadata={
            "choices": ORDER_LIMITS,
            "help": "limit of the IOC: the bankruptcy price (2019-20 FAQ: orders are issued at "
            "the bankruptcy price) or none (market IOC, only the price band limits it)",
        },
    )


@attrs.frozen(kw_only=True)
class TieredPolicyConfig:
    """BitMEX / Bybit partial liquidation by risk tier (§4.2, §4.3)."""

    KIND: ClassVar[str] = "tiered"
    order_limit: str = attrs.field(
        default="bankruptcy",
        metadata={"choices": ORDER_LIMITS, "help": "limit of the FOK: bankruptcy price or none"},
    )


@attrs.frozen(kw_only=True)
class DydxPolicyConfig:
    """dYdX v4 protocol liquidations (§4.5); defaults are the mainnet genesis values."""

    KIND: ClassVar[str] = "dydx"
    interval: int = attrs.field(
        default=NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "one liquidation round (dYdX: a block)"},
    )
    max_fee: int = attrs.field(
        default=15_000_000,
        metadata={"unit": "rate", "min": 0, "help": "fee cap: min(max_fee x |quote|, surplus)"},
    )
    bankruptcy_adjustment: int = attrs.field(
        default=RATE_SCALE, metadata={"unit": "rate", "min": 0, "help": "BA of the fillable price"}
    )
    spread_to_maintenance_ratio: int = attrs.field(
        default=1_500_000_000,
        metadata={"unit": "rate", "min": 0, "help": "SMMR of the fillable price"},
    )
    position_portion: int = attrs.field(
        default=100_000_000,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": RATE_SCALE,
            "help": "share of the position liquidated per interval",
        },
    )
    min_position_notional: int = attrs.field(
        default=1_000 * USDC,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "a slice is at least this notional",
            "user_default": "1000",
        },
    )
    max_notional_per_interval: int = attrs.field(
        default=100_000 * USDC,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "per account and interval; 0 = no limit",
            "user_default": "100000",
        },
    )
    max_insurance_lost_per_interval: int = attrs.field(
        default=1_000_000 * USDC,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "worst-case fund loss per account and interval; 0 = no limit",
            "user_default": "1000000",
        },
    )


@attrs.frozen(kw_only=True)
class HyperliquidPolicyConfig:
    """Hyperliquid book liquidation with partial slices and a backstop (§4.6)."""

    KIND: ClassVar[str] = "hyperliquid"
    partial_threshold: int = attrs.field(
        default=100_000 * USDC,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "above this notional only a slice is sent",
            "user_default": "100000",
        },
    )
    partial_fraction: int = attrs.field(
        default=200_000_000,
        metadata={"unit": "rate", "min": 1, "max": RATE_SCALE, "help": "share sent per slice"},
    )
    cooldown: int = attrs.field(
        default=30 * NS_PER_S,
        metadata={"unit": "duration", "min": 0, "help": "cooldown after a partial liquidation"},
    )
    cooldown_action: str = attrs.field(
        default="full",
        metadata={
            "choices": COOLDOWN_ACTIONS,
            "help": "full: within the cooldown orders are for the whole position (Hyperliquid "
            "docs); wait: the next slice waits for the cooldown to end",
        },
    )
    backstop_numerator: int = attrs.field(
        default=2, metadata={"min": 0, "help": "backstop when equity < num/den x MM"}
    )
    backstop_denominator: int = attrs.field(
        default=3, metadata={"min": 1, "help": "backstop when equity < num/den x MM"}
    )


@attrs.frozen(kw_only=True)
class MarketPolicyConfig:
    """One market order for the whole position, nothing else (the naive baseline)."""

    KIND: ClassVar[str] = "market"


PolicyConfig = (
    BinancePolicyConfig
    | TieredPolicyConfig
    | DydxPolicyConfig
    | HyperliquidPolicyConfig
    | MarketPolicyConfig
)


@attrs.frozen(kw_only=True)
class UnwindConfig:
    """How a holder (fund or vault) sells what it took over back into the book."""

    interval: int = attrs.field(
        default=NS_PER_S, metadata={"unit": "duration", "min": 1, "help": "time between slices"}
    )
    fraction: int = attrs.field(
        default=250_000_000,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": RATE_SCALE,
            "help": "share of the held position sent per slice (a market IOC, at least one lot)",
        },
    )


@attrs.frozen(kw_only=True)
class VaultConfig:
    """The backstop (liquidator) vault, Hyperliquid HLP style (§4.6)."""

    capital: int = attrs.field(
        default=1_000_000 * USDC,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "cash the vault starts with",
            "user_default": "1000000",
        },
    )
    takeover_price: str = attrs.field(
        default="bankruptcy",
        metadata={
            "choices": VAULT_PRICES,
            "help": "bankruptcy: the account ends at zero equity (Hyperliquid); mark_discount: "
            "mark less `discount` for the vault, never beyond the bankruptcy price",
        },
    )
    discount: int = attrs.field(
        default=0,
        metadata={"unit": "rate", "min": 0, "max": RATE_SCALE - 1, "help": "mark_discount rate"},
    )
    max_leverage: int = attrs.field(
        default=5,
        metadata={"min": 0, "help": "accepts while its notional <= equity x this; 0 = no cap"},
    )
    unwind: UnwindConfig = attrs.field(factory=UnwindConfig, metadata={"help": "unwind schedule"})


def _check_waterfall(instance, attribute, value) -> None:
    def problem(text: str) -> FieldProblem:
        return FieldProblem("waterfall", list(value), text)

    if not value or value[0] != "book":
        raise problem("must start with 'book'")
    for stage in value:
        if stage not in STAGES:
            raise problem(f"stage {stage!r} must be one of {', '.join(STAGES)}")
    if len(set(value)) != len(value):
        raise problem("stages must not repeat")
    if "socialise" in value and not set(value) & set(POSITION_STAGES):
        # 'socialise' only claws back a *recorded* deficit: something must take over what the
        # book cannot close, else a bankrupt account stays open and its loss is never recorded.
        # (A waterfall of just 'book' is the naive baseline: such positions stay and are retried.)
        raise problem(
            "'socialise' needs a stage that takes over positions before it: one of "
            + ", ".join(POSITION_STAGES)
        )


@attrs.frozen(kw_only=True)
class LiquidationConfig:
    """The liquidation engine (exchange_mechanics.md §4, §5, §7)."""

    policy: PolicyConfig = attrs.field(
        factory=BinancePolicyConfig, metadata={"help": "close-out policy, chosen by kind"}
    )
    processing_latency: int = attrs.field(
        default=0,
        metadata={"unit": "duration", "min": 0, "help": "from hand-off to the engine starting"},
    )
    throughput: int = attrs.field(
        default=0,
        metadata={
            "min": 0,
            "help": "accounts started per second (one every 1/throughput s); 0 = no limit",
        },
    )
    liquidation_fee: int = attrs.field(
        default=5_000_000,
        metadata={
            "unit": "rate",
            "min": 0,
            "help": "fee on the amount liquidated, to the fund (binance and tiered policies)",
        },
    )
    retry_interval: int = attrs.field(
        default=NS_PER_S,
        metadata={
            "unit": "duration",
            "min": 1,
            "help": "wait before retrying an unfilled order, and before restarting an account "
            "handed back unresolved",
        },
    )
    max_retries: int = attrs.field(
        default=3, metadata={"min": 0, "help": "retries (or resting intervals) before escalating"}
    )
    waterfall: tuple[str, ...] = attrs.field(
        default=("book", "fund", "adl"),
        validator=_check_waterfall,
        metadata={"choices": STAGES, "help": "who absorbs what the book cannot, in order"},
    )
    insurance_fund: InsuranceFundConfig = attrs.field(
        factory=InsuranceFundConfig, metadata={"help": "the instrument's insurance fund"}
    )
    fund_unwind: UnwindConfig = attrs.field(
        factory=UnwindConfig, metadata={"help": "how the fund unwinds what it took over"}
    )
    fund_position_limit: int = attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "help": "fund takes over only while its position "
            "notional <= balance x this (Binance: 100 %); 0 = no limit",
        },
    )
    vault: VaultConfig = attrs.field(factory=VaultConfig, metadata={"help": "backstop vault"})
    adl: AdlConfig = attrs.field(factory=AdlConfig, metadata={"help": "auto-deleveraging"})
