"""Margin tiers: Binance brackets, Hyperliquid deduction tiers, BitMEX step risk limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.margin import (
    BracketTiers,
    DeductionTiers,
    StepRiskLimit,
    binance_maintenance_amount,
)
from exchange_sim.accounts.margin_config import (
    BracketTiersConfig,
    DeductionTiersConfig,
    MarginTiersConfig,
    StepRiskLimitConfig,
    build_tiers,
)
from exchange_sim.config.loader import load_value
from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import Scale

SCALE = Scale.build(Decimal("0.01"), Decimal("0.001"), 8, "test")


def usd(text: str) -> int:
    """Money in minor units (8 decimals)."""
    return SCALE.money_minor(text, "test")


def ppb(text: str) -> int:
    return int(Decimal(text) * 10**9)


# Binance USDⓈ-M BTCUSDT brackets consistent with W4: floors 250,000 and 5,000,000 and the
# cum values 1,300 / 16,300 / 141,300 are the doc's; floor 50,000 is the reference's implied
# previous level; floor 1,000,000 is implied by (16,300 - 1,300) / (2.5 % - 1 %). Leverages and the
# last cap are not in the reference (any valid values do here).
W4_BRACKETS = [
    (usd("0"), usd("50000"), 125, ppb("0.004")),
    (usd("50000"), usd("250000"), 100, ppb("0.005")),
    (usd("250000"), usd("1000000"), 50, ppb("0.01")),
    (usd("1000000"), usd("5000000"), 20, ppb("0.025")),
    (usd("5000000"), usd("20000000"), 10, ppb("0.05")),
]


def test_binance_w4_maintenance_amount_at_264000():
    """W4: a 264,000 USDT position has MMR 1 % and cum 250,000 x 0.5 % + 50 = 1,300."""
    tiers = BracketTiers.from_brackets(W4_BRACKETS)
    assert tiers.maintenance_rate_ppb(usd("264000")) == ppb("0.01")
    assert tiers.maintenance_deduction(usd("264000")) == usd("1300")


def test_binance_w4_level5_maintenance_amount():
    """W4: Level 5 = 5,000,000 x (5 % - 2.5 %) + 16,300 = 141,300 USDT."""
    tiers = BracketTiers.from_brackets(W4_BRACKETS)
    assert tiers.maintenance_deduction(usd("5000000")) == usd("141300")
    assert tiers.maintenance_deduction(usd("4999999")) == usd("16300")


def test_binance_w4_coin_m_recurrence():
    """W4 COIN-M: BTCUSD Level 5 = 50 BTC x (5 % - 2.5 %) + 0.56 BTC = 1.81 BTC."""
    assert binance_maintenance_amount(usd("50"), ppb("0.05"), ppb("0.025"), usd("0.56")) == usd(
        "1.81"
    )


def test_binance_given_cum_is_checked_against_recurrence():
    """A bracket whose cum breaks the recurrence is rejected."""
    rows = [
        (usd("0"), usd("50000"), 125, ppb("0.004"), usd("0")),
        (usd("50000"), usd("250000"), 100, ppb("0.005"), usd("51")),  # recurrence gives 50
    ]
    with pytest.raises(ValueError, match="recurrence"):
        BracketTiers.from_brackets(rows)


def test_binance_maintenance_margin_formula():
    """MM = notional x MMR - cum: 1,000,000 x 2.5 % - 16,300 = 8,700 (bracket 4 of W4)."""
    tiers = BracketTiers.from_brackets(W4_BRACKETS)
    assert tiers.maintenance_margin(usd("1000000")) == usd("8700")


def test_maintenance_margin_rounds_up():
    """MM of 1 minor unit at 0.4 % is 0.004 minor units, owed by the trader: rounded up to 1."""
    tiers = BracketTiers.from_brackets(W4_BRACKETS)
    assert tiers.maintenance_margin(1) == 1


def test_initial_margin_caps_leverage_at_bracket_max():
    """100,000 USDT sits in the 100x bracket: asking 125x gives IM 100,000 / 100 = 1,000."""
    tiers = BracketTiers.from_brackets(W4_BRACKETS)
    assert tiers.initial_margin(usd("100000"), 125) == usd("1000")
    assert tiers.initial_margin(usd("100000"), 20) == usd("5000")


def test_bracket_rows_must_be_contiguous():
    """A gap between one bracket's cap and the next floor is rejected."""
    rows = [(0, 100, 10, ppb("0.01")), (101, 200, 5, ppb("0.02"))]
    with pytest.raises(ValueError, match="floor"):
        BracketTiers.from_brackets(rows)


def test_default_binance_preset_builds_and_applies():
    """The illustrative §2.1 table: 1,000,000 USDT is in the 0.65 % bracket, MM = 6,500 - 950."""
    tiers = build_tiers(BracketTiersConfig(), SCALE)
    assert tiers.maintenance_margin(usd("1000000")) == usd("5550")


def test_hyperliquid_btc_tiers():
    """§2.6 BTC: 40x below 150M (MMR 1.25 %), 20x above (2.5 %); deduction 150M x 1.25 %."""
    tiers = build_tiers(DeductionTiersConfig(preset="hyperliquid_btc"), SCALE)
    assert tiers.maintenance_rate_ppb(usd("100000000")) == ppb("0.0125")
    assert tiers.maintenance_deduction(usd("200000000")) == usd("1875000")
    # 200M x 2.5 % - 1,875,000 = 3,125,000
    assert tiers.maintenance_margin(usd("200000000")) == usd("3125000")
    assert tiers.max_leverage(usd("200000000")) == 20


