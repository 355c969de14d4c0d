"""The metrics' building blocks: the streaming book, nearest-rank percentiles, unit output."""

from __future__ import annotations

from exchange_sim.analysis.metrics_book import StreamingBook
from exchange_sim.analysis.metrics_stats import Out, nearest_rank
from exchange_sim.matching.rebuild import rebuild_book
from tests.unit.analysis.test_metrics_script import SCALE, S, Script


def _levels(book) -> tuple[dict, dict]:
    return (
        {price: level.total_lots for price, level in book.bids.items()},
        {price: level.total_lots for price, level in book.asks.items()},
    )


def _book_script() -> Script:
    """Resting bids 99 (5 lots, order 1) and 98 (3, order 2), ask 101 (4, order 3); a market
    order (never rests); order 1 shrinks to 2 keeping priority; order 2 moves to 97 (6 lots);
    a resting buy at 101 (order 5) takes 4 lots from ask 3 and rests with 1; order 6 expires."""
    script = Script()
    script.order(S, 1, 1, 1, 99, 5)
    script.order(S, 2, 1, 1, 98, 3)
    script.order(S, 3, 2, -1, 101, 4)
    script.order(S, 4, 3, 1, None, 2, tif="IOC")
    script.cancel(S, 4, 3, 1, None, 2, kind="order_expired")
    script.amend(S, 1, 1, 1, old=(99, 5, 5), new=(99, 2, 2), kept=True)
    script.amend(S, 2, 1, 1, old=(98, 3, 3), new=(97, 6, 6), kept=False)
    script.order(S, 5, 4, 1, 101, 5)
    script.trade(S, 3, 5, 2, 4, 101, 4, 1)
    script.order(S, 6, 4, -1, 120, 1, tif="IOC")
    script.cancel(S, 6, 4, -1, 120, 1, kind="order_expired")
    return script


def test_streaming_book_follows_the_replay_rules_event_by_event():
    """After the script: bids 101 (1 lot left of order 5), 99 (2), 97 (6); no asks."""
    script = _book_script()
    book = StreamingBook()
    for event in script.events:
        book.apply(event)
    assert _levels(book.book) == ({97: 6, 99: 2, 101: 1}, {})


def test_streaming_book_agrees_with_the_whole_log_rebuild():
    """Fed one event at a time, the book ends where the matching rebuild of the log ends."""
    script = _book_script()
    book = StreamingBook()
    for event in script.events:
        book.apply(event)
    assert _levels(book.book) == _levels(rebuild_book(script.events))


def test_depth_is_none_without_a_two_sided_book():
    """One side empty: no mid, no depth; the touch that exists is still given."""
    book = StreamingBook()
    for event in _book_script().events:
        book.apply(event)
    depth = book.depth_near_mid(5)
    assert depth["best_bid_ticks"] == 101
    assert depth["mid2_ticks"] is None and depth["bid_lots"] is None


def test_nearest_rank_percentile_edges():
    """Rank ceil(p x n / 100), at least 1: one value is every percentile; of 1..100, p50 is 50
    and p99 is 99; of 1..4, p50 is 2 and p90 is 4; no values, None."""
    assert nearest_rank([7], 50) == 7
    assert nearest_rank([7], 99) == 7
    hundred = list(range(1, 101))
    assert (nearest_rank(hundred, 50), nearest_rank(hundred, 99)) == (50, 99)
    assert (nearest_rank([1, 2, 3, 4], 50), nearest_rank([1, 2, 3, 4], 90)) == (2, 4)
    assert nearest_rank([], 50) is None


def test_out_writes_user_units_beside_the_exact_integer():
    """Money /10^2, price x 0.5, size x 0.1, time /10^9, rate /10^9; None to both keys."""
    out = Out(SCALE)
    row: dict = {}
    out.money(row, "cash", -12345)
    out.price(row, "price", 101)
    out.size(row, "size", 7)
    out.time(row, "at", 1_500_000_000)
    out.rate(row, "rate", 250_000)
    out.money(row, "none", None)
    assert row == {
        "cash": -123.45,
        "cash_minor": -12345,
        "price": 50.5,
        "price_ticks": 101,
        "size": 0.7,
        "size_lots": 7,
        "at": 1.5,
        "at_ns": 1_500_000_000,
        "rate": 0.00025,
        "rate_ppb": 250_000,
        "none": None,
        "none_minor": None,
    }
