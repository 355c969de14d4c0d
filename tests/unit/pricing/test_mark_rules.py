"""Mark price rules: Binance, BitMEX, Hyperliquid, dYdX, index and last-trade baselines."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.config.loader import load_value
from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import NS_PER_HOUR, NS_PER_S
from exchange_sim.pricing.mark import (
    BinanceMark,
    BitmexMark,
    HyperliquidMark,
    IntegerEma,
    LastTradeMark,
    MarkRuleConfig,
    OracleMark,
    build_mark_rule,
    decay_ppb,
    pow_ppb,
)

S = NS_PER_S
INDEX = 10_000_000  # 100,000.00 at a 0.01 tick


def test_binance_price1_worked_example():
    """§1.1: 10,000 x (1 + 0.03 % x 4/8) = 10,001.5 (ticks of 0.01: 1,000,150). With Price 2 at
    the index (no basis sample) and the last trade above, Price 1 is the median."""
    rule = BinanceMark(30, S)
    rule.set_funding(300_000, 4 * NS_PER_HOUR, 8 * NS_PER_HOUR)
    assert rule.update(0, 1_000_000, None, None, 1_000_500) == 1_000_150


def test_bitmex_fair_price_worked_example():
    """§1.2 with the same numbers: Index x (1 + rate x 4h / 8h) = 10,001.5."""
    rule = BitmexMark()
    rule.set_funding(300_000, 4 * NS_PER_HOUR, 8 * NS_PER_HOUR)
    assert rule.update(0, 1_000_000, None, None, None) == 1_000_150


def test_bitmex_negative_rate_full_interval():
    """Rate -0.01 %, a full interval to go: 1,000,000 x (1 - 0.0001) = 999,900."""
    rule = BitmexMark()
    rule.set_funding(-100_000, 8 * NS_PER_HOUR, 8 * NS_PER_HOUR)
    assert rule.update(0, 1_000_000, None, None, None) == 999_900


def test_bitmex_after_funding_time_basis_is_zero():
    """Past the funding timestamp the time until funding is clamped to 0: mark = index."""
    rule = BitmexMark()
    rule.set_funding(300_000, 4 * NS_PER_HOUR, 8 * NS_PER_HOUR)
    assert rule.update(5 * NS_PER_HOUR, 1_000_000, None, None, None) == 1_000_000


def book(basis_ticks: int) -> tuple[int, int]:
    """A one-tick-wide book whose mid is INDEX + basis."""
    return INDEX + basis_ticks - 1, INDEX + basis_ticks + 1


HIGH = INDEX + 10_000  # a last trade far above: the median is then max(P1, P2) = P2 here


def test_binance_price2_is_index_plus_basis_average():
    """Samples at 0, 1, 2 s with basis 10, 20, 30 ticks: MA 20, Price 2 = index + 20."""
    rule = BinanceMark(30, S)
    for t, basis in ((0, 10), (1, 20), (2, 30)):
        mark = rule.update(t * S, INDEX, *book(basis), HIGH)
    assert mark == INDEX + 20


def test_binance_basis_window_drops_old_samples():
    """Window of 2 samples: after 10, 20, 30 only 20 and 30 count: MA 25."""
    rule = BinanceMark(2, S)
    for t, basis in ((0, 10), (1, 20), (2, 30)):
        mark = rule.update(t * S, INDEX, *book(basis), HIGH)
    assert mark == INDEX + 25


def test_binance_missed_points_take_the_held_basis():
    """Update at 0 s (basis 10) then 3.5 s (basis 40): the points 1, 2, 3 s saw the held book,
    so the samples are 10, 10, 10, 10 (MA 10); at 4 s basis 40 joins: (40 + 40) / 5 = 16."""
    rule = BinanceMark(30, S)
    rule.update(0, INDEX, *book(10), HIGH)
    assert rule.update(3 * S + S // 2, INDEX, *book(40), HIGH) == INDEX + 10
    assert rule.update(4 * S, INDEX, *book(40), HIGH) == INDEX + 16


def test_binance_same_instant_update_replaces_sample():
    """Two updates at the same sampling instant: the later book is the sample (basis 30)."""
    rule = BinanceMark(30, S)
    rule.update(0, INDEX, *book(10), HIGH)
    assert rule.update(0, INDEX, *book(30), HIGH) == INDEX + 30


def test_binance_half_tick_basis_rounds_to_nearest_tie_up():
    """Bid index + 10, ask index + 11: basis 10.5 ticks, Price 2 rounds half up to index + 11."""
    rule = BinanceMark(30, S)
    assert rule.update(0, INDEX, INDEX + 10, INDEX + 11, HIGH) == INDEX + 11


def test_binance_without_trade_uses_price1():
    """No trade yet: the contract-price input is Price 1, so the mark is Price 1 (= index)."""
    rule = BinanceMark(30, S)
    assert rule.update(0, INDEX, *book(50), None) == INDEX


@settings(max_examples=300, deadline=None)
@given(
    st.integers(-3_000_000, 3_000_000),
    st.integers(0, 8 * NS_PER_HOUR),
    st.integers(-5_000, 5_000),
    st.integers(0, 50),
    st.integers(-20_000, 20_000),
)
def test_binance_median_clamps_last_trade_to_band(rate, until, basis, spread, last_offset):
    """§1 note (a): the mark is the last trade while it lies between Price 1 and Price 2, and the
    nearer band edge when it leaves the band (then rounded to the nearest tick, ties up)."""
    rule = BinanceMark(30, S)
    rule.set_funding(rate, until, 8 * NS_PER_HOUR)
    bid, ask = INDEX + basis - spread, INDEX + basis + spread + 1
    last = INDEX + last_offset
    p1 = INDEX * (1 + Fraction(rate, 10**9) * Fraction(until, 8 * NS_PER_HOUR))
    p2 = Fraction(bid + ask, 2)
    expected = min(max(Fraction(last), min(p1, p2)), max(p1, p2))
    assert rule.update(0, INDEX, bid, ask, last) == math.floor(expected + Fraction(1, 2))


def test_decay_factor_matches_exp():
    """exp(-1 s / 150 s) in ppb equals the float value to within one ppb."""
    assert abs(decay_ppb(S, 150 * S) - math.exp(-1 / 150) * 1e9) <= 1


def test_pow_ppb():
    """0.5^3 = 0.125; any factor to the power 0 is 1."""
    assert pow_ppb(500_000_000, 3) == 125_000_000
    assert pow_ppb(993_355_506, 0) == 1_000_000_000


def test_ema_weights_gap_by_elapsed_time():
    """Sample 0 at 0 s then 1,000 after 3 s: num = 0 x d^3 + 1000 x 3, den = d^3 + 3 (seconds),
    d = e^(-1/150): 3000 / 3.980199 = 753.73."""
    ema = IntegerEma(S, 150 * S)
    ema.add(0, 0)
    ema.add(3 * S, 1000)
    num, den = ema.value()
    assert abs(num / den - 3000 / (math.exp(-3 / 150) + 3)) < 1e-6


def hl_rule() -> HyperliquidMark:
    return HyperliquidMark(S, 150 * S, 30 * S)


def test_hyperliquid_oracle_only():
    """No book, no trade, no external mid: the only input is the oracle."""
    assert hl_rule().update(0, INDEX, None, None, None) == INDEX


def test_hyperliquid_median_of_three_inputs():
    """Oracle 100,000.00, bid +10, ask +20 (mid +15), last +30, external -1,000 ticks:
    A = oracle + EMA(mid - oracle) = +15 on the first sample, B = median(+10, +20, +30) = +20,
    C = -1,000; the median is A: +15."""
    rule = hl_rule()
    rule.set_external_mid(INDEX - 1_000)
    assert rule.update(0, INDEX, INDEX + 10, INDEX + 20, INDEX + 30) == INDEX + 15


def test_hyperliquid_mark_ema_smooths_mid_jump():
    """Mid at the oracle at 0 s, then +100 ticks at 1 s: EMA150 = 200 half-ticks / (1 + d),
    d = e^(-1/150) = 0.993356, = 100.333 half-ticks = +50.17 ticks; A rounds to +50 and is the
    median of (A, B = median(+90, +110, +200) = +110, external -1,000)."""
    rule = hl_rule()
    rule.set_external_mid(INDEX - 1_000)
    rule.update(0, INDEX, INDEX - 10, INDEX + 10, INDEX)
    assert rule.update(S, INDEX, INDEX + 90, INDEX + 110, INDEX + 200) == INDEX + 50


def test_hyperliquid_two_inputs_add_fallback_ema():
    """No external mid: A, B and the 30 s EMA of B. B goes 0 -> +1,005 at 1 s;
    EMA30 = 1,005 / (1 + e^(-1/30)) = 1,005 / 1.967216 = +510.87; A = +1,005 x 2 / (1 +
    e^(-1/150)) / 2 = +504.2; median(A, B, EMA30) = EMA30, rounded: +511."""
    rule = hl_rule()
    assert rule.update(0, INDEX, INDEX - 10, INDEX + 10, INDEX) == INDEX
    assert rule.update(S, INDEX, INDEX + 1_000, INDEX + 1_010, INDEX + 1_005) == INDEX + 511


def test_hyperliquid_two_inputs_without_fallback_take_mean():
    """Only the oracle and an external mid +101 (no book ever): their mean +50.5 rounds up: +51."""
    rule = hl_rule()
    rule.set_external_mid(INDEX + 101)
    assert rule.update(0, INDEX, None, None, None) == INDEX + 51


def test_dydx_mark_is_oracle():
    """§1.5: dYdX uses the oracle price; the book and the last trade are ignored."""
    assert OracleMark().update(0, INDEX, INDEX + 500, INDEX + 600, INDEX + 9_999) == INDEX


def test_last_trade_baseline():
    """The naive mark is the last trade, or the index before any trade."""
    rule = LastTradeMark()
    assert rule.update(0, INDEX, None, None, None) == INDEX
    assert rule.update(1, INDEX, None, None, INDEX + 7) == INDEX + 7


@pytest.mark.parametrize(
    ("data", "cls"),
    [
        ({"kind": "binance", "basis_window": "30s", "basis_cadence": "1s"}, BinanceMark),
        ({"kind": "bitmex"}, BitmexMark),
        ({"kind": "hyperliquid", "mark_ema_timescale": "2.5min"}, HyperliquidMark),
        ({"kind": "dydx"}, OracleMark),
        ({"kind": "index"}, OracleMark),
        ({"kind": "last_trade"}, LastTradeMark),
    ],
)
def test_build_mark_rule_from_config(data, cls):
    """Each `kind` loads from TOML data and builds its rule."""
    config = load_value(data, MarkRuleConfig, {}, "mark", None)
    assert type(build_mark_rule(config)) is cls


def test_binance_config_window_must_be_multiple_of_cadence():
    """A 2.5 s window at a 1 s cadence is not a whole number of samples: a config error."""
    data = {"kind": "binance", "basis_window": "2500ms", "basis_cadence": "1s"}
    with pytest.raises(ConfigError, match="basis_window"):
        load_value(data, MarkRuleConfig, {}, "mark", None)


def test_okx_mark_is_index_plus_moving_average_of_basis():
    """OKX (§1.4): index 1,000 with bid 1,004 / ask 1,006 (basis +5) marks 1,005, ignoring the
    last trade; the next second with basis +1 averages (5 + 1) / 2 = 3 over index 1,000."""
    from exchange_sim.pricing.mark import OkxMark

    rule = OkxMark(window_samples=60, cadence_ns=1_000_000_000)
    assert rule.update(0, 1_000, 1_004, 1_006, 900) == 1_005
    assert rule.update(1_000_000_000, 1_000, 1_000, 1_002, 1_200) == 1_003


def test_binance_mark_reports_the_input_its_median_came_from():
    """The median names its source: with no book (Price 2 = Price 1 = the index) a trade below
    the index leaves the index as the median; with a rich book lifting Price 2 to 10,100 above
    Price 1 (10,000), a last trade of 10,050 between them is the median, determined by the
    trade."""
    rule = BinanceMark(30, S)
    assert rule.update(0, 10_000, None, None, 9_000) == 10_000
    assert rule.determined_by == {"index"}
    rule = BinanceMark(1, S)
    # Basis sample at t = 0: mid 10,100 - index 10,000 = +100, so Price 2 = 10,100; Price 1 =
    # 10,000; last 10,050 lies between them and is the median.
    assert rule.update(0, 10_000, 10_090, 10_110, 10_050) == 10_050
    assert rule.determined_by == {"trade"}
    assert rule.determined_by <= BinanceMark.INPUTS


def test_index_only_rules_are_determined_by_the_index_alone():
    """BitMEX's fair price and the oracle mark read nothing but the index."""
    for rule in (BitmexMark(), OracleMark()):
        rule.update(0, 10_000, 9_990, 10_010, 9_000)
        assert rule.determined_by == {"index"} == rule.INPUTS
