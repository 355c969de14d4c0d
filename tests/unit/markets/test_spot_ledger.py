"""The spot ledger: quote and base balances, the pre-trade check, fills, fees and conservation.

Everything runs through a real spot market assembly (:class:`SpotMarket`: book, matching engine
and the ledger's hooks, wired as the venue wires them); orders go straight to its engine.

Grid: money per tick-lot 10. Unless a test says otherwise, maker fee 0.02 % (200,000 ppb) and
taker fee 0.1 % (1,000,000 ppb). At 10,000 ticks one lot is 100,000 minor units of notional,
with a taker fee of exactly 100 and a maker fee of exactly 20. A buy must find free quote for
its notional plus, per lot, the larger fee rounded up: 100,100 a lot at 10,000.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.core.ids import IdSource
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import PhasedEnvironment
from exchange_sim.markets.config import SpotMarketConfig
from exchange_sim.matching.orders import BUY, GTC, IOC, SELL, Order
from exchange_sim.venue.spot_market import SpotMarket

MPTL = 10
MAKER = 200_000
TAKER = 1_000_000
A, B, C = 1, 2, 3


class Spot:
    """One spot market named ``spot`` with accounts A, B and C opened."""

    def __init__(self, maker_fee_ppb=MAKER, taker_fee_ppb=TAKER, accounts=(A, B, C)):
        self.log = log = MemoryLog()
        config = SpotMarketConfig(
            name="spot", maker_fee_ppb=maker_fee_ppb, taker_fee_ppb=taker_fee_ppb
        )
        self.market = SpotMarket(PhasedEnvironment(), log, config, MPTL, IdSource())
        self.ledger = self.market.ledger
        self.engine = self.market.engine
        for account in accounts:
            self.ledger.open_account(account)
        self._ids = iter(range(1, 10**9))
        self.now = 0

    def quote(self, account, amount):
        return self.ledger.deposit(self.now, account, amount, None)

    def base(self, account, lots):
        return self.ledger.deposit(self.now, account, lots, None, asset="base")

    def order(self, account, side, price, lots, tif=GTC):
        """Submit; return the order and the type and reason of its first event."""
        order = Order(next(self._ids), account, side, price, lots, tif=tif)
        seq = self.engine.submit(self.now, order, None)
        first = self.log.events[seq]
        return order, first["type"], first.get("reason")

    def balances(self, account):
        a = self.ledger.accounts[account]
        return a.quote, a.base

    def fills(self):
        return self.log.of_type("spot_fill")


# -- fills and fees ------------------------------------------------------------------------------


def test_a_fill_moves_quote_and_base_with_fees_rounded_up():
    """Seller A rests 3 lots at 10,001; buyer B takes them. Notional 10,001 x 3 x 10 = 300,030.
    Taker fee 300,030 x 0.1 % = 300.03 -> 301 (up); maker fee 300,030 x 0.02 % = 60.006 -> 61.
    B pays 300,030 + 301 = 300,331 and gets 3 lots; A gets 300,030 - 61 = 299,969 and gives 3."""
    spot = Spot()
    spot.base(A, 5)
    spot.quote(B, 400_000)
    spot.order(A, SELL, 10_001, 3)
    spot.order(B, BUY, 10_001, 3)
    assert spot.balances(A) == (299_969, 2)
    assert spot.balances(B) == (400_000 - 300_331, 3)
    assert spot.ledger.fees_collected == 301 + 61
    assert spot.ledger.accounts[A].fees_paid == 61
    assert spot.ledger.accounts[B].fees_paid == 301


def test_spot_fill_events_name_the_trade_maker_first_with_balances_after():
    """Two spot_fill events per trade, maker then taker, each caused by the trade and carrying
    side, price, size, fee and the balances the fill left (same trade as above)."""
    spot = Spot()
    spot.base(A, 5)
    spot.quote(B, 400_000)
    spot.order(A, SELL, 10_001, 3)
    spot.order(B, BUY, 10_001, 3)
    (trade,) = spot.log.of_type("trade")
    assert trade["market"] == "spot"
    fills = [{k: v for k, v in e.items() if k not in ("seq", "ts")} for e in spot.fills()]
    assert fills == [
        dict(
            type="spot_fill",
            cause=trade["seq"],
            market="spot",
            account_id=A,
            side=SELL,
            price_ticks=10_001,
            size_lots=3,
            fee=61,
            quote=299_969,
            base=2,
        ),
        dict(
            type="spot_fill",
            cause=trade["seq"],
            market="spot",
            account_id=B,
            side=BUY,
            price_ticks=10_001,
            size_lots=3,
            fee=301,
            quote=99_669,
            base=3,
        ),
    ]


def test_a_taker_sweeping_two_levels_pays_each_fill_at_its_makers_price():
    """B buys 3 lots limit 10,002 against asks 1 @ 10,000 and 2 @ 10,002 (A's): fills 100,000
    (fee 100) and 200,040 (fee 200.04 -> 201); B pays 300,341; A receives 100,000 - 20 and
    200,040 - 40.008 -> 41, i.e. 299,979."""
    spot = Spot()
    spot.base(A, 3)
    spot.quote(B, 1_000_000)
    spot.order(A, SELL, 10_000, 1)
    spot.order(A, SELL, 10_002, 2)
    spot.order(B, BUY, 10_002, 3)
    assert [e["fee"] for e in spot.fills()] == [20, 100, 41, 201]
    assert spot.balances(B) == (1_000_000 - 300_341, 3)
    assert spot.balances(A) == (299_979, 0)


def test_a_maker_rebate_is_credited_rounded_toward_the_exchange():
    """Maker fee -0.015 % (-150,000 ppb): on 300,030 the rebate is 45.0045, rounded up toward
    the exchange to -45; the seller receives 300,030 + 45 = 300,075 and fees collected are
    301 - 45 = 256."""
    spot = Spot(maker_fee_ppb=-150_000)
    spot.base(A, 3)
    spot.quote(B, 400_000)
    spot.order(A, SELL, 10_001, 3)
    spot.order(B, BUY, 10_001, 3)
    assert [e["fee"] for e in spot.fills()] == [-45, 301]
    assert spot.balances(A) == (300_075, 0)
    assert spot.ledger.fees_collected == 256
    assert spot.ledger.identity() == ((400_000, 400_000), (3, 3))


# -- deposits and withdrawals --------------------------------------------------------------------


def test_deposits_credit_quote_or_base_and_log_spot_deposit():
    """A quote deposit of 5,000 then a base deposit of 7 lots: balances (5,000, 7), and the
    events name the asset and the balances after."""
    spot = Spot()
    spot.ledger.deposit(3, A, 5_000, None, ts_sent=1)
    spot.ledger.deposit(4, A, 7, None, asset="base")
    events = [
        (e["ts"], e["asset"], e["amount"], e["ts_sent"], e["quote"], e["base"])
        for e in spot.log.of_type("spot_deposit")
    ]
    assert events == [(3, "quote", 5_000, 1, 5_000, 0), (4, "base", 7, 4, 5_000, 7)]
    assert spot.ledger.identity() == ((5_000, 5_000), (7, 7))


@pytest.mark.parametrize(
    ("amount", "asset", "reason"),
    [
        (0, "", "non_positive_amount"),
        (-5, "base", "non_positive_amount"),
        (5, "eth", "asset_not_accepted"),
    ],
)
def test_a_bad_deposit_is_rejected_and_changes_nothing(amount, asset, reason):
    """A deposit of no positive amount, or of an asset the market does not hold, is a
    deposit_rejected with the reason; balances and the identity stay at zero."""
    spot = Spot()
    seq, got = spot.ledger.deposit(0, A, amount, None, asset=asset)
    assert got == reason
    assert spot.log.events[seq]["type"] == "deposit_rejected"
    assert spot.log.events[seq]["reason"] == reason
    assert spot.balances(A) == (0, 0)
    assert spot.ledger.identity() == ((0, 0), (0, 0))


def test_a_withdrawal_takes_free_quote_and_logs_spot_withdrawal():
    """Deposit 10,000, withdraw 4,000: 6,000 left; the identity counts the withdrawal."""
    spot = Spot()
    spot.quote(A, 10_000)
    seq, reason = spot.ledger.withdraw(5, A, 4_000, None, ts_sent=2)
    assert reason is None
    event = spot.log.events[seq]
    assert (event["type"], event["amount"], event["ts_sent"], event["quote"]) == (
        "spot_withdrawal",
        4_000,
        2,
        6_000,
    )
    assert spot.ledger.identity() == ((6_000, 6_000), (0, 0))


def test_a_withdrawal_cannot_take_quote_a_resting_buy_reserves():
    """A has 200,000 and rests a buy of 1 lot at 10,000 (reserves 100,000 + fee 100): 99,900 is
    free. Withdrawing 99,901 is rejected (insufficient_available, available 99,900); 99,900 is
    allowed."""
    spot = Spot()
    spot.quote(A, 200_000)
    spot.order(A, BUY, 10_000, 1)
    seq, reason = spot.ledger.withdraw(0, A, 99_901, None)
    assert reason == "insufficient_available"
    assert spot.log.events[seq]["available"] == 99_900
    assert spot.ledger.withdraw(0, A, 99_900, None)[1] is None
    assert spot.balances(A) == (100_100, 0)


def test_a_non_positive_withdrawal_is_rejected():
    """Withdrawing 0 is rejected as non_positive_amount."""
    spot = Spot()
    spot.quote(A, 10)
    assert spot.ledger.withdraw(0, A, 0, None)[1] == "non_positive_amount"


# -- the pre-trade check -------------------------------------------------------------------------


def test_a_market_order_is_rejected_limit_required():
    """A spot order without a limit price is refused: the ledger could not reserve for it."""
    spot = Spot()
    spot.quote(A, 10**9)
    assert spot.order(A, BUY, None, 1, tif=IOC)[1:] == ("order_rejected", "limit_required")


def test_an_order_of_an_account_not_on_the_market_is_rejected():
    """Account 9 has no spot account here: unknown_account."""
    spot = Spot()
    assert spot.order(9, BUY, 10_000, 1)[1:] == ("order_rejected", "unknown_account")


def test_a_buy_needs_free_quote_for_its_notional_and_taker_fee():
    """2 lots at 10,000: 200,000 + 200 = 200,200. With 200,199 the buy is insufficient_quote;
    with 200,200 it is accepted."""
    spot = Spot()
    spot.quote(A, 200_199)
    assert spot.order(A, BUY, 10_000, 2)[1:] == ("order_rejected", "insufficient_quote")
    spot.quote(A, 1)
    assert spot.order(A, BUY, 10_000, 2)[1] == "order_accepted"


def test_a_sell_needs_free_base():
    """A holds 2 lots: selling 3 is insufficient_base, selling 2 is accepted."""
    spot = Spot()
    spot.base(A, 2)
    assert spot.order(A, SELL, 10_000, 3)[1:] == ("order_rejected", "insufficient_base")
    assert spot.order(A, SELL, 10_000, 2)[1] == "order_accepted"


def test_resting_buys_reserve_their_notional_and_fee():
    """A has 300,300: a resting buy of 2 lots at 10,000 reserves 200,200, leaving 100,100. A
    second buy of 1 lot at 10,001 needs 100,010 + 100.01 -> 100,111: rejected; 1 lot at 10,000
    (100,100) is accepted."""
    spot = Spot()
    spot.quote(A, 300_300)
    spot.order(A, BUY, 10_000, 2)
    assert spot.order(A, BUY, 10_001, 1)[1:] == ("order_rejected", "insufficient_quote")
    assert spot.order(A, BUY, 10_000, 1)[1] == "order_accepted"


def test_a_buy_reserves_the_maker_fee_when_it_is_the_larger():
    """Maker fee 0.2 %, taker fee 0.1 %: a resting buy fills as a maker, so 1 lot at 10,000 needs
    100,000 + 200. With 100,199 it is insufficient_quote; with 100,200 it is accepted, and when
    B sells into it A is left with exactly 0."""
    spot = Spot(maker_fee_ppb=2_000_000, taker_fee_ppb=1_000_000)
    spot.quote(A, 100_199)
    spot.base(B, 1)
    assert spot.order(A, BUY, 10_000, 1)[1:] == ("order_rejected", "insufficient_quote")
    spot.quote(A, 1)
    assert spot.order(A, BUY, 10_000, 1)[1] == "order_accepted"
    spot.order(B, SELL, 10_000, 1)
    assert spot.balances(A) == (0, 1)


def test_a_buy_filled_lot_by_lot_cannot_overdraw():
    """Both fees 0.1 %; 2 lots at 10,001. Filled in two 1-lot fills each fee is 100.01 -> 101,
    so the buy needs 2 x (100,010 + 101) = 200,222, not 200,020 + 200.02 -> 201 = 200,221 (which
    is rejected). With 200,222, two 1-lot sales into it leave A with exactly 0."""
    spot = Spot(maker_fee_ppb=1_000_000, taker_fee_ppb=1_000_000)
    spot.quote(A, 200_221)
    spot.base(B, 2)
    assert spot.order(A, BUY, 10_001, 2)[1:] == ("order_rejected", "insufficient_quote")
    spot.quote(A, 1)
    assert spot.order(A, BUY, 10_001, 2)[1] == "order_accepted"
    spot.order(B, SELL, 10_001, 1)
    spot.order(B, SELL, 10_001, 1)
    assert [e["fee"] for e in spot.fills() if e["account_id"] == A] == [101, 101]
    assert spot.balances(A) == (0, 2)


def test_resting_sells_reserve_their_lots():
    """A holds 5 lots and rests a sell of 4: a second sell of 2 is insufficient_base, of 1 is
    accepted."""
    spot = Spot()
    spot.base(A, 5)
    spot.order(A, SELL, 10_000, 4)
    assert spot.order(A, SELL, 10_001, 2)[1:] == ("order_rejected", "insufficient_base")
    assert spot.order(A, SELL, 10_001, 1)[1] == "order_accepted"


def test_a_partial_fill_releases_what_it_spent_and_keeps_the_rest_reserved():
    """A rests a buy of 3 at 10,000 with exactly 300,300; B sells it 1 lot: A pays 100,000 +
    maker fee 20 and keeps 200,280, of which the 2 lots left reserve 200,200: 80 is free to
    withdraw, 81 is not."""
    spot = Spot()
    spot.quote(A, 300_300)
    spot.base(B, 1)
    spot.order(A, BUY, 10_000, 3)
    spot.order(B, SELL, 10_000, 1)
    assert spot.balances(A) == (200_280, 1)
    assert spot.ledger.withdraw(0, A, 81, None)[1] == "insufficient_available"
    assert spot.ledger.withdraw(0, A, 80, None)[1] is None


def test_a_cancel_frees_the_reservation():
    """A rests a buy that reserves all its 100,100; after cancelling it, all of it can be
    withdrawn."""
    spot = Spot()
    spot.quote(A, 100_100)
    order, _, _ = spot.order(A, BUY, 10_000, 1)
    assert spot.ledger.withdraw(0, A, 1, None)[1] == "insufficient_available"
    spot.engine.cancel(0, A, order.order_id, None)
    assert spot.ledger.withdraw(0, A, 100_100, None)[1] is None


def test_an_amend_replaces_the_orders_own_reservation():
    """A holds exactly 100,100 for its resting buy of 1 lot at 10,000; amending it to 9,999
    (needs 99,990 + 99.99 -> 100 = 100,090) is accepted: the order's old reservation is replaced,
    not added to. Amending it to 2 lots (200,200) is insufficient_quote."""
    spot = Spot()
    spot.quote(A, 100_100)
    order, _, _ = spot.order(A, BUY, 10_000, 1)
    seq = spot.engine.amend(0, A, order.order_id, None, 2, None)
    assert (spot.log.events[seq]["type"], spot.log.events[seq]["reason"]) == (
        "amend_rejected",
        "insufficient_quote",
    )
    seq = spot.engine.amend(0, A, order.order_id, 9_999, None, None)
    assert spot.log.events[seq]["type"] == "order_amended"


def test_an_amend_of_a_partly_filled_buy_needs_only_its_remaining_lots():
    """A rests 3 lots at 10,000 with 300,300; B sells 1 into it (A pays 100,020, 200,280 left).
    Amending the price to 9,999 (total size still 3, 2 remaining) needs 2 x 100,090 = 200,180:
    accepted."""
    spot = Spot()
    spot.quote(A, 300_300)
    spot.base(B, 1)
    order, _, _ = spot.order(A, BUY, 10_000, 3)
    spot.order(B, SELL, 10_000, 1)
    seq = spot.engine.amend(0, A, order.order_id, 9_999, None, None)
    assert spot.log.events[seq]["type"] == "order_amended"
    assert spot.log.events[seq]["remaining_lots"] == 2


def test_an_amend_of_a_sell_needs_only_its_own_lots():
    """A holds 2 lots, all offered by its resting sell at 10,000; amending it to 10,001 is
    accepted, to 3 lots is insufficient_base."""
    spot = Spot()
    spot.base(A, 2)
    order, _, _ = spot.order(A, SELL, 10_000, 2)
    seq = spot.engine.amend(0, A, order.order_id, None, 3, None)
    assert spot.log.events[seq]["reason"] == "insufficient_base"
    seq = spot.engine.amend(0, A, order.order_id, 10_001, None, None)
    assert spot.log.events[seq]["type"] == "order_amended"


def test_sale_proceeds_can_fund_a_buy_at_once():
    """A starts with no quote and 1 lot; it sells the lot to B's resting bid at 10,000 (taker:
    100,000 - 100 = 99,900), and can then rest a buy of 99,900's worth: 9 lots at 1,109 need
    9 x (11,090 + 11.09 -> 12) = 99,918 (rejected), 9 at 1,108 need 9 x (11,080 + 12) = 99,828
    (accepted)."""
    spot = Spot()
    spot.base(A, 1)
    spot.quote(B, 100_100)
    spot.order(B, BUY, 10_000, 1)
    spot.order(A, SELL, 10_000, 1)
    assert spot.balances(A) == (99_900, 0)
    assert spot.order(A, BUY, 1_109, 9)[1:] == ("order_rejected", "insufficient_quote")
    assert spot.order(A, BUY, 1_108, 9)[1] == "order_accepted"


# -- conservation --------------------------------------------------------------------------------


def test_the_identity_counts_fees_and_withdrawals():
    """After the fill of the first test and a withdrawal of 9,669 by B: quote held + fees ==
    400,000 - 9,669 and base held == 5 (what was deposited)."""
    spot = Spot()
    spot.base(A, 5)
    spot.quote(B, 400_000)
    spot.order(A, SELL, 10_001, 3)
    spot.order(B, BUY, 10_001, 3)
    spot.ledger.withdraw(0, B, 9_669, None)
    assert spot.ledger.identity() == ((390_331, 390_331), (5, 5))


# Shared strategies for the property: a few accounts, prices near 10,000 (fees are fractional at
# most prices), small sizes, and fee rates including rebates and maker fees above taker fees.
# Quote deposits are about a whole number of lots' notional plus a little (up to 400, more than
# any fee here). A "funded" order first deposits exactly what it needs by the documented rule (a
# buy: notional at its limit plus the taker fee, rounded up; a sell: its lots), so accounts often
# hold just what their orders need.
ACCOUNTS = (A, B, C)
prices = st.integers(9_998, 10_002)
sizes = st.integers(1, 4)
fee_rates = st.integers(-200_000, 3_000_000)
quote_amounts = st.builds(
    lambda lots, price, extra: lots * price * MPTL + extra, sizes, prices, st.integers(0, 400)
)
orders = st.tuples(
    st.sampled_from(("order", "funded")),
    st.sampled_from(ACCOUNTS),
    st.sampled_from((BUY, SELL)),
    prices,
    sizes,
    st.sampled_from((GTC, IOC)),
)
commands = st.one_of(
    orders,
    orders,
    orders,
    st.tuples(st.just("quote"), st.sampled_from(ACCOUNTS), quote_amounts),
    st.tuples(st.just("base"), st.sampled_from(ACCOUNTS), st.integers(1, 5)),
    st.tuples(st.just("withdraw"), st.sampled_from(ACCOUNTS), st.integers(1, 200_000)),
    st.tuples(st.just("cancel"), st.just(0), st.integers(0, 30)),
    st.tuples(st.just("amend"), st.just(0), st.integers(0, 30), prices, sizes),
)
starting_balances = st.tuples(st.one_of(st.just(0), quote_amounts), st.integers(0, 6))


@settings(max_examples=200, deadline=None)
@given(
    maker=fee_rates,
    taker=fee_rates,
    start=st.lists(starting_balances, min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)),
    script=st.lists(commands, min_size=20, max_size=60),
)
def test_random_flow_conserves_quote_and_base_exactly_and_never_goes_negative(
    maker, taker, start, script
):
    """Random deposits, withdrawals, limit orders (GTC and IOC, some exactly funded), cancels and
    amends between three accounts, under any maker/taker fees (rebates, a maker fee above the taker
    fee): after every event Σ quote + fees == deposits - withdrawals and Σ base == base
    deposits, no account's quote or base is negative, and each account still holds what its
    resting orders may cost however they fill (so no later fill can make a balance negative)."""
    spot = Spot(maker_fee_ppb=maker, taker_fee_ppb=taker)
    ledger = spot.ledger
    placed: list[tuple[int, int]] = []

    def check(*_):
        (quote, quote_in), (base, base_in) = ledger.identity()
        assert quote == quote_in
        assert base == base_in
        for account in ledger.accounts.values():
            assert account.quote >= 0, account.account_id
            assert account.base >= 0, account.account_id
            # A resting order fills only as a maker, one lot at a time at worst (each fill's fee
            # rounded up): what its fills may still cost must be there, and its lots.
            buys = sells = 0
            for order in spot.engine.book.open_orders(account.account_id):
                per_lot = order.price_ticks * MPTL
                if order.side == BUY:
                    buys += order.remaining_lots * (per_lot - (-per_lot * maker // 10**9))
                else:
                    sells += order.remaining_lots
            assert account.quote >= buys, account.account_id
            assert account.base >= sells, account.account_id

    # Checked after every fill (both sides) and every order outcome, not only per command.
    spot.engine.trade_listeners.append(check)
    spot.engine.order_listeners.append(check)
    for account, (quote, base) in zip(ACCOUNTS, start, strict=True):
        if quote:
            spot.quote(account, quote)
        if base:
            spot.base(account, base)
    for command in script:
        kind, account = command[0], command[1]
        if kind == "quote":
            spot.quote(account, command[2])
        elif kind == "base":
            spot.base(account, command[2])
        elif kind == "withdraw":
            ledger.withdraw(0, account, command[2], None)
        elif kind in ("order", "funded"):
            side, price, lots = command[2], command[3], command[4]
            if kind == "funded" and side == BUY:
                spot.quote(account, price * lots * MPTL - (-price * lots * MPTL * taker // 10**9))
            elif kind == "funded":
                spot.base(account, lots)
            order, _, _ = spot.order(account, command[2], command[3], command[4], command[5])
            placed.append((account, order.order_id))
        elif placed and kind == "cancel":
            owner, order_id = placed[command[2] % len(placed)]
            spot.engine.cancel(0, owner, order_id, None)
        elif placed:
            owner, order_id = placed[command[2] % len(placed)]
            spot.engine.amend(0, owner, order_id, command[3], command[4], None)
        check()
