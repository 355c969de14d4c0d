"""Forced closures off (``risk.forced_closures = false``): the amplification baseline's monitor.

Same account as the latency-race tests: long 100 lots at 10,000 with 20,000 of wallet (MM 1 %),
liquidation price 9,899; the mark falls one tick every 10 ms from 10,000 to 9,700.
"""

from __future__ import annotations

from exchange_sim.venue.messages import Deposit
from tests.unit.risk.harness import MS, Quiet, Venue

LONG = 10


def _falling_venue(**risk) -> Venue:
    venue = Venue(**risk)
    venue.long(LONG, 100, 10_000, 20_000)
    venue.falling(10_000, 1, 10 * MS, 400, 9_700)
    return venue


def test_an_account_past_maintenance_is_logged_and_left_alone():
    """With forced closures off the first mark past the liquidation price (9,898 at 1,020 ms)
    gives a margin_check with outcome past_maintenance, no liquidation, and the position
    stays as it was."""
    venue = _falling_venue(forced_closures=False)
    venue.run(3_000 * MS)
    past = [c for c in venue.events("margin_check") if c["outcome"] == "past_maintenance"]
    assert [(c["ts"], c["mark_price"]) for c in past] == [(1_020 * MS, 9_898)]
    assert venue.events("liquidation_triggered") == []
    assert venue.ledger.accounts[LONG].size_lots == 100
    assert venue.risk.past_maintenance_accounts == {LONG}


def test_a_left_account_is_not_checked_again_on_each_mark():
    """Once left alone, the falling mark (another 178 marks past its line) checks it no more."""
    venue = _falling_venue(forced_closures=False)
    venue.run(3_000 * MS)
    checks = [c for c in venue.events("margin_check") if c["ts"] > 1_020 * MS]
    assert checks == []


def test_a_left_account_is_checked_again_when_it_changes():
    """A deposit to the left account re-indexes it: still past maintenance at the current mark,
    it is checked at once (cause: the deposit) and left again."""
    venue = _falling_venue(forced_closures=False)
    venue.connect(Quiet(LONG))
    venue.send_at(2_000 * MS, LONG, Deposit(1))
    venue.run(3_000 * MS)
    later = [c for c in venue.events("margin_check") if c["ts"] > 1_020 * MS]
    (deposit,) = [e for e in venue.events("deposit") if e["ts"] == 2_000 * MS]
    assert [(c["ts"], c["outcome"], c["cause"]) for c in later] == [
        (2_000 * MS, "past_maintenance", deposit["seq"])
    ]


def test_forced_closures_on_is_the_default():
    """The same fall with the default config liquidates the account."""
    venue = _falling_venue()
    venue.run(3_000 * MS)
    assert len(venue.events("liquidation_triggered")) == 1
    assert venue.risk.past_maintenance_accounts == set()
