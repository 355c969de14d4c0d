"""Matching engine: price-time priority, validation, cancels, causes and listeners."""

from __future__ import annotations

import pytest

from exchange_sim.core.errors import SimulationError
from exchange_sim.matching import BUY, SELL, Order


def fills(log) -> list[tuple[int, int, int]]:
    """(maker_order_id, price_ticks, size_lots) of every trade, in log order."""
    return [(t["maker_order_id"], t["price_ticks"], t["size_lots"]) for t in log.of_type("trade")]


def test_taker_sweeps_levels_in_price_order_and_rests_remainder(make_engine):
    """A buy limit fills the cheapest asks first, each at the maker's price, and rests the rest.

    Asks: 100 x 2, 101 x 3, 102 x 4. Buy 7 at 101: 2 @ 100, then 3 @ 101 (5 filled); 102 is
    above the limit, so 7 - 5 = 2 lots rest as a bid at 101.
    """
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, SELL, 102, 4), None)
    engine.submit(0, Order(2, 2, SELL, 100, 2), None)
    engine.submit(0, Order(3, 3, SELL, 101, 3), None)
    engine.submit(1, Order(4, 9, BUY, 101, 7), None)
    assert fills(log) == [(2, 100, 2), (3, 101, 3)]
    assert engine.book.snapshot() == {"bids": [[101, 2]], "asks": [[102, 4]]}
    engine.book.check_invariants()


def test_orders_at_one_price_fill_first_come_first_served(make_engine):
    """Within a level, the oldest order fills first; a partial fill leaves it at the head."""
    engine, log = make_engine()
    for order_id, size in ((1, 2), (2, 3), (3, 4)):
        engine.submit(0, Order(order_id, order_id, SELL, 100, size), None)
    engine.submit(1, Order(4, 9, BUY, None, 4), None)
    # 4 lots: all 2 of order 1, then 2 of the 3 of order 2; order 3 untouched.
    assert fills(log) == [(1, 100, 2), (2, 100, 2)]
    assert [(o.order_id, o.remaining_lots) for o in engine.book.asks[100]] == [(2, 1), (3, 4)]


def test_trade_event_names_both_sides_and_the_aggressor(make_engine):
    """A trade records maker and taker orders, accounts and tags, and the taker's side."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 11, BUY, 100, 1, tag="mm"), None)
    engine.submit(1, Order(2, 22, SELL, None, 1, tag="liquidation"), None)
    (trade,) = log.of_type("trade")
    assert trade["maker_order_id"] == 1 and trade["taker_order_id"] == 2
    assert trade["maker_account_id"] == 11 and trade["taker_account_id"] == 22
    assert trade["aggressor_side"] == SELL
    assert (trade["maker_tag"], trade["taker_tag"]) == ("mm", "liquidation")


def test_causes_chain_from_command_to_accept_to_trades(make_engine):
    """The command's cause causes the accept; the accept causes the order's trades and expiry."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, SELL, 100, 1), None)
    accept_seq = engine.submit(5, Order(2, 2, BUY, None, 3), 42)
    accept = log.events[accept_seq]
    assert accept["type"] == "order_accepted" and accept["cause"] == 42
    assert accept["ts"] == 5
    later = log.events[accept_seq + 1 :]
    assert [e["type"] for e in later] == ["trade", "order_expired"]
    assert all(e["cause"] == accept_seq for e in later)


