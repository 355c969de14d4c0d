"""What each member of a trader group holds, as it knows it from the venue's reports, and how it
gets out: stop-losses, take-profits and logged exits.

A member's position counts the fills and position transfers the venue reported (so reports that
arrive out of order still add up). Its **entry price** is the average price of the fills that
opened or grew the position since it was last flat. From it, each opening fill (re)arms the
member's **stop-loss** (``stop_loss`` ppb below the entry for a long, above it for a short, the
price rounded away from the entry) and **take-profit** (``take_profit`` ppb on the other side) in
two sorted :class:`~exchange_sim.agents.triggers.Levels` books, so an observed price touches only
the members whose level it crossed (:meth:`Holdings.observe`).

An **exit** (:meth:`Holdings.exit`) is logged as ``trader_exit`` (cause: what it reacted to) and
sends a reduce-only market order for the known position, whose cause is the exit event. When the
venue closes a position (a liquidation fill, an ADL or takeover transfer leaves it flat), the
member logs a ``trader_exit`` with reason ``liquidated``, ``deleveraged`` or ``taken_over`` (cause:
that report). Either way the owning group hears ``on_flat(now, account_id, exit_seq)``; an entry
order that filled nothing calls it with ``exit_seq`` ``None``.
"""

from __future__ import annotations

from exchange_sim.agents.triggers import Levels
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import SubmitOrder

_FAILED = frozenset(("cancelled", "expired", "rejected"))
_TRANSFER_REASONS = {"adl": "deleveraged", "takeover": "taken_over"}


class Holding:
    """One member's position as it knows it, its entry fills and its armed triggers."""

    __slots__ = (
        "entry_order",
        "epoch",
        "exit_order",
        "exit_seq",
        "exiting",
        "keys",
        "open_cost",
        "open_lots",
        "position",
    )

    def __init__(self) -> None:
        self.position = 0
        self.open_lots = 0
        self.open_cost = 0
        """Sum of price x lots of the opening fills since flat (ticks x lots)."""
        self.epoch = 0
        """Bumped at every exit and flat: a timer armed under an older epoch is stale."""
        self.keys: tuple = ()
        """``(book, key)`` of each armed trigger."""
        self.exiting = False
        self.exit_seq: int | None = None
        self.entry_order: int | None = None
        self.exit_order: int | None = None

    def entry_price(self) -> int | None:
        return div_round(self.open_cost, self.open_lots, DOWN) if self.open_lots else None


