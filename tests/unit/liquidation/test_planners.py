"""Pure close-out planners: sizes and prices from ledger maths (exchange_mechanics.md §4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers, StepRiskLimit
from exchange_sim.events.log import MemoryLog
from exchange_sim.liquidation import planners
from exchange_sim.liquidation.config import DydxPolicyConfig

ONE_PERCENT = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
# Two brackets: 1 % up to 50,000 of notional, 2.5 % above (cum = 50,000 x 1.5 % = 750).
TWO_BRACKETS = BracketTiers.from_brackets(
    [(0, 50_000, 50, 10_000_000, 0), (50_000, 10**15, 20, 25_000_000, None)]
)
STEPS = StepRiskLimit.build(50_000, 50_000, 10_000_000, 20_000_000)


def _account(lots, price, wallet, isolated=False, money_per_tick_lot=1):
    ledger = Ledger(
        MemoryLog(), money_per_tick_lot, ONE_PERCENT, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
    )
    account = ledger.open_account(1, isolated=isolated, leverage=10)
    ledger.deposit(0, 1, wallet, None)
    ledger.apply_fill(0, 0, account, 1 if lots > 0 else -1, price, abs(lots), 0)
    return ledger, account


def test_reduction_lots_hand_computed():
    """Long 100 at 1,000, wallet 6,000, mark 945, fee 0.1 %: 53 lots (see the Binance engine
    test for the arithmetic: X = 52 leaves 450 < 454, X = 53 leaves 449 >= 445)."""
    _, account = _account(100, 1_000, 6_000)
    assert planners.reduction_lots(account, 945, 945, 1_000_000, ONE_PERCENT, 1) == 53


def test_reduction_lots_is_the_whole_position_when_the_fee_outweighs_the_margin_freed():
    """Fee 2 % > MMR 1 %: every lot closed costs more fee than it frees MM, so no partial close
    helps (§4.1: small accounts are bankrupt on entering liquidation): all 100 lots."""
    _, account = _account(100, 1_000, 6_000)
    assert planners.reduction_lots(account, 945, 945, 20_000_000, ONE_PERCENT, 1) == 100


def test_reduction_lots_for_a_short():
    """Short 100 at 1,000, wallet 6,000, mark 1,055: equity 500 < MM 1,055. No fee: need
    500 >= ceil(10.55 (100 - X)), i.e. 100 - X <= 47: X = 53."""
    _, account = _account(-100, 1_000, 6_000)
    assert planners.reduction_lots(account, 1_055, 1_055, 0, ONE_PERCENT, 1) == 53


def test_reduction_lots_on_entry_value_takes_mm_of_the_remaining_entry():
    """Long 100 at 1,000, wallet 6,000, mark 945, no fee: equity 500 stays 500 whatever is
    closed at the mark. MM at the mark, ceil(9.45 (100 - X)) <= 500 first at X = 48; MM on the
    remaining entry value (maintenance_basis = "entry"), 10 (100 - X) <= 500, first at X = 50."""
    _, account = _account(100, 1_000, 6_000)
    assert planners.reduction_lots(account, 945, 945, 0, ONE_PERCENT, 1) == 48
    assert planners.reduction_lots(account, 945, 945, 0, ONE_PERCENT, 1, on_entry=True) == 50


def _brute(account, mark, price, fee, tiers):
    held = abs(account.size_lots)
    for x in range(1, held):
        if planners.compliant_after_close(account, x, price, mark, fee, tiers, 1):
            return x
    return held


@settings(max_examples=150, deadline=None)
@given(
    lots=st.integers(1, 120).map(lambda n: n if n % 2 else -n),
    wallet=st.integers(1_000, 40_000),
    move=st.integers(0, 120),
    slip=st.integers(0, 5),
    fee=st.sampled_from((0, 1_000_000, 5_000_000, 20_000_000)),
    tiers=st.sampled_from((ONE_PERCENT, TWO_BRACKETS, STEPS)),
    isolated=st.booleans(),
)
def test_reduction_lots_is_the_smallest_compliant_size(
    lots, wallet, move, slip, fee, tiers, isolated
):
    """Against a brute-force scan over every size, on random positions, tiers (brackets and
    BitMEX steps), fees and fills worse than the mark: the planner's answer is compliant and is
    the smallest compliant size."""
    _, account = _account(lots, 1_000, wallet, isolated)
    side = 1 if lots > 0 else -1
    mark = 1_000 - side * move
    price = mark - side * slip
    got = planners.reduction_lots(account, mark, price, fee, tiers, 1)
    assert got == _brute(account, mark, price, fee, tiers)


@settings(max_examples=150, deadline=None)
@given(
    lots=st.integers(1, 50).map(lambda n: n if n % 3 else -n),
    wallet=st.integers(0, 30_000),
    close=st.integers(1, 50),
    price=st.integers(800, 1_200),
    fee=st.integers(0, 50),
    isolated=st.booleans(),
    money_per_tick_lot=st.sampled_from((1, 3)),
)
def test_close_state_mirrors_the_ledger(
    lots, wallet, close, price, fee, isolated, money_per_tick_lot
):
    """close_state predicts exactly what Ledger.apply_fill does to collateral, size and basis."""
    ledger, account = _account(lots, 1_003, wallet, isolated, money_per_tick_lot)
    close = min(close, abs(lots))
    fee_ppb = fee * 1_000_000_000 // (price * close * money_per_tick_lot) if fee else 0
    fee_charged = planners.fee_amount(price, close, money_per_tick_lot, fee_ppb)
    expected = planners.close_state(account, close, price, fee_charged, money_per_tick_lot)
    ledger.apply_fill(1, 0, account, -1 if lots > 0 else 1, price, close, fee_ppb)
    assert expected == (account.collateral, account.size_lots, account.entry_notional)


def test_tier_reduction_lots_to_the_next_lower_step():
    """BitMEX steps, long 100 at mark 945: 94,500 is tier 1; tier 0 needs (100 - X) x 945 <
    50,000, i.e. X >= 48 (52 x 945 = 49,140)."""
    _, account = _account(100, 1_000, 7_000)
    assert planners.tier_reduction_lots(account, 945, STEPS, 1) == 48


def test_tier_reduction_lots_is_none_in_the_lowest_tier():
    """BitMEX §4.2: in the lowest tier there is nothing to reduce to: straight to takeover."""
    _, account = _account(40, 1_000, 7_000)
    assert planners.tier_reduction_lots(account, 945, STEPS, 1) is None


def test_bankruptcy_limit_falls_back_to_market():
    """No positive bankruptcy price: the closing order has no limit."""
    assert planners.bankruptcy_limit(1, 940) == 940
    assert planners.bankruptcy_limit(-1, None) is None


def test_dydx_fillable_price_at_full_adjustment_is_the_documented_4_5_percent():
    """§7: with ABR = 1 the maximum discount to oracle is SMMR x MMF = 1.5 x 3 % = 4.5 %.

    Oracle 1,000, 100 lots, MM 3,000, TNC -10 (ABR clamps to 1): a long is sold at >= 955, a
    short bought at <= 1,045."""
    args = (100, 1_000, 3_000, -10, 3_000, 1_000_000_000, 1_500_000_000, 1)
    assert planners.dydx_fillable_price(1, *args) == 955
    assert planners.dydx_fillable_price(-1, *args) == 1_045


def test_dydx_fillable_price_is_oracle_when_the_account_is_healthy():
    """TNC >= TMMR gives ABR = 0: the fillable price is the oracle price itself."""
    assert planners.dydx_fillable_price(1, 10, 1_000, 300, 400, 300, 10**9, 15 * 10**8, 1) == 1_000


def test_dydx_fillable_price_rounds_toward_the_oracle():
    """525 / 100 = 5.25 below 950 is 944.75: a long's limit rounds up to 945 (less aggressive);
    the mirror-image short's 955.25 rounds down to 955."""
    args = (100, 950, 2_850, 2_500, 2_850, 10**9, 15 * 10**8, 1)
    assert planners.dydx_fillable_price(1, *args) == 945
    assert planners.dydx_fillable_price(-1, *args) == 955


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, 10),  # 10 % of 100
        ({"min_position_notional": 1_500}, 30),  # ceil(1,500 / 50)
        ({"max_notional_per_interval": 400}, 8),  # floor(400 / 50)
        # Limit 40 vs bankruptcy 45: 5 per lot at worst; floor(31 / 5) = 6.
        ({"max_insurance_lost_per_interval": 31}, 6),
    ],
)
def test_dydx_slice_lots_limits(changes, expected):
    """Long 100 at mark 50, limit 40, bankruptcy 45: the position portion and each limit."""
    limits = {
        "min_position_notional": 0,
        "max_notional_per_interval": 0,
        "max_insurance_lost_per_interval": 0,
    }
    config = DydxPolicyConfig(**{**limits, **changes})
    assert planners.dydx_slice_lots(100, 50, 40, 45, 1, 1, config, 10**9) == expected


