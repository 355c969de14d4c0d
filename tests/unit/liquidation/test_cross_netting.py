"""A cross account over two perpetuals is settled once, when its last position closes: a flat
position in one market whose (shared) wallet went negative, or was left over after a bankrupt
close, while the account still holds a position in the other, is netted against that position
rather than covered by (or paid into) the first market's fund."""

from __future__ import annotations

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.liquidation.accounting import LiquidationAccounting
from exchange_sim.liquidation.config import LiquidationConfig
from exchange_sim.liquidation.insurance_fund import InsuranceFund
from exchange_sim.liquidation.policies import FEE_LIQUIDATION
from exchange_sim.matching.orders import BUY, SELL
from tests.cross_helpers import join

TIERS = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
NO_FEES = FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)


def _trade(ledger, account, side: int, price: int, lots: int, now: int = 0) -> None:
    """``account`` trades ``lots`` at ``price`` against account 9 (the counterparty)."""
    ledger.apply_fill(now, now, account, side, price, lots, 0)
    ledger.apply_fill(now, now, ledger.accounts[9], -side, price, lots, 0)


def _setup():
    """Account 1: 100 in the shared wallet, long 10 at 100 in A and long 10 at 100 in B; account
    9 is the counterparty. A's position is then closed at 85 (a 150 loss): the wallet is -50,
    while B, marked at 110, holds +100 of profit."""
    log = MemoryLog()
    a, b = Ledger(log, 1, TIERS, NO_FEES), Ledger(log, 1, TIERS, NO_FEES)
    a.mark_price = lambda: 85
    b.mark_price = lambda: 110
    home, linked = join(a, b)
    for ledger in (a, b):
        ledger.open_account(9)
        ledger.deposit(0, 9, 10_000, None)
    a.deposit(0, 1, 100, None)
    _trade(a, home, BUY, 100, 10)
    _trade(b, linked, BUY, 100, 10)
    _trade(a, home, SELL, 85, 10, now=1)
    fund = InsuranceFund(balance=1_000)
    accounting = LiquidationAccounting(log, a, 1, LiquidationConfig(), fund, 9, None)
    return a, b, home, linked, fund, accounting


def test_a_negative_shared_wallet_is_not_covered_while_another_position_backs_it():
    """A flat with wallet -50, B still open: the A engine leaves the wallet to B's profit."""
    _a, _b, home, _linked, fund, accounting = _setup()
    assert (home.size_lots, home.wallet) == (0, -50)
    accounting.settle_flat(2, 0, home, False, 0, 85)
    assert (home.wallet, fund.balance) == (-50, 1_000)


def test_the_last_close_settles_the_shared_wallet():
    """Once B is closed too (at 110: +100), the wallet is +50 and nothing is owed; had B closed
    at a loss the remaining deficit would be covered then, by the engine closing it."""
    _a, b, home, linked, fund, accounting = _setup()
    _trade(b, linked, SELL, 110, 10, now=3)
    accounting.settle_flat(3, 0, home, False, 0, 110)
    assert (home.wallet, fund.balance) == (50, 1_000)


def test_a_deficit_left_when_the_last_position_closes_is_covered():
    """B closed at 95 (-50): the wallet is -100 with no position left; the fund covers it."""
    _a, b, home, linked, fund, accounting = _setup()
    _trade(b, linked, SELL, 95, 10, now=3)
    accounting.settle_flat(3, 0, home, False, 0, 95)
    assert (home.wallet, fund.balance) == (0, 900)


def test_a_bankrupt_leftover_is_kept_while_another_position_needs_it():
    """A bankrupt close in A with the wallet positive: it is not taken into A's fund while B's
    position still draws on it."""
    a, _b, home, _linked, fund, accounting = _setup()
    a.adjust_collateral(2, 1, 80, 0)  # wallet +30
    accounting.settle_flat(2, 0, home, True, 0, 85)
    assert (home.wallet, fund.balance) == (30, 1_000)


def _closed_in_a(deposit: int, lots: int, close: int, b_mark: int):
    """Account 1 long ``lots`` at 100 in A and long 10 at 100 in B (marked at ``b_mark``), one
    wallet of ``deposit``; its A position closed at ``close`` by a liquidation fill not yet
    settled. Returns (accounting, fund, home, b, linked)."""
    log = MemoryLog()
    a, b = Ledger(log, 1, TIERS, NO_FEES), Ledger(log, 1, TIERS, NO_FEES)
    a.mark_price = lambda: close
    b.mark_price = lambda: b_mark
    home, linked = join(a, b)
    for ledger in (a, b):
        ledger.open_account(9)
        ledger.deposit(0, 9, 10_000, None)
    a.deposit(0, 1, deposit, None)
    _trade(a, home, BUY, 100, lots)
    _trade(b, linked, BUY, 100, 10)
    _trade(a, home, SELL, close, lots, now=1)
    fund = InsuranceFund(balance=1_000)
    accounting = LiquidationAccounting(log, a, 1, LiquidationConfig(), fund, 9, None)
    return accounting, fund, home, b, linked


def test_a_liquidation_fee_never_takes_more_than_the_equity_another_position_leaves():
    """Wallet 97 but B has lost 90: the account's equity is 7, so of the 10 due (0.5 % of
    2,000) the fee takes 7 and leaves equity 0, never below."""
    accounting, fund, _home, b, linked = _closed_in_a(97, 20, 100, 91)
    accounting.settle_fill(1, 0, _home, 7, "reduce", FEE_LIQUIDATION, 1, 100, 20, None, 100)
    assert fund.balance - 1_000 == 7
    assert b.equity(linked, 91) == 0


def test_a_liquidation_fee_is_paid_from_another_positions_profit():
    """The wallet is -20 after the close but B's +100 makes the equity 80: the fee due (4.4,
    rounded up to 5) is charged, the wallet netted against B."""
    accounting, fund, home, b, linked = _closed_in_a(100, 10, 88, 110)
    accounting.settle_fill(1, 0, home, 7, "reduce", FEE_LIQUIDATION, 1, 88, 10, None, 88)
    assert fund.balance - 1_000 == 5
    assert home.wallet == -25 and b.equity(linked, 110) == 75
