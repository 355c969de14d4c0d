"""The cascade tree's rules on hand-made logs: parents, roots by kind, the mark channel, edges."""

from __future__ import annotations

import csv

import pytest

from exchange_sim.analysis.cascade import CascadeTree, build_tree
from exchange_sim.core.errors import DataError


class Log:
    """Events as dicts with the fields the tree reads."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, kind: str, cause: int | None, ts: int = 0, **fields) -> int:
        seq = len(self.events)
        self.events.append({"seq": seq, "ts": ts, "type": kind, "cause": cause, **fields})
        return seq

    def liquidation(self, cause: int, account: int) -> int:
        check = self.emit("margin_check", cause)
        return self.emit("liquidation_triggered", check, account_id=account)

    def venue_order(self, liquidation: int, order_id: int) -> int:
        started = self.emit("liquidation_started", liquidation)
        order = self.emit("liquidation_order", started, order_id=order_id)
        return self.emit("order_accepted", order, order_id=order_id, tag="liquidation")


def test_a_trade_against_a_resting_venue_order_belongs_to_its_liquidation():
    """A trader's taker order is the trade's cause, but a fill of a resting takeover limit feeds
    the mark from the liquidation that placed it: the next trigger names it as parent."""
    log = Log()
    index = log.emit("index_price", None)
    first = log.liquidation(log.emit("mark_price", index), 1)
    log.venue_order(first, order_id=50)
    taker = log.emit("order_accepted", None, order_id=60, tag="")
    trade = log.emit("trade", taker, maker_tag="liquidation", maker_order_id=50)
    second = log.liquidation(log.emit("mark_price", trade), 2)
    tree = build_tree(log.events)
    assert tree.parents() == {first: None, second: first}
    assert tree.liquidations[1].through_mark


def test_a_trade_against_a_trader_order_follows_the_taker():
    """Without a venue maker, the trade's chain is its taker's: a trader's own order is a root."""
    log = Log()
    taker = log.emit("order_accepted", None, order_id=60, tag="")
    trade = log.emit("trade", taker, maker_tag="", maker_order_id=1)
    liquidation = log.liquidation(log.emit("mark_price", trade), 2)
    (node,) = build_tree(log.events).liquidations
    assert (node.seq, node.parent, node.root_kind) == (liquidation, None, "trader_decision")


def test_a_funding_payment_is_a_root_whatever_its_rate_came_from():
    """The walk stops at a funding payment even though its rate chains back to an index."""
    log = Log()
    index = log.emit("index_price", None)
    sample = log.emit("premium_sample", index)
    rate = log.emit("funding_rate", sample)
    payment = log.emit("funding_payment", rate)
    log.liquidation(payment, 3)
    (node,) = build_tree(log.events).liquidations
    assert (node.parent, node.root_kind, node.generation) == (None, "funding_payment", 0)


def test_a_child_fed_without_a_mark_is_not_fed_through_the_mark():
    """An ADL that moves a counterparty's position feeds its liquidation directly (no mark on
    the path): a parent, but not through the mark."""
    log = Log()
    first = log.liquidation(log.emit("mark_price", log.emit("index_price", None)), 1)
    adl = log.emit("adl", log.emit("liquidation_started", first))
    position = log.emit("position", adl)
    second = log.liquidation(position, 2)
    tree = build_tree(log.events)
    child = tree.liquidations[1]
    assert (child.seq, child.parent, child.through_mark) == (second, first, False)
    assert tree.summary()["fed_through_mark"] == 0


def test_generations_count_the_chain_and_children_inherit_the_root_kind():
    """A chain of three: generations 0, 1, 2; all three belong to the index move that began it."""
    log = Log()
    parent = log.liquidation(log.emit("mark_price", log.emit("index_price", None)), 1)
    for account in (2, 3):
        accepted = log.venue_order(parent, order_id=account)
        trade = log.emit("trade", accepted, maker_tag="", maker_order_id=0)
        parent = log.liquidation(log.emit("mark_price", trade), account)
    tree = build_tree(log.events)
    assert [n.generation for n in tree.liquidations] == [0, 1, 2]
    assert {n.root_kind for n in tree.liquidations} == {"index_move"}
    summary = tree.summary()
    assert summary["roots_by_kind"]["index_move"] == 1
    assert summary["per_generation"] == {"0": 1, "1": 1, "2": 1}


def test_the_edge_list_names_parent_and_child(tmp_path):
    """``write_edges`` writes one CSV row per fed liquidation, with both accounts and seqs."""
    log = Log()
    first = log.liquidation(log.emit("mark_price", log.emit("index_price", None)), 11)
    trade = log.emit("trade", log.venue_order(first, 5), maker_tag="", maker_order_id=0)
    second = log.liquidation(log.emit("mark_price", trade, ts=7), 12)
    path = tmp_path / "edges.csv"
    assert build_tree(log.events).write_edges(str(path)) == 1
    (row,) = csv.DictReader(path.open())
    assert (int(row["parent_seq"]), int(row["child_seq"])) == (first, second)
    assert (row["parent_account_id"], row["child_account_id"]) == ("11", "12")
    assert (row["through_mark"], row["root_kind"]) == ("1", "index_move")


@pytest.mark.parametrize("cause", [-1, 10**12, "x", 1.5, 5])
def test_a_cause_that_is_not_an_earlier_seq_is_refused(cause):
    """A cause must be null or an earlier seq: anything else is bad input naming the line."""
    log = Log()
    log.emit("index_price", None)
    log.emit("mark_price", 0)
    log.events.append({"seq": 2, "ts": 0, "type": "margin_check", "cause": cause})
    with pytest.raises(DataError, match=r"events\.jsonl:3"):
        build_tree(log.events, "events.jsonl")


class _AfterMany(list):
    """The tree's nodes as if 2**30 liquidations came before them (ordinals from 2**30 on)."""

    SKIP = 2**30

    def __len__(self) -> int:
        return super().__len__() + self.SKIP

    def __getitem__(self, ordinal):
        return super().__getitem__(ordinal - self.SKIP)


def test_codes_past_four_bytes_widen_and_keep_the_chain():
    """The 2**30th liquidation's code (2**31) does not fit the four-byte codes: they widen to
    eight, and its child still names it as parent (generation 1)."""
    log = Log()
    first = log.liquidation(log.emit("mark_price", log.emit("index_price", None)), 1)
    trade = log.emit("trade", log.venue_order(first, 5), maker_tag="", maker_order_id=0)
    second = log.liquidation(log.emit("mark_price", trade), 2)
    tree = CascadeTree()
    tree.liquidations = _AfterMany()
    for event in log.events:
        tree.add(event)
    assert tree._leads_to.typecode == "q"
    assert tree.parents() == {first: None, second: first}
    assert [node.generation for node in tree.liquidations] == [0, 1]