class Holdings:
    """The members' holdings of one group, their trigger books and their exits."""

    __slots__ = (
        "_env",
        "_gateway",
        "_log",
        "_next_order_id",
        "falling",
        "members",
        "name",
        "on_flat",
        "on_opened",
        "rising",
        "stop_loss",
        "take_profit",
    )

    def __init__(
        self,
        env,
        gateway,
        log,
        name: str,
        account_ids,
        next_order_id,
        stop_loss: int = 0,
        take_profit: int = 0,
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._log = log
        self._next_order_id = next_order_id
        self.name = name
        self.stop_loss = stop_loss
        self.take_profit = take_profit
        self.members = {account_id: Holding() for account_id in account_ids}
        self.falling = Levels(falling=True)
        """A long's stop, a short's take-profit: fire at or below."""
        self.rising = Levels(falling=False)
        """A long's take-profit, a short's stop: fire at or above."""
        self.on_flat = _ignore_flat
        self.on_opened = _ignore_opened
        """Called at a member's first opening fill after flat (e.g. to arm a holding timer)."""

    # -- orders ----------------------------------------------------------------------------------
    def open(self, account_id: int, side: int, lots: int, cause: int | None) -> None:
        """Send a market order opening ``lots`` on ``side``."""
        order = SubmitOrder(self._next_order_id(), side, None, lots)
        self.members[account_id].entry_order = order.order_id
        self._gateway.send(account_id, order, cause)

    def exit(
        self,
        account_id: int,
        reason: str,
        cause: int | None,
        price: int | None,
        lots: int | None = None,
    ) -> int | None:
        """Log ``trader_exit`` and send a reduce-only market order for ``lots`` (default: the
        whole known position); return the event's seq (``None`` when flat or already exiting)."""
        holding = self.members[account_id]
        position = holding.position
        if not position or holding.exiting:
            return None
        full = lots is None or lots >= abs(position)
        if lots is None or full:
            lots = abs(position)
        seq = self._log.emit(
            self._env.now,
            "trader_exit",
            cause,
            account_id=account_id,
            participant=self.name,
            reason=reason,
            position_lots=position,
            lots=lots,
            price_ticks=price,
            entry_price_ticks=holding.entry_price(),
        )
        side = SELL if position > 0 else BUY
        order = SubmitOrder(self._next_order_id(), side, None, lots, reduce_only=True)
        self._gateway.send(account_id, order, seq)
        if full:
            holding.exit_order = order.order_id
            self._disarm(holding)
            holding.epoch += 1
            holding.exiting = True
            holding.exit_seq = seq
        return seq

    # -- observation -----------------------------------------------------------------------------
    def observe(self, low: int, low_seq: int | None, high: int, high_seq: int | None) -> None:
        """The member-facing price moved: ``low`` / ``high`` are the lowest and highest prices of
        the update (equal for an index price), each with the event it came from."""
        if len(self.falling):
            for _level, account_id, reason in self.falling.crossed(low):
                self.exit(account_id, reason, low_seq, low)
        if len(self.rising):
            for _level, account_id, reason in self.rising.crossed(high):
                self.exit(account_id, reason, high_seq, high)

    # -- reports ---------------------------------------------------------------------------------
    def on_fill(self, now: int, account_id: int, seq: int, fill) -> None:
        holding = self.members[account_id]
        before = holding.position
        after = before + fill.side * fill.size_lots
        holding.position = after
        if after == 0:
            if before:
                reason = "liquidated" if fill.tag else "closed"
                self._flat(account_id, holding, reason, seq, before, fill.price_ticks)
            return
        if fill.tag or (after > 0) != (fill.side > 0) or abs(after) <= abs(before):
            return  # not an opening fill of the member's own
        first = before == 0 or (before > 0) != (after > 0)
        added = abs(after) if first else abs(after) - abs(before)
        if first:
            holding.open_lots = holding.open_cost = 0
        holding.open_lots += added
        holding.open_cost += fill.price_ticks * added
        if not holding.exiting:
            self._arm(account_id, holding)
        if first:
            self.on_opened(now, account_id)

    def on_position_transfer(self, now: int, account_id: int, seq: int, transfer) -> None:
        holding = self.members[account_id]
        before = holding.position
        holding.position = before + transfer.side * transfer.size_lots
        if before and holding.position == 0:
            reason = _TRANSFER_REASONS.get(transfer.reason, transfer.reason)
            self._flat(account_id, holding, reason, seq, before, transfer.price_ticks)

    def on_order_update(self, now: int, account_id: int, seq: int, update) -> None:
        """An entry order that closed having filled nothing leaves the member flat; an exit
        order that closed short of flat re-arms its triggers (a later crossing tries again)."""
        holding = self.members[account_id]
        if update.status not in _FAILED:
            return
        if update.order_id == holding.exit_order:
            holding.exit_order = None
            if holding.exiting and holding.position:
                holding.exiting = False
                holding.exit_seq = None
                self._arm(account_id, holding)
            return
        if update.order_id != holding.entry_order:
            return
        holding.entry_order = None
        filled = 0 if update.status == "rejected" else update.size_lots - update.remaining_lots
        if not filled and holding.position == 0 and not holding.exiting:
            holding.epoch += 1
            self.on_flat(now, account_id, None)

    # -- internals -------------------------------------------------------------------------------
    def _flat(self, account_id, holding, reason, seq, before, price) -> None:
        self._disarm(holding)
        holding.epoch += 1
        holding.entry_order = None
        exit_seq = holding.exit_seq
        if not holding.exiting:
            exit_seq = self._log.emit(
                self._env.now,
                "trader_exit",
                seq,
                account_id=account_id,
                participant=self.name,
                reason=reason,
                position_lots=before,
                lots=0,
                price_ticks=price,
                entry_price_ticks=holding.entry_price(),
            )
        holding.exiting = False
        holding.exit_seq = holding.exit_order = None
        holding.open_lots = holding.open_cost = 0
        self.on_flat(self._env.now, account_id, exit_seq)

    def _arm(self, account_id: int, holding: Holding) -> None:
        self._disarm(holding)
        lots, cost = holding.open_lots, holding.open_cost
        long = holding.position > 0
        keys = []
        scale = lots * RATE_SCALE
        if self.stop_loss:
            if long:
                level = div_round(cost * (RATE_SCALE - self.stop_loss), scale, DOWN)
                keys.append((self.falling, self.falling.add(level, account_id, "stop_loss")))
            else:
                level = div_round(cost * (RATE_SCALE + self.stop_loss), scale, UP)
                keys.append((self.rising, self.rising.add(level, account_id, "stop_loss")))
        if self.take_profit:
            if long:
                level = div_round(cost * (RATE_SCALE + self.take_profit), scale, UP)
                keys.append((self.rising, self.rising.add(level, account_id, "take_profit")))
            else:
                level = div_round(cost * (RATE_SCALE - self.take_profit), scale, DOWN)
                keys.append((self.falling, self.falling.add(level, account_id, "take_profit")))
        holding.keys = tuple(keys)

    def _disarm(self, holding: Holding) -> None:
        for book, key in holding.keys:
            book.discard(key)
        holding.keys = ()


def _ignore_flat(now: int, account_id: int, exit_seq: int | None) -> None:
    return None


def _ignore_opened(now: int, account_id: int) -> None:
    return None
