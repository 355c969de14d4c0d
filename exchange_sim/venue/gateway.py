"""The gateway: participants' commands travel to the venue and reports back, with latency.

A participant's command leaves at ``now``, draws its link's **request** latency and reaches the
venue in the ``MATCH`` phase of its arrival instant: orders, cancels and amends go to the matching
engine, deposits and withdrawals to the ledger (a deposit changes the account when it *arrives*,
never when it is sent). The venue handles commands strictly in arrival order (same-instant
arrivals in the order they were sent). Each link is FIFO like the TCP session it models: a command
never overtakes an earlier command of the same participant, so its arrival is
``max(now + latency, previous arrival on the link)``. Reports (order updates, fills, transfer
outcomes, position transfers) travel back on the **response** leg and reach the participant in the
``AGENT`` phase; margin calls travel with the risk monitor's notify latency instead.

Commands and reports are the typed, immutable records of :mod:`exchange_sim.venue.messages`. A
participant implements ``on_order_update(now, seq, OrderUpdate)`` and ``on_fill(now, seq, Fill)``,
and optionally ``on_transfer``, ``on_margin_call`` and ``on_position_transfer`` (same shape);
``seq`` is the log event the report is about, so a participant's reaction can name it as cause.
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


class Participant(Protocol):
    """What the gateway delivers to; every method runs in the AGENT phase of its delivery."""

    account_id: int

    def on_order_update(self, now: int, seq: int, update: OrderUpdate) -> None: ...

    def on_fill(self, now: int, seq: int, fill: Fill) -> None: ...


def _ignore(now: int, seq: int, report: object) -> None:
    return None


class Link:
    """One participant's session: latency samplers for both legs, its FIFO arrival horizon and
    the participant's report handlers (a missing optional handler ignores that report)."""

    __slots__ = (
        "last_arrival",
        "on_fill",
        "on_margin_call",
        "on_order_update",
        "on_position_transfer",
        "on_transfer",
        "participant",
        "request",
        "response",
        "wants_responses",
    )

    def __init__(
        self, participant, request: LatencySampler, response: LatencySampler, wants_responses: bool
    ) -> None:
        self.participant = participant
        self.request = request
        self.response = response
        self.wants_responses = wants_responses
        self.last_arrival = 0
        self.on_order_update = participant.on_order_update
        self.on_fill = participant.on_fill
        self.on_transfer = getattr(participant, "on_transfer", _ignore)
        self.on_margin_call = getattr(participant, "on_margin_call", _ignore)
        self.on_position_transfer = getattr(participant, "on_position_transfer", _ignore)


class Gateway:
    """Connects participants to one venue (matching engine and ledger) through latency links."""

    __slots__ = (
        "_env",
        "_handling",
        "_links",
        "commands_handled",
        "engine",
        "ledger",
    )

    def __init__(self, env: PhasedEnvironment, engine: MatchingEngine, ledger) -> None:
        self._env = env
        self.engine = engine
        self.ledger = ledger
        self._links: dict[int, Link] = {}
        self.commands_handled = 0
        self._handling: tuple[int, object] = (0, None)

    def connect(
        self,
        participant,
        request: LatencySampler,
        response: LatencySampler,
        wants_responses: bool = True,
    ) -> Link:
        account_id = participant.account_id
        if account_id in self._links:
            raise ValueError(f"account {account_id} is already connected")
        link = Link(participant, request, response, wants_responses)
        self._links[account_id] = link
        return link

    # -- participant -> venue ------------------------------------------------------------------
    def send(self, account_id: int, command, cause: int | None) -> int:
        """Send a command now; return its arrival time at the venue (ns)."""
        env = self._env
        link = self._links[account_id]
        now = env.now
        arrival = now + link.request.draw()
        if arrival < link.last_arrival:
            arrival = link.last_arrival
        link.last_arrival = arrival
        env.call_at(arrival - now, Phase.MATCH, self._arrive, (account_id, command, cause, now))
        return arrival

    def _arrive(self, payload) -> None:
        self.arrive(*payload)

    def arrive(self, account_id: int, command, cause: int | None, ts_sent: int) -> None:
        """Handle a command reaching the venue now (MATCH phase), sent at ``ts_sent``: what a
        link delivers, and what a re-drive feeds in at a recorded arrival time."""
        engine = self.engine
        now = self._env.now
        self.commands_handled += 1
        self._handling = (account_id, command)
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
        if link.wants_responses:
            update = TransferUpdate(kind, amount, reason is None, reason or "")
            self._env.call_at(
                link.response.draw(), Phase.AGENT, self._deliver, (link.on_transfer, seq, update)
            )

    # -- venue -> participant ------------------------------------------------------------------
    def on_order_event(self, now: int, seq: int, order: Order | None, status: str) -> None:
        """Engine listener: report an order outcome to the order's owner (``rested`` is the
        book's business, not a report)."""
        if status == "rested":
            return
        if order is None:
            # A rejected cancel/amend of an unknown (or not owned) order: answer the sender of
            # the command being handled, about the order id it named.
            account, command = self._handling
            link = self._links.get(account)
            if link is None or not link.wants_responses:
                return
            update = OrderUpdate(command.order_id, status, 0, None, 0, 0, "")
        else:
            link = self._links.get(order.account_id)
            if link is None or not link.wants_responses:
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
        self._env.call_at(
            link.response.draw(), Phase.AGENT, self._deliver, (link.on_order_update, seq, update)
        )

    def on_trade(self, now: int, seq: int, maker: Order, taker: Order, price: int, size: int):
        """Engine listener: report the fill to both parties (maker first)."""
        links = self._links
        env = self._env
        accounts = self.ledger.accounts
        for order in (maker, taker):
            link = links.get(order.account_id)
            if link is None or not link.wants_responses:
                continue
            account = accounts.get(order.account_id)
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
            env.call_at(link.response.draw(), Phase.AGENT, self._deliver, (link.on_fill, seq, fill))

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
        if link is not None:
            notice = MarginCallNotice(mark, equity, maintenance_margin, position_lots)
            self._env.call_at(
                delay_ns, Phase.AGENT, self._deliver, (link.on_margin_call, seq, notice)
            )

    def deliver_position_transfer(
        self, account_id: int, seq: int, reason: str, side: int, price: int, lots: int
    ) -> None:
        """Liquidation hook: tell the account's owner that the venue moved its position (ADL,
        takeover), over the response leg."""
        link = self._links.get(account_id)
        if link is not None and link.wants_responses:
            transfer = PositionTransfer(reason, side, price, lots)
            self._env.call_at(
                link.response.draw(),
                Phase.AGENT,
                self._deliver,
                (link.on_position_transfer, seq, transfer),
            )

    def _deliver(self, payload) -> None:
        handler, seq, report = payload
        handler(self._env.now, seq, report)
