"""Leveraged traders: the positions a cascade liquidates, and how they answer margin calls.

A group of ``count`` accounts, each funded with ``deposit`` (a :class:`Deposit` over its link at
t = 0: it counts when it arrives) and a leverage drawn from ``leverages``. Each opens one position
with a market order at a uniform random time in ``[entry_start, entry_end)``: long with probability
``long_fraction``, of notional ``deposit x leverage x position_fraction`` at the index it last
*saw* (published index prices reach it after ``observation_latency``; before the first it does
not enter). On a margin call (which reaches it after the venue's notify latency), after its
``reaction_latency`` it tops up ``top_up_fraction x deposit`` with probability
``top_up_probability`` (a ``top_up`` deposit sent over its link: it saves the account only if it
*arrives* in time), else reduces its position by ``reduce_fraction`` with probability
``reduce_probability`` (a reduce-only market order), else does nothing; the choice is logged as
``margin_call_response`` with the margin call as its cause. It knows its position only from the
venue's reports (fills, position transfers, the margin call itself).

With ``entry_retries`` (default 0: never), an entry that ends with lots unfilled (its IOC
remainder expired, a price band cut it, the venue refused it) is sent again after
``entry_retry_delay`` for the rest, sized at the index the trader sees then (its full entry less
the position it holds), at most ``entry_retries`` times; the retry's cause is the expiry or
refusal it answers.

The life-cycle keys (poisson arrivals, holding times, stop-loss and take-profit, re-entry) are
handled by :class:`~exchange_sim.agents.lifecycle.LifeCycle`; left at their defaults, the group
draws, acts and logs exactly as described above.
"""

from __future__ import annotations

from array import array
from typing import Any

from exchange_sim.agents.config import LeveragedTraderConfig
from exchange_sim.agents.draws import BlockDraws
from exchange_sim.agents.lifecycle import LifeCycle
from exchange_sim.core.contract import lots_for_value
from exchange_sim.core.rounding import DOWN
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder

_UNFILLED = frozenset(("expired", "rejected", "cancelled"))
"""Order outcomes that end an entry with lots unfilled (an IOC remainder, a band cut, a refusal)."""


class MemberValues:
    """One integer per member of a group, in an array indexed by ``account_id - first`` when the
    members' ids are consecutive (they are: a group's accounts are opened in a row), else in a
    dict. A million members cost 8 bytes each here (``typecode``), not a dict slot and an int."""

    __slots__ = ("_first", "_values")

    def __init__(self, account_ids: list[int], values, typecode: str = "q") -> None:
        first = account_ids[0] if account_ids else 0
        self._first: int | None
        self._values: array | dict[int, Any]
        if account_ids == list(range(first, first + len(account_ids))):
            self._first = first
            self._values = array(typecode, values)
        else:
            self._first = None
            self._values = dict(zip(account_ids, values, strict=True))

    def _slot(self, account_id: int) -> int:
        slot = account_id - self._first  # type: ignore[operator]  # array mode: _first is set
        if slot < 0 or slot >= len(self._values):
            raise KeyError(account_id)
        return slot

    def __getitem__(self, account_id: int) -> int:
        if self._first is None:
            return self._values[account_id]
        return self._values[self._slot(account_id)]

    def __setitem__(self, account_id: int, value: int) -> None:
        if self._first is None:
            if account_id not in self._values:
                raise KeyError(account_id)
            self._values[account_id] = value
        else:
            self._values[self._slot(account_id)] = value

    def __len__(self) -> int:
        return len(self._values)


