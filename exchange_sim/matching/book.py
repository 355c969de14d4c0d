"""The limit order book: price levels of FIFO queues, with O(1) lookup and cancel by order id.

``bids`` and ``asks`` are :class:`sortedcontainers.SortedDict` maps ``price_ticks ->``
:class:`PriceLevel` (ascending keys on both sides: the best bid is the *last* bid key, the best ask
the *first* ask key). A level is an intrusive doubly linked list through ``Order.prev_order`` /
``Order.next_order`` (head = oldest = first to fill), so appending, filling the head and cancelling
any order are O(1); an empty level is removed at once, so every level in the book holds at least
one order. ``best_bid_ticks`` / ``best_ask_ticks`` cache the touch (``None`` when a side is empty;
read them freely, never assign them): reading the touch is an attribute read, and it is
recomputed only when a level at the touch empties. ``orders`` indexes every resting order by id;
``by_account`` indexes them per account in arrival order (what ``cancel_all`` walks, so it never
scans other accounts' orders).

The book itself never matches: :mod:`exchange_sim.matching.engine` does. Sizes are lots, prices
ticks, money minor units.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from math import gcd

from sortedcontainers import SortedDict

from exchange_sim.core.contract import InverseContract, Valuation, inverse_impact_price
from exchange_sim.matching.orders import BUY, Order


class PriceLevel:
    """The FIFO queue of resting orders at one price; ``total_lots`` is their summed remainder."""

    __slots__ = ("head", "price_ticks", "tail", "total_lots")

    def __init__(self, price_ticks: int) -> None:
        self.price_ticks = price_ticks
        self.head: Order | None = None
        self.tail: Order | None = None
        self.total_lots = 0

    def __iter__(self) -> Iterator[Order]:
        order = self.head
        while order is not None:
            yield order
            order = order.next_order

    def __repr__(self) -> str:
        return f"PriceLevel({self.price_ticks}, total_lots={self.total_lots})"


class Book:
    """Resting orders of one instrument (see the module docstring for the structure)."""

    __slots__ = ("asks", "best_ask_ticks", "best_bid_ticks", "bids", "by_account", "orders")

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.best_bid_ticks: int | None = None
        self.best_ask_ticks: int | None = None
        self.orders: dict[int, Order] = {}
        self.by_account: dict[int, dict[int, Order]] = {}

    # ----------------------------------------------------------------------- mutation
    def add(self, order: Order) -> None:
        """Append a limit order at the back of its price level (it must not be resting already)."""
        price = order.price_ticks
        assert price is not None  # only limit orders rest
        if order.side == BUY:
            level = self.bids.get(price)
            if level is None:
                level = self.bids[price] = PriceLevel(price)
                best = self.best_bid_ticks
                if best is None or price > best:
                    self.best_bid_ticks = price
        else:
            level = self.asks.get(price)
            if level is None:
                level = self.asks[price] = PriceLevel(price)
                best = self.best_ask_ticks
                if best is None or price < best:
                    self.best_ask_ticks = price
        tail = level.tail
        order.prev_order = tail
        order.next_order = None
        if tail is None:
            level.head = order
        else:
            tail.next_order = order
        level.tail = order
        level.total_lots += order.remaining_lots
        order_id = order.order_id
        self.orders[order_id] = order
        account_orders = self.by_account.get(order.account_id)
        if account_orders is None:
            self.by_account[order.account_id] = {order_id: order}
        else:
            account_orders[order_id] = order

    def remove(self, order: Order) -> None:
        """Take a resting order out of the book (O(1) plus O(log levels) if its level empties)."""
        price = order.price_ticks
        assert price is not None  # only limit orders rest
        level = (self.bids if order.side == BUY else self.asks)[price]
        prev, nxt = order.prev_order, order.next_order
        if prev is None:
            level.head = nxt
        else:
            prev.next_order = nxt
        if nxt is None:
            level.tail = prev
        else:
            nxt.prev_order = prev
        order.prev_order = order.next_order = None
        level.total_lots -= order.remaining_lots
        if nxt is None and prev is None:
            self.drop_level(order.side, price)
        del self.orders[order.order_id]
        del self.by_account[order.account_id][order.order_id]

    def drop_level(self, side: int, price_ticks: int) -> None:
        """Delete an emptied level and refresh the cached touch of its side."""
        if side == BUY:
            bids = self.bids
            del bids[price_ticks]
            if price_ticks == self.best_bid_ticks:
                self.best_bid_ticks = bids.keys()[-1] if bids else None
        else:
            asks = self.asks
            del asks[price_ticks]
            if price_ticks == self.best_ask_ticks:
                self.best_ask_ticks = asks.keys()[0] if asks else None

    def reduce(self, order: Order, lots: int) -> None:
        """Fill ``lots`` of a resting order in place; remove it when nothing remains."""
        level = (self.bids if order.side == BUY else self.asks)[order.price_ticks]
        if order.remaining_lots == lots:
            self.remove(order)
            order.remaining_lots = 0
            return
        order.remaining_lots -= lots
        level.total_lots -= lots

    def resize(self, order: Order, size_lots: int, remaining_lots: int) -> None:
        """Change a resting order's size in place, keeping its queue position."""
        level = (self.bids if order.side == BUY else self.asks)[order.price_ticks]
        level.total_lots += remaining_lots - order.remaining_lots
        order.size_lots = size_lots
        order.remaining_lots = remaining_lots

    # ----------------------------------------------------------------------- queries
    def get(self, order_id: int) -> Order | None:
        return self.orders.get(order_id)

    def open_orders(self, account_id: int) -> list[Order]:
        """The account's resting orders, oldest first."""
        return list(self.by_account.get(account_id, {}).values())

    def best_bid(self) -> int | None:
        """Highest bid price in ticks, or ``None`` when there are no bids."""
        return self.best_bid_ticks

    def best_ask(self) -> int | None:
        """Lowest ask price in ticks, or ``None`` when there are no asks."""
        return self.best_ask_ticks

    def levels_from_touch(self, side: int):
        """Iterate the :class:`PriceLevel` objects of one side, best price first."""
        if side == BUY:
            bids = self.bids
            return (bids[price] for price in reversed(bids))
        asks = self.asks
        return (asks[price] for price in asks)

    def depth(self, side: int, levels: int) -> list[tuple[int, int]]:
        """The best ``levels`` levels of ``side`` as ``(price_ticks, total_lots)``, best first."""
        return [
            (lvl.price_ticks, lvl.total_lots)
            for lvl in islice(self.levels_from_touch(side), levels)
        ]

    def depth_within(self, side: int, distance_ticks: int) -> int:
        """Cumulative lots on ``side`` priced within ``distance_ticks`` of that side's touch.

        Bids count from ``best_bid - distance`` up to the best bid; asks from the best ask up to
        ``best_ask + distance``. Zero when the side is empty.
        """
        if side == BUY:
            if not self.bids:
                return 0
            top = self.best_bid_ticks
            assert top is not None  # the side is not empty
            prices = self.bids.irange(top - distance_ticks, top)
            levels = self.bids
        else:
            if not self.asks:
                return 0
            top = self.best_ask_ticks
            assert top is not None  # the side is not empty
            prices = self.asks.irange(top, top + distance_ticks)
            levels = self.asks
        return sum(levels[price].total_lots for price in prices)

    def fillable_lots(self, taker: Order, limit_ticks: int | None, stp: str) -> int:
        """Lots ``taker`` could fill now within ``limit_ticks`` (``None`` = no limit), for FOK.

        Honours self-trade prevention as the engine applies it: under ``"cancel_oldest"`` the
        taker's own resting orders are skipped (they would be cancelled), under ``"none"`` they
        count, and otherwise counting stops at the first one (the taker would be cancelled there).
        Stops as soon as ``taker.remaining_lots`` is reached.
        """
        need = taker.remaining_lots
        is_buy = taker.side == BUY
        account_id = taker.account_id
        got = 0
        for level in self.levels_from_touch(-taker.side):
            price = level.price_ticks
            if limit_ticks is not None and (price > limit_ticks if is_buy else price < limit_ticks):
                break
            if stp == "none":
                got += level.total_lots
            else:
                for maker in level:
                    if maker.account_id == account_id:
                        if stp == "cancel_oldest":
                            continue
                        return got
                    got += maker.remaining_lots
                    if got >= need:
                        return got
            if got >= need:
                return got
        return got

    def impact_price(
        self, side: int, notional_minor: int, money_per_tick_lot: Valuation
    ) -> tuple[int, int] | None:
        """Average fill price (ticks) of a market order of ``notional_minor`` against ``side``.

        ``side`` is the book side consumed: ``BUY`` walks the bids, giving the **impact bid**
        (a market sell of the impact margin notional); ``SELL`` walks the asks, giving the
        **impact ask** (Binance / BitMEX / Bybit / dYdX / Hyperliquid funding, exchange_mechanics.md
        §6.1). The order fills exactly ``notional_minor`` of money, taking a fraction of a lot at
        the last level it reaches, so the average is ``notional / lots_bought`` exactly. It is
        returned unrounded as a reduced fraction ``(numerator, denominator)`` of ticks,
        ``denominator > 0``: the funding maths divides once, at the end, with its own rounding.
        ``None`` when the side holds less than ``notional_minor`` of notional (too thin).

        Derivation: with whole levels ``(p_i, q_i)`` consumed and ``R`` money left for the last
        level at price ``p_k``, lots bought ``Q = sum(q_i) + R / (p_k * m)`` (``m`` =
        money_per_tick_lot), so ``avg = N / (m * Q) = N * p_k / (m * p_k * sum(q_i) + R)``.
        """
        if notional_minor <= 0:
            raise ValueError(f"impact notional must be positive, got {notional_minor}")
        if isinstance(money_per_tick_lot, InverseContract):
            levels = ((lvl.price_ticks, lvl.total_lots) for lvl in self.levels_from_touch(side))
            return inverse_impact_price(levels, notional_minor, money_per_tick_lot.k)
        left = notional_minor
        whole_lots = 0
        for level in self.levels_from_touch(side):
            price = level.price_ticks
            level_notional = price * level.total_lots * money_per_tick_lot
            if level_notional >= left:
                numerator = notional_minor * price
                denominator = money_per_tick_lot * price * whole_lots + left
                common = gcd(numerator, denominator)
                return numerator // common, denominator // common
            left -= level_notional
            whole_lots += level.total_lots
        return None

    # ----------------------------------------------------------------------- snapshots
    def snapshot(self, levels: int | None = None) -> dict[str, list[list[int]]]:
        """Aggregated levels for the log: ``{"bids": [[price_ticks, lots], ...], "asks": ...}``.

        Best price first on each side; ``levels`` limits the depth (``None`` = all levels).
        """
        out = {}
        for name, side in (("bids", BUY), ("asks", -BUY)):
            source = self.levels_from_touch(side)
            if levels is not None:
                source = islice(source, levels)
            out[name] = [[lvl.price_ticks, lvl.total_lots] for lvl in source]
        return out

    def order_state(self) -> dict[str, list[tuple[int, list[tuple[int, int, int, int]]]]]:
        """Every resting order in priority order, for equality checks (e.g. rebuild vs live).

        ``{"bids"|"asks": [(price_ticks, [(order_id, account_id, size_lots, remaining_lots),
        ...]), ...]}``, best level first, oldest order first within a level.
        """
        out = {}
        for name, side in (("bids", BUY), ("asks", -BUY)):
            out[name] = [
                (
                    lvl.price_ticks,
                    [(o.order_id, o.account_id, o.size_lots, o.remaining_lots) for o in lvl],
                )
                for lvl in self.levels_from_touch(side)
            ]
        return out

    def same_as(self, other: Book) -> bool:
        """True when both books hold the same orders, sizes, queue positions and level totals."""
        return self.difference(other) is None

    def difference(self, other: Book) -> str | None:
        """A short description of the first difference from ``other``, or ``None`` if the same."""
        mine, theirs = self.order_state(), other.order_state()
        for name in ("bids", "asks"):
            for index, (a, b) in enumerate(zip(mine[name], theirs[name], strict=False)):
                if a != b:
                    return f"{name} level {index}: {a} != {b}"
            if len(mine[name]) != len(theirs[name]):
                return f"{name}: {len(mine[name])} levels != {len(theirs[name])} levels"
        if self.snapshot() != other.snapshot():
            return f"level totals: {self.snapshot()} != {other.snapshot()}"
        return None

    def check_invariants(self) -> None:
        """Raise ``AssertionError`` if the structure is inconsistent (for tests and debugging)."""
        seen = 0
        level: PriceLevel  # SortedDict is untyped
        for side, levels in ((BUY, self.bids), (-BUY, self.asks)):
            for price, level in levels.items():
                assert level.head is not None, f"empty level {price}"
                assert level.price_ticks == price
                total = 0
                prev: Order | None = None
                for order in level:
                    assert order.side == side and order.price_ticks == price
                    assert order.prev_order is prev
                    assert 0 < order.remaining_lots <= order.size_lots
                    assert self.orders.get(order.order_id) is order
                    assert self.by_account[order.account_id][order.order_id] is order
                    total += order.remaining_lots
                    prev = order
                    seen += 1
                assert level.tail is prev
                assert level.total_lots == total, f"level {price}: {level.total_lots} != {total}"
        assert seen == len(self.orders)
        assert seen == sum(len(v) for v in self.by_account.values())
        assert self.best_bid_ticks == (self.bids.keys()[-1] if self.bids else None)
        assert self.best_ask_ticks == (self.asks.keys()[0] if self.asks else None)
        best_bid, best_ask = self.best_bid_ticks, self.best_ask_ticks
        if best_bid is not None and best_ask is not None:
            assert best_bid < best_ask, f"crossed book: bid {best_bid} >= ask {best_ask}"
