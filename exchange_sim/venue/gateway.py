"""The gateway: participants' commands travel to the venue and reports back, with latency.

A participant's command leaves at ``now``, draws its link's **request** latency and reaches the
venue in the ``MATCH`` phase of its arrival instant: orders, cancels and amends go to the matching
engine, deposits and withdrawals to the ledger (a deposit changes the account when it *arrives*,
never when it is sent). The venue handles commands strictly in arrival order (same-instant
arrivals in the order they were sent). Each account's session is FIFO like the TCP session it
models: a command never overtakes an earlier command of the same account, so its arrival is
``max(now + latency, the account's previous arrival)``. Reports (order updates, fills, transfer
outcomes, position transfers) travel back on the **response** leg and reach the participant in the
``AGENT`` phase; margin calls travel with the risk monitor's notify latency instead. A report the
participant has no handler for is not scheduled (nothing would run; its latency is still drawn),
except on a group's shared link, which schedules it to a no-op (as before the links were shared).

Commands and reports are the typed, immutable records of :mod:`exchange_sim.venue.messages`. A
participant implements any of ``on_order_update(now, seq, OrderUpdate)``, ``on_fill(now, seq,
Fill)``, ``on_transfer``, ``on_margin_call`` and ``on_position_transfer`` (same shape);
``seq`` is the log event the report is about, so a participant's reaction can name it as cause.
A group of accounts (:meth:`Gateway.connect_group`) shares one link and takes its reports with
the account id: ``on_fill(now, account_id, seq, Fill)`` and so on.
"""

from __future__ import annotations

from typing import Protocol

from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import LatencySampler
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import Order
from exchange_sim.venue.messages import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Deposit,
    Fill,
    MarginCallNotice,
    OrderUpdate,
    PositionTransfer,
    SubmitOrder,
    TransferUpdate,
    Withdraw,
)

MATCH = int(Phase.MATCH)
AGENT = int(Phase.AGENT)


class Participant(Protocol):
    """What the gateway delivers to; every method runs in the AGENT phase of its delivery.

    Every handler is optional: a report whose handler the participant lacks is not scheduled at
    all; a group's shared link schedules it to a no-op. (Its response latency is still drawn, so a
    link's latency sequence does not depend on
    which handlers its participant has)."""

    account_id: int

    def on_order_update(self, now: int, seq: int, update: OrderUpdate) -> None: ...

    def on_fill(self, now: int, seq: int, fill: Fill) -> None: ...


def _no_handler(now: int, account_id: int, seq: int, report) -> None:
    """A group's report of a type it has no handler for: delivered, read by nobody."""


class Link:
    """A session: latency samplers for both legs, the FIFO arrival horizon of each account on
    it and the report handlers (``None`` where there are none, or no responses are wanted;
    margin calls arrive either way if there is a handler).

    A participant's own link (:meth:`Gateway.connect`) serves its one account; its handlers
    are the participant's methods ``(now, seq, report)``. A group's link
    (:meth:`Gateway.connect_group`) is shared by all the group's accounts: each keeps only its
    horizon, a slot in ``horizons`` (index ``account_id - first``), and the handlers are the
    group's ``(now, account_id, seq, report)``. ``deliver`` is the gateway's delivery for the
    kind, so a report costs the same either way."""

    __slots__ = (
        "deliver",
        "draws_unheard",
        "first",
        "horizons",
        "on_fill",
        "on_margin_call",
        "on_order_update",
        "on_position_transfer",
        "on_transfer",
        "participant",
        "request",
        "request_ns",
        "response",
        "wants_responses",
    )

    def __init__(
        self,
        participant,
        request: LatencySampler,
        response: LatencySampler,
        wants_responses: bool,
        deliver,
        first: int,
        accounts: int = 1,
    ) -> None:
        self.participant = participant
        self.request = request
        # A constant leg's latency, read without a draw call (a constant draw takes no RNG).
        self.request_ns = request.draw() if request is not None and request.is_constant else None
        self.response = response
        self.wants_responses = wants_responses
        self.deliver = deliver
        self.first = first
        self.horizons = [0] * accounts  # the last arrival of each account's commands, ns
        # A report without a handler still draws its response latency (when the draw is random),
        # so the link's later draws are the same whichever handlers the participant has.
        self.draws_unheard = wants_responses and not response.is_constant
        self.on_order_update = self.on_fill = self.on_transfer = None
        self.on_position_transfer = self.on_margin_call = None


