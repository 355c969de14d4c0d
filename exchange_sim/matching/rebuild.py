"""Rebuild the order book from the matching engine's events alone.

Replay rule: an ``order_accepted`` limit order joins the back of its level at once (the live engine
adds it only after matching, but nothing else reaches the book in between, so its queue position is
the same); each ``trade`` reduces the maker and, if resting here, the taker; ``order_cancelled`` and
``order_expired`` remove the order if it is in the book; ``order_amended`` resizes in place when
priority was kept, else moves the order to the back of its new level (its later trades then reduce
it like a fresh taker). Market orders never enter the book. Other event types are ignored, so the
whole run log can be passed in.
"""

from __future__ import annotations

from collections.abc import Iterable

from exchange_sim.matching.book import Book
from exchange_sim.matching.orders import Order


def rebuild_book(events: Iterable[dict]) -> Book:
    """The book that the given event stream (dicts as logged) leaves behind."""
    book = Book()
    orders = book.orders
    for event in events:
        kind = event["type"]
        if kind == "order_accepted":
            if event["price_ticks"] is not None:
                book.add(
                    Order(
                        event["order_id"],
                        event["account_id"],
                        event["side"],
                        event["price_ticks"],
                        event["size_lots"],
                        tif=event["tif"],
                        post_only=event["post_only"],
                        reduce_only=event["reduce_only"],
                        tag=event["tag"],
                        ts_sent=event["ts_sent"],
                        ts_recv=event["ts"],
                    )
                )
        elif kind == "trade":
            size = event["size_lots"]
            for order_id in (event["maker_order_id"], event["taker_order_id"]):
                order = orders.get(order_id)
                if order is not None:
                    book.reduce(order, size)
        elif kind in ("order_cancelled", "order_expired"):
            order = orders.get(event["order_id"])
            if order is not None:
                book.remove(order)
        elif kind == "order_amended":
            order = orders[event["order_id"]]
            if event["priority_kept"]:
                book.resize(order, event["size_lots"], event["remaining_lots"])
            else:
                book.remove(order)
                order.price_ticks = event["price_ticks"]
                order.size_lots = event["size_lots"]
                order.remaining_lots = event["remaining_lots"]
                book.add(order)
    return book
