"""Amend: change a resting order's price and/or size (a mixin of the matching engine).

Rule (see also :mod:`exchange_sim.matching.engine`): ``new_size_lots`` is the order's new *total*
size, filled lots included, and must exceed the filled lots. A size decrease at the same price
keeps queue priority. A price change or a size increase loses it: the order leaves the book, takes
its new price and size, passes ``pre_trade_check`` (called with a copy carrying the new values),
and is then processed like an arriving GTC limit order: it may trade as the taker (self-trade
prevention applies, the price band does not; those trades are caused by ``order_amended``), and its
remainder joins the back of its level. A post-only order amended to a crossing price is rejected
and left unchanged. Prices are ticks, sizes lots.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs

from exchange_sim.core.errors import SimulationError
from exchange_sim.matching.book import Book
from exchange_sim.matching.orders import Order, price_problem, size_problem


class _Engine(Protocol):
    """What :class:`AmendCommands` uses of the engine it is mixed into (``MatchingEngine``)."""

    market: str
    book: Book
    halted: bool
    pre_trade_check: Callable[[int, Order], str | None] | None
    _busy: bool
    _min_price: int
    _max_price: int
    _max_lots: int
    _emit_record: Callable[[dict], int]  # EventLog.emit_record(record) -> seq

    def _notify(self, now: int, seq: int, order: Order | None, status: str) -> None: ...

    def _crosses(self, side: int, price: int) -> bool: ...

    def _match(self, now: int, taker: Order, limit: int | None, cause: int) -> bool: ...

    def _amend(
        self,
        now: int,
        account_id: int,
        order_id: int,
        new_price_ticks: int | None,
        new_size_lots: int | None,
        cause: int | None,
    ) -> int: ...


class AmendCommands:
    """``MatchingEngine.amend`` (kept in its own module to keep the engine module short)."""

    __slots__ = ()

    def amend(
        self: _Engine,
        now: int,
        account_id: int,
        order_id: int,
        new_price_ticks: int | None,
        new_size_lots: int | None,
        cause: int | None,
    ) -> int:
        """Change a resting order's price and/or total size (``None`` = unchanged).

        Returns the seq of ``order_amended`` or ``amend_rejected``. Priority rules: see the module
        docstring.
        """
        if self._busy:
            raise SimulationError("matching engine re-entered from a listener or hook")
        self._busy = True
        try:
            return self._amend(now, account_id, order_id, new_price_ticks, new_size_lots, cause)
        finally:
            self._busy = False

    def _amend(
        self: _Engine,
        now: int,
        account_id: int,
        order_id: int,
        new_price_ticks: int | None,
        new_size_lots: int | None,
        cause: int | None,
    ) -> int:
        order = self.book.orders.get(order_id)
        price = size = remaining = 0
        keep = False
        reason: str | None
        if self.halted:
            reason = "trading_halted"
        elif order is None:
            reason = "unknown_order"
        elif order.account_id != account_id:
            reason = "not_owner"
        else:
            if new_price_ticks is None:
                assert order.price_ticks is not None  # a resting order is a limit order
                price = order.price_ticks
            else:
                price = new_price_ticks
            size = order.size_lots if new_size_lots is None else new_size_lots
            reason = price_problem(price, self._min_price, self._max_price) or size_problem(
                size, self._max_lots
            )
            if reason is None:
                remaining = size - (order.size_lots - order.remaining_lots)
                keep = price == order.price_ticks and size <= order.size_lots
                if remaining <= 0:
                    reason = "size_not_above_filled"
                elif not keep:
                    if order.post_only and self._crosses(order.side, price):
                        reason = "post_only_would_cross"
                    elif self.pre_trade_check is not None:
                        trial = attrs.evolve(
                            order, price_ticks=price, size_lots=size, remaining_lots=remaining
                        )
                        reason = self.pre_trade_check(now, trial)
        if reason is not None:
            seq = self._emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "amend_rejected",
                    "cause": cause,
                    "market": self.market,
                    "order_id": order_id,
                    "account_id": account_id,
                    "price_ticks": new_price_ticks if type(new_price_ticks) is int else None,
                    "size_lots": new_size_lots if type(new_size_lots) is int else None,
                    "reason": reason,
                }
            )
            owned = order is not None and order.account_id == account_id
            self._notify(now, seq, order if owned else None, "amend_rejected")
            return seq
        assert order is not None  # "unknown_order" was rejected above
        old_price, old_size = order.price_ticks, order.size_lots
        if keep:
            self.book.resize(order, size, remaining)
        else:
            self.book.remove(order)
            order.price_ticks, order.size_lots, order.remaining_lots = price, size, remaining
        seq = self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "order_amended",
                "cause": cause,
                "market": self.market,
                "order_id": order_id,
                "account_id": account_id,
                "side": order.side,
                "old_price_ticks": old_price,
                "old_size_lots": old_size,
                "price_ticks": price,
                "size_lots": size,
                "remaining_lots": remaining,
                "priority_kept": keep,
            }
        )
        self._notify(now, seq, order, "amended")
        if not keep and not self._match(now, order, price, seq) and order.remaining_lots:
            self.book.add(order)
            self._notify(now, seq, order, "rested")
        return seq
