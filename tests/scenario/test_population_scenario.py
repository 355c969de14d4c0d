"""A living population through a scripted fall and recovery (configs/scenarios/population.toml):
a market maker, noise traders, leveraged traders with a life cycle, gamblers without stops, trend
followers, dip buyers and carry traders. The index holds at 50,000 to 60 s, falls 8 % to 120 s,
holds to 150 s and recovers to 49,000 by 210 s.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

import exchange_sim as es
from exchange_sim.analysis.cascade import build_tree

S = 1_000_000_000
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "configs", "scenarios", "population.toml")


@pytest.fixture(scope="module")
def runs():
    """The scenario run twice, checking the money identity after every liquidation step."""
    return [
        es.run(SCENARIO, overrides=["run.verify_money=true"], keep_events=True) for _ in range(2)
    ]


def net_lots(events, participant: str, start_s: int, end_s: int) -> int:
    """Lots ``participant``'s accounts bought minus sold in trades in ``[start_s, end_s)``."""
    accounts = {
        e["account_id"]
        for e in events
        if e["type"] == "account_opened" and e["participant"] == participant
    }
    total = 0
    for e in events:
        if e["type"] != "trade" or not start_s * S <= e["ts"] < end_s * S:
            continue
        if e["taker_account_id"] in accounts:
            total += e["aggressor_side"] * e["size_lots"]
        if e["maker_account_id"] in accounts:
            total -= e["aggressor_side"] * e["size_lots"]
    return total


def test_the_same_config_and_seed_give_the_same_log(runs):
    """Two runs of the mixed population write identical logs (same digest, same events)."""
    first, second = runs
    assert first.digest == second.digest
    assert first.events == second.events


def test_money_is_conserved_to_the_minor_unit(runs):
    """Everything held (accounts, fees, fund, residue) equals everything put in, at the end and
    after every liquidation step (verify_money raises otherwise)."""
    summary = runs[0].summary
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
    assert summary["open_interest_balanced"]
    assert summary["liquidations_triggered"] > 0


def test_every_group_lives_entries_and_exits_of_each_kind(runs):
    """Each strategy group entered and left positions, for the reasons its rules give."""
    events = runs[0].events
    entries = Counter(e["participant"] for e in events if e["type"] == "trader_entry")
    exits = {(e["participant"], e["reason"]) for e in events if e["type"] == "trader_exit"}
    assert {"leveraged", "trend", "dip", "carry"} <= set(entries)
    assert {
        ("leveraged", "stop_loss"),
        ("leveraged", "take_profit"),
        ("leveraged", "holding_time"),
        ("gamblers", "liquidated"),
        ("trend", "signal_faded"),
        ("dip", "take_profit"),
        ("carry", "premium_normalised"),
    } <= exits


def test_trend_followers_are_net_sellers_during_the_fall(runs):
    """From 60 s to 120 s the trend followers sold more than they bought."""
    assert net_lots(runs[0].events, "trend", 60, 120) < 0


def test_dip_buyers_are_net_buyers_near_the_bottom(runs):
    """From 100 s (index below 47,400) to 150 s (end of the bottom) the dip buyers bought more
    than they sold; they sell in the recovery."""
    events = runs[0].events
    assert net_lots(events, "dip", 100, 150) > 0
    assert net_lots(events, "dip", 150, 240) < 0


def test_only_a_holding_time_is_a_decision_with_no_cause(runs):
    """Entries name the update that crossed a threshold or the exit a re-entry follows; exits
    name the price update, response or report they reacted to; only a holding time running
    out is the trader's own timer (cause null)."""
    events = runs[0].events
    uncaused = Counter(
        (e["type"], e.get("reason"))
        for e in events
        if e["type"] in ("trader_entry", "trader_exit") and e["cause"] is None
    )
    assert set(uncaused) == {("trader_exit", "holding_time")}
    causes = Counter(
        (e["reason"], events[e["cause"]]["type"])
        for e in events
        if e["type"] == "trader_exit" and e["cause"] is not None
    )
    assert {reason for reason, _ in causes} >= {"stop_loss", "take_profit", "liquidated"}
    assert {cause for (reason, cause) in causes if reason == "stop_loss"} == {"index_price"}


def test_liquidation_chains_end_at_the_market_or_a_traders_decision(runs):
    """Every liquidation of the run was started by an index move or a trader's own decision
    (a documented root kind; none is left to the venue's own timer)."""
    tree = build_tree(runs[0].events)
    roots = {node.root_kind for node in tree.liquidations if node.parent is None}
    assert roots and roots <= {"index_move", "trader_decision"}
