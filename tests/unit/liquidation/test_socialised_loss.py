"""Clawback of an uncovered deficit in proportion to profit (OKX "Societal Clawback")."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.events.log import MemoryLog
from exchange_sim.liquidation import event_types
from exchange_sim.liquidation.socialised_loss import clawback, emit_clawback
from exchange_sim.runner.event_catalog import validate_record

REGISTRY = {event.name: event for event in event_types.EVENTS}


def test_clawback_hand_computed_with_round_up():
    """Deficit 1000, fund 400: 600 to share over profits 333, 333, 334 (total 1000).

    Rate 600/1000: 333 * 0.6 = 199.8 -> 200 (twice), 334 * 0.6 = 200.4 -> 201; collected 601,
    residue 1. Account 4 lost money and pays nothing.
    """
    result = clawback(1000, 400, [(3, 334), (1, 333), (2, 333), (4, -100)])
    assert (result.fund_used, result.amount) == (400, 600)
    assert (result.rate_num, result.rate_den) == (600, 1000)
    assert result.charges == [(1, 200), (2, 200), (3, 201)]
    assert (result.residue, result.collected, result.uncollected) == (1, 601, 0)


def test_fund_covering_the_deficit_claws_nothing_back():
    """Deficit 300 with 400 in the fund: the fund pays 300 and nobody is charged."""
    result = clawback(300, 400, [(1, 500)])
    assert (result.fund_used, result.amount, result.charges, result.residue) == (300, 0, [], 0)


def test_profits_smaller_than_the_amount_are_taken_whole():
    """600 to share but only 150 of profit: each pays its whole profit, 450 stays bad debt."""
    result = clawback(600, 0, [(1, 100), (2, 50)])
    assert result.charges == [(1, 100), (2, 50)]
    assert (result.rate_num, result.rate_den) == (1, 1)
    assert (result.residue, result.uncollected) == (-450, 450)


def test_clawback_events_match_schema():
    """emit_clawback writes one declared `socialised_loss` event per charge, with the rate."""
    log = MemoryLog()
    emit_clawback(log, 7, 1, clawback(1000, 400, [(1, 500), (2, 500)]))
    events = log.of_type("socialised_loss")
    assert [(e["account"], e["amount"], e["rate_num"], e["rate_den"]) for e in events] == [
        (1, 300, 600, 1000),
        (2, 300, 600, 1000),
    ]
    assert all(validate_record(e, REGISTRY) is None for e in events)


@settings(max_examples=400, deadline=None)
@given(
    deficit=st.integers(0, 10**9),
    fund=st.integers(0, 10**9),
    profits=st.dictionaries(st.integers(1, 1000), st.integers(-(10**6), 10**7), max_size=20),
)
def test_clawback_accounting_identity(deficit, fund, profits):
    """sum(charges) - residue == amount to socialise; nobody pays more than its profit."""
    result = clawback(deficit, fund, profits.items())
    assert result.amount == max(0, deficit - fund)
    assert result.fund_used + result.amount == deficit
    assert sum(charge for _, charge in result.charges) - result.residue == result.amount
    payers = {a: p for a, p in profits.items() if p > 0}
    for account, charge in result.charges:
        assert 0 < charge <= payers[account]
    if 0 < result.amount <= sum(payers.values()):
        assert 0 <= result.residue < len(payers)
