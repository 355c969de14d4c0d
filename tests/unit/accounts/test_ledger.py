"""The accounts ledger: fills, PnL, fees, margin modes, checks and conservation."""

from __future__ import annotations

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.matching.orders import BUY, SELL, Order

# One tier: 1 % maintenance, up to 50x. Scale: 1 tick x 1 lot = 1 minor unit (m = 1).
TIERS = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
NO_FEES = FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)


def _ledger(fees=NO_FEES, mark=None):
    ledger = Ledger(MemoryLog(), 1, TIERS, fees)
    if mark is not None:
        ledger.mark_price = lambda: mark
    return ledger


def test_opening_and_closing_realises_exact_pnl():
    """Long 10 at 100 then sell 10 at 110 realises +100 and leaves a flat position."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 1_000, None)
    ledger.apply_fill(1, 0, a, BUY, 100, 10, 0)
    ledger.apply_fill(2, 0, a, SELL, 110, 10, 0)
    assert (a.size_lots, a.entry_notional, a.realised_pnl, a.wallet) == (0, 0, 100, 1_100)


def test_partial_close_removes_proportional_basis_rounded_against_the_trader():
    """Long 3 lots at 100 (basis 300) then 3 more at 101 (basis 603); closing 4 removes
    ceil(603 x 4 / 6) = 402 of basis; realised = 4 x 102 - 402 = 6; basis 201 stays."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 100, 3, 0)
    ledger.apply_fill(0, 0, a, BUY, 101, 3, 0)
    ledger.apply_fill(0, 0, a, SELL, 102, 4, 0)
    assert (a.size_lots, a.entry_notional, a.realised_pnl) == (2, 201, 6)


def test_flip_closes_then_opens_at_the_fill_price():
    """Long 5 at 100, sell 8 at 90: realise -50 on 5, then short 3 with basis 270."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 100, 5, 0)
    ledger.apply_fill(0, 0, a, SELL, 90, 8, 0)
    assert (a.size_lots, a.entry_notional, a.realised_pnl) == (-3, 270, -50)


def test_taker_fee_rounds_up_and_is_collected():
    """A 5 bp fee on a notional of 1,001 is 0.5005, charged as 1 minor unit."""
    ledger = _ledger(fees=FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=500_000))
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 1_001, 1, 500_000)
    assert (a.wallet, a.fees_paid, ledger.fees_collected) == (-1, 1, 1)


def test_maker_rebate_magnitude_rounds_down():
    """A -2.5 bp rebate on a notional of 1,000 (0.25) pays nothing: ceil(-0.25) = 0."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 1_000, 1, -250_000)
    assert a.fees_paid == 0


def test_isolated_margin_moves_initial_margin_into_the_bucket():
    """Isolated 10x: opening 100 lots at 100 moves 1,000 of wallet into isolated margin."""
    ledger = _ledger()
    a = ledger.open_account(1, isolated=True, leverage=10)
    ledger.deposit(0, 1, 5_000, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 100, 0)
    assert (a.wallet, a.isolated_margin) == (4_000, 1_000)


def test_isolated_loss_stays_in_the_bucket():
    """An isolated loss beyond the bucket does not touch the wallet: the bucket goes negative."""
    ledger = _ledger()
    a = ledger.open_account(1, isolated=True, leverage=10)
    ledger.deposit(0, 1, 5_000, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 100, 0)
    ledger.apply_fill(0, 0, a, SELL, 85, 100, 0)  # loses 1,500 on a 1,000 bucket
    assert (a.wallet, a.isolated_margin, a.size_lots) == (4_000, -500, 0)


def test_cross_liquidation_check_uses_equity_against_maintenance():
    """Long 100 at 100 with 200 wallet: at 99 equity 100 >= MM 99; at 98 equity 0 < MM 98."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 200, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 100, 0)
    assert not ledger.is_liquidatable(a, 99)
    assert ledger.is_liquidatable(a, 98)


def test_liquidation_price_marks_the_first_liquidatable_tick():
    """A long is safe at its liquidation price and liquidatable one tick below (exact trigger)."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 200, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 100, 0)
    lp = a.liquidation_price
    assert not ledger.is_liquidatable(a, lp)
    assert ledger.is_liquidatable(a, lp - 1)
    assert a.margin_call_price >= lp


