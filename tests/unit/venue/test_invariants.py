"""The invariant checker: each invariant, broken on purpose, is named; checking changes no log.

A venue of the built-in market (a maker, noise traders, a leveraged crowd) runs for 3 s; a test
then corrupts one piece of state the way a bug would, and the checker must name that invariant.
Corruptions that would also break the money identity are balanced (the same amount moved
between two accounts), so that the invariant under test is the first one broken.
"""

from __future__ import annotations

import json
import os

import pytest

import exchange_sim as es
from exchange_sim.core.errors import SimulationError
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, Order
from exchange_sim.runner import rundir
from exchange_sim.runner.simulate import build_venue
from exchange_sim.venue.invariants import InvariantViolation

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
THREE_SECONDS = 3_000_000_000


def _venue(*overrides: str):
    loaded = es.load_config({}, ("run.duration=3s", "run.seed=5", *overrides))
    log = MemoryLog()
    venue = build_venue(loaded, log)
    venue.run("test")
    return venue


@pytest.fixture(scope="module")
def venue():
    return _venue()


def _broken(venue) -> str:
    with pytest.raises(InvariantViolation) as caught:
        venue.invariants.check_state()
    return caught.value.invariant


def _flat_and_holding(venue):
    accounts = venue.ledger.accounts.values()
    flat = next(a for a in accounts if a.size_lots == 0 and a.wallet > 0)
    holding = next(a for a in accounts if a.size_lots > 0)
    return flat, holding


def test_an_untouched_venue_passes_every_invariant(venue):
    """After a run nothing is broken, and the checks are counted."""
    before = venue.invariants.checks
    venue.invariants.check_state()
    assert venue.invariants.checks == before + 1


def test_money_created_from_nothing_is_named(venue):
    """One minor unit added to a wallet: 'money'."""
    flat, _ = _flat_and_holding(venue)
    flat.wallet += 1
    try:
        assert _broken(venue) == "money"
    finally:
        flat.wallet -= 1


def test_unequal_open_interest_is_named(venue):
    """A long grows by a lot with its entry notional paid from its wallet (money unchanged):
    'open_interest'."""
    _, holding = _flat_and_holding(venue)
    holding.size_lots += 1
    try:
        assert _broken(venue) == "open_interest"
    finally:
        holding.size_lots -= 1


def test_a_crossed_book_is_named(venue):
    """A bid put straight onto the book above the best ask: 'book_uncrossed'."""
    book = venue.book
    order = Order(10**12, 0, BUY, book.best_ask() + 1, 1)
    book.add(order)
    try:
        assert _broken(venue) == "book_uncrossed"
    finally:
        book.remove(order)


def test_a_level_total_that_disagrees_with_its_orders_is_named(venue):
    """A resting order whose remainder changes behind its level's back: 'order_lots'."""
    book = venue.book
    level = book.bids[book.best_bid()]
    order = next(iter(level))
    order.remaining_lots += 1
    try:
        assert _broken(venue) == "order_lots"
    finally:
        order.remaining_lots -= 1


def test_a_negative_flat_balance_without_bad_debt_is_named(venue):
    """A flat account's wallet pushed below zero, the amount moved to another account (money
    unchanged): 'negative_balance'."""
    flat, holding = _flat_and_holding(venue)
    amount = flat.wallet + 1
    flat.wallet -= amount
    holding.wallet += amount
    try:
        assert _broken(venue) == "negative_balance"
    finally:
        flat.wallet += amount
        holding.wallet -= amount


def test_a_position_above_the_largest_bracket_is_named(venue):
    """An entry notional above the tiers' last cap, its wallet moved with it (money unchanged):
    'risk_limit'."""
    _, holding = _flat_and_holding(venue)
    extra = venue.ledger.tiers.max_notional + 1
    holding.entry_notional += extra
    holding.wallet += extra  # a long's value is wallet - entry notional: unchanged
    try:
        assert _broken(venue) == "risk_limit"
    finally:
        holding.entry_notional -= extra
        holding.wallet -= extra


