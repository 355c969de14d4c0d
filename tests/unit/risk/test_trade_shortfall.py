"""A trader's own close that fills past its bankruptcy price: the venue settles the flat
account's negative balance as a liquidation's (the fund covers it, the rest is bad debt).

Grid and venue: :mod:`tests.unit.risk.harness` (tick 1, lot 1, one minor unit per tick-lot, 1 %
maintenance, no fees). Account 10 is long 100 at 10,000 with 20,000 of wallet (bankruptcy price
9,800); the mark stays at 10,000, so the account is never liquidated. Account 11 bids for 100 at
9,500; at 200 ms account 10 sells its position at market into that bid: a loss of 50,000 against
20,000 of wallet leaves it flat at -30,000.
"""

from __future__ import annotations

from exchange_sim.venue.messages import SubmitOrder
from tests.unit.risk.harness import MS, Quiet, Venue

LONG, BIDDER = 10, 11


def _run(fund: int) -> Venue:
    venue = Venue()
    venue.venue.liquidation.accounting.fund.balance = fund
    venue.venue.liquidation.accounting.fund.initial_balance = fund
    venue.long(LONG, 100, 10_000, 20_000)
    ledger = venue.ledger
    ledger.open_account(BIDDER, leverage=50)
    ledger.deposit(0, BIDDER, 10_000_000, None)
    for account_id in (LONG, BIDDER):
        venue.connect(Quiet(account_id))
    venue.schedule([(0, 10_000), (500 * MS, 10_000)])
    venue.send_at(100 * MS, BIDDER, SubmitOrder(1, 1, 9_500, 100))
    venue.send_at(200 * MS, LONG, SubmitOrder(2, -1, None, 100, reduce_only=True))
    venue.run(1_000 * MS)
    return venue


def test_the_fund_covers_a_close_that_left_the_account_below_zero():
    """The fill at 9,500 leaves account 10 at -30,000; the fund pays 30,000 back to it at once,
    caused by that fill, and the account ends flat at 0."""
    venue = _run(fund=500_000)
    (fill,) = [e for e in venue.events("position") if e["account_id"] == LONG and e["ts"] > 0]
    assert (fill["position_lots"], fill["wallet"]) == (0, -30_000)
    (cover,) = [e for e in venue.events("insurance_fund") if e["reason"] == "cover"]
    assert (cover["cause"], cover["delta"], cover["account_id"]) == (fill["seq"], -30_000, LONG)
    assert venue.ledger.accounts[LONG].wallet == 0
    assert venue.events("bad_debt") == []


def test_what_the_fund_cannot_cover_is_bad_debt():
    """With 10,000 in the fund, it pays 10,000 and the other 20,000 is recorded as bad debt."""
    venue = _run(fund=10_000)
    (cover,) = [e for e in venue.events("insurance_fund") if e["reason"] == "cover"]
    assert (cover["delta"], cover["shortfall"]) == (-10_000, 20_000)
    (debt,) = venue.events("bad_debt")
    assert (debt["account"], debt["amount"]) == (LONG, 20_000)
    assert venue.venue.liquidation.accounting.bad_debt_outstanding == 20_000