def test_hyperliquid_eth_tiers_are_exact_fractions():
    """ETH 25x/15x: deduction = 100M x (1/30 - 1/50) = 1,333,333.33..; MM at 120M = 4,000,000 -
    1,333,333.33.. = 2,666,666.66.., owed so rounded up at 8 decimals; deduction rounded down."""
    tiers = build_tiers(DeductionTiersConfig(preset="hyperliquid_eth"), SCALE)
    assert tiers.maintenance_deduction(usd("120000000")) == usd("1333333.33333333")
    assert tiers.maintenance_margin(usd("120000000")) == usd("2666666.66666667")


def test_deduction_tiers_reject_rising_leverage():
    """A higher tier may not allow more leverage (MM would not be convex)."""
    with pytest.raises(ValueError, match="leverage"):
        DeductionTiers.build([(0, 20), (1000, 40)])


def test_bitmex_step_rates_follow_2020_table():
    """§2.2 XBTUSD: <200: 0.40/1.00 %; <300: 0.80/1.40 %; <400: 1.20/1.80 %; <500: 1.60/2.20 %."""
    tiers = build_tiers(StepRiskLimitConfig(), SCALE)
    assert isinstance(tiers, StepRiskLimit)
    expected = [("199", "0.004", "0.01"), ("200", "0.008", "0.014"), ("299", "0.008", "0.014")]
    expected += [("300", "0.012", "0.018"), ("499", "0.016", "0.022")]
    for notional, mm, im in expected:
        assert tiers.maintenance_rate_ppb(usd(notional)) == ppb(mm)
        assert tiers.initial_rate_ppb(usd(notional)) == ppb(im)


def test_bitmex_step_applies_rate_to_whole_position():
    """250 at 0.80 %: MM = 2.00 with no deduction; IM at 100x = max(2.50, 250 x 1.40 % = 3.50)."""
    tiers = build_tiers(StepRiskLimitConfig(), SCALE)
    assert tiers.maintenance_margin(usd("250")) == usd("2")
    assert tiers.maintenance_deduction(usd("250")) == 0
    assert tiers.initial_margin(usd("250"), 100) == usd("3.5")
    assert tiers.max_leverage(usd("250")) == 71  # 1 / 1.4 % = 71.4


def test_step_config_overrides_one_field():
    """A step field given in the config replaces the preset's; the rest stay."""
    tiers = build_tiers(StepRiskLimitConfig(base_risk_limit=usd("50")), SCALE)
    assert tiers.maintenance_rate_ppb(usd("60")) == ppb("0.008")


def test_config_loads_explicit_brackets_from_toml_data():
    """A `kind = "brackets"` table with explicit rows replaces the preset; money is exact."""
    data = {
        "kind": "brackets",
        "brackets": [
            {"notional_floor": 0, "notional_cap": "1000", "max_leverage": 10,
             "maintenance_rate": "0.01"},
            {"notional_floor": "1000", "notional_cap": "5000", "max_leverage": 5,
             "maintenance_rate": "0.02", "maintenance_amount": "10"},
        ],
    }  # fmt: skip
    config = load_value(data, MarginTiersConfig, {}, "margin", SCALE)
    tiers = build_tiers(config, SCALE)
    # 2,000 x 2 % - 10 = 30
    assert tiers.maintenance_margin(usd("2000")) == usd("30")


def test_config_rejects_bad_cum_with_key_path():
    """An inconsistent explicit table is a ConfigError naming the section."""
    data = {
        "kind": "brackets",
        "brackets": [
            {"notional_floor": 0, "notional_cap": "1000", "max_leverage": 10,
             "maintenance_rate": "0.01"},
            {"notional_floor": "1000", "notional_cap": "5000", "max_leverage": 5,
             "maintenance_rate": "0.02", "maintenance_amount": "11"},
        ],
    }  # fmt: skip
    with pytest.raises(ConfigError, match="margin"):
        load_value(data, MarginTiersConfig, {}, "margin", SCALE)


@st.composite
def bracket_tables(draw):
    count = draw(st.integers(1, 5))
    floors = sorted(draw(st.sets(st.integers(1, 10**12), min_size=count - 1, max_size=count - 1)))
    floors = [0, *floors]
    caps = [*floors[1:], floors[-1] + draw(st.integers(1, 10**12))]
    rates = sorted(draw(st.lists(st.integers(0, 10**8), min_size=count, max_size=count)))
    return BracketTiers.from_brackets(
        [(f, c, 5, r) for f, c, r in zip(floors, caps, rates, strict=True)]
    )


@settings(max_examples=200, deadline=None)
@given(bracket_tables(), st.integers(0, 3 * 10**12), st.integers(0, 10**9))
def test_bracket_mm_is_monotone(tiers, notional, delta):
    """The recurrence makes MM non-decreasing in notional: no jump down at a bracket floor."""
    assert tiers.maintenance_margin(notional + delta) >= tiers.maintenance_margin(notional)


@settings(max_examples=200, deadline=None)
@given(bracket_tables())
def test_bracket_mm_is_continuous_at_floors(tiers):
    """At each floor the new bracket's line meets the previous one exactly (tax-bracket rule)."""
    lines = tiers.maintenance_lines()
    for k in range(1, len(lines)):
        floor = tiers.floors[k]
        (r0, c0), (r1, c1) = lines[k - 1], lines[k]
        assert floor * r0 - c0 == floor * r1 - c1
