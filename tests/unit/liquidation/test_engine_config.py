"""The liquidation config loads strictly from TOML-shaped data and dumps back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_sim.config.loader import dump_section, load_section
from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import Scale
from exchange_sim.liquidation.config import (
    DydxPolicyConfig,
    HyperliquidPolicyConfig,
    LiquidationConfig,
)

SCALE = Scale.build(Decimal("0.1"), Decimal("0.001"), 6, "instrument")


def test_policy_by_kind_with_units():
    """`kind` picks the policy; durations, rates and money convert exactly."""
    data = {
        "policy": {
            "kind": "hyperliquid",
            "partial_threshold": "100000",
            "cooldown": "30s",
            "partial_fraction": "0.2",
        },
        "processing_latency": "250ms",
        "throughput": 50,
        "liquidation_fee": "0.005",
        "waterfall": ["book", "vault", "adl"],
        "vault": {"capital": "2500000", "unwind": {"interval": "2s", "fraction": "0.1"}},
        "adl": {"ranking": "hyperliquid", "close_price": "mark"},
        "insurance_fund": {"initial_balance": "1000"},
    }
    config = load_section(LiquidationConfig, data, "liquidation", SCALE)
    assert config.policy == HyperliquidPolicyConfig(
        partial_threshold=100_000 * 10**6, cooldown=30 * 10**9, partial_fraction=200_000_000
    )
    assert config.processing_latency == 250_000_000
    assert config.liquidation_fee == 5_000_000
    assert config.vault.capital == 2_500_000 * 10**6
    assert config.vault.unwind.fraction == 100_000_000
    assert config.insurance_fund.initial_balance == 1_000 * 10**6
    again = load_section(LiquidationConfig, dump_section(config, SCALE), "liquidation", SCALE)
    assert again == config


def test_dydx_defaults_are_the_mainnet_genesis_values():
    """§4.5: max fee 1.5 %, SMMR 1.5, BA 1, 10 % of a position per block, $1,000 minimum,
    $100k notional and $1M insurance lost per block."""
    config = DydxPolicyConfig()
    assert (config.max_fee, config.spread_to_maintenance_ratio, config.bankruptcy_adjustment) == (
        15_000_000,
        1_500_000_000,
        1_000_000_000,
    )
    assert config.position_portion == 100_000_000
    assert (
        config.min_position_notional,
        config.max_notional_per_interval,
        config.max_insurance_lost_per_interval,
    ) == (10**9, 10**11, 10**12)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"waterfall": ["book", "bank"]}, "liquidation.waterfall[1]"),
        ({"policy": {"kind": "okx"}}, "liquidation.policy.kind"),
        ({"throughput": -1}, "liquidation.throughput"),
        ({"policy": {"kind": "binance", "order_limit": "mark"}}, "liquidation.policy.order_limit"),
    ],
)
def test_bad_values_name_their_key(data, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_section(LiquidationConfig, data, "liquidation", SCALE)


def test_socialise_without_a_position_stage_is_refused_naming_the_key():
    """'socialise' can only claw back a recorded deficit: a waterfall with it but without fund,
    vault or adl would leave bankrupt accounts open, so the config names the key and refuses it."""
    import pytest

    from exchange_sim.core.errors import ConfigError
    from exchange_sim.runner.config import load_data

    with pytest.raises(ConfigError, match=r"liquidation\.waterfall: 'socialise' needs a stage"):
        load_data({"liquidation": {"waterfall": ["book", "socialise"]}})
    assert load_data({"liquidation": {"waterfall": ["book"]}}).config.liquidation.waterfall == (
        "book",
    )