class Gateway:
    """Connects participants to one venue (matching engine and ledger) through latency links."""

    __slots__ = (
        "_arrive_call",
        "_call_at",
        "_deliver_call",
        "_deliver_member_call",
        "_env",
        "_handling_account",
        "_handling_command",
        "_links",
        "commands_handled",
        "engine",
        "ledger",
    )

    def __init__(self, env: PhasedEnvironment, engine: MatchingEngine, ledger) -> None:
        self._env = env
        self._call_at = env.call_at
        self._arrive_call = self._arrive  # bound once, not per message
        self._deliver_call = self._deliver
        self._deliver_member_call = self._deliver_member
        self.engine = engine
        self.ledger = ledger
        self._links: dict[int, Link] = {}
        self.commands_handled = 0
        self._handling_account = 0
        self._handling_command: SubmitOrder | CancelOrder | AmendOrder | CancelAll | None = None

    def connect(
        self,
        participant,
        request: LatencySampler,
        response: LatencySampler,
        wants_responses: bool = True,
    ) -> Link:
        """Connect one participant's account (``participant.account_id``) over its own link."""
        account_id = participant.account_id
        if account_id in self._links:
            raise ValueError(f"account {account_id} is already connected")
        link = Link(participant, request, response, wants_responses, self._deliver_call, account_id)

        def handler(name: str):
            return getattr(participant, name, None) if wants_responses else None

        link.on_order_update = handler("on_order_update")
        link.on_fill = handler("on_fill")
        link.on_transfer = handler("on_transfer")
        link.on_position_transfer = handler("on_position_transfer")
        link.on_margin_call = getattr(participant, "on_margin_call", None)
        self._links[account_id] = link
        return link

    def connect_group(
        self, group, accounts: list[int], request: LatencySampler, response: LatencySampler
    ) -> Link:
        """Connect a group's ``accounts`` over one shared link (each with its own FIFO horizon):
        order updates, fills, position transfers and margin calls go to the group's handler of
        that name with the account id; a type it has no handler for is still delivered (to
        nobody), transfer outcomes are not."""
        for account_id in accounts:
            if account_id in self._links:
                raise ValueError(f"account {account_id} is already connected")
        first = min(accounts, default=0)
        span = max(accounts, default=-1) - first + 1
        link = Link(group, request, response, True, self._deliver_member_call, first, span)

        def handler(name: str):
            return getattr(group, name, None) or _no_handler

        link.on_order_update = handler("on_order_update")
        link.on_fill = handler("on_fill")
        link.on_position_transfer = handler("on_position_transfer")
        link.on_margin_call = handler("on_margin_call")
        for account_id in accounts:
            self._links[account_id] = link
        return link

    # -- participant -> venue ------------------------------------------------------------------
    def send(self, account_id: int, command, cause: int | None) -> int:
        """Send a command now; return its arrival time at the venue (ns)."""
        link = self._links[account_id]
        now = self._env._now
        latency = link.request_ns
        arrival = now + (latency if latency is not None else link.request.draw())
        horizons = link.horizons
        at = account_id - link.first
        last = horizons[at]
        if arrival < last:
            arrival = last
        horizons[at] = arrival
        self._call_at(arrival - now, MATCH, self._arrive_call, (account_id, command, cause, now))
        return arrival

    def _arrive(self, payload) -> None:
        """A link's delivery: :meth:`arrive` with the payload :meth:`send` scheduled."""
        self.arrive(*payload)

    def arrive(self, account_id: int, command, cause: int | None, ts_sent: int) -> None:
        """Handle a command reaching the venue now (MATCH phase), sent at ``ts_sent``: what a
        link delivers, and what a re-drive feeds in at a recorded arrival time."""
        engine = self.engine
        now = self._env._now
        self.commands_handled += 1
        self._handling_account = account_id
        self._handling_command = command
        kind = type(command)
        if kind is SubmitOrder:
            order = Order(
                command.order_id,
                account_id,
                command.side,
                command.price_ticks,
                command.size_lots,
                tif=command.tif,
                post_only=command.post_only,
                reduce_only=command.reduce_only,
                tag=command.tag,
                ts_sent=ts_sent,
            )
            engine.submit(now, order, cause)
        elif kind is CancelOrder:
            engine.cancel(now, account_id, command.order_id, cause)
        elif kind is AmendOrder:
            engine.amend(
                now, account_id, command.order_id, command.price_ticks, command.size_lots, cause
            )
        elif kind is CancelAll:
            engine.cancel_all(now, account_id, cause)
        elif kind is Deposit:
            seq, reason = self.ledger.deposit(
                now, account_id, command.amount, cause, ts_sent, command.purpose, command.asset
            )
            self._report_transfer(account_id, seq, "deposit", command.amount, reason)
        elif kind is Withdraw:
            seq, reason = self.ledger.withdraw(now, account_id, command.amount, cause, ts_sent)
            self._report_transfer(account_id, seq, "withdrawal", command.amount, reason)
        else:
            raise TypeError(f"not a venue command: {command!r}")

    def _report_transfer(
        self, account_id: int, seq: int, kind: str, amount: int, reason: str | None
    ) -> None:
        link = self._links[account_id]
        handler = link.on_transfer
        if handler is None:
            if link.draws_unheard:  # take its latency draw, schedule nothing
                link.response.draw()
            return
        update = TransferUpdate(kind, amount, reason is None, reason or "")
        payload = (handler, account_id, seq, update)
        self._call_at(link.response.draw(), AGENT, link.deliver, payload)

    # -- venue -> participant ------------------------------------------------------------------
    def on_order_event(self, now: int, seq: int, order: Order | None, status: str) -> None:
        """Engine listener: report an order outcome to the order's owner (``rested`` is the
        book's business, not a report)."""
        if status == "rested":
            return
        if order is None:
            # A rejected cancel/amend of an unknown (or not owned) order: answer the sender of
            # the command being handled, about the order id it named.
            account_id = self._handling_account
            link = self._links.get(account_id)
            if link is None:
                return
            handler = link.on_order_update
            if handler is None:
                if link.draws_unheard:  # take its latency draw, schedule nothing
                    link.response.draw()
                return
            command = self._handling_command
            assert command is not None and not isinstance(command, CancelAll)  # named an order
            update = OrderUpdate(command.order_id, status, 0, None, 0, 0, "")
        else:
            account_id = order.account_id
            link = self._links.get(account_id)
            if link is None:
                return
            handler = link.on_order_update
            if handler is None:
                if link.draws_unheard:  # take its latency draw, schedule nothing
                    link.response.draw()
                return
            update = OrderUpdate(
                order.order_id,
                status,
                order.side,
                order.price_ticks,
                order.size_lots,
                order.remaining_lots,
                order.tag,
                order.reject_reason if status == "rejected" else "",
            )
        payload = (handler, account_id, seq, update)
        self._call_at(link.response.draw(), AGENT, link.deliver, payload)

    def on_trade(self, now: int, seq: int, maker: Order, taker: Order, price: int, size: int):
        """Engine listener: report the fill to both parties (maker first)."""
        links = self._links
        for order in (maker, taker):
            account_id = order.account_id
            link = links.get(account_id)
            if link is None:
                continue
            handler = link.on_fill
            if handler is None:
                if link.draws_unheard:  # take its latency draw, schedule nothing
                    link.response.draw()
                continue
            account = self.ledger.accounts.get(account_id)
            position = account.size_lots if account is not None else 0
            fill = Fill(
                order.order_id,
                order.side,
                price,
                size,
                order.remaining_lots,
                order.tag,
                position,
            )
            payload = (handler, account_id, seq, fill)
            self._call_at(link.response.draw(), AGENT, link.deliver, payload)

    def deliver_margin_call(
        self,
        account_id: int,
        seq: int,
        mark: int,
        equity: int,
        maintenance_margin: int,
        position_lots: int,
        delay_ns: int,
    ) -> None:
        """Risk monitor hook: the margin call reaches the trader ``delay_ns`` (the monitor's
        notify latency) after the check, in the AGENT phase."""
        link = self._links.get(account_id)
        if link is not None and link.on_margin_call is not None:
            notice = MarginCallNotice(mark, equity, maintenance_margin, position_lots)
            payload = (link.on_margin_call, account_id, seq, notice)
            self._call_at(delay_ns, AGENT, link.deliver, payload)

    def deliver_position_transfer(
        self, account_id: int, seq: int, reason: str, side: int, price: int, lots: int
    ) -> None:
        """Liquidation hook: tell the account's owner that the venue moved its position (ADL,
        takeover), over the response leg."""
        link = self._links.get(account_id)
        if link is None:
            return
        handler = link.on_position_transfer
        if handler is None:
            if link.draws_unheard:  # take its latency draw, schedule nothing
                link.response.draw()
            return
        transfer = PositionTransfer(reason, side, price, lots)
        payload = (handler, account_id, seq, transfer)
        self._call_at(link.response.draw(), AGENT, link.deliver, payload)

    def _deliver(self, payload) -> None:
        """A report to a participant's own link: ``handler(now, seq, report)``."""
        handler, _account_id, seq, report = payload
        handler(self._env._now, seq, report)

    def _deliver_member(self, payload) -> None:
        """A report to one account of a group: ``handler(now, account_id, seq, report)``."""
        handler, account_id, seq, report = payload
        handler(self._env._now, account_id, seq, report)
