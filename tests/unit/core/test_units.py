"""Integer units, exact conversion and the single rounding rule."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from exchange_sim.core.errors import UnitError
from exchange_sim.core.rounding import DOWN, UP, div_round, quantize_price, residue
from exchange_sim.core.units import (
    Scale,
    exact_multiple,
    format_duration,
    parse_duration_ns,
    parse_rate_ppb,
    to_decimal,
)


def test_div_round_up_is_ceiling_for_both_signs():
    """UP rounds toward +infinity whatever the sign of the numerator."""
    assert div_round(7, 2, UP) == 4
    assert div_round(-7, 2, UP) == -3
    assert div_round(6, 2, UP) == 3


def test_div_round_down_is_floor_for_both_signs():
    """DOWN rounds toward -infinity whatever the sign of the numerator."""
    assert div_round(7, 2, DOWN) == 3
    assert div_round(-7, 2, DOWN) == -4


def test_residue_sign_follows_direction():
    """The residue of UP is never negative and that of DOWN never positive."""
    assert residue(7, 2, UP) == 1
    assert residue(7, 2, DOWN) == -1
    assert residue(8, 2, UP) == 0


def test_no_drift_over_a_million_fee_roundings():
    """Summing a million rounded fees differs from the exact sum by exactly the summed residues."""
    rng = random.Random(12345)
    rate_ppb, scale = 400_000, 1_000_000_000  # 4 bp
    total_fees = 0
    total_exact_numerator = 0
    total_residue = 0
    for _ in range(1_000_000):
        notional = rng.randrange(1, 10**12)
        numerator = notional * rate_ppb
        total_fees += div_round(numerator, scale, UP)
        total_exact_numerator += numerator
        total_residue += residue(numerator, scale, UP)
    assert total_fees * scale == total_exact_numerator + total_residue
    assert 0 <= total_fees * scale - total_exact_numerator < 1_000_000 * scale


def test_scale_round_trips_prices_sizes_and_money():
    """Every tick, lot and minor unit converts back to the decimal it came from, exactly."""
    scale = Scale.build(Decimal("0.1"), Decimal("0.001"), 6, "instrument")
    for ticks in (1, 7, 500_000, 10**9 + 3):
        assert scale.price_ticks(scale.price_decimal(ticks), "k") == ticks
        assert scale.size_lots(scale.size_decimal(ticks), "k") == ticks
        assert scale.money_minor(scale.money_decimal(ticks), "k") == ticks


def test_scale_notional_is_exact_in_minor_units():
    """0.1 tick x 0.001 lot = 0.0001 USDT = 100 minor units at 6 decimals."""
    scale = Scale.build(Decimal("0.1"), Decimal("0.001"), 6, "instrument")
    assert scale.money_per_tick_lot == 100
    # 50,000.0 USDT x 0.5 BTC = 25,000 USDT = 25,000,000,000 minor units.
    assert scale.notional(500_000, 500) == 25_000_000_000


def test_off_grid_price_names_the_key():
    """A price that is not a multiple of the tick is an error naming the key."""
    scale = Scale.build(Decimal("0.5"), Decimal("1"), 2, "instrument")
    with pytest.raises(UnitError, match=r"index\.process\.start_price: not a whole multiple"):
        scale.price_ticks("100.2", "index.process.start_price")


def test_scale_rejects_tick_lot_finer_than_money_unit():
    """One tick on one lot must be a whole number of money minor units."""
    with pytest.raises(UnitError, match="instrument"):
        Scale.build(Decimal("0.1"), Decimal("0.001"), 2, "instrument")


def test_floats_are_refused():
    """Binary floats are never accepted as exact decimals."""
    scale = Scale.build(Decimal("0.1"), Decimal("1"), 2, "instrument")
    with pytest.raises(UnitError, match="exact decimal"):
        scale.price_ticks(0.1, "k")


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("250us", 250_000),
        ("500ms", 500_000_000),
        ("1.5s", 1_500_000_000),
        ("8h", 28_800 * 10**9),
        ("42ns", 42),
        ("2min", 120 * 10**9),
    ],
)
def test_durations_parse_exactly(text, ns):
    """Durations with units parse to exact integer nanoseconds."""
    assert parse_duration_ns(text, "k") == ns


@pytest.mark.parametrize("bare", [0, 42, 10**9])
def test_a_duration_without_a_unit_is_refused(bare):
    """A bare number is not a duration (was it ns, ms or s?): the error suggests a unit."""
    with pytest.raises(UnitError, match=r"k: a duration needs a unit, e\.g\. '\d+ms'"):
        parse_duration_ns(bare, "k")


def test_duration_format_reads_back():
    """format_duration's output parses back to the same nanoseconds."""
    for ns in (0, 1, 1_500, 2_000_000, 1_500_000_000, 3_600 * 10**9, 7 * 10**9):
        assert parse_duration_ns(format_duration(ns), "k") == ns


