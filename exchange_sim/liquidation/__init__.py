"""Liquidation: close-out policies, insurance fund, backstop vault, ADL and socialised loss.

Everything importable from here is pure core (no simpy). The SimPy shell that schedules it, the
liquidation engine, is imported explicitly: ``from exchange_sim.liquidation.engine import
LiquidationEngine, build_liquidation``.
"""

from exchange_sim.liquidation.accounting import LiquidationAccounting
from exchange_sim.liquidation.adl import (
    AdlCandidate,
    AdlConfig,
    AdlQueueEntry,
    AdlRanker,
    AdlScore,
    binance_score,
    bitmex_score,
    emit_adl,
    hyperliquid_score,
    queue_percentiles,
    rank_by_score,
)
from exchange_sim.liquidation.apportion import (
    allocate_capped_pro_rata,
    allocate_pro_rata,
    allocate_ranked,
)
from exchange_sim.liquidation.config import (
    BinancePolicyConfig,
    DydxPolicyConfig,
    HyperliquidPolicyConfig,
    LiquidationConfig,
    MarketPolicyConfig,
    PolicyConfig,
    TieredPolicyConfig,
    UnwindConfig,
    VaultConfig,
)
from exchange_sim.liquidation.insurance_fund import (
    InsuranceFund,
    InsuranceFundConfig,
    liquidation_fill_delta,
)
from exchange_sim.liquidation.policies import Action, Job, build_policy
from exchange_sim.liquidation.socialised_loss import Clawback, clawback, emit_clawback
from exchange_sim.liquidation.vault import BackstopVault
from exchange_sim.liquidation.waterfall import Waterfall, money_identity

__all__ = [
    "Action",
    "AdlCandidate",
    "AdlConfig",
    "AdlQueueEntry",
    "AdlRanker",
    "AdlScore",
    "BackstopVault",
    "BinancePolicyConfig",
    "Clawback",
    "DydxPolicyConfig",
    "HyperliquidPolicyConfig",
    "InsuranceFund",
    "InsuranceFundConfig",
    "Job",
    "LiquidationAccounting",
    "LiquidationConfig",
    "MarketPolicyConfig",
    "PolicyConfig",
    "TieredPolicyConfig",
    "UnwindConfig",
    "VaultConfig",
    "Waterfall",
    "allocate_capped_pro_rata",
    "allocate_pro_rata",
    "allocate_ranked",
    "binance_score",
    "bitmex_score",
    "build_policy",
    "clawback",
    "emit_adl",
    "emit_clawback",
    "hyperliquid_score",
    "liquidation_fill_delta",
    "money_identity",
    "queue_percentiles",
    "rank_by_score",
]
