"""Configuring an inverse (coin-margined) instrument: its grid, what it runs with, and the
``bitmex`` preset on it (limits in XBT)."""

from __future__ import annotations

import os

import pytest

from exchange_sim.core.errors import UnitError
from exchange_sim.core.units import Scale
from exchange_sim.runner.config import load_data, read_toml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
XBTUSD = os.path.join(ROOT, "configs", "scenarios", "xbtusd_inverse.toml")


def test_xbtusd_grid_values_a_lot_at_one_tick_in_satoshis():
    """A lot of 100 contracts of 1 USD at one tick (0.5 USD) is worth 100 / 0.5 XBT = 2 x 10**10
    satoshis (``k``); a linear money per tick-lot is 0."""
    scale = load_data(read_toml(XBTUSD)).scale
    assert (scale.inverse_k, scale.money_per_tick_lot, scale.inverse) == (2 * 10**10, 0, True)


def test_inverse_grid_that_is_not_whole_is_refused():
    """One contract of 1 USD at a tick of 3 USD with no decimals is worth 1/3 of a unit: refused,
    naming the key."""
    from decimal import Decimal

    with pytest.raises(UnitError, match="instrument"):
        Scale.build_inverse(Decimal(3), Decimal(1), 0, Decimal(1), "instrument")


def test_bitmex_preset_on_an_inverse_instrument_has_its_limits_in_xbt():
    """§2.2: XBTUSD's 200 XBT base risk limit and 100 XBT step, not restated in USDT."""
    config = load_data(read_toml(XBTUSD)).config
    assert (config.margin.base_risk_limit, config.margin.step) == (200 * 10**8, 100 * 10**8)
    assert config.funding.rule.in_maintenance_margin


def test_bitmex_preset_on_a_linear_instrument_keeps_its_usdt_restatement():
    """The same preset on a USDT-settled instrument keeps 2,000,000 / 1,000,000 USDT."""
    config = load_data({"venue": {"preset": "bitmex"}}).config
    assert (config.margin.base_risk_limit, config.margin.step) == (2 * 10**12, 10**12)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("instrument.contract_value", "0", "instrument.contract_value"),
        ("liquidation.policy.kind", '"dydx"', "liquidation.policy.kind"),
        ("liquidation.waterfall", '["book","vault","adl"]', "liquidation.waterfall"),
        ("spot_markets", '[{name="BTCUSD"}]', "spot_markets"),
    ],
)
def test_what_an_inverse_instrument_cannot_run_with_is_refused(cli, key, value, message):
    """A contract value of 0, dYdX's policy, a vault, spot markets: exit 2 naming the key."""
    status, out, err = cli("validate", XBTUSD, "--set", f"{key}={value}")
    assert status == 2, (out, err)
    assert message in err and "Traceback" not in err


def test_dydx_preset_on_an_inverse_instrument_is_refused_naming_the_preset(cli):
    """dYdX lists no inverse contract: venue.preset = dydx on XBTUSD exits 2 naming the preset
    and the contract, before the preset's USDC brackets are read in XBT."""
    status, out, err = cli("validate", XBTUSD, "--set", "venue.preset=dydx")
    assert status == 2, (out, err)
    line = "venue.preset: dydx has no inverse contracts (instrument.contract = 'inverse')"
    assert err.strip().endswith(f"{line} (got 'dydx')"), err
    assert "margin" not in err


def test_hyperliquid_preset_on_an_inverse_instrument_is_refused_naming_the_preset(cli):
    """Hyperliquid's waterfall ends in its backstop vault, which no inverse instrument runs: the
    preset on XBTUSD exits 2 naming venue.preset, not a liquidation.waterfall never written."""
    status, out, err = cli("validate", XBTUSD, "--set", "venue.preset=hyperliquid")
    assert status == 2, (out, err)
    assert "venue.preset: hyperliquid's backstop vault" in err
    assert err.strip().endswith("(got 'hyperliquid')"), err


def test_a_vault_the_user_writes_on_an_inverse_instrument_is_refused_under_their_key(cli):
    """The user's own waterfall replaces the preset's: a vault written there is refused naming
    liquidation.waterfall (not the preset)."""
    waterfall = 'liquidation.waterfall=["book","vault","adl"]'
    status, _, err = cli(
        "validate", XBTUSD, "--set", "venue.preset=hyperliquid", "--set", waterfall
    )
    assert status == 2 and "liquidation.waterfall: not supported with an inverse" in err, err


def test_hyperliquid_policy_runs_on_an_inverse_instrument_without_the_vault():
    """With a waterfall of the user's that leaves the vault out, the hyperliquid preset loads on
    XBTUSD: its policy, tiers and ADL ranking, book -> ADL."""
    data = read_toml(XBTUSD)
    data["venue"]["preset"] = "hyperliquid"
    data["liquidation"] = {**data.get("liquidation", {}), "waterfall": ["book", "adl"]}
    data["participants"] = []
    config = load_data(data).config
    assert config.liquidation.policy.KIND == "hyperliquid"
    assert config.liquidation.waterfall == ("book", "adl")


def test_dydx_preset_on_a_linear_instrument_keeps_its_bracket():
    """The refusal is the inverse instrument's only: on a linear instrument dydx's one bracket
    (cap 1,000,000,000,000 USDC) loads."""
    data = {"venue": {"preset": "dydx"}, "participants": []}
    brackets = load_data(data).config.margin.brackets
    assert brackets[0].notional_cap == 10**12 * 10**6


def test_linear_instrument_refuses_a_contract_value(cli):
    """Only an inverse contract has a contract value."""
    status, _, err = cli("validate", "--set", "instrument.contract_value=1")
    assert status == 2 and "instrument.contract_value" in err


def test_xbtusd_maintenance_adds_its_own_taker_fee():
    """BitMEX's maintenance margin includes the taker fee to close (§2.2): xbtusd_inverse's
    exit-fee add-on is its own 7.5 bp taker fee, not the preset's 5 bp default."""
    import exchange_sim as es

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    config = es.load_config(
        os.path.join(root, "configs", "scenarios", "xbtusd_inverse.toml")
    ).config
    assert config.margin.trigger_rate_added == config.fees.taker_fee_ppb == 750_000
