"""The messages between participants and the venue: typed, immutable records.

**Commands** (participant -> venue) travel over the participant's gateway link with its request
latency; **reports** (venue -> participant) travel back over the response leg (margin calls over
the risk monitor's notify latency). Every message is a :class:`typing.NamedTuple`: immutable,
typed, and cheap to build on the hot path (about half the cost of a frozen attrs class). The venue
never mutates what a participant sent: an order command becomes the venue's own
:class:`~exchange_sim.matching.orders.Order` on arrival, and the participant hears about it only
through reports.

Units: prices in ticks, sizes in lots, money in minor units of the settlement asset, times in ns.
"""

from __future__ import annotations

from typing import NamedTuple

from exchange_sim.matching.orders import GTC

# -- commands -------------------------------------------------------------------------------------


class SubmitOrder(NamedTuple):
    """A new order. ``price_ticks`` ``None`` is a market order; ``order_id`` is the participant's
    own (unique per run: participants draw ids from the run's order counter)."""

    order_id: int
    side: int
    price_ticks: int | None
    size_lots: int
    tif: str = GTC
    post_only: bool = False
    reduce_only: bool = False
    tag: str = ""


class CancelOrder(NamedTuple):
    """Cancel one resting order of the sender's account."""

    order_id: int


class AmendOrder(NamedTuple):
    """Change a resting order's price and/or total size (``None`` = unchanged)."""

    order_id: int
    price_ticks: int | None
    size_lots: int | None


class CancelAll(NamedTuple):
    """Cancel every resting order of the sender's account."""


class Deposit(NamedTuple):
    """Money into the account (minor units). ``purpose``: ``deposit`` (funding an account) or
    ``top_up`` (adding margin, e.g. after a margin call); it only labels the ``deposit`` event.
    ``asset``: ``""`` for the settlement (quote) asset; ``"base"`` puts base inventory (lots)
    into a spot account (the perpetual refuses it)."""

    amount: int
    purpose: str = "deposit"
    asset: str = ""


class Withdraw(NamedTuple):
    """Money out of the account's wallet (minor units), if what stays covers initial margin."""

    amount: int


Command = SubmitOrder | CancelOrder | AmendOrder | CancelAll | Deposit | Withdraw

# -- reports --------------------------------------------------------------------------------------


class OrderUpdate(NamedTuple):
    """The outcome of an order command: ``status`` is ``accepted``, ``rejected``, ``cancelled``,
    ``expired``, ``amended``, ``filled``, ``cancel_rejected`` or ``amend_rejected``.
    ``remaining_lots`` is what is still open (after ``cancelled`` / ``expired``: the lots
    cancelled or expired); ``size_lots`` the order's total size; ``reason`` why a new order was
    ``rejected`` (the ``order_rejected`` event's reason; empty otherwise)."""

    order_id: int
    status: str
    side: int
    price_ticks: int | None
    size_lots: int
    remaining_lots: int
    tag: str
    reason: str = ""


class Fill(NamedTuple):
    """One fill of one of the account's orders (also the venue's own orders on the account:
    liquidation orders carry ``tag = "liquidation"``). ``remaining_lots`` is left open after it;
    ``position_lots`` is the account's signed position once the fill is applied (the ledger hears
    of a trade before the gateway reports it)."""

    order_id: int
    side: int
    price_ticks: int
    size_lots: int
    remaining_lots: int
    tag: str
    position_lots: int


class TransferUpdate(NamedTuple):
    """The outcome of a :class:`Deposit` or :class:`Withdraw`: ``kind`` is ``deposit`` or
    ``withdrawal``; ``accepted`` false with a ``reason`` when refused."""

    kind: str
    amount: int
    accepted: bool
    reason: str


class MarginCallNotice(NamedTuple):
    """The venue's margin call: the account's state at the check (position signed, in lots)."""

    mark_price_ticks: int
    equity: int
    maintenance_margin: int
    position_lots: int


class PositionTransfer(NamedTuple):
    """The venue moved part of the account's position without a trade of the account's own:
    ``reason`` ``adl`` (auto-deleveraged against a bankrupt position) or ``takeover``. ``side``
    is the side the account traded (+1 bought, -1 sold)."""

    reason: str
    side: int
    price_ticks: int
    size_lots: int
