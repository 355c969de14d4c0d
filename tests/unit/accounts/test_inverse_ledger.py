"""The inverse (coin-margined) ledger: fills valued ``Q k / P``, PnL in coin, the value residue
and money conservation, against :mod:`exchange_sim.accounts.inverse`'s arithmetic.

Grid: ``k = 10**8`` (100 lots at 10,000 ticks are worth 1,000,000 minor units), one bracket of
1 % maintenance up to 50x.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.account import FeeSchedule
from exchange_sim.accounts.inverse import InversePosition
from exchange_sim.accounts.inverse_ledger import InverseLedger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.matching.orders import BUY, SELL

K = 10**8
TIERS = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
NO_FEES = FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)


def _ledger(fees=NO_FEES, mark=None) -> InverseLedger:
    ledger = InverseLedger(MemoryLog(), K, TIERS, fees)
    if mark is not None:
        ledger.mark_price = lambda: mark
    return ledger


def _held(ledger: InverseLedger) -> int:
    return ledger.money_in_accounts() + ledger.fees_collected + ledger.value_residue


def test_long_gains_coin_when_the_price_rises():
    """Long 1,000 contracts of 1 USD at 1,000, closed at 1,250 (exchange_mechanics.md §3.2:
    ``1,000 x (1/1,000 - 1/1,250) = 0.2 XBT``): on a grid of 1 USD ticks, 1-contract lots and
    satoshis (``k = 10**8``) the ledger realises 20,000,000 satoshis."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 1_000, 1_000, 0)
    assert a.entry_notional == 100_000_000  # 1 XBT
    assert ledger.unrealised_pnl(a, 1_250) == 20_000_000
    ledger.apply_fill(0, 0, a, SELL, 1_250, 1_000, 0)
    assert (a.size_lots, a.entry_notional, a.realised_pnl, a.wallet) == (
        0,
        0,
        20_000_000,
        20_000_000,
    )


def test_buy_value_rounds_down_and_sell_value_up_and_the_exchange_keeps_the_difference():
    """3 lots at 7 ticks are worth 3 x 10**8 / 7 = 42,857,142.86: the buyer's basis is the
    floor, the seller's the ceiling, and the one unit between them is the exchange's residue."""
    ledger = _ledger()
    buyer, seller = ledger.open_account(1), ledger.open_account(2)
    ledger.apply_fill(0, 0, buyer, BUY, 7, 3, 0)
    ledger.apply_fill(0, 0, seller, SELL, 7, 3, 0)
    assert (buyer.entry_notional, seller.entry_notional) == (42_857_142, 42_857_143)
    assert ledger.value_residue == 1
    assert _held(ledger) == 0


def test_partial_close_of_a_long_removes_basis_rounded_down():
    """Long 3 lots at 7 (basis 42,857,142); closing 2 removes floor(42,857,142 x 2 / 3) =
    28,571,428 (a long's realised PnL ``removed - exit`` rounds down with it)."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 7, 3, 0)
    ledger.apply_fill(0, 0, a, SELL, 8, 2, 0)
    exit_value = 25_000_000  # 2 x 10**8 / 8, exact
    assert a.entry_notional == 42_857_142 - 28_571_428
    assert a.realised_pnl == 28_571_428 - exit_value


def test_flip_values_the_fill_once():
    """A sell of 5 against a long of 2 at price 3: the closing part is valued as a fill of 2
    (ceil(2 x 10**8 / 3)) and the opening short gets the rest of the fill's value (ceil(5 x
    10**8 / 3) less that), so the account moves by exactly the fill's value."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 3, 2, 0)
    before = a.wallet + a.signed_entry_notional
    ledger.apply_fill(0, 0, a, SELL, 3, 5, 0)
    total = -(-5 * K // 3)
    closing = -(-2 * K // 3)
    assert a.size_lots == -3
    assert a.entry_notional == total - closing
    assert a.wallet + a.signed_entry_notional - before == -total


def test_fee_is_taken_on_the_fill_value_rounded_up():
    """A 0.075 % taker fee on a buy of 100 lots at 10,000 (value 1,000,000) is 750."""
    ledger = _ledger(FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=750_000))
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 10_000, None)
    ledger.apply_fill(0, 0, a, BUY, 10_000, 100, 750_000)
    assert (a.fees_paid, a.wallet) == (750, 9_250)


