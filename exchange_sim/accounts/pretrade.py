"""The ledger's pre-trade checks (a mixin of :class:`~exchange_sim.accounts.ledger.Ledger`).

Reduce-only and initial-margin checks on order entry (the matching engine's ``pre_trade_check``
hook), the reduce-only capacity of a resting order at fill time, and the balance available to
withdraw or to back new orders. Initial margin of a buy is taken at ``min(limit, mark)`` and of a
sell at ``max(limit, mark)`` (Bybit's rule with the mark for the touch, §2.3), plus the opening
taker fee; resting orders count on the larger side net of what would only reduce the position
(BitMEX/Bybit "net bids", §2.2-§2.3). Units: money minor units, prices ticks, sizes lots.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchange_sim.accounts.account import Account
from exchange_sim.core.rounding import UP, div_round
from exchange_sim.core.units import RATE_SCALE

NO_CHECK_TAGS = frozenset(("liquidation", "adl", "backstop", "takeover"))
"""Order tags of the venue's own risk orders: never margin-checked, never reduce-only-rejected."""


class PreTradeChecks:
    """Order-entry checks over the ledger's accounts (see the module docstring)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the mixin reads of the ledger it is mixed into
        accounts: dict[int, Account]
        tiers: Any
        fees: Any
        _mptl: int
        mark_price: Callable[[], int | None]
        fallback_price: Callable[[], int | None]
        open_orders: Callable[[int], list]
        collateral: Any
        cross: Any

        def unrealised_pnl(self, account: Account, price: int) -> int: ...

        def notional(self, account: Account, price: int) -> int: ...

    def available_balance(self, account: Account) -> int:
        """What can be withdrawn or used for new orders: equity (at mark) minus margin in use
        (cross; a cross account over several perpetuals also less what its positions in the
        others use, :meth:`CrossMargin.other_margin_in_use`), or the free wallet (isolated).
        Unrealised profit is not withdrawable."""
        price = self.mark_price()
        if price is None:  # before the first mark: the index, as the pre-trade check reads
            price = self.fallback_price()
        cross = self.cross
        if account.isolated:
            free = account.wallet - (self._order_margin(account, price) if price else 0)
            if cross is not None and account.account_id in cross.members:
                free -= cross.other_order_margin(account, self)
            return free
        held = account.wallet + self.collateral_value(account)
        if cross is not None and cross.is_member(account):
            held -= cross.other_margin_in_use(account, self)
        if not account.size_lots or price is None:
            return held - (self._order_margin(account, price) if price else 0)
        upnl = self.unrealised_pnl(account, price)
        in_use = self.tiers.initial_margin(self.notional(account, price), account.leverage)
        return held + min(upnl, 0) - in_use - self._order_margin(account, price)

    def collateral_value(self, account: Account) -> int:
        """The haircut value of the collateral assets backing the account (its own, or a linked
        account's home account's; 0 without any)."""
        holdings = account.holder.holdings
        return self.collateral.holdings_value(holdings) if holdings else 0

    def _open_lots(self, account_id: int) -> tuple[int, int]:
        """Resting (buy, sell) lots of an account, read from the book (``open_orders`` hook)."""
        buys = sells = 0
        for order in self.open_orders(account_id):
            if order.side > 0:
                buys += order.remaining_lots
            else:
                sells += order.remaining_lots
        return buys, sells

    def _order_margin(self, account: Account, price: int | None) -> int:
        """Initial margin of resting orders that would add exposure: the larger side, net of what
        would only reduce the position (BitMEX/Bybit "net bids" rule, §2.2-§2.3), at ``price``."""
        if price is None:
            return 0
        size = account.size_lots
        buys, sells = self._open_lots(account.account_id)
        lots = max(buys - (-size if size < 0 else 0), sells - (size if size > 0 else 0), 0)
        return (
            self.tiers.initial_margin(self.lots_value(lots, price), account.leverage) if lots else 0
        )

    def lots_value(self, lots: int, price: int) -> int:
        """What ``lots`` are worth at ``price`` (the margin basis of orders and positions):
        ``price x lots x m`` (an inverse ledger overrides it)."""
        return price * lots * self._mptl

    def reduce_only_capacity(self, order) -> int:
        """Engine hook: lots a resting reduce-only ``order`` may still fill (what it closes)."""
        account = self.accounts.get(order.account_id)
        if account is None:
            return 0
        size = account.size_lots
        held = size if order.side < 0 else -size
        return held if held > 0 else 0

    def pre_trade_check(self, now: int, order) -> str | None:
        """Engine hook: reduce-only and initial-margin checks on order entry."""
        if order.tag in NO_CHECK_TAGS:
            return None
        account = self.accounts.get(order.account_id)
        if account is None:
            return "unknown_account"
        size = account.size_lots
        side = order.side
        order_lots = order.size_lots
        if order.reduce_only:
            if size == 0 or (size > 0) == (side > 0) or order_lots > abs(size):
                return "reduce_only_would_increase"
            return None
        price = self.mark_price()
        limit = order.price_ticks
        if price is None:  # before the first mark: the index, else the order's own limit
            price = self.fallback_price()
            if price is None:
                price = limit
                if price is None:
                    return "no_reference_price"
        # What the order can cost at worst while it may fill now: a buy at min(limit, mark), a
        # sell at max(limit, mark) (Bybit's min(limit, best ask) / max(limit, best bid), §2.3,
        # with the mark for the touch); a market order at the mark.
        if limit is None:
            reference = price
        elif side > 0:
            reference = limit if limit < price else price
        else:
            reference = limit if limit > price else price
        # Resting lots on each side with this order, net of what would only reduce the position.
        buys = sells = 0
        for resting in self.open_orders(account.account_id):
            if resting.side > 0:
                buys += resting.remaining_lots
            else:
                sells += resting.remaining_lots
        if side > 0:
            buys += order_lots
        else:
            sells += order_lots
        if size < 0:
            buys += size
        elif size > 0:
            sells -= size
        lots = buys if buys > sells else sells
        if lots <= 0:
            return None
        leverage = account.leverage
        tiers = self.tiers
        lots_value = self.lots_value
        need = tiers.initial_margin(lots_value(lots, reference), leverage)
        taker_fee = self.fees.taker_fee_ppb
        if taker_fee > 0:  # the fee to open must be there too (Bybit reserves it, §2.3)
            need += div_round(lots_value(order_lots, reference) * taker_fee, RATE_SCALE, UP)
        if account.isolated:
            have = account.wallet
            cross = self.cross
            if cross is not None and account.account_id in cross.members:  # one wallet
                have -= cross.other_order_margin(account, self)
        else:
            upnl = self.unrealised_pnl(account, price)
            have = account.wallet + (upnl if upnl < 0 else 0)
            if account.holder.holdings:
                have += self.collateral_value(account)
            if size:
                have -= tiers.initial_margin(self.notional(account, price), leverage)
            cross = self.cross
            if cross is not None and cross.is_member(account):  # one wallet, several perpetuals
                have -= cross.other_margin_in_use(account, self)
        return "insufficient_margin" if need > have else None
