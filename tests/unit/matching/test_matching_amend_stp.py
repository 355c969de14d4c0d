"""Amend priority rules and self-trade prevention modes."""

from __future__ import annotations

import pytest

from exchange_sim.matching import BUY, SELL, Order


def fills(log) -> list[tuple[int, int]]:
    """(maker_order_id, size_lots) of every trade, in log order."""
    return [(t["maker_order_id"], t["size_lots"]) for t in log.of_type("trade")]


def two_bids(engine) -> None:
    """Order 1 (account 1) then order 2 (account 2), both buy 5 at 100."""
    engine.submit(0, Order(1, 1, BUY, 100, 5), None)
    engine.submit(0, Order(2, 2, BUY, 100, 5), None)


def test_size_decrease_keeps_priority(make_engine):
    """Amending order 1 from 5 to 3 lots keeps it ahead of order 2: a sell of 3 fills order 1."""
    engine, log = make_engine()
    two_bids(engine)
    seq = engine.amend(1, 1, 1, None, 3, None)
    assert log.events[seq]["priority_kept"] is True
    engine.submit(2, Order(3, 3, SELL, None, 3), None)
    assert fills(log) == [(1, 3)]


def test_size_increase_loses_priority(make_engine):
    """Amending order 1 from 5 to 6 lots sends it behind order 2: a sell of 5 fills order 2."""
    engine, log = make_engine()
    two_bids(engine)
    seq = engine.amend(1, 1, 1, None, 6, None)
    assert log.events[seq]["priority_kept"] is False
    engine.submit(2, Order(3, 3, SELL, None, 5), None)
    assert fills(log) == [(2, 5)]


def test_price_change_loses_priority(make_engine):
    """Order 1 moved 100 -> 99 -> 100 is now behind order 2 at 100."""
    engine, log = make_engine()
    two_bids(engine)
    engine.amend(1, 1, 1, 99, None, None)
    engine.amend(2, 1, 1, 100, None, None)
    engine.submit(3, Order(3, 3, SELL, None, 6), None)
    assert fills(log) == [(2, 5), (1, 1)]


def test_size_decrease_with_price_change_loses_priority(make_engine):
    """A price change loses priority even when the size also goes down."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 101, 5), None)
    engine.submit(0, Order(2, 2, BUY, 100, 5), None)
    engine.amend(1, 1, 1, 100, 4, None)
    engine.submit(2, Order(3, 3, SELL, None, 5), None)
    assert fills(log) == [(2, 5)]


def test_amend_to_a_crossing_price_trades_as_taker(make_engine):
    """A bid amended through the ask trades at the ask, caused by the amend; the rest rests."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 99, 5), None)
    engine.submit(0, Order(2, 2, SELL, 101, 2), None)
    seq = engine.amend(1, 1, 1, 101, None, 8)
    assert log.events[seq]["cause"] == 8
    (trade,) = log.of_type("trade")
    assert (trade["taker_order_id"], trade["price_ticks"], trade["size_lots"]) == (1, 101, 2)
    assert trade["cause"] == seq
    assert engine.book.snapshot() == {"bids": [[101, 3]], "asks": []}


def test_amend_size_applies_to_total_including_filled(make_engine):
    """After 3 of 5 lots fill, amending to size 4 leaves 4 - 3 = 1 lot, priority kept."""
    engine, log = make_engine()
    two_bids(engine)
    engine.submit(1, Order(3, 3, SELL, None, 3), None)
    seq = engine.amend(2, 1, 1, None, 4, None)
    event = log.events[seq]
    assert (event["remaining_lots"], event["priority_kept"]) == (1, True)
    assert [o.order_id for o in engine.book.bids[100]] == [1, 2]


@pytest.mark.parametrize(
    ("new_size", "reason"), [(3, "size_not_above_filled"), (0, "size_out_of_range")]
)
def test_amend_to_filled_amount_or_zero_is_rejected(make_engine, new_size, reason):
    """With 3 of 5 lots filled, amending to 3 lots (nothing left) or to 0 is rejected."""
    engine, log = make_engine()
    two_bids(engine)
    engine.submit(1, Order(3, 3, SELL, None, 3), None)
    seq = engine.amend(2, 1, 1, None, new_size, None)
    assert (log.events[seq]["type"], log.events[seq]["reason"]) == ("amend_rejected", reason)
    assert engine.book.get(1).remaining_lots == 2