def test_maintenance_margin_is_taken_on_the_value_at_the_mark():
    """A long of 100 at 10,000 valued at 8,000: ceil(10**10 / 8,000) = 1,250,000, MM 12,500."""
    ledger = _ledger(mark=8_000)
    a = ledger.open_account(1)
    ledger.apply_fill(0, 0, a, BUY, 10_000, 100, 0)
    assert ledger.notional(a, 8_000) == 1_250_000
    assert ledger.maintenance_margin(a, 8_000) == 12_500
    assert ledger.unrealised_pnl(a, 8_000) == -250_000


def test_bankruptcy_price_is_where_the_margin_is_used_up():
    """Long 100 at 10,000 with 100,000 of margin (10x): the margin plus entry value 1,100,000
    buys back the position's value down to ceil(10**10 / 1,100,000) = 9,091 (§3.2's
    ``EP x L / (L + 1)`` = 9,090.9)."""
    ledger = _ledger()
    a = ledger.open_account(1)
    ledger.deposit(0, 1, 100_000, None)
    ledger.apply_fill(0, 0, a, BUY, 10_000, 100, 0)
    assert a.bankruptcy_price == 9_091


def test_pre_trade_check_takes_initial_margin_on_the_order_value():
    """At 50x a buy of 100 lots at 10,000 (value 1,000,000) needs 20,000 of margin: 19,999 is
    refused, 20,000 accepted."""
    from exchange_sim.matching.orders import Order

    ledger = _ledger(mark=10_000)
    a = ledger.open_account(1, leverage=50)
    ledger.deposit(0, 1, 19_999, None)
    order = Order(order_id=1, account_id=1, side=BUY, price_ticks=10_000, size_lots=100)
    assert ledger.pre_trade_check(0, order) == "insufficient_margin"
    ledger.deposit(0, 1, 1, None)
    assert a.wallet == 20_000
    assert ledger.pre_trade_check(0, order) is None


FILLS = st.lists(
    st.tuples(
        st.integers(0, 2),  # buyer
        st.integers(0, 2),  # seller
        st.integers(1, 50_000),  # price ticks
        st.integers(1, 40),  # lots
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(FILLS)
def test_ledger_matches_the_pure_inverse_position_and_conserves_money(fills):
    """Any sequence of trades between three accounts (the third isolated): every account's
    size, basis and realised PnL equal :class:`InversePosition`'s, and ``Σ (collateral + side
    x entry value) + fees + value residue`` equals the deposits exactly after every trade."""
    ledger = _ledger(FeeSchedule(maker_fee_ppb=-250_000, taker_fee_ppb=750_000))
    accounts = [ledger.open_account(1), ledger.open_account(2)]
    accounts.append(ledger.open_account(3, isolated=True, leverage=10))
    for i in range(3):
        ledger.deposit(0, i + 1, 10**9, None)
    pure = [InversePosition() for _ in range(3)]
    realised = [0, 0, 0]
    for buyer, seller, price, lots in fills:
        if buyer == seller:
            continue
        ledger.apply_fill(0, 0, accounts[seller], SELL, price, lots, -250_000)
        ledger.apply_fill(0, 0, accounts[buyer], BUY, price, lots, 750_000)
        pure[seller], pnl_s = pure[seller].apply_fill(-lots, price, K)
        pure[buyer], pnl_b = pure[buyer].apply_fill(lots, price, K)
        realised[seller] += pnl_s
        realised[buyer] += pnl_b
        assert _held(ledger) == ledger.total_deposits
    for account, position, pnl in zip(accounts, pure, realised, strict=True):
        assert (account.size_lots, account.entry_notional) == (
            position.size_lots,
            position.entry_value,
        )
        assert account.realised_pnl == pnl
