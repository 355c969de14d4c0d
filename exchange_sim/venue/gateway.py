"""The order gateway: participants' commands travel to the matching engine and back with latency.

A participant's command leaves at ``now``, draws its link's **request** latency and reaches the
engine in the ``MATCH`` phase of its arrival instant. The engine handles commands strictly in
arrival order (same-instant arrivals in the order they were sent). Each link is FIFO like the TCP
session it models: a command never overtakes an earlier command of the same participant, so its
arrival is ``max(now + latency, previous arrival on the link)``. Outcomes (acks, rejections,
cancels, fills) travel back on the **response** leg and reach the participant in the ``AGENT``
phase.

Commands are plain tuples so the hot path allocates little:
``(SUBMIT, order)``, ``(CANCEL, order_id)``, ``(AMEND, order_id, price_ticks, size_lots)``,
``(CANCEL_ALL,)``.
"""

from __future__ import annotations

from typing import Protocol

from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import LatencySampler
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import Order

SUBMIT = 0
CANCEL = 1
AMEND = 2
CANCEL_ALL = 3


class Participant(Protocol):
    """What the gateway delivers to; every method runs in the AGENT phase of its delivery."""

    account_id: int

    def on_order_update(self, now: int, seq: int, order: Order | None, status: str) -> None: ...

    def on_fill(
        self, now: int, seq: int, order: Order, price_ticks: int, size_lots: int
    ) -> None: ...


class Link:
    """One participant's session: latency samplers for both legs and its FIFO arrival horizon."""

    __slots__ = ("last_arrival", "participant", "request", "response", "wants_responses")

    def __init__(
        self, participant, request: LatencySampler, response: LatencySampler, wants_responses: bool
    ) -> None:
        self.participant = participant
        self.request = request
        self.response = response
        self.wants_responses = wants_responses
        self.last_arrival = 0


class Gateway:
    """Connects participants to one matching engine through latency links."""

    __slots__ = ("_env", "_handling_account", "_links", "commands_handled", "engine")

    def __init__(self, env: PhasedEnvironment, engine: MatchingEngine) -> None:
        self._env = env
        self.engine = engine
        self._links: dict[int, Link] = {}
        self.commands_handled = 0
        self._handling_account = 0

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

    # -- participant -> engine -------------------------------------------------------------
    def send(self, account_id: int, command: tuple, cause: int | None) -> int:
        """Send a command now; return its arrival time at the engine (ns)."""
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
        account_id, command, cause, ts_sent = payload
        engine = self.engine
        now = self._env.now
        self.commands_handled += 1
        self._handling_account = account_id
        kind = command[0]
        if kind == SUBMIT:
            order = command[1]
            order.ts_sent = ts_sent
            engine.submit(now, order, cause)
        elif kind == CANCEL:
            engine.cancel(now, account_id, command[1], cause)
        elif kind == AMEND:
            engine.amend(now, account_id, command[1], command[2], command[3], cause)
        else:
            engine.cancel_all(now, account_id, cause)

    # -- engine -> participant -------------------------------------------------------------
    def on_order_event(self, now: int, seq: int, order: Order | None, status: str) -> None:
        # A rejected cancel/amend of an unknown order carries no order: it answers the account
        # whose command is being handled.
        account = order.account_id if order is not None else self._handling_account
        link = self._links.get(account)
        if link is None or not link.wants_responses:
            return
        self._env.call_at(
            link.response.draw(), Phase.AGENT, self._deliver_update, (link, seq, order, status)
        )

    def on_trade(
        self, now: int, seq: int, maker: Order, taker: Order, price: int, size: int
    ) -> None:
        links = self._links
        env = self._env
        for order in (maker, taker):
            link = links.get(order.account_id)
            if link is None or not link.wants_responses:
                continue
            env.call_at(
                link.response.draw(),
                Phase.AGENT,
                self._deliver_fill,
                (link, seq, order, price, size),
            )

    def _deliver_update(self, payload) -> None:
        link, seq, order, status = payload
        link.participant.on_order_update(self._env.now, seq, order, status)

    def _deliver_fill(self, payload) -> None:
        link, seq, order, price, size = payload
        link.participant.on_fill(self._env.now, seq, order, price, size)
