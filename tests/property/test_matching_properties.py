"""Properties of the matching engine over random order streams.

Streams mix limit GTC/IOC/FOK, post-only, market orders, cancels, amends and mass cancels from a
few accounts, with self-trade prevention and (sometimes) a price band. Checked:

* the resting book is never crossed (and its structure stays consistent) after every command;
* every submitted lot is accounted for exactly once: filled, resting, cancelled/expired, or
  rejected;
* fills follow price-time priority, judged by an independent model of the queue built from the
  log: each trade's maker is the best-priced, earliest-queued resting order on its side;
* the book rebuilt from the log equals the live book.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.events.log import MemoryLog
from exchange_sim.matching import (
    BUY,
    FOK,
    GTC,
    IOC,
    SELL,
    STP_MODES,
    MatchingConfig,
    MatchingEngine,
    Order,
    rebuild_book,
)

ACCOUNTS = st.integers(1, 4)
SIDES = st.sampled_from((BUY, SELL))

limit_op = st.tuples(
    st.just("limit"),
    ACCOUNTS,
    SIDES,
    st.integers(95, 105),
    st.integers(1, 6),
    st.sampled_from((GTC, GTC, GTC, IOC, FOK)),
    st.booleans(),
)
market_op = st.tuples(
    st.just("market"), ACCOUNTS, SIDES, st.integers(1, 12), st.sampled_from((GTC, IOC, FOK))
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 10_000), st.booleans(), st.booleans())
amend_op = st.tuples(
    st.just("amend"),
    st.integers(0, 10_000),
    st.one_of(st.none(), st.integers(95, 105)),
    st.one_of(st.none(), st.integers(0, 8)),
    st.booleans(),
)
cancel_all_op = st.tuples(st.just("cancel_all"), ACCOUNTS)


def _op_of_kind(roll: int):
    """Weights: 55 % limit, 15 % market, 15 % cancel, 12 % amend, 3 % cancel_all."""
    if roll < 55:
        return limit_op
    if roll < 70:
        return market_op
    if roll < 85:
        return cancel_op
    return amend_op if roll < 97 else cancel_all_op


OPS = st.lists(st.integers(0, 99).flatmap(_op_of_kind), min_size=15, max_size=80)
BANDS = st.sampled_from((0, 0, 20_000_000, 50_000_000))  # off, 2 %, 5 % around 100 ticks


def run(ops: list, stp: str, band_ppb: int) -> tuple[MatchingEngine, MemoryLog, dict[int, Order]]:
    """Apply the stream, checking the book's structure and that it is uncrossed after each op."""
    log = MemoryLog()
    engine = MatchingEngine(log, MatchingConfig(stp=stp, price_band_ppb=band_ppb))
    engine.reference_price = lambda: 100
    sent: dict[int, Order] = {}
    for now, op in enumerate(ops):
        kind = op[0]
        if kind in ("limit", "market"):
            order_id = len(sent) + 1
            if kind == "limit":
                _, account, side, price, size, tif, post_only = op
                order = Order(order_id, account, side, price, size, tif=tif, post_only=post_only)
            else:
                _, account, side, size, tif = op
                order = Order(order_id, account, side, None, size, tif=tif)
            sent[order_id] = order
            engine.submit(now, order, None)
        elif kind == "cancel_all":
            engine.cancel_all(now, op[1], None)
        elif sent:
            # Half the cancels/amends target a resting order, the others any order ever sent.
            live = list(engine.book.orders)
            if op[-1] and live:
                target = engine.book.orders[live[op[1] % len(live)]]
            else:
                target = sent[op[1] % len(sent) + 1]
            if kind == "cancel":
                account = target.account_id if op[2] else 1 + target.account_id % 4
                engine.cancel(now, account, target.order_id, None)
            else:
                engine.amend(now, target.account_id, target.order_id, op[2], op[3], None)
        engine.book.check_invariants()
    return engine, log, sent