def test_dydx_slice_lots_within_what_the_fund_can_cover():
    """§4.5 step 6: a fill the fund cannot cover is rejected. Limit 40 vs bankruptcy 45 loses up
    to 5 per lot: a fund of 23 covers floor(23 / 5) = 4 lots; an empty fund none (deleveraging).
    A limit better than the bankruptcy price risks nothing: the fund does not bind."""
    config = DydxPolicyConfig(
        min_position_notional=0, max_notional_per_interval=0, max_insurance_lost_per_interval=0
    )
    assert planners.dydx_slice_lots(100, 50, 40, 45, 1, 1, config, 23) == 4
    assert planners.dydx_slice_lots(100, 50, 40, 45, 1, 1, config, 0) == 0
    assert planners.dydx_slice_lots(100, 50, 46, 45, 1, 1, config, 0) == 10


def test_dydx_fill_split():
    """Long closed at 948 vs bankruptcy 925, 5 lots: surplus 115, fee min(ceil(71.1), 115) = 72;
    at 926 the surplus is 5 and caps the fee; at 920 the fund owes 25."""
    assert planners.dydx_fill_split(1, 948, 925, 5, 1, 15_000_000) == (72, 0)
    assert planners.dydx_fill_split(1, 926, 925, 5, 1, 15_000_000) == (5, 0)
    assert planners.dydx_fill_split(1, 920, 925, 5, 1, 15_000_000) == (0, 25)
    assert planners.dydx_fill_split(-1, 1_020, 1_025, 5, 1, 15_000_000) == (25, 0)