def test_margin_call_fires_one_tick_past_its_trigger_not_at_it():
    """Long 1 at 100 with wallet 1 (1 % MM, call at 1.5 x MM): the call price is 101, where
    equity is 2 and 1.5 x the exact MM (1.01) is 1.515: no call (a level of 1.5 x the rounded MM,
    3, would call at the trigger); at 100 equity 1 < 1.5: call."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 1, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 1, 0)
    assert a.margin_call_price == 101
    assert not ledger.equity(a, 101) < ledger.margin_call_level(a, 101)
    assert ledger.equity(a, 100) < ledger.margin_call_level(a, 100)


def test_bankruptcy_price_is_where_equity_reaches_zero():
    """Long 100 at 100 with 200 of wallet goes bankrupt at 98."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 200, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 100, 0)
    assert a.bankruptcy_price == 98
    assert ledger.equity(a, 98) == 0


def test_reduce_only_that_would_increase_is_rejected():
    """A reduce-only buy against a long position is refused."""
    ledger = _ledger(mark=100)
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 10_000, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 10, 0)
    assert (
        ledger.pre_trade_check(0, Order(1, 1, BUY, 100, 1, reduce_only=True))
        == "reduce_only_would_increase"
    )
    assert (
        ledger.pre_trade_check(0, Order(2, 1, SELL, 100, 11, reduce_only=True))
        == "reduce_only_would_increase"
    )
    assert ledger.pre_trade_check(0, Order(3, 1, SELL, 100, 10, reduce_only=True)) is None


def test_initial_margin_check_rejects_oversized_orders():
    """With 1,000 of wallet at 10x, 100 lots at 100 (IM 1,000) pass and 101 lots do not."""
    ledger = _ledger(mark=100)
    ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 1_000, None)
    assert ledger.pre_trade_check(0, Order(1, 1, BUY, 100, 100)) is None
    assert ledger.pre_trade_check(0, Order(2, 1, BUY, 100, 101)) == "insufficient_margin"


def test_orders_that_only_reduce_need_no_margin():
    """Selling against a long needs no initial margin up to the position's size."""
    ledger = _ledger(mark=100)
    a = ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 1_000, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 100, 0)
    assert ledger.pre_trade_check(0, Order(1, 1, SELL, 100, 100)) is None


def test_withdrawal_beyond_available_is_rejected_and_logged():
    """A withdrawal that would dip into initial margin in use is refused with an event."""
    ledger = _ledger(mark=100)
    a = ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 1_500, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 100, 0)  # IM 1,000 in use
    ledger.withdraw(1, 1, 600, None)
    ledger.withdraw(2, 1, 500, None)
    log = ledger._emit.__self__
    assert [e["type"] for e in log.events[-2:]] == ["withdrawal_rejected", "withdrawal"]
    assert a.wallet == 1_000


def test_money_in_accounts_is_conserved_by_a_trade():
    """A trade between two accounts leaves Σ(wallet - signed basis) unchanged (no fees)."""
    ledger = _ledger()
    a, b = ledger.open_account(1), ledger.open_account(2)
    ledger.deposit(0, 1, 1_000, None)
    ledger.deposit(0, 2, 1_000, None)
    before = ledger.money_in_accounts()
    ledger.apply_fill(0, 0, a, BUY, 123, 7, 0)
    ledger.apply_fill(0, 0, b, SELL, 123, 7, 0)
    assert ledger.money_in_accounts() == before == 2_000


