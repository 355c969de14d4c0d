"""Premium samples and impact notionals (exchange_mechanics.md §6.1, §6.2, §6.5-§6.7, W17)."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from exchange_sim.core.units import Scale
from exchange_sim.funding.config import BITMEX, DYDX, HYPERLIQUID, OKX
from exchange_sim.funding.premium import (
    impact_notional_minor,
    impact_premium_ppb,
    impact_price_ticks,
    mid_premium_ppb,
    premium_for_rule_ppb,
    rule_impact_notional_minor,
)

USDT = 10**6  # minor units per USDT / USDC at money_decimals = 6
PCT = 10_000_000  # 1 % in ppb


def test_impact_bid_above_reference():
    """Hyperliquid's doc example (§6.7): impact bid 10,100 over 10,000 gives a 1 % premium."""
    assert impact_premium_ppb(10_100, 10_110, 10_000, 10_000) == 1 * PCT


def test_impact_ask_below_reference():
    """An impact ask 50 below a reference of 10,000 gives -50/10,000 = -0.5 %."""
    assert impact_premium_ppb(9_940, 9_950, 10_000, 10_000) == -PCT // 2


def test_reference_inside_impact_spread_is_zero():
    """Both max(0, .) terms vanish when ImpactBid <= Ref <= ImpactAsk (§6.1)."""
    assert impact_premium_ppb(9_990, 10_010, 10_000, 10_000) == 0


def test_rational_impact_price_is_exact():
    """Impact bid 20,201/2 = 10,100.5 ticks: 100.5/10,000 = 1.005 % = 10,050,000 ppb exactly."""
    assert impact_premium_ppb((20_201, 2), (20_300, 2), 10_000, 10_000) == 10_050_000


def test_premium_rounds_down_positive():
    """1/3 = 333,333,333.3... ppb floors to 333,333,333."""
    assert impact_premium_ppb(4, 5, 3, 3) == 333_333_333


def test_premium_rounds_down_negative():
    """-1/3 = -333,333,333.3... ppb floors (toward -inf) to -333,333,334."""
    assert impact_premium_ppb(1, 2, 3, 3) == -333_333_334


def test_missing_impact_side_contributes_zero():
    """A side that cannot fill the impact notional (None) adds nothing: only -50/10,000 remains."""
    assert impact_premium_ppb(None, 9_950, 10_000, 10_000) == -PCT // 2
    assert impact_premium_ppb(10_100, None, 10_000, 10_000) == PCT


def test_bitmex_compares_with_mark_and_divides_by_index():
    """BitMEX §6.3: (10,100 - mark 10,050) / spot 10,000 = 0.5 %, not 50/10,050."""
    premium = premium_for_rule_ppb(
        BITMEX, bid=10_100, ask=10_110, index_ticks=10_000, mark_ticks=10_050
    )
    assert premium == PCT // 2


def test_hyperliquid_divides_by_oracle():
    """Hyperliquid §6.7: (8,080 - oracle 8,000) / oracle 8,000 = 1 %, whatever the index."""
    premium = premium_for_rule_ppb(
        HYPERLIQUID, bid=8_080, ask=8_090, index_ticks=10_000, oracle_ticks=8_000
    )
    assert premium == PCT


def test_rule_needing_mark_without_mark_raises():
    """A mark-referenced rule with no mark price is a caller error, not a silent index fallback."""
    with pytest.raises(ValueError, match="mark"):
        premium_for_rule_ppb(BITMEX, bid=10_100, ask=10_110, index_ticks=10_000)


def test_okx_mid_premium():
    """OKX §6.5: mid (10,010 + 10,030)/2 = 10,020 vs index 10,000: 20/10,000 = 0.2 %."""
    assert premium_for_rule_ppb(OKX, bid=10_010, ask=10_030, index_ticks=10_000) == PCT // 5


def test_mid_premium_without_a_side_is_no_sample():
    """The mid formula cannot be taken on a one-sided book: no sample (None)."""
    assert premium_for_rule_ppb(OKX, bid=None, ask=10_030, index_ticks=10_000) is None