def test_market_order_remainder_expires_with_no_liquidity(make_engine):
    """A market order that empties the other side expires its remainder: no_liquidity."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, SELL, 100, 2), None)
    engine.submit(1, Order(2, 2, BUY, None, 5), None)
    (expired,) = log.of_type("order_expired")
    assert expired["reason"] == "no_liquidity"
    assert expired["remaining_lots"] == 5 - 2


def test_trade_ids_come_from_the_supplied_counter(make_engine):
    """Trade ids are issued by the run-owned callable when one is given."""
    from exchange_sim.events.log import MemoryLog
    from exchange_sim.matching import MatchingConfig, MatchingEngine

    issued = iter([70, 71])
    log = MemoryLog()
    engine = MatchingEngine(log, MatchingConfig(), ids_next_trade=lambda: next(issued))
    engine.submit(0, Order(1, 1, SELL, 100, 1), None)
    engine.submit(0, Order(2, 1, SELL, 101, 1), None)
    engine.submit(0, Order(3, 2, BUY, 101, 2), None)
    assert [t["trade_id"] for t in log.of_type("trade")] == [70, 71]


@pytest.mark.parametrize(
    ("price", "size", "extra", "reason"),
    [
        (0, 1, {}, "price_out_of_range"),
        (1001, 1, {}, "price_out_of_range"),
        (100.5, 1, {}, "price_not_whole_ticks"),
        (100, 0, {}, "size_out_of_range"),
        (100, 51, {}, "size_out_of_range"),
        (100, 1.5, {}, "size_not_whole_lots"),
        (100, 1, {"tif": "DAY"}, "invalid_tif"),
        (None, 1, {"post_only": True}, "post_only_market"),
    ],
)
def test_invalid_orders_are_rejected_with_a_reason(make_engine, price, size, extra, reason):
    """Prices off the tick grid or outside [min, max] and sizes off the lot grid are rejected."""
    engine, log = make_engine(min_price_ticks=1, max_price_ticks=1000, max_order_lots=50)
    seq = engine.submit(0, Order(1, 1, BUY, price, size, **extra), 3)
    event = log.events[seq]
    assert event["type"] == "order_rejected"
    assert event["reason"] == reason
    assert event["cause"] == 3
    assert not engine.book.orders


def test_invalid_side_is_rejected(make_engine):
    """A side other than 1 or -1 is rejected."""
    engine, log = make_engine()
    seq = engine.submit(0, Order(1, 1, 0, 100, 1), None)
    assert log.events[seq]["reason"] == "invalid_side"


def test_duplicate_resting_order_id_is_rejected(make_engine):
    """A new order may not reuse the id of a resting order."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 100, 1), None)
    seq = engine.submit(0, Order(1, 2, BUY, 99, 1), None)
    assert log.events[seq]["reason"] == "duplicate_order_id"


def test_pre_trade_check_reason_rejects_the_order(make_engine):
    """A string from the pre-trade hook rejects the order with that reason; None accepts."""
    engine, log = make_engine()
    engine.pre_trade_check = lambda now, order: (
        "insufficient_margin" if order.size_lots > 5 else None
    )
    rejected = engine.submit(0, Order(1, 1, BUY, 100, 6), None)
    accepted = engine.submit(0, Order(2, 1, BUY, 100, 5), None)
    assert log.events[rejected]["reason"] == "insufficient_margin"
    assert log.events[accepted]["type"] == "order_accepted"


def test_cancel_removes_the_order_and_reports_the_remainder(make_engine):
    """A user cancel removes a resting order and records its unfilled lots."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 100, 5), None)
    engine.submit(0, Order(2, 2, SELL, None, 2), None)
    seq = engine.cancel(1, 1, 1, 7)
    event = log.events[seq]
    assert (event["type"], event["reason"], event["remaining_lots"]) == (
        "order_cancelled",
        "user",
        3,
    )
    assert event["cause"] == 7
    assert not engine.book.bids


def test_cancel_of_unknown_order_is_rejected(make_engine):
    """Cancelling an order that is not resting yields cancel_rejected: unknown_order."""
    engine, log = make_engine()
    seq = engine.cancel(0, 1, 99, None)
    assert (log.events[seq]["type"], log.events[seq]["reason"]) == (
        "cancel_rejected",
        "unknown_order",
    )


def test_cancel_of_another_accounts_order_is_rejected(make_engine):
    """An account cannot cancel another account's order; the order stays."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 100, 5), None)
    seq = engine.cancel(0, 2, 1, None)
    assert log.events[seq]["reason"] == "not_owner"
    assert engine.book.get(1) is not None