@pytest.mark.parametrize("cause", [5, 6, -1, "x", 1.5])
def test_a_cause_that_is_not_an_earlier_seq_is_named(venue, cause):
    """A cause equal to its own seq, later, negative or not an int: 'cause'."""
    with pytest.raises(InvariantViolation) as caught:
        venue.invariants.check_cause({"seq": 5, "cause": cause})
    assert caught.value.invariant == "cause"


def _corrupt_at_one_second(loaded, log):
    venue = build_venue(loaded, log)

    def corrupt(_):
        holding = next(a for a in venue.ledger.accounts.values() if a.size_lots > 0)
        holding.size_lots += 1

    venue.env.call_at(1_000_000_000, Phase.AGENT, corrupt)
    return venue


def test_every_event_mode_stops_the_run_at_the_step_that_broke_it(tmp_path):
    """With --check every-event a corruption at t = 1 s stops the run at the next step that
    writes an event: the error names the invariant and the seq, and X.failed keeps the log up
    to that seq."""
    loaded = es.load_config({}, ("run.duration=3s", 'run.check="every-event"'))
    with pytest.raises(InvariantViolation) as caught:
        rundir.execute(loaded, str(tmp_path / "x"), build=_corrupt_at_one_second)
    assert caught.value.invariant == "open_interest"
    lines = (tmp_path / "x.failed" / "events.jsonl").read_bytes().splitlines()
    assert len(lines) - 1 == caught.value.seq
    # The corruption writes no event: the first step after it that writes one is checked.
    assert 1_000_000_000 <= json.loads(lines[-1])["ts"] < 1_100_000_000


def test_end_mode_finds_the_corruption_only_at_the_end(tmp_path):
    """With the default (end) the same corruption is found once, after the last event."""
    loaded = es.load_config({}, ("run.duration=3s",))
    log = MemoryLog()
    venue = _corrupt_at_one_second(loaded, log)
    with pytest.raises(InvariantViolation) as caught:
        venue.run("test")
    assert caught.value.seq == log.seq - 1
    assert log.events[-1]["ts"] < THREE_SECONDS + 1


def test_off_mode_does_not_check(tmp_path):
    """With check off the unequal open interest goes unnoticed (money still is checked)."""
    loaded = es.load_config({}, ("run.duration=3s", 'run.check="off"'))
    venue = _corrupt_at_one_second(loaded, MemoryLog())
    venue.run("test")
    assert venue.invariants.checks == 0


def _body(*overrides: str) -> list[bytes]:
    result = es.run({}, overrides=("run.duration=3s", "run.seed=9", *overrides), keep_events=True)
    return [e for e in result.events if e["type"] not in ("run_start", "run_end")]


def test_checking_every_event_writes_the_same_log():
    """Every event after run_start is the same with every-event checks as with none."""
    assert _body('run.check="every-event"') == _body('run.check="off"')


def test_every_event_mode_reports_checks_per_second():
    """The summary says the mode, how many state checks ran and how many per second."""
    result = es.run({}, overrides=("run.duration=2s", 'run.check="every-event"'))
    checks = result.summary["invariant_checks"]
    assert checks["mode"] == "every-event"
    assert checks["checks"] > 100 and checks["per_second"] > 0


def test_an_invariant_violation_is_a_simulation_error():
    """A violation is a bug (SimulationError), never bad input."""
    assert issubclass(InvariantViolation, SimulationError)


def test_a_delayed_funding_payment_that_empties_a_liquidated_account_is_bad_debt(tmp_path):
    """Binance settles funding 15 s after the snapshot: a long liquidated in between still pays,
    and its now-empty account goes below zero. The deficit is recorded as bad debt caused by the
    payment, so no flat account keeps an unrecorded negative balance (docs/mechanics.md)."""
    path = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")
    cascade = es.load_config(path, ('funding.rule.interval="20s"', 'run.check="every-event"'))
    result = es.run(cascade, keep_events=True)
    by_seq = {e["seq"]: e for e in result.events}
    from_funding = [
        e
        for e in result.events
        if e["type"] == "bad_debt" and by_seq[e["cause"]]["type"] == "funding_payment"
    ]
    assert from_funding, "the scenario no longer liquidates a payer between snapshot and payment"
    for event in from_funding:
        payment = by_seq[event["cause"]]
        assert payment["account"] == event["account"]
        assert event["amount"] == -payment["amount_minor"]  # the payment emptied a zero wallet