class LeveragedTraderGroup:
    """The group's accounts (on the group's shared gateway link, each with its own FIFO
    horizon) and their margin-call behaviour."""

    __slots__ = (
        "_cfg",
        "_collateral_at_par",
        "_entry_first_id",
        "_entry_next",
        "_entry_order",
        "_entry_orders",
        "_entry_times",
        "_env",
        "_gateway",
        "_life",
        "_log",
        "_money_per_tick_lot",
        "_next_order_id",
        "_reaction",
        "_retries_left",
        "_uniform",
        "index_price",
        "index_seq",
        "leverage",
        "members",
        "positions",
        "sides",
    )

    def __init__(
        self,
        env,
        gateway,
        log,
        config: LeveragedTraderConfig,
        account_ids: list[int],
        next_order_id,
        rng,
        reaction_latency,
        money_per_tick_lot: int,
        life_rng=None,
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._log = log
        self._cfg = config
        self._collateral_at_par = sum(units for _, units in config.collateral_holdings())
        self._next_order_id = next_order_id
        self._reaction = reaction_latency
        self._money_per_tick_lot = money_per_tick_lot
        self.members = account_ids
        count = len(account_ids)
        leverages = rng.choice(config.leverages, size=count).tolist()
        long_fraction = float(config.long_fraction)
        self.sides = MemberValues(
            account_ids, [BUY if u < long_fraction else SELL for u in rng.random(count).tolist()]
        )
        entries = rng.integers(config.entry_start, config.entry_end, size=count).tolist()
        self._entry_times = array("q", entries)
        """Each member's first entry time, ns (member order); empty once queued."""
        self._entry_order = array("q")
        """Members' indices in the order their entries run (time, then member order)."""
        self._entry_next = 0
        self._entry_first_id = 0
        self._uniform = BlockDraws(rng, lambda r, n: r.random(n))
        self.leverage = MemberValues(account_ids, [int(leverage) for leverage in leverages])
        """Each member's leverage (the account is opened with it)."""
        self.positions = MemberValues(account_ids, [0] * count)
        """Each member's position as it knows it from the venue's reports, lots."""
        self.index_price: int | None = None
        """The last index price the group saw, ticks."""
        self.index_seq: int | None = None
        """The ``index_price`` event it came from (an entry sized from it names it as cause)."""
        self._life = (
            LifeCycle(self, env, gateway, log, config, account_ids, next_order_id, life_rng)
            if config.life_cycle
            else None
        )
        if self._life is not None and config.arrival == "poisson":
            self._entry_times = array("q", self._life.arrivals(account_ids))
        self._entry_orders: MemberValues | None = None
        """Each member's last entry order id (only with ``entry_retries``)."""
        self._retries_left: MemberValues | None = None
        if config.entry_retries:
            self._entry_orders = MemberValues(account_ids, [0] * count)
            self._retries_left = MemberValues(account_ids, [config.entry_retries] * count)

    @property
    def life(self) -> LifeCycle | None:
        """The life cycle, when any of its keys is set."""
        return self._life

    def start(self) -> None:
        env = self._env
        amount = self._cfg.deposit
        if amount:
            for account_id in self.members:
                self._gateway.send(account_id, Deposit(amount), None)
        for asset, units in self._cfg.collateral_holdings():
            for account_id in self.members:
                self._gateway.send(account_id, Deposit(units, "deposit", asset), None)
        times = self._entry_times
        if times:
            # One queue entry at a time, with the ids the whole schedule would have taken now:
            # the entries run exactly where queuing all of them here would have run them, and a
            # million members do not sit in the kernel's queue (kernel/environment.py).
            self._entry_first_id = env.reserve_queue_ids(len(times))
            self._entry_order = array("q", sorted(range(len(times)), key=times.__getitem__))
            self._queue_entry()

    def _queue_entry(self) -> None:
        """Queue the next entry of the schedule (the one after the entry that is running)."""
        index = self._entry_order[self._entry_next]
        self._env.call_at_id(
            self._entry_times[index],
            Phase.AGENT,
            self._entry_first_id + index,
            self._enter_in_turn,
            index,
        )

    def _enter_in_turn(self, index: int) -> None:
        self._entry_next += 1
        if self._entry_next < len(self._entry_order):
            self._queue_entry()
        else:  # the schedule is done: free it
            self._entry_times = self._entry_order = array("q")
        self._enter(self.members[index])

    def on_index(self, now: int, update) -> None:
        """Index subscription (after the group's observation latency)."""
        price = self.index_price = update.price_ticks
        seq = self.index_seq = update.seq
        life = self._life
        if life is not None and self._cfg.trigger_price == "index":
            life.holdings.observe(price, seq, price, seq)

    def entry_lots(self, account_id: int, price: int) -> int:
        """Lots of an entry at ``price``: ``(deposit + collateral deposits) x leverage x
        position_fraction`` of notional (every collateral asset counted at par)."""
        cfg = self._cfg
        notional = int(
            (cfg.deposit + self._collateral_at_par)
            * self.leverage[account_id]
            * cfg.position_fraction
        )
        return lots_for_value(self._money_per_tick_lot, notional, price, DOWN)

    def _enter(self, account_id: int) -> None:
        price = self.index_price
        if price is None:
            return
        lots = self.entry_lots(account_id, price) - abs(self.positions[account_id])
        if lots <= 0:
            return
        if self._life is not None:
            self._life.holdings.open(account_id, self.sides[account_id], lots, self.index_seq)
            return
        self._send_entry(account_id, lots, self.index_seq)

    def _send_entry(self, account_id: int, lots: int, cause: int | None) -> None:
        order = SubmitOrder(self._next_order_id(), self.sides[account_id], None, lots)
        if self._entry_orders is not None:
            self._entry_orders[account_id] = order.order_id
        self._gateway.send(account_id, order, cause)

    def _retry_entry(self, payload) -> None:
        """``entry_retries``: the entry's unfilled part, sized again at the index the trader sees
        now (its full entry there less the position it holds), as a new market order whose cause
        is the expiry or rejection it answers. Nothing left to open: the entry is done."""
        account_id, cause = payload
        price = self.index_price
        if price is None:
            return
        lots = self.entry_lots(account_id, price) - abs(self.positions[account_id])
        if lots > 0:
            self._send_entry(account_id, lots, cause)

    # -- reports -------------------------------------------------------------------------------
    def on_fill(self, now: int, account_id: int, seq: int, fill) -> None:
        self.positions[account_id] += fill.side * fill.size_lots
        if self._life is not None:
            self._life.holdings.on_fill(now, account_id, seq, fill)

    def on_position_transfer(self, now: int, account_id: int, seq: int, transfer) -> None:
        self.positions[account_id] += transfer.side * transfer.size_lots
        if self._life is not None:
            self._life.holdings.on_position_transfer(now, account_id, seq, transfer)

    def on_order_update(self, now: int, account_id: int, seq: int, update) -> None:
        if self._life is not None:
            self._life.holdings.on_order_update(now, account_id, seq, update)
        retries = self._retries_left
        if (
            retries is not None
            and update.status in _UNFILLED
            and update.order_id == self._entry_orders[account_id]  # type: ignore[index]
            and retries[account_id] > 0
        ):
            retries[account_id] -= 1
            self._env.call_at(
                self._cfg.entry_retry_delay, Phase.AGENT, self._retry_entry, (account_id, seq)
            )

    # -- margin calls --------------------------------------------------------------------------
    def on_margin_call(self, now: int, account_id: int, seq: int, notice) -> None:
        self._env.call_at(self._reaction.draw(), Phase.AGENT, self._react, (account_id, seq))

    def _react(self, payload) -> None:
        account_id, call_seq = payload
        response = self._cfg.response
        now = self._env.now
        position = self.positions[account_id]
        u = self._uniform.next()
        top_up = float(response.top_up_probability)
        if not position:
            action = "ignore"
        elif u < top_up:
            action = "top_up"
        elif u < top_up + float(response.reduce_probability):
            action = "reduce"
        else:
            action = "ignore"
        seq = self._log.emit(
            now,
            "margin_call_response",
            call_seq,
            account_id=account_id,
            action=action,
            position_lots=position,
        )
        if action == "top_up":
            amount = int(self._cfg.deposit * response.top_up_fraction)
            if amount > 0:
                self._gateway.send(account_id, Deposit(amount, "top_up"), seq)
        elif action == "reduce":
            lots = int(abs(position) * response.reduce_fraction)
            if lots > 0 and self._life is not None:
                self._life.holdings.exit(account_id, "margin_call_reduce", seq, None, lots)
            elif lots > 0:
                side = SELL if position > 0 else BUY
                order = SubmitOrder(self._next_order_id(), side, None, lots, reduce_only=True)
                self._gateway.send(account_id, order, seq)