def test_hyperliquid_lots():
    """Above the threshold 20 % (at least a lot), below it or within the cooldown: all."""
    assert planners.hyperliquid_lots(100, 150_000, 100_000, 200_000_000, False) == (20, True)
    assert planners.hyperliquid_lots(100, 90_000, 100_000, 200_000_000, False) == (100, False)
    assert planners.hyperliquid_lots(100, 150_000, 100_000, 200_000_000, True) == (100, False)
    assert planners.hyperliquid_lots(3, 150_000, 100_000, 200_000_000, False) == (1, True)


def test_below_backstop_is_strict_two_thirds():
    """equity < 2/3 MM: 2 of 3 is not below, 1.99... is."""
    assert not planners.below_backstop(200, 300, 2, 3)
    assert planners.below_backstop(199, 300, 2, 3)
    assert planners.below_backstop(-5, 300, 2, 3)


def test_vault_takeover_price():
    """Bankruptcy rule: the bankruptcy price. Discount 1 % of mark 950 for a long: 940.5 ->
    940, but never below the bankruptcy price 945 (then 945); a short's mirror rounds up."""
    assert planners.vault_takeover_price(1, 937, 935, "bankruptcy", 0) == 937
    assert planners.vault_takeover_price(1, 930, 950, "mark_discount", 10_000_000) == 940
    assert planners.vault_takeover_price(1, 945, 950, "mark_discount", 10_000_000) == 945
    assert planners.vault_takeover_price(-1, 970, 950, "mark_discount", 10_000_000) == 960


def test_share_lots_rounds_up_and_stays_within_the_position():
    assert planners.share_lots(80, 250_000_000) == 20
    assert planners.share_lots(9, 250_000_000) == 3
    assert planners.share_lots(1, 1) == 1


def test_hyperliquid_position_at_exactly_the_threshold_is_sent_whole():
    """Hyperliquid §4.6 step 2: "for positions > 100k USDC ... only 20 % is sent"; a position of
    exactly the threshold is not above it, so the whole position goes in one order (boundary of
    ``planners.hyperliquid_lots``). One unit more and only a 20 % slice is sent."""
    assert planners.hyperliquid_lots(100, 100_000, 100_000, 200_000_000, False) == (100, False)
    assert planners.hyperliquid_lots(100, 100_001, 100_000, 200_000_000, False) == (20, True)


def test_bankruptcy_limit_of_one_tick_is_a_valid_limit():
    """BitMEX §4.2 / Bybit §4.3: the takeover is "a limit order at the bankruptcy price". A
    bankruptcy price of exactly one tick is a real price and is the limit (boundary of
    ``planners.bankruptcy_limit``); only a price below one tick (none, §3.1: Binance shows "--"
    for a liquidation price below 0) leaves the order without a limit."""
    assert planners.bankruptcy_limit(1, 1) == 1
    assert planners.bankruptcy_limit(1, 0) is None
    assert planners.bankruptcy_limit(-1, None) is None