@settings(max_examples=150, deadline=None)
@given(OPS, st.sampled_from(STP_MODES), BANDS)
def test_book_is_never_crossed_and_rebuilds_from_the_log(ops, stp, band_ppb):
    """After every command the book is consistent and uncrossed; the log rebuilds it exactly."""
    engine, log, _ = run(ops, stp, band_ppb)
    rebuilt = rebuild_book(log.events)
    assert rebuilt.difference(engine.book) is None
    rebuilt.check_invariants()


@settings(max_examples=150, deadline=None)
@given(OPS, st.sampled_from(STP_MODES), BANDS)
def test_every_lot_is_accounted_for_exactly_once(ops, stp, band_ppb):
    """Each order's final size = filled + resting + cancelled/expired; rejected ones do nothing."""
    engine, log, sent = run(ops, stp, band_ppb)
    size = {}
    filled = defaultdict(int)
    ended = defaultdict(int)
    outcome = {}
    for event in log.events:
        kind = event["type"]
        if kind in ("order_accepted", "order_rejected"):
            assert event["order_id"] not in outcome, "an order was accepted or rejected twice"
            outcome[event["order_id"]] = kind
            if kind == "order_accepted":
                size[event["order_id"]] = event["size_lots"]
        elif kind == "order_amended":
            size[event["order_id"]] = event["size_lots"]
        elif kind == "trade":
            filled[event["maker_order_id"]] += event["size_lots"]
            filled[event["taker_order_id"]] += event["size_lots"]
        elif kind in ("order_cancelled", "order_expired"):
            assert ended[event["order_id"]] == 0, "an order ended twice"
            ended[event["order_id"]] = event["remaining_lots"]
    assert set(outcome) == set(sent)
    for order_id, order in sent.items():
        if outcome[order_id] == "order_rejected":
            assert filled[order_id] == ended[order_id] == 0
            continue
        resting = engine.book.get(order_id)
        resting_lots = resting.remaining_lots if resting is not None else 0
        assert size[order_id] == filled[order_id] + ended[order_id] + resting_lots, order
        assert resting is None or ended[order_id] == 0


@settings(max_examples=150, deadline=None)
@given(OPS, st.sampled_from(STP_MODES), BANDS)
def test_fills_follow_price_time_priority(ops, stp, band_ppb):
    """Every trade's maker is the best-priced, earliest-queued resting order on its side.

    The queue model is rebuilt independently from the log: an order's queue position is the seq of
    its acceptance, renewed by an amend that changes the price or raises the size. Trades print at
    the maker's price and never beyond the taker's limit.
    """
    _, log, _ = run(ops, stp, band_ppb)
    resting: dict[int, list] = {}  # order_id -> [side, price, queue_seq, remaining]
    limit: dict[int, int | None] = {}
    for event in log.events:
        kind, order_id = event["type"], event.get("order_id")
        if kind == "order_accepted":
            limit[order_id] = event["price_ticks"]
            if event["price_ticks"] is not None:
                resting[order_id] = [
                    event["side"],
                    event["price_ticks"],
                    event["seq"],
                    event["size_lots"],
                ]
        elif kind == "order_amended":
            entry = resting[order_id]
            kept = event["price_ticks"] == entry[1] and event["size_lots"] <= event["old_size_lots"]
            assert event["priority_kept"] == kept
            if not kept:
                entry[1], entry[2] = event["price_ticks"], event["seq"]
            entry[3] = event["remaining_lots"]
            limit[order_id] = event["price_ticks"]
        elif kind in ("order_cancelled", "order_expired"):
            resting.pop(order_id, None)
        elif kind == "trade":
            maker_side = -event["aggressor_side"]
            queue = [
                (side * -price, seq, oid)
                for oid, (side, price, seq, _) in resting.items()
                if side == maker_side
            ]
            assert min(queue)[2] == event["maker_order_id"], event
            maker = resting[event["maker_order_id"]]
            assert event["price_ticks"] == maker[1]
            taker_limit = limit[event["taker_order_id"]]
            if taker_limit is not None:
                assert (taker_limit - event["price_ticks"]) * event["aggressor_side"] >= 0
            for oid in (event["maker_order_id"], event["taker_order_id"]):
                entry = resting.get(oid)
                if entry is not None:
                    entry[3] -= event["size_lots"]
                    if entry[3] == 0:
                        del resting[oid]
