"""The matching engine: price-time priority over one :class:`~exchange_sim.matching.book.Book`.

Pure core (no simpy): the gateway calls :meth:`MatchingEngine.submit`, :meth:`cancel`,
:meth:`amend` and :meth:`cancel_all` with the current time and the seq of the causing event; the
engine emits events through ``log.emit_record`` and returns their seqs. Prices are ticks, sizes
lots.

Rules
-----
* **Priority**: a better price fills first; at one price, the earlier arrival fills first. Every
  trade prints at the maker's (resting) price.
* **Order types**: a GTC limit order trades what crosses and rests the remainder. IOC and market
  orders trade what they can and the remainder expires. FOK first counts what it could fill
  (same limit, band and self-trade rules) and either fills completely or expires without a fill.
  Post-only orders that would cross on arrival are rejected.
* **Price band** (Binance market-order price protection, exchange_mechanics.md §7): with
  ``price_band_ppb > 0`` and a reference price (``engine.reference_price()``, the mark price once
  wired), market, IOC and FOK orders do not trade beyond ``reference * (1 +/- band)``. The buy
  limit rounds DOWN and the sell limit rounds UP (:func:`div_round`): the tighter, protective
  side. The remainder expires with reason ``price_band``. GTC limits are not cut by the band: a
  resting order's own price is the trader's explicit protection (Binance instead bounds GTC prices
  with a separate limit-price filter, which this engine does not model).
* **Self-trade prevention** (``config.stp``): when the taker would fill against a maker of the same
  account, ``cancel_newest`` cancels the taker's remainder, ``cancel_oldest`` cancels the maker and
  continues, ``cancel_both`` cancels both, ``none`` lets the trade print.
* **Amend** (:mod:`exchange_sim.matching.amend`): a size decrease at the same price keeps queue
  priority. A price change or size increase loses it: the order is re-queued at the back of its
  (new) level after trading like an arriving GTC limit order if it now crosses.
* **Causes**: the command's ``cause`` causes its first event (accept/reject/amend/cancel); the
  accept (or amend) causes every trade, STP cancel and expiry of that order.

Hooks (attributes, ``None``/empty by default, called synchronously; they must not call back into
the engine, which raises :class:`SimulationError` on re-entry):

* ``reference_price() -> int | None`` (ticks): the band reference; ``None`` disables the band.
* ``reduce_only_capacity(order) -> int``: lots a resting reduce-only order may still fill (the
  position it closes); at a fill the order is capped to it, or cancelled (reason
  ``reduce_only``) when it is 0.
* ``pre_trade_check(now, order) -> str | None``: a string rejects the order with that reason. Also
  called on an amend that loses priority, with a copy of the order carrying the new price/size.
* ``trade_listeners``: ``listener(now, trade_seq, maker, taker, price_ticks, size_lots)`` after
  each ``trade`` event, with both orders' ``remaining_lots`` already updated.
* ``order_listeners``: ``listener(now, seq, order, status)`` for every outcome: ``accepted``,
  ``rejected``, ``cancelled``, ``expired``, ``amended``, ``filled`` (seq = the filling trade),
  ``rested`` (the order's remainder joined the book after matching; seq = its accept or amend:
  no event of its own, but the book, and so the touch, may have changed),
  ``cancel_rejected`` and ``amend_rejected`` (``order`` is ``None`` when the order is unknown or
  belongs to another account; the caller has the seq returned by the command). After a cancel or
  expiry the order's ``remaining_lots`` holds the lots cancelled or expired.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from exchange_sim.core.errors import SimulationError
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.matching.amend import AmendCommands
from exchange_sim.matching.book import Book
from exchange_sim.matching.config import (
    STP_CANCEL_BOTH,
    STP_CANCEL_OLDEST,
    STP_NONE,
    MatchingConfig,
)
from exchange_sim.matching.orders import (
    BUY,
    FOK,
    GTC,
    TIME_IN_FORCE,
    Order,
)


class MatchingEngine(AmendCommands):
    """Price-time priority matching for one instrument (see the module docstring)."""

    __slots__ = (
        "_band_ppb",
        "_busy",
        "_emit_record",
        "_max_lots",
        "_max_price",
        "_min_price",
        "_next_trade_id",
        "_stp",
        "book",
        "config",
        "halted",
        "log",
        "market",
        "order_listeners",
        "pre_trade_check",
        "reduce_only_capacity",
        "reference_price",
        "trade_listeners",
    )

    def __init__(
        self,
        log,
        config: MatchingConfig,
        ids_next_trade: Callable[[], int] | None = None,
        market: str = "",
    ) -> None:
        self.log = log
        self.market = market
        """The market's name, written into every event of this engine (``market``)."""
        self._emit_record = log.emit_record
        self.config = config
        self.book = Book()
        self.reference_price: Callable[[], int | None] | None = None
        self.pre_trade_check: Callable[[int, Order], str | None] | None = None
        self.reduce_only_capacity: Callable[[Order], int] | None = None
        self.trade_listeners: list[Callable] = []
        self.order_listeners: list[Callable] = []
        self._next_trade_id = ids_next_trade or itertools.count(1).__next__
        self._min_price = config.min_price_ticks
        self._max_price = config.max_price_ticks
        self._max_lots = config.max_order_lots
        self._stp = config.stp
        self._band_ppb = config.price_band_ppb
        self._busy = False
        self.halted = False
        """While true, new orders and amends are rejected (``trading_halted``); cancels work."""

    # ------------------------------------------------------------------ commands
    def submit(self, now: int, order: Order, cause: int | None) -> int:
        """Validate, accept and match a new order; return the seq of its accepted/rejected event."""
        if self._busy:
            raise SimulationError("matching engine re-entered from a listener or hook")
        self._busy = True
        try:
            order.ts_recv = now
            size = order.size_lots
            price = order.price_ticks
            side = order.side
            if (
                type(size) is int
                and type(price) is int
                and 0 < size <= self._max_lots
                and self._min_price <= price <= self._max_price
                and (side == 1 or side == -1)
                and not order.post_only
                and order.tif in TIME_IN_FORCE
                and order.order_id not in self.book.orders
                and not self.halted
            ):
                reason = None  # every check of _new_order_problem passes (the common case)
            else:
                reason = "trading_halted" if self.halted else self._new_order_problem(order)
            if reason is None and self.pre_trade_check is not None:
                reason = self.pre_trade_check(now, order)
            if reason is not None:
                price, size = order.price_ticks, order.size_lots
                seq = self._emit_record(
                    {
                        "seq": 0,
                        "ts": now,
                        "type": "order_rejected",
                        "cause": cause,
                        "market": self.market,
                        "order_id": order.order_id,
                        "account_id": order.account_id,
                        "side": order.side,
                        "price_ticks": price if type(price) is int else None,
                        "size_lots": size if type(size) is int else None,
                        "tif": order.tif,
                        "post_only": order.post_only,
                        "reduce_only": order.reduce_only,
                        "tag": order.tag,
                        "ts_sent": order.ts_sent,
                        "reason": reason,
                    }
                )
                order.reject_reason = reason
                self._notify(now, seq, order, "rejected")
                return seq
            order.remaining_lots = order.size_lots
            seq = self._emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "order_accepted",
                    "cause": cause,
                    "market": self.market,
                    "order_id": order.order_id,
                    "account_id": order.account_id,
                    "side": order.side,
                    "price_ticks": order.price_ticks,
                    "size_lots": order.size_lots,
                    "tif": order.tif,
                    "post_only": order.post_only,
                    "reduce_only": order.reduce_only,
                    "tag": order.tag,
                    "ts_sent": order.ts_sent,
                }
            )
            if self.order_listeners:
                for listener in self.order_listeners:
                    listener(now, seq, order, "accepted")
            price = order.price_ticks
            if price is not None and order.tif == GTC:
                # Fast path of the common passive GTC limit order (what _execute would do: the
                # band never cuts a GTC limit, and nothing crosses, so nothing matches): rest it.
                book = self.book
                if order.side == BUY:
                    best = book.best_ask_ticks
                    crosses = best is not None and best <= price
                else:
                    best = book.best_bid_ticks
                    crosses = best is not None and best >= price
                if not crosses:
                    book.add(order)
                    if self.order_listeners:
                        self._notify(now, seq, order, "rested")
                    return seq
            self._execute(now, order, seq)
            return seq
        finally:
            self._busy = False

    def cancel(self, now: int, account_id: int, order_id: int, cause: int | None) -> int:
        """Cancel a resting order of ``account_id``; return the seq of the outcome event."""
        if self._busy:
            raise SimulationError("matching engine re-entered from a listener or hook")
        self._busy = True
        try:
            order = self.book.orders.get(order_id)
            if order is None or order.account_id != account_id:
                reason = "unknown_order" if order is None else "not_owner"
                seq = self._emit_record(
                    {
                        "seq": 0,
                        "ts": now,
                        "type": "cancel_rejected",
                        "cause": cause,
                        "market": self.market,
                        "order_id": order_id,
                        "account_id": account_id,
                        "reason": reason,
                    }
                )
                self._notify(now, seq, None, "cancel_rejected")
                return seq
            self.book.remove(order)  # (_cancel_resting written out: cancels are a quarter of ops)
            seq = self._emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "order_cancelled",
                    "cause": cause,
                    "market": self.market,
                    "order_id": order.order_id,
                    "account_id": order.account_id,
                    "side": order.side,
                    "price_ticks": order.price_ticks,
                    "remaining_lots": order.remaining_lots,
                    "reason": "user",
                }
            )
            if self.order_listeners:
                self._notify(now, seq, order, "cancelled")
            return seq
        finally:
            self._busy = False

    def cancel_all(
        self, now: int, account_id: int, cause: int | None, reason: str = "cancel_all"
    ) -> list[int]:
        """Cancel every resting order of ``account_id``, oldest first; return their event seqs."""
        if self._busy:
            raise SimulationError("matching engine re-entered from a listener or hook")
        self._busy = True
        try:
            orders = self.book.by_account.get(account_id)
            if not orders:
                return []
            return [
                self._cancel_resting(now, order, reason, cause) for order in list(orders.values())
            ]
        finally:
            self._busy = False

    @property
    def price_band_ppb(self) -> int:
        """The price band in force (0: none)."""
        return self._band_ppb

    def set_price_band(self, band_ppb: int) -> None:
        """A new price band from now on (0 turns it off)."""
        self._band_ppb = band_ppb

    # ------------------------------------------------------------------ internals
    def _new_order_problem(self, order: Order) -> str | None:
        size = order.size_lots
        if type(size) is not int:
            return "size_not_whole_lots"
        if size <= 0 or size > self._max_lots:
            return "size_out_of_range"
        side = order.side
        if side != 1 and side != -1:
            return "invalid_side"
        if order.tif not in TIME_IN_FORCE:
            return "invalid_tif"
        price = order.price_ticks
        if price is None:
            if order.post_only:
                return "post_only_market"
        else:
            if type(price) is not int:
                return "price_not_whole_ticks"
            if price < self._min_price or price > self._max_price:
                return "price_out_of_range"
            if order.post_only and self._crosses(side, price):
                return "post_only_would_cross"
        if order.order_id in self.book.orders:
            return "duplicate_order_id"
        return None

    def _crosses(self, side: int, price: int) -> bool:
        """Would a limit order of ``side`` at ``price`` trade on arrival (ignoring STP)?"""
        if side == BUY:
            best = self.book.best_ask_ticks
            return best is not None and best <= price
        best = self.book.best_bid_ticks
        return best is not None and best >= price

    def _execute(self, now: int, taker: Order, cause: int) -> None:
        """Match an accepted order, then rest, expire or finish it."""
        side = taker.side
        price = taker.price_ticks
        tif = taker.tif
        limit = price
        band_binds = False
        if self._band_ppb and (price is None or tif != GTC) and self.reference_price is not None:
            reference = self.reference_price()
            if reference is not None:
                if side == BUY:
                    band = div_round(reference * (RATE_SCALE + self._band_ppb), RATE_SCALE, DOWN)
                    band_binds = price is None or band < price
                else:
                    band = div_round(reference * (RATE_SCALE - self._band_ppb), RATE_SCALE, UP)
                    band_binds = price is None or band > price
                if band_binds:
                    limit = band
        need = taker.remaining_lots
        if tif == FOK and self.book.fillable_lots(taker, limit, self._stp) < need:
            self._end_taker(now, taker, cause, "order_expired", "fok_unfillable", "expired")
            return
        if self._match(now, taker, limit, cause) or taker.remaining_lots == 0:
            return
        if price is not None and tif == GTC:
            self.book.add(taker)
            self._notify(now, cause, taker, "rested")
            return
        if tif == FOK:
            raise SimulationError(f"FOK order {taker.order_id} passed its check but did not fill")
        best = self.book.best_ask_ticks if side == BUY else self.book.best_bid_ticks
        if best is None:
            reason = "no_liquidity" if price is None else "ioc_remainder"
        elif band_binds and (price is None or (best <= price if side == BUY else best >= price)):
            reason = "price_band"
        else:
            reason = "ioc_remainder"
        self._end_taker(now, taker, cause, "order_expired", reason, "expired")

    def _match(self, now: int, taker: Order, limit: int | None, cause: int) -> bool:
        """Fill ``taker`` against the opposite side up to ``limit`` (``None`` = no limit).

        Returns True when self-trade prevention ended the taker (its remainder was cancelled).
        """
        book = self.book
        is_buy = taker.side == BUY
        price = book.best_ask_ticks if is_buy else book.best_bid_ticks
        if price is None or (limit is not None and (price > limit if is_buy else price < limit)):
            return False  # nothing crosses: the common case of a passive limit order
        remaining = taker.remaining_lots
        levels = book.asks if is_buy else book.bids
        maker_side = -taker.side
        emit_record = self._emit_record
        market = self.market
        next_trade_id = self._next_trade_id
        trade_listeners = self.trade_listeners
        order_listeners = self.order_listeners
        book_orders = book.orders
        by_account = book.by_account
        stp_on = self._stp != STP_NONE
        taker_id = taker.order_id
        taker_account = taker.account_id
        taker_side = taker.side
        taker_tag = taker.tag
        seq = cause
        while True:
            level = levels[price]
            maker = level.head
            while maker is not None:
                nxt = maker.next_order
                if stp_on and maker.account_id == taker_account:
                    if self._stp == STP_CANCEL_OLDEST:
                        self._cancel_resting(now, maker, "self_trade", cause)
                        maker = nxt
                        continue
                    if self._stp == STP_CANCEL_BOTH:
                        self._cancel_resting(now, maker, "self_trade", cause)
                    self._end_taker(now, taker, cause, "order_cancelled", "self_trade", "cancelled")
                    return True
                size = maker.remaining_lots
                if maker.reduce_only and self.reduce_only_capacity is not None:
                    # A resting reduce-only order may only close what the position still holds
                    # (it may have shrunk since the order was accepted): cap it, or cancel it.
                    capacity = self.reduce_only_capacity(maker)
                    if capacity <= 0:
                        self._cancel_resting(now, maker, "reduce_only", cause)
                        maker = nxt
                        continue
                    if size > capacity:
                        size = capacity
                if size > remaining:
                    size = remaining
                maker_id = maker.order_id
                seq = emit_record(
                    {
                        "seq": 0,
                        "ts": now,
                        "type": "trade",
                        "cause": cause,
                        "market": market,
                        "trade_id": next_trade_id(),
                        "maker_order_id": maker_id,
                        "taker_order_id": taker_id,
                        "maker_account_id": maker.account_id,
                        "taker_account_id": taker_account,
                        "price_ticks": price,
                        "size_lots": size,
                        "aggressor_side": taker_side,
                        "maker_tag": maker.tag,
                        "taker_tag": taker_tag,
                    }
                )
                remaining -= size
                taker.remaining_lots = remaining
                maker_left = maker.remaining_lots - size
                maker.remaining_lots = maker_left
                level.total_lots -= size
                if maker_left == 0:  # the maker is the level's head: unlink it
                    level.head = nxt
                    if nxt is None:
                        level.tail = None
                    else:
                        nxt.prev_order = None
                    maker.next_order = None
                    del book_orders[maker_id]
                    del by_account[maker.account_id][maker_id]
                for listener in trade_listeners:
                    listener(now, seq, maker, taker, price, size)
                if maker_left == 0:
                    for listener in order_listeners:
                        listener(now, seq, maker, "filled")
                elif (
                    maker.reduce_only
                    and self.reduce_only_capacity is not None
                    and self.reduce_only_capacity(maker) <= 0
                ):  # the position it reduced is gone: its remainder can only open one
                    self._cancel_resting(now, maker, "reduce_only", seq)
                if not remaining:
                    break
                maker = nxt
            if level.head is None and price in levels:  # (an STP cancel may have dropped it)
                book.drop_level(maker_side, price)
            if not remaining:
                for listener in order_listeners:
                    listener(now, seq, taker, "filled")
                return False
            price = book.best_ask_ticks if is_buy else book.best_bid_ticks
            if price is None or (
                limit is not None and (price > limit if is_buy else price < limit)
            ):
                return False

    def _cancel_resting(self, now: int, order: Order, reason: str, cause: int | None) -> int:
        self.book.remove(order)
        return self._end_taker(now, order, cause, "order_cancelled", reason, "cancelled")

    def _end_taker(
        self, now: int, order: Order, cause: int | None, event: str, reason: str, status: str
    ) -> int:
        """Emit the terminal cancel/expire event of an order that is not (or no longer) resting."""
        seq = self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": event,
                "cause": cause,
                "market": self.market,
                "order_id": order.order_id,
                "account_id": order.account_id,
                "side": order.side,
                "price_ticks": order.price_ticks,
                "remaining_lots": order.remaining_lots,
                "reason": reason,
            }
        )
        self._notify(now, seq, order, status)
        return seq

    def _notify(self, now: int, seq: int, order: Order | None, status: str) -> None:
        for listener in self.order_listeners:
            listener(now, seq, order, status)