def test_sub_nanosecond_duration_is_an_error():
    """A duration finer than a nanosecond is rejected with the key named."""
    with pytest.raises(UnitError, match=r"latency\.value"):
        parse_duration_ns("0.5ns", "latency.value")


def test_rate_parses_to_parts_per_billion():
    """0.0004 (4 bp) is 400,000 ppb; finer than 1e-9 is an error."""
    assert parse_rate_ppb("0.0004", "fee") == 400_000
    with pytest.raises(UnitError, match="fee"):
        parse_rate_ppb("0.0000000001", "fee")


def test_quantize_price_snaps_to_nearest_tick_and_never_below_one():
    """Exogenous prices land on the nearest tick, never on zero."""
    assert quantize_price(100.04, 0.1) == 1000
    assert quantize_price(100.06, 0.1) == 1001
    assert quantize_price(0.0001, 0.1) == 1


def test_exact_multiple_is_exact_beyond_the_default_decimal_precision():
    """9.999999999999999999999999999 / 0.0625 = 159.999999999999999999999999984 (30 digits):
    the default 28-digit context rounds it to 160, a whole number; the exact check does not."""
    with pytest.raises(UnitError, match="not a whole multiple"):
        exact_multiple("9.999999999999999999999999999", Decimal("0.0625"), "k", "tick size")
    assert exact_multiple("10", Decimal("0.0625"), "k", "tick size") == 160


def test_exact_multiple_of_a_non_terminating_quotient():
    """3.000000000000000000000000001 / 0.3 = 10.0000000000000000000000000033..., not whole."""
    with pytest.raises(UnitError, match="not a whole multiple"):
        exact_multiple("3.000000000000000000000000001", Decimal("0.3"), "k", "tick size")


def test_exact_multiple_of_negative_values():
    """-0.2 is -2 ticks of 0.1; -0.15 is not a multiple of 0.1."""
    assert exact_multiple("-0.2", Decimal("0.1"), "k", "tick size") == -2
    with pytest.raises(UnitError, match="not a whole multiple"):
        exact_multiple("-0.15", Decimal("0.1"), "k", "tick size")


def test_more_than_28_significant_digits_are_refused():
    """Trailing zeros do not count; a 29th significant digit does."""
    assert to_decimal("50000.000000000000000000000000000000", "k") == 50000
    with pytest.raises(UnitError, match=r"k: too many significant digits"):
        to_decimal("1" * 29, "k")


def test_magnitude_beyond_1e30_is_refused():
    """1e31 and 1e-31 are out of range; zero with any exponent is fine."""
    with pytest.raises(UnitError, match="out of range"):
        to_decimal("1e31", "k")
    with pytest.raises(UnitError, match="out of range"):
        to_decimal("1e-31", "k")
    assert to_decimal("0e-100", "k") == 0


def test_duration_with_many_digits_is_exact():
    """0.0000000015s is 1.5 ns (not whole); 29 significant digits are too many."""
    with pytest.raises(UnitError, match="not a whole number of nanoseconds"):
        parse_duration_ns("0.0000000015s", "k")
    with pytest.raises(UnitError, match="too many significant digits"):
        parse_duration_ns("1.0000000000000000000000000001s", "k")


def test_scale_product_is_exact():
    """tick 9.999999999999999999999999999 x lot 0.0125 x 10^3 = 124.9999999999999999999999999875
    minor units (31 digits): the 28-digit context rounds it to 125; the exact check refuses it."""
    with pytest.raises(UnitError, match="instrument"):
        Scale.build(Decimal("9.999999999999999999999999999"), Decimal("0.0125"), 3, "instrument")
    assert Scale.build(Decimal("10"), Decimal("0.0125"), 3, "instrument").money_per_tick_lot == 125