def test_amend_of_unknown_or_foreign_order_is_rejected(make_engine):
    """Amending an order that is not resting, or that belongs to another account, is rejected."""
    engine, log = make_engine()
    two_bids(engine)
    unknown = engine.amend(1, 1, 77, 101, None, None)
    foreign = engine.amend(1, 1, 2, 101, None, None)
    assert log.events[unknown]["reason"] == "unknown_order"
    assert log.events[foreign]["reason"] == "not_owner"
    assert engine.book.get(2).price_ticks == 100


def test_post_only_amended_through_the_touch_is_rejected(make_engine):
    """A post-only bid amended to the best ask is rejected and keeps its old price."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 99, 1, post_only=True), None)
    engine.submit(0, Order(2, 2, SELL, 101, 1), None)
    seq = engine.amend(1, 1, 1, 101, None, None)
    assert log.events[seq]["reason"] == "post_only_would_cross"
    assert engine.book.get(1).price_ticks == 99


def test_amend_that_loses_priority_passes_the_pre_trade_check(make_engine):
    """The pre-trade hook sees the amended order (new size) and can reject the increase."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 99, 2), None)
    seen = []

    def check(now, order):
        seen.append((order.size_lots, order.remaining_lots))
        return "insufficient_margin" if order.size_lots > 5 else None

    engine.pre_trade_check = check
    seq = engine.amend(1, 1, 1, None, 9, None)
    assert log.events[seq]["reason"] == "insufficient_margin"
    assert seen == [(9, 9)]
    assert engine.book.get(1).size_lots == 2


# ---------------------------------------------------------------- self-trade prevention
def stp_book(engine) -> None:
    """Asks at 100, in order: 1 (account 7, 1 lot), 2 (account 1, 2 lots), 3 (account 8, 2 lots)."""
    engine.submit(0, Order(1, 7, SELL, 100, 1), None)
    engine.submit(0, Order(2, 1, SELL, 100, 2), None)
    engine.submit(0, Order(3, 8, SELL, 100, 2), None)


def cancels(log) -> list[tuple[int, str, int]]:
    return [
        (e["order_id"], e["reason"], e["remaining_lots"]) for e in log.of_type("order_cancelled")
    ]


def test_stp_cancel_newest_cancels_the_taker(make_engine):
    """Account 1 buys 4: 1 lot from order 1, then meets its own order 2: the taker's 3 cancelled."""
    engine, log = make_engine(stp="cancel_newest")
    stp_book(engine)
    engine.submit(1, Order(4, 1, BUY, 100, 4), None)
    assert fills(log) == [(1, 1)]
    assert cancels(log) == [(4, "self_trade", 3)]
    assert [o.order_id for o in engine.book.asks[100]] == [2, 3]
    assert not engine.book.bids


def test_stp_cancel_oldest_cancels_the_maker_and_continues(make_engine):
    """Buy 4: 1 from order 1, own order 2 cancelled, 2 from order 3; 1 lot rests as a bid."""
    engine, log = make_engine(stp="cancel_oldest")
    stp_book(engine)
    engine.submit(1, Order(4, 1, BUY, 100, 4), None)
    assert fills(log) == [(1, 1), (3, 2)]
    assert cancels(log) == [(2, "self_trade", 2)]
    assert engine.book.snapshot() == {"bids": [[100, 1]], "asks": []}


def test_stp_cancel_both_cancels_maker_and_taker(make_engine):
    """Buy 4: 1 from order 1, then both own order 2 and the taker's remaining 3 are cancelled."""
    engine, log = make_engine(stp="cancel_both")
    stp_book(engine)
    engine.submit(1, Order(4, 1, BUY, 100, 4), None)
    assert fills(log) == [(1, 1)]
    assert cancels(log) == [(2, "self_trade", 2), (4, "self_trade", 3)]
    assert [o.order_id for o in engine.book.asks[100]] == [3]


def test_stp_none_lets_the_self_trade_print(make_engine):
    """With STP off, buy 4 fills 1 + 2 (its own order) + 1 lots in queue order."""
    engine, log = make_engine(stp="none")
    stp_book(engine)
    engine.submit(1, Order(4, 1, BUY, 100, 4), None)
    assert fills(log) == [(1, 1), (2, 2), (3, 1)]
    assert cancels(log) == []
