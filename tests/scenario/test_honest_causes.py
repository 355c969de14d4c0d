"""Honest causes on the crash scenario under several venues' rules: a mark names only inputs its
rule reads, participants name what they reacted to, and every chain ends at a documented root."""

from __future__ import annotations

import os

import pytest

import exchange_sim as es
from exchange_sim.analysis.cascade import build_tree
from exchange_sim.events.roots import ROOT_KINDS

BOOK_EVENTS = {"trade", "order_accepted", "order_cancelled", "order_amended"}


LEVERAGE = "participants.longs.leverages=[10, 15, 20]"
"""Leverage every preset admits (dYdX's tiers stop at 20x)."""


@pytest.fixture(scope="module")
def crash_logs(request):
    """The cascade scenario's log under each preset (run once per module)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "configs", "scenarios", "cascade.toml")
    return {
        preset: es.run(
            path, overrides=[f'venue.preset="{preset}"', LEVERAGE], keep_events=True
        ).events
        for preset in ("binance", "bitmex", "dydx", "hyperliquid")
    }


@pytest.mark.parametrize("preset", ["bitmex", "dydx"])
def test_a_mark_rule_that_reads_only_the_index_is_never_caused_by_a_trade(crash_logs, preset):
    """BitMEX's fair price and dYdX's oracle read no book and no trade: every mark_price names an
    index_price, and no liquidation is fed through the mark."""
    events = crash_logs[preset]
    marks = [e for e in events if e["type"] == "mark_price" and e["cause"] is not None]
    assert marks
    assert {events[m["cause"]]["type"] for m in marks} == {"index_price"}
    assert build_tree(events).summary()["fed_through_mark"] == 0


def test_under_binance_the_mark_names_the_book_when_the_book_moved_it(crash_logs):
    """Binance's mark is a median with the last price and the book's basis: some marks name a
    book event (the input that moved them), never an input the rule does not read."""
    events = crash_logs["binance"]
    caused_by_book = [
        e for e in events if e["type"] == "mark_price" and events[e["cause"]]["type"] in BOOK_EVENTS
    ]
    assert caused_by_book
    kinds = {events[e["cause"]]["type"] for e in events if e["type"] == "mark_price" and e["cause"]}
    assert kinds <= BOOK_EVENTS | {"index_price"}


@pytest.mark.parametrize("preset", ["binance", "bitmex", "dydx", "hyperliquid"])
def test_every_liquidation_chain_ends_at_a_documented_root_kind(crash_logs, preset):
    """Walking causes back from each root liquidation ends at an event its root kind lists (or,
    for ``venue_timer``, at another uncaused event); fed liquidations name an earlier parent."""
    events = crash_logs[preset]
    kinds = {kind.name: kind for kind in ROOT_KINDS}
    tree = build_tree(events)
    assert tree.liquidations
    for node in tree.liquidations:
        assert node.root_kind in kinds
        if node.parent is not None:
            assert node.parent < node.seq
            continue
        seq = events[node.seq]["cause"]
        while events[seq]["cause"] is not None and events[seq]["type"] != "funding_payment":
            seq = events[seq]["cause"]
        end = events[seq]["type"]
        expected = kinds[node.root_kind].types
        assert end in expected if expected else end not in {t for k in ROOT_KINDS for t in k.types}


def test_participants_orders_name_what_they_reacted_to(crash_logs):
    """The maker's quotes name the index update it requoted on; a noise trader's limit order
    names the market-data view it priced from; only its market orders are its own decision."""
    events = crash_logs["binance"]
    accounts = {e["account_id"]: e["role"] for e in events if e["type"] == "account_opened"}
    causes: dict[str, set] = {}
    for event in events:
        if event["type"] == "order_accepted" and event["tag"] == "":
            role = accounts[event["account_id"]]
            cause = event["cause"]
            kind = None if cause is None else events[cause]["type"]
            causes.setdefault(role, set()).add((kind, event["price_ticks"] is None))
    assert {kind for kind, _ in causes["market_maker"]} <= {"index_price", "order_cancelled"}
    assert ("index_price", False) in causes["market_maker"]
    noise = causes["noise"]
    assert {kind for kind, market in noise if market} == {None}
    assert {kind for kind, market in noise if not market} <= BOOK_EVENTS
    leveraged = {kind for kind, _ in causes["leveraged"]}
    assert "index_price" in leveraged and leveraged <= {"index_price", "margin_call_response"}
