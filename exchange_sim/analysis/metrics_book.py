"""An order book kept up to date from the log's order events, one event at a time.

The replay rules are those of :func:`exchange_sim.matching.rebuild.rebuild_book` (which rebuilds a
whole book from a finished stream): a limit ``order_accepted`` joins the back of its level at once,
each ``trade`` reduces the maker and, if resting, the taker; ``order_cancelled`` and
``order_expired`` remove the order if it rests; ``order_amended`` resizes in place when priority was
kept, else moves the order to the back of its new level. Market orders never rest. Memory is the
resting orders, never the events.

Queries (:meth:`StreamingBook.depth_near_mid`) read only the price levels inside the band, so a
snapshot costs O(levels in the band + log levels).
"""

from __future__ import annotations

from exchange_sim.analysis.valuation import fill_notional
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.matching.book import Book
from exchange_sim.matching.orders import Order

DEPTH_BAND_PPB = 10_000_000
"""Depth is counted within 1 % (10^7 ppb) of the mid."""

BOOK_EVENTS = ("order_accepted", "trade", "order_cancelled", "order_expired", "order_amended")


class StreamingBook:
    """The resting book after every event fed to :meth:`apply` (other event types are ignored)."""

    __slots__ = ("book",)

    def __init__(self) -> None:
        self.book = Book()

    def apply(self, event: dict) -> None:
        kind = event["type"]
        book = self.book
        orders = book.orders
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
                        tag=event["tag"],
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
            order = orders.get(event["order_id"])
            if order is None:
                return
            if event["priority_kept"]:
                book.resize(order, event["size_lots"], event["remaining_lots"])
            else:
                book.remove(order)
                order.price_ticks = event["price_ticks"]
                order.size_lots = event["size_lots"]
                order.remaining_lots = event["remaining_lots"]
                book.add(order)

    def mid2(self) -> int | None:
        """Twice the mid price in ticks (``best_bid + best_ask``, exact); ``None`` if a side is
        empty or the book is crossed (only ever transiently, between an order and its trades)."""
        bid, ask = self.book.best_bid_ticks, self.book.best_ask_ticks
        if bid is None or ask is None or bid >= ask:
            return None
        return bid + ask

    def depth_near_mid(self, valuation, band_ppb: int = DEPTH_BAND_PPB) -> dict:
        """Best bid/ask, spread, twice the mid, and the resting lots and notional within
        ``band_ppb`` of the mid: bids priced ``>= mid x (1 - band)``, asks ``<= mid x (1 + band)``.
        ``valuation`` is ``Scale.valuation``: a level's notional is ``price x lots x m``, or an
        inverse contract's value of a fill of the level (a bid's rounded DOWN, an ask's UP,
        :func:`~exchange_sim.analysis.valuation.fill_notional`), summed level by level.

        Bounds are exact: a bid at ``p`` counts when ``2 p x 10^9 >= (10^9 - band) x mid2``. The
        depth keys are ``None`` when there is no uncrossed two-sided book.
        """
        book = self.book
        bid, ask = book.best_bid_ticks, book.best_ask_ticks
        result = {
            "best_bid_ticks": bid,
            "best_ask_ticks": ask,
            "spread_ticks": None if bid is None or ask is None else ask - bid,
            "mid2_ticks": None,
            "bid_lots": None,
            "bid_notional_minor": None,
            "ask_lots": None,
            "ask_notional_minor": None,
        }
        mid2 = self.mid2()
        if mid2 is None:
            return result
        scale = 2 * RATE_SCALE
        low = -((-(RATE_SCALE - band_ppb) * mid2) // scale)  # ceil: lowest bid inside the band
        high = ((RATE_SCALE + band_ppb) * mid2) // scale  # floor: highest ask inside the band
        bid_lots = bid_notional = ask_lots = ask_notional = 0
        for price in book.bids.irange(low, bid):
            lots = book.bids[price].total_lots
            bid_lots += lots
            bid_notional += fill_notional(valuation, 1, lots, price)
        for price in book.asks.irange(ask, high):
            lots = book.asks[price].total_lots
            ask_lots += lots
            ask_notional += fill_notional(valuation, -1, lots, price)
        result.update(
            mid2_ticks=mid2,
            bid_lots=bid_lots,
            bid_notional_minor=bid_notional,
            ask_lots=ask_lots,
            ask_notional_minor=ask_notional,
        )
        return result
