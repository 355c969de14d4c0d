"""Venue presets: one key selects a venue's rule set; any key can still be overridden."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest

from exchange_sim.config import toml_out
from exchange_sim.runner.config import load_data

EXPECTED = {
    # preset: (mark rule, margin tiers, close-out policy, ADL ranking, ADL close price, waterfall)
    "binance": ("binance", "brackets", "binance", "binance", "bankruptcy", ("book", "fund", "adl")),
    "bitmex": ("bitmex", "step", "tiered", "bitmex", "bankruptcy", ("book", "fund", "adl")),
    "bybit": ("binance", "brackets", "tiered", "bitmex", "bankruptcy", ("book", "fund", "adl")),
    "okx": ("okx", "brackets", "tiered", "bitmex", "mark", ("book", "fund", "adl")),
    "dydx": ("dydx", "brackets", "dydx", "pro_rata", "bankruptcy", ("book", "adl")),
    "hyperliquid": (
        "hyperliquid",
        "deduction",
        "hyperliquid",
        "hyperliquid",
        "mark",
        ("book", "vault", "adl"),
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preset_selects_the_venue_rules(name):
    """venue.preset bundles mark rule, margin tiers, close-out policy, ADL and waterfall."""
    config = load_data({"venue": {"preset": name}}).config
    got = (
        config.mark.rule.KIND,
        config.margin.KIND,
        config.liquidation.policy.KIND,
        config.liquidation.adl.ranking,
        config.liquidation.adl.close_price,
        config.liquidation.waterfall,
    )
    assert got == EXPECTED[name]


def test_presets_carry_their_funding_interval():
    """Funding joins the presets: 8 h at Binance and BitMEX, hourly at dYdX and Hyperliquid."""
    hours = {
        name: load_data({"venue": {"preset": name}}).config.funding.rule.interval
        // 3_600_000_000_000
        for name in ("binance", "bitmex", "dydx", "hyperliquid")
    }
    assert hours == {"binance": 8, "bitmex": 8, "dydx": 1, "hyperliquid": 1}


def test_a_user_key_overrides_one_preset_value_and_keeps_the_rest():
    """Overriding one key of a preset table changes that key only."""
    config = load_data(
        {"venue": {"preset": "binance"}, "liquidation": {"liquidation_fee": "0.01"}}
    ).config
    assert config.liquidation.liquidation_fee == 10_000_000
    assert config.liquidation.policy.KIND == "binance"
    assert config.matching.price_band_ppb == 50_000_000


def test_a_different_kind_replaces_the_preset_table():
    """Choosing another policy kind replaces the preset's policy table whole."""
    config = load_data(
        {"venue": {"preset": "hyperliquid"}, "liquidation": {"policy": {"kind": "market"}}}
    ).config
    assert config.liquidation.policy.KIND == "market"
    assert config.liquidation.waterfall == ("book", "vault", "adl")


def test_command_line_override_beats_the_preset():
    """--set applies on top of the preset like a key in the file."""
    loaded = load_data(
        {}, overrides=('venue.preset="bitmex"', 'liquidation.adl.close_price="mark"')
    )
    assert loaded.config.liquidation.adl.close_price == "mark"
    assert loaded.config.mark.rule.KIND == "bitmex"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_resolved_preset_config_round_trips(name):
    """The resolved config of a preset run reloads to the same config."""
    loaded = load_data({"venue": {"preset": name}})
    again = load_data(tomllib.loads(toml_out.dumps(loaded.to_data()), parse_float=Decimal))
    assert again.config == loaded.config
