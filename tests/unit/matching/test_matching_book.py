"""The order book: FIFO levels, O(1) removal, depth queries, impact price and snapshots."""

from __future__ import annotations

import pytest

from exchange_sim.matching import BUY, SELL, Book, Order


def rest(book: Book, order_id: int, side: int, price: int, size: int, account: int = 1) -> Order:
    order = Order(order_id, account, side, price, size)
    book.add(order)
    return order


def test_order_remaining_defaults_to_size():
    """A new order's remaining size is its full size and a price-less order is a market order."""
    order = Order(1, 2, BUY, None, 7)
    assert order.remaining_lots == 7
    assert order.kind == "market"
    assert Order(2, 2, SELL, 100, 1).kind == "limit"


def test_best_prices_of_empty_book_are_none():
    """An empty book has no best bid or ask."""
    book = Book()
    assert book.best_bid() is None
    assert book.best_ask() is None


def test_best_bid_is_highest_and_best_ask_lowest():
    """The touch is the highest bid and the lowest ask."""
    book = Book()
    for i, price in enumerate((98, 100, 99)):
        rest(book, i + 1, BUY, price, 1)
    for i, price in enumerate((103, 101, 102)):
        rest(book, i + 10, SELL, price, 1)
    assert book.best_bid() == 100
    assert book.best_ask() == 101


def test_level_keeps_arrival_order_after_removing_a_middle_order():
    """Cancelling an order in the middle of a level leaves the others in arrival order."""
    book = Book()
    first, middle, last = (rest(book, i, BUY, 100, i) for i in (1, 2, 3))
    book.remove(middle)
    assert [o.order_id for o in book.bids[100]] == [first.order_id, last.order_id]
    assert book.bids[100].total_lots == 1 + 3
    book.check_invariants()


def test_removing_the_last_order_removes_the_level():
    """A level with no orders left disappears from the book."""
    book = Book()
    order = rest(book, 1, SELL, 105, 2)
    book.remove(order)
    assert 105 not in book.asks
    assert book.get(1) is None
    assert book.open_orders(1) == []


def test_depth_lists_best_levels_first_with_summed_lots():
    """depth() aggregates each level's lots, best price first, limited to the levels asked."""
    book = Book()
    rest(book, 1, BUY, 100, 2)
    rest(book, 2, BUY, 100, 3)
    rest(book, 3, BUY, 98, 4)
    rest(book, 4, BUY, 97, 1)
    assert book.depth(BUY, 2) == [(100, 5), (98, 4)]
    assert book.depth(SELL, 5) == []


def test_depth_within_counts_lots_inside_the_distance_from_touch():
    """Cumulative depth within 2 ticks of the touch includes exactly the levels at distance <= 2."""
    book = Book()
    rest(book, 1, SELL, 101, 2)  # distance 0
    rest(book, 2, SELL, 103, 3)  # distance 2: included
    rest(book, 3, SELL, 104, 5)  # distance 3: excluded
    rest(book, 4, BUY, 99, 7)
    rest(book, 5, BUY, 96, 1)  # distance 3 from 99: excluded
    assert book.depth_within(SELL, 2) == 2 + 3
    assert book.depth_within(BUY, 2) == 7
    assert book.depth_within(BUY, 3) == 7 + 1
    assert Book().depth_within(BUY, 10) == 0


def test_impact_ask_is_the_exact_average_price_of_the_notional():
    """Impact ask over two levels, hand-computed as an exact fraction of ticks.

    Asks 100 x 2 lots and 101 x 3 lots, 10 money units per tick-lot; notional 5000.
    Level 100 costs 100*2*10 = 2000, leaving 3000 for level 101, i.e. 3000/1010 lots.
    Lots bought = 2 + 300/101 = 502/101; average = 5000 / (10 * 502/101) = 505000/5020
    = 25250/251 ticks (about 100.598).
    """
    book = Book()
    rest(book, 1, SELL, 100, 2)
    rest(book, 2, SELL, 101, 3)
    assert book.impact_price(SELL, 5000, 10) == (25250, 251)


def test_impact_bid_walks_bids_from_the_top():
    """Impact bid inside the first level is that level's price (2 lots at 99 cover 1980)."""
    book = Book()
    rest(book, 1, BUY, 99, 2)
    rest(book, 2, BUY, 90, 100)
    # 99 * 2 * 10 = 1980 >= 1500: average = 1500*99 / (0 + 1500) = 99.
    assert book.impact_price(BUY, 1500, 10) == (99, 1)


def test_impact_price_is_none_when_the_book_is_too_thin():
    """A notional larger than the whole side has no impact price."""
    book = Book()
    rest(book, 1, SELL, 100, 2)  # 2000 of notional at 10 per tick-lot
    assert book.impact_price(SELL, 2001, 10) is None
    assert book.impact_price(SELL, 2000, 10) == (100, 1)
    assert book.impact_price(BUY, 1, 10) is None


def test_impact_price_rejects_a_non_positive_notional():
    """The impact notional must be positive."""
    with pytest.raises(ValueError):
        Book().impact_price(BUY, 0, 10)


def test_snapshot_gives_price_and_lots_lists_best_first():
    """The log snapshot lists [price, lots] per level, best first, optionally truncated."""
    book = Book()
    rest(book, 1, BUY, 99, 1)
    rest(book, 2, BUY, 98, 2)
    rest(book, 3, SELL, 101, 3)
    assert book.snapshot() == {"bids": [[99, 1], [98, 2]], "asks": [[101, 3]]}
    assert book.snapshot(levels=1) == {"bids": [[99, 1]], "asks": [[101, 3]]}


def test_books_differ_when_queue_order_differs():
    """Two books with the same orders in a different queue order are not the same."""
    a, b = Book(), Book()
    rest(a, 1, BUY, 100, 1)
    rest(a, 2, BUY, 100, 1)
    rest(b, 2, BUY, 100, 1)
    rest(b, 1, BUY, 100, 1)
    assert not a.same_as(b)
    assert a.difference(b) is not None
    c = Book()
    rest(c, 1, BUY, 100, 1)
    rest(c, 2, BUY, 100, 1)
    assert a.same_as(c)
    assert a.difference(c) is None


def test_reduce_and_resize_keep_level_totals():
    """Partial fills and in-place resizes keep the level total equal to the orders' remainders."""
    book = Book()
    first = rest(book, 1, SELL, 100, 5)
    rest(book, 2, SELL, 100, 4)
    book.reduce(first, 2)
    assert book.asks[100].total_lots == 3 + 4
    book.resize(first, 4, 2)
    assert book.asks[100].total_lots == 2 + 4
    book.reduce(first, 2)
    assert first.remaining_lots == 0
    assert [o.order_id for o in book.asks[100]] == [2]
    book.check_invariants()
