"""Venue rules the presets carry beyond tiers and policies (exchange_mechanics.md §2.2, §2.4, §6.5).

Each test reads the preset as a run resolves it (``load_data``) and checks one rule's value.
"""

from __future__ import annotations

import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.config import load_data
from exchange_sim.runner.preflight import preflight


def _config(name: str, **tables):
    return load_data({"venue": {"preset": name}, **tables}).config


def test_okx_trigger_adds_its_liquidation_fee_rate():
    """OKX §2.4: liquidation when the margin ratio < MMR + liquidation fee rate: the preset adds
    the same rate to the trigger as the fee its close-out charges."""
    config = _config("okx")
    assert config.margin.trigger_rate_added == config.liquidation.liquidation_fee == 500_000


def test_bitmex_maintenance_adds_the_exit_taker_fee():
    """BitMEX §2.2, §3.2: MM includes the taker fee to close; the preset's added rate is the
    taker fee a run uses by default (the reference gives no BitMEX fee schedule)."""
    config = _config("bitmex")
    assert config.margin.trigger_rate_added == config.fees.taker_fee_ppb == 500_000


@pytest.mark.parametrize("name", ["binance", "bybit", "dydx", "hyperliquid"])
def test_other_presets_add_nothing_to_the_trigger(name):
    """Only OKX and BitMEX add a rate to the maintenance trigger."""
    assert _config(name).margin.trigger_rate_added == 0


def test_okx_fixes_its_funding_rate_one_minute_ahead():
    """OKX §6.5: the rate of 07:59 is paid at 08:00."""
    assert _config("okx").funding.rule.rate_fixed_before == 60_000_000_000


@pytest.mark.parametrize("name", ["binance", "bitmex", "bybit", "dydx", "hyperliquid"])
def test_other_presets_fix_the_rate_at_the_timestamp(name):
    """Every other venue computes the rate at the funding timestamp."""
    assert _config(name).funding.rule.rate_fixed_before == 0


def test_bybit_keeps_the_entry_value_basis_and_the_tiered_policy():
    """Bybit §2.3, §4.3: MM (and the FillOrKill's tier) on the entry value; tiered close-out."""
    config = _config("bybit")
    assert (config.margin.maintenance_basis, config.liquidation.policy.KIND) == (
        "entry",
        "tiered",
    )


def test_an_added_rate_that_reaches_the_initial_rate_is_a_config_error():
    """0.4 % + 0.5 % reaches the 125x bracket's 0.8 % initial rate: a one-line ConfigError."""
    loaded = load_data({"venue": {"preset": "okx"}, "margin": {"trigger_rate_added": "0.005"}})
    with pytest.raises(ConfigError, match="margin"):
        preflight(loaded, participants=False)