def test_deposit_and_withdrawal_move_the_liquidation_price():
    """A top-up lowers a long's liquidation price and a withdrawal raises it at once."""
    ledger = _ledger(mark=10_000)
    a = ledger.open_account(1, leverage=50)
    ledger.deposit(0, 1, 40_000, None)
    ledger.apply_fill(0, 0, a, BUY, 10_000, 100, 0)
    assert a.liquidation_price == 9_697  # ceil(960,000 / 99)
    ledger.withdraw(1, 1, 20_000, None)
    assert a.liquidation_price == 9_899  # ceil(980,000 / 99)
    ledger.deposit(2, 1, 20_000, None)
    assert a.liquidation_price == 9_697


def test_far_sell_limit_is_margined_at_the_mark():
    """A sell limited at 1 tick can fill at the bids: it is margined at max(limit, mark)."""
    ledger = _ledger(mark=100)
    ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 1_000, None)
    # 500 lots at the mark of 100 need 5,000 of initial margin, not 50 at the limit of 1.
    assert ledger.pre_trade_check(0, Order(1, 1, SELL, 1, 500)) == "insufficient_margin"


def test_far_buy_limit_below_the_mark_is_margined_at_its_limit():
    """A buy limited far below the mark can only fill at its limit: margined at min(limit, mark)."""
    ledger = _ledger(mark=100)
    ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 1_000, None)
    assert ledger.pre_trade_check(0, Order(1, 1, BUY, 50, 200)) is None  # IM 1,000 at 50


def test_opening_fee_must_be_covered_too():
    """With a 5 bp taker fee, an order whose IM fits the wallet but IM + fee does not is refused."""
    ledger = _ledger(fees=FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=500_000), mark=100)
    ledger.open_account(1, isolated=True, leverage=10)
    ledger.deposit(0, 1, 1_000, None)
    # 100 lots at 100: IM 1,000 plus fee ceil(10,000 x 0.0005) = 5 > 1,000.
    assert ledger.pre_trade_check(0, Order(1, 1, BUY, 100, 100)) == "insufficient_margin"
    assert ledger.pre_trade_check(0, Order(2, 1, BUY, 100, 99)) is None


def test_resting_reduce_only_orders_never_open_a_position():
    """Two resting reduce-only sells of 10 against a long of 10: the first fills, the second is
    cancelled when the position it would reduce is gone (reduce-only enforced at fill time)."""
    from exchange_sim.matching.config import MatchingConfig
    from exchange_sim.matching.engine import MatchingEngine

    ledger = _ledger(mark=100)
    engine = MatchingEngine(ledger._emit.__self__, MatchingConfig())
    engine.pre_trade_check = ledger.pre_trade_check
    engine.reduce_only_capacity = ledger.reduce_only_capacity
    engine.trade_listeners.append(ledger.on_trade)
    ledger.open_orders = engine.book.open_orders
    a = ledger.open_account(1, leverage=10)
    ledger.open_account(2, leverage=10)
    ledger.deposit(0, 1, 10_000, None)
    ledger.deposit(0, 2, 10_000, None)
    ledger.apply_fill(0, 0, a, BUY, 100, 10, 0)
    ledger.apply_fill(0, 0, ledger.accounts[2], SELL, 100, 10, 0)
    engine.submit(1, Order(1, 1, SELL, 101, 10, reduce_only=True), None)
    engine.submit(1, Order(2, 1, SELL, 102, 10, reduce_only=True), None)
    engine.submit(2, Order(3, 2, BUY, 102, 20), None)
    assert a.size_lots == 0
    log = ledger._emit.__self__
    assert [e["reason"] for e in log.of_type("order_cancelled")] == ["reduce_only"]


def test_before_the_first_mark_orders_are_margined_at_the_index():
    """With no mark yet, the initial-margin check prices a market order at the index; with no
    price at all, a market order is refused rather than let through unchecked."""
    ledger = _ledger()
    ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 1_000, None)
    assert ledger.pre_trade_check(0, Order(1, 1, BUY, None, 100)) == "no_reference_price"
    ledger.fallback_price = lambda: 100
    assert ledger.pre_trade_check(0, Order(2, 1, BUY, None, 101)) == "insufficient_margin"
    assert ledger.pre_trade_check(0, Order(3, 1, BUY, None, 100)) is None
