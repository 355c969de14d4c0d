"""A lean order book for replay: the same queue rules as the venue's, tuned for rebuilding.

The venue's :class:`~exchange_sim.matching.book.Book` keeps sorted levels so that it can match;
a replay only adds, removes and checks, and most of a log is quotes placed and cancelled at
prices no other order uses. Here a side is a plain dict ``price -> {order_id: order}`` (insertion
order is queue order, so the head of a level is its first key) and the touch is computed when a
trade or a view asks for it (a ``max``/``min`` over the level keys, in C).
"""

from __future__ import annotations

BUY = 1


class ReplayOrder:
    """One order as the log describes it."""

    __slots__ = (
        "account_id",
        "order_id",
        "post_only",
        "price_ticks",
        "remaining_lots",
        "seq",
        "side",
        "size_lots",
        "tag",
        "tif",
    )

    def __init__(
        self,
        order_id,
        account_id,
        side,
        price_ticks,
        size_lots,
        tag,
        tif="GTC",
        post_only=False,
        seq=-1,
    ) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.side = side
        self.price_ticks = price_ticks
        self.size_lots = size_lots
        self.remaining_lots = size_lots
        self.tag = tag
        self.tif = tif
        self.post_only = post_only
        self.seq = seq
        """The seq of the event that last made it the incoming order (its trades' cause)."""


class ReplayBook:
    """Resting orders of one market: ``orders`` by id, ``bids`` / ``asks`` by price."""

    __slots__ = ("asks", "bids", "orders")

    def __init__(self) -> None:
        self.orders: dict[int, ReplayOrder] = {}
        self.bids: dict[int, dict[int, ReplayOrder]] = {}
        self.asks: dict[int, dict[int, ReplayOrder]] = {}

    def add(self, order: ReplayOrder) -> None:
        """At the back of its level."""
        side = self.bids if order.side == BUY else self.asks
        level = side.get(order.price_ticks)
        if level is None:
            side[order.price_ticks] = {order.order_id: order}
        else:
            level[order.order_id] = order
        self.orders[order.order_id] = order

    def remove(self, order: ReplayOrder) -> None:
        side = self.bids if order.side == BUY else self.asks
        level = side[order.price_ticks]
        del level[order.order_id]
        if not level:
            del side[order.price_ticks]
        del self.orders[order.order_id]

    def reduce(self, order: ReplayOrder, lots: int) -> None:
        order.remaining_lots -= lots
        if not order.remaining_lots:
            self.remove(order)

    def best_bid(self) -> int | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> int | None:
        return min(self.asks) if self.asks else None

    def head(self, side: int, price: int) -> ReplayOrder | None:
        level = (self.bids if side == BUY else self.asks).get(price)
        return next(iter(level.values())) if level else None

    def depth(self, side: int, levels: int) -> list[tuple[int, int]]:
        """The best ``levels`` levels of ``side`` as ``(price_ticks, total_lots)``, best first."""
        book = self.bids if side == BUY else self.asks
        prices = sorted(book, reverse=side == BUY)[:levels]
        return [(p, sum(o.remaining_lots for o in book[p].values())) for p in prices]

    def levels(self, side: int):
        """``(price_ticks, total_lots)`` of every level of ``side``, from the touch outwards."""
        book = self.bids if side == BUY else self.asks
        for price in sorted(book, reverse=side == BUY):
            yield price, sum(o.remaining_lots for o in book[price].values())

    def open_orders(self, account_id: int) -> list[ReplayOrder]:
        """The account's resting orders (a scan: only withdrawals ask)."""
        return [o for o in self.orders.values() if o.account_id == account_id]