def test_hip3_premium():
    """HIP-3 §6.7: 0.5 x (10,050 + 10,070)/10,000 - 1 = 1.006 - 1 = 0.6 %."""
    hip3 = attrs.evolve(HYPERLIQUID, premium_formula="impact_mid")
    premium = premium_for_rule_ppb(
        hip3, bid=10_050, ask=10_070, index_ticks=9_000, oracle_ticks=10_000
    )
    assert premium == 6 * PCT // 10


def test_mid_premium_rational_prices():
    """Mid of 10,000.5 and 10,001.5 is 10,001; vs 10,000 that is 0.01 % = 100,000 ppb."""
    assert mid_premium_ppb((20_001, 2), (20_003, 2), 10_000) == 100_000


def test_binance_impact_notional():
    """Binance §6.2: 200 USDT / IMR 5 % (20x) = 4,000 USDT."""
    assert impact_notional_minor(200 * USDT, 5 * PCT) == 4_000 * USDT


def test_dydx_impact_notional_w17():
    """dYdX W17: 500 USDC / IMF 10 % = 5,000 USDC; / 5 % = 10,000 USDC = 1e10 quantums."""
    assert impact_notional_minor(500 * USDT, 10 * PCT) == 5_000 * USDT
    assert impact_notional_minor(500 * USDT, 5 * PCT) == 10**10


def test_impact_notional_rounds_down():
    """200 minor / 3 % = 6,666.67 minor floors to 6,666."""
    assert impact_notional_minor(200, 3 * PCT) == 6_666


def test_rule_impact_notional_uses_instrument_money():
    """The dYdX preset's 500 USDC impact margin at IMF 10 % gives 5,000 USDC (W17)."""
    scale = Scale.build(Decimal("0.1"), Decimal("0.001"), 6, "instrument")
    assert rule_impact_notional_minor(DYDX, scale, 10 * PCT) == 5_000 * USDT


def test_impact_price_partial_last_level():
    """Notional 1,505 on asks (100 x 10), (101 x 10), 1 minor/tick-lot: 1,000 buys 10 lots, the
    remaining 505 buys 505/101 = 5 lots, so the average is 1,505/15 = 301/3 ticks."""
    assert impact_price_ticks([(100, 10), (101, 10)], 1_505, 1) == (301, 3)


def test_impact_price_exact_level():
    """A notional exactly equal to the best level fills at that level's price."""
    assert impact_price_ticks([(100, 10), (101, 10)], 1_000, 1) == (100, 1)


def test_impact_price_thin_book():
    """A side holding less than the impact notional has no impact price."""
    assert impact_price_ticks([(100, 10), (101, 10)], 2_011, 1) is None


def test_a_price_too_fine_for_64_bits_is_logged_as_the_nearest_fraction_that_fits():
    """An exact impact price whose terms exceed 64 bits (a very fine grid) is logged as the
    nearest fraction with both terms within int64; a price that fits is logged exactly."""
    from fractions import Fraction

    from exchange_sim.funding.premium import INT64_MAX, price_payload

    exact = (12_500_000_000_000_000_000_003, 2_500_000_000_000_000_001)  # ~4,999,999,999.99 ticks
    num, den = price_payload(exact)
    assert 0 < num <= INT64_MAX and 0 < den <= INT64_MAX
    assert abs(Fraction(num, den) - Fraction(*exact)) < Fraction(1, 10**6)
    assert price_payload((7, 3)) == [7, 3]
    assert price_payload((INT64_MAX, 1)) == [INT64_MAX, 1]


def test_a_run_on_a_fine_grid_logs_and_replays(tmp_path):
    """Tick 0.00001, lot 0.001, 8 money decimals (an impact price's exact terms pass 64 bits):
    the run completes and replays consistent (it stopped with an internal error before)."""
    import os

    from exchange_sim.replay.audit import replay
    from exchange_sim.runner.api import run

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    out = str(tmp_path / "run")
    run(
        os.path.join(root, "configs", "scenarios", "quickstart.toml"),
        overrides=(
            "instrument.tick_size=0.00001",
            "instrument.lot_size=0.001",
            "instrument.money_decimals=8",
            "run.duration=20s",
        ),
        out=out,
    )
    assert replay(out).status == "consistent"
