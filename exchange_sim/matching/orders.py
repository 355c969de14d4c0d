"""The order model of the matching engine.

Units: prices are integer **ticks**, sizes integer **lots**, times integer **nanoseconds**.

* Side: :data:`BUY` = 1, :data:`SELL` = -1 (so ``side * size_lots`` is a signed position change).
* Kind: a *limit* order has ``price_ticks``; a *market* order has ``price_ticks is None``.
* Time in force: :data:`GTC` (rests until filled or cancelled), :data:`IOC` (fills what it can,
  the remainder expires), :data:`FOK` (fills completely at once or not at all). A market order is
  never left resting: with ``GTC`` or ``IOC`` its remainder expires; with ``FOK`` it is
  all-or-nothing.
* Flags: ``post_only`` (rejected if it would trade on arrival), ``reduce_only`` (carried only; the
  accounts layer enforces it through ``MatchingEngine.pre_trade_check``) and ``tag`` (a free
  string such as ``"liquidation"`` or ``"adl"`` copied into the order's events).
"""

from __future__ import annotations

import attrs

BUY = 1
"""A bid: buys the base asset."""
SELL = -1
"""An ask: sells the base asset."""
SIDES = (BUY, SELL)

LIMIT = "limit"
MARKET = "market"

GTC = "GTC"
"""Good till cancelled: the unfilled remainder rests on the book."""
IOC = "IOC"
"""Immediate or cancel: the unfilled remainder expires at once."""
FOK = "FOK"
"""Fill or kill: fills completely on arrival, or expires without any fill."""
TIME_IN_FORCE = (GTC, IOC, FOK)


_UNSET = object()


@attrs.define(slots=True, init=False)
class Order:
    """One order, mutated in place by the engine as it fills (no validators: construction is hot).

    ``remaining_lots`` defaults to ``size_lots``; the engine resets it to ``size_lots`` when it
    accepts the order. ``ts_recv`` is set by the engine to the ``now`` of :meth:`submit`.
    ``prev_order``/``next_order`` link the order into its price level's FIFO queue while it rests
    (owned by :class:`~exchange_sim.matching.book.Book`; excluded from ``repr`` and ``==``).

    attrs supplies ``repr``, ``==`` and ``attrs.evolve``; ``__init__`` is written out because one
    is built per command: it sets each slot once, with no default factory call and no lookup of
    field defaults (the attrs-generated one does both). Its signature is the attrs one.
    """

    order_id: int
    account_id: int
    side: int
    price_ticks: int | None
    size_lots: int
    remaining_lots: int = attrs.field(kw_only=True)
    tif: str = attrs.field(default=GTC, kw_only=True)
    post_only: bool = attrs.field(default=False, kw_only=True)
    reduce_only: bool = attrs.field(default=False, kw_only=True)
    tag: str = attrs.field(default="", kw_only=True)
    ts_sent: int = attrs.field(default=0, kw_only=True)
    ts_recv: int = attrs.field(default=0, kw_only=True)
    reject_reason: str = attrs.field(default="", init=False, repr=False, eq=False)
    """Why the engine rejected it (the ``order_rejected`` reason), for the owner's report."""
    prev_order: Order | None = attrs.field(default=None, init=False, repr=False, eq=False)
    next_order: Order | None = attrs.field(default=None, init=False, repr=False, eq=False)

    def __init__(
        self,
        order_id: int,
        account_id: int,
        side: int,
        price_ticks: int | None,
        size_lots: int,
        *,
        remaining_lots: int = _UNSET,  # type: ignore[assignment]
        tif: str = GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        tag: str = "",
        ts_sent: int = 0,
        ts_recv: int = 0,
    ) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.side = side
        self.price_ticks = price_ticks
        self.size_lots = size_lots
        self.remaining_lots = size_lots if remaining_lots is _UNSET else remaining_lots
        self.tif = tif
        self.post_only = post_only
        self.reduce_only = reduce_only
        self.tag = tag
        self.ts_sent = ts_sent
        self.ts_recv = ts_recv
        self.reject_reason = ""
        self.prev_order = None
        self.next_order = None

    @property
    def kind(self) -> str:
        """:data:`MARKET` when the order has no limit price, else :data:`LIMIT`."""
        return MARKET if self.price_ticks is None else LIMIT

    @property
    def filled_lots(self) -> int:
        return self.size_lots - self.remaining_lots


def price_problem(price_ticks: object, min_price_ticks: int, max_price_ticks: int) -> str | None:
    """Why a limit price is invalid (a reason string), or ``None`` when it is a valid tick count."""
    if type(price_ticks) is not int:
        return "price_not_whole_ticks"
    if price_ticks < min_price_ticks or price_ticks > max_price_ticks:
        return "price_out_of_range"
    return None


def size_problem(size_lots: object, max_order_lots: int) -> str | None:
    """Why an order size is invalid (a reason string), or ``None`` when it is a valid lot count."""
    if type(size_lots) is not int:
        return "size_not_whole_lots"
    if size_lots <= 0 or size_lots > max_order_lots:
        return "size_out_of_range"
    return None