def test_cancel_all_cancels_only_that_accounts_orders_oldest_first(make_engine):
    """cancel_all removes every resting order of one account, in arrival order."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 100, 1), None)
    engine.submit(0, Order(2, 2, BUY, 100, 1), None)
    engine.submit(0, Order(3, 1, SELL, 105, 1), None)
    engine.submit(0, Order(4, 1, BUY, 99, 1), None)
    seqs = engine.cancel_all(1, 1, 50)
    cancelled = [log.events[s] for s in seqs]
    assert [e["order_id"] for e in cancelled] == [1, 3, 4]
    assert {e["reason"] for e in cancelled} == {"cancel_all"}
    assert {e["cause"] for e in cancelled} == {50}
    assert list(engine.book.orders) == [2]
    assert engine.cancel_all(2, 1, None) == []


def test_order_listeners_see_each_outcome_in_order(make_engine):
    """Order listeners get accepted, then rested for the resting maker (no event of its own: the
    accept's seq), then filled (with the filling trade's seq) for both sides."""
    engine, log = make_engine()
    seen = []
    engine.order_listeners.append(
        lambda now, seq, order, status: seen.append((order.order_id, status, seq))
    )
    engine.submit(0, Order(1, 1, SELL, 100, 2), None)
    engine.submit(1, Order(2, 2, BUY, 100, 2), None)
    trade_seq = log.of_type("trade")[0]["seq"]
    assert seen == [
        (1, "accepted", 0),
        (1, "rested", 0),
        (2, "accepted", 1),
        (1, "filled", trade_seq),
        (2, "filled", trade_seq),
    ]


def test_trade_listeners_see_updated_remainders(make_engine):
    """Trade listeners run after each trade with both orders' remaining sizes already reduced."""
    engine, _ = make_engine()
    calls = []

    def listener(now, seq, maker, taker, price, size):
        calls.append((maker.order_id, maker.remaining_lots, taker.remaining_lots, price, size))

    engine.trade_listeners.append(listener)
    engine.submit(0, Order(1, 1, SELL, 100, 2), None)
    engine.submit(0, Order(2, 1, SELL, 101, 2), None)
    engine.submit(1, Order(3, 2, BUY, 101, 3), None)
    assert calls == [(1, 0, 1, 100, 2), (2, 1, 0, 101, 1)]


def test_listener_calling_back_into_the_engine_is_an_error(make_engine):
    """A listener may not re-enter the engine synchronously (the book is mid-update)."""
    engine, _ = make_engine()
    engine.trade_listeners.append(lambda *args: engine.cancel(0, 1, 1, None))
    engine.submit(0, Order(1, 1, SELL, 100, 2), None)
    with pytest.raises(SimulationError):
        engine.submit(0, Order(2, 2, BUY, 100, 1), None)


def test_receipt_time_is_stamped_and_send_time_logged(make_engine):
    """The engine stamps ts_recv with its now; the accept event carries the sender's ts_sent."""
    engine, log = make_engine()
    order = Order(1, 1, BUY, 100, 1, ts_sent=900)
    seq = engine.submit(1_000, order, None)
    assert order.ts_recv == 1_000
    assert (log.events[seq]["ts"], log.events[seq]["ts_sent"]) == (1_000, 900)


def test_rejected_cancel_does_not_hand_out_another_accounts_order(make_engine):
    """A not-owner cancel rejection reaches order listeners without the other account's order."""
    engine, _ = make_engine()
    seen = []
    engine.submit(0, Order(1, 1, BUY, 100, 1), None)
    engine.order_listeners.append(lambda now, seq, order, status: seen.append((order, status)))
    engine.cancel(0, 2, 1, None)
    assert seen == [(None, "cancel_rejected")]
