"""A lean order book for replay: the same queue rules as the venue's, tuned for rebuilding.

The venue's :class:`~exchange_sim.matching.book.Book` keeps sorted levels so that it can match;
a replay only adds, removes and checks, and most of a log is quotes placed and cancelled at
prices no other order uses. Here an order **is** its ``order_accepted`` event (the dict the log
reader made; ``remaining_lots`` is kept up to date in it, and ``seq`` is the event that last made
it the incoming order), a side is a plain dict ``price -> {order_id: order}`` (insertion order is
queue order, so the head of a level is its first key), and the touch is computed when a trade or
a view asks for it (a ``max``/``min`` over the level keys, in C). The rare callers that want
order objects (the ledgers' pre-trade checks) get :class:`OrderView` s.
"""

from __future__ import annotations

BUY = 1


class OrderView:
    """An order dict seen through attributes (what the ledgers' pre-trade checks read)."""

    __slots__ = ("_order",)

    def __init__(self, order: dict) -> None:
        self._order = order

    def __getattr__(self, name: str):
        try:
            return self._order[name]
        except KeyError:
            raise AttributeError(name) from None


class ReplayBook:
    """Resting orders of one market: ``orders`` by id, ``bids`` / ``asks`` by price."""

    __slots__ = ("asks", "bids", "orders")

    def __init__(self) -> None:
        self.orders: dict[int, dict] = {}
        self.bids: dict[int, dict[int, dict]] = {}
        self.asks: dict[int, dict[int, dict]] = {}

    def add(self, order: dict) -> None:
        """At the back of its level."""
        side = self.bids if order["side"] == BUY else self.asks
        price, order_id = order["price_ticks"], order["order_id"]
        level = side.get(price)
        if level is None:
            side[price] = {order_id: order}
        else:
            level[order_id] = order
        self.orders[order_id] = order

    def remove(self, order: dict) -> None:
        side = self.bids if order["side"] == BUY else self.asks
        price, order_id = order["price_ticks"], order["order_id"]
        level = side[price]
        del level[order_id]
        if not level:
            del side[price]
        del self.orders[order_id]

    def reduce(self, order: dict, lots: int) -> None:
        order["remaining_lots"] -= lots
        if not order["remaining_lots"]:
            self.remove(order)

    def best_bid(self) -> int | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> int | None:
        return min(self.asks) if self.asks else None

    def head(self, side: int, price: int) -> dict | None:
        level = (self.bids if side == BUY else self.asks).get(price)
        return next(iter(level.values())) if level else None

    def levels(self, side: int):
        """``(price_ticks, total_lots)`` of every level of ``side``, from the touch outwards."""
        book = self.bids if side == BUY else self.asks
        for price in sorted(book, reverse=side == BUY):
            yield price, sum(o["remaining_lots"] for o in book[price].values())

    def depth(self, side: int, levels: int) -> list[tuple[int, int]]:
        """The best ``levels`` levels of ``side`` as ``(price_ticks, total_lots)``, best first."""
        out: list[tuple[int, int]] = []
        for level in self.levels(side):
            if len(out) == levels:
                break
            out.append(level)
        return out

    def open_orders(self, account_id: int) -> list[OrderView]:
        """The account's resting orders (a scan: only withdrawals and spot checks ask)."""
        return [OrderView(o) for o in self.orders.values() if o["account_id"] == account_id]
