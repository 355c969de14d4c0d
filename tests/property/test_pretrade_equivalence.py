"""The streamlined pre-trade check gives the same verdict as its earlier, plainer form."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.account import Account, FeeSchedule
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.accounts.pretrade import NO_CHECK_TAGS, PreTradeChecks
from exchange_sim.core.rounding import UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.matching.orders import Order

TIERS = BracketTiers.from_brackets(
    [(0, 10**9, 50, 10_000_000, 0), (10**9, 10**12, 20, 25_000_000, 15_000_000)]
)


class Checks(PreTradeChecks):
    """What the mixin reads from the ledger, with the ledger's own valuation formulas."""

    __slots__ = ("_fallback", "_mark", "_mptl", "_orders", "accounts", "fees", "tiers")
    cross = None  # one perpetual: no cross margin over several ledgers

    def mark_price(self):
        return self._mark

    def fallback_price(self):
        return self._fallback

    def open_orders(self, account_id):
        return list(self._orders)

    def notional(self, account, price):
        size = account.size_lots
        return price * (size if size >= 0 else -size) * self._mptl

    def unrealised_pnl(self, account, price):
        return account.size_lots * price * self._mptl - account.signed_entry_notional


def oracle(self, now, order):
    """The check as it read before it was streamlined (the test's oracle)."""
    if order.tag in NO_CHECK_TAGS:
        return None
    account = self.accounts.get(order.account_id)
    if account is None:
        return "unknown_account"
    size = account.size_lots
    if order.reduce_only:
        if size == 0 or (size > 0) == (order.side > 0) or order.size_lots > abs(size):
            return "reduce_only_would_increase"
        return None
    price = self.mark_price()
    if price is None:
        price = self.fallback_price()
    if price is None:
        price = order.price_ticks
    if price is None:
        return "no_reference_price"
    reference = order.price_ticks if order.price_ticks is not None else price
    reference = min(reference, price) if order.side > 0 else max(reference, price)
    buys, sells = self._open_lots(account.account_id)
    if order.side > 0:
        buys += order.size_lots
    else:
        sells += order.size_lots
    eff_buys = buys - (-size if size < 0 else 0)
    eff_sells = sells - (size if size > 0 else 0)
    lots = max(eff_buys, eff_sells, 0)
    if lots == 0:
        return None
    mptl = self._mptl
    need = self.tiers.initial_margin(reference * lots * mptl, account.leverage)
    taker_fee = self.fees.taker_fee_ppb
    if taker_fee > 0:
        need += div_round(reference * order.size_lots * mptl * taker_fee, RATE_SCALE, UP)
    if account.isolated:
        have = account.wallet
    else:
        upnl = self.unrealised_pnl(account, price)
        in_use = (
            self.tiers.initial_margin(self.notional(account, price), account.leverage)
            if size
            else 0
        )
        have = account.wallet + min(upnl, 0) - in_use
    return "insufficient_margin" if need > have else None


prices = st.none() | st.integers(1, 200_000)
sides = st.sampled_from((1, -1))
resting = st.lists(st.tuples(sides, st.integers(1, 500)), max_size=6)


@settings(max_examples=600, deadline=None)
@given(
    mark=prices,
    fallback=prices,
    limit=prices,
    side=sides,
    lots=st.integers(1, 500),
    reduce_only=st.booleans(),
    tag=st.sampled_from(("", "liquidation", "maker")),
    size=st.integers(-400, 400),
    entry=st.integers(0, 10**9),
    wallet=st.integers(-(10**8), 10**10),
    leverage=st.integers(1, 125),
    isolated=st.booleans(),
    taker_fee=st.integers(-100_000, 1_000_000),
    book=resting,
    known=st.booleans(),
)
def test_verdict_equals_the_plain_form(
    mark, fallback, limit, side, lots, reduce_only, tag, size, entry, wallet, leverage, isolated,
    taker_fee, book, known,
):  # fmt: skip
    """Same reason (or None) for any account, book, reference prices and order."""
    checks = Checks()
    checks._mark, checks._fallback, checks._mptl = mark, fallback, 7
    checks._orders = [Order(100 + i, 1, s, 1_000, q) for i, (s, q) in enumerate(book)]
    account = Account(
        1, isolated=isolated, leverage=leverage, wallet=wallet, size_lots=size,
        entry_notional=entry,
    )  # fmt: skip
    checks.accounts = {1: account} if known else {}
    checks.fees = FeeSchedule(taker_fee_ppb=taker_fee)
    checks.tiers = TIERS
    order = Order(1, 1, side, limit, lots, reduce_only=reduce_only, tag=tag)
    assert checks.pre_trade_check(0, order) == oracle(checks, 0, order)
