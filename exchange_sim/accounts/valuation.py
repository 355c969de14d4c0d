"""The ledger's valuation of accounts (a mixin of :class:`~exchange_sim.accounts.ledger.Ledger`):
notional, uPnL, equity, maintenance and margin-call levels, for one position and, under cross
margin over several perpetuals (:mod:`exchange_sim.accounts.cross_margin`), for the account."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchange_sim.accounts.account import Account, LinkedAccount
from exchange_sim.core.rounding import DOWN, div_round


class Valuation:
    """What an account is worth and what it must hold (see the module docstring)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the mixin reads of the ledger it is mixed into
        accounts: dict[int, Account]
        tiers: Any
        collateral: Any
        cross: Any
        maintenance_on_entry: bool
        margin_call_factor_ppb: int
        _mptl: int
        margin: Any
        mark_price: Callable[[], int | None]
        fallback_price: Callable[[], int | None]

    def notional(self, account: Account, price: int) -> int:
        size = account.size_lots
        return price * (size if size >= 0 else -size) * self._mptl

    def unrealised_pnl(self, account: Account, price: int) -> int:
        return account.size_lots * price * self._mptl - account.signed_entry_notional

    def equity(self, account: Account, price: int) -> int:
        """Margin balance at ``price``: collateral plus the position's uPnL, plus the haircut
        value of any collateral asset at its current price."""
        equity = account.collateral + self.unrealised_pnl(account, price)
        if account.holdings:
            equity += self.collateral.holdings_value(account.holdings)
        cross = self.cross
        if cross is not None and cross.is_member(account):
            equity += cross.other_equity(account, self)
        return equity

    def maintenance_margin(self, account: Account, price: int) -> int:
        """MM of the position on its notional at ``price`` (or on its entry value, Bybit); for
        a cross account over several perpetuals, plus its other positions' MM (at their marks)."""
        if not account.size_lots:
            return 0
        own = self.position_maintenance(account, price)
        cross = self.cross
        if cross is not None and cross.is_member(account):
            own += cross.other_maintenance(account, self)
        return own

    def margin_call_level(self, account: Account, price: int) -> int:
        """:meth:`position_call_level`, plus the other cross positions' (several perpetuals)."""
        if not account.size_lots:
            return 0
        own = self.position_call_level(account, price)
        cross = self.cross
        if cross is not None and cross.is_member(account):
            own += cross.other_call_level(account, self)
        return own

    def current_price(self, account: Account) -> int:
        """The price an account's position is valued at now: the mark, else the index, else its
        average entry price (before any price exists), at least 1."""
        mark = self.mark_price()
        if mark is None:
            mark = self.fallback_price()
        if mark is None:
            lots = account.size_lots if account.size_lots > 0 else -account.size_lots
            mark = div_round(account.entry_notional, lots * self._mptl, DOWN) if lots else 1
        return max(mark, 1)

    def position_maintenance(self, account: Account, price: int) -> int:
        """MM of this position alone on its notional at ``price``, or on its entry value
        (Bybit)."""
        if not account.size_lots:
            return 0
        tiers = self.margin.tiers[1 if account.size_lots > 0 else -1]
        if self.maintenance_on_entry:
            return tiers.maintenance_margin(account.entry_notional)
        return tiers.maintenance_margin(self.notional(account, price))

    def is_liquidatable(self, account: Account, price: int) -> bool:
        return account.size_lots != 0 and self.equity(account, price) < self.maintenance_margin(
            account, price
        )

    def position_call_level(self, account: Account, price: int) -> int:
        """This position's margin-call level (equity below it gets a margin call):
        ``margin_call_factor x MM`` with the exact MM, rounded UP once: for an integer equity,
        ``equity < level`` is ``equity < factor x MM``, the condition the margin-call trigger
        price solves (the rounded MM times the factor could be a unit higher, and the check
        would then fire a tick before its trigger)."""
        if not account.size_lots:
            return 0
        notional = (
            account.entry_notional if self.maintenance_on_entry else self.notional(account, price)
        )
        tiers = self.margin.tiers[1 if account.size_lots > 0 else -1]
        return tiers.scaled_maintenance_margin(notional, self.margin_call_factor_ppb)

    def money_in_accounts(self) -> int:
        """``Σ (wallet + isolated_margin - signed_entry_notional)``: account value at any common
        price (see the module docstring)."""
        return sum(
            (0 if type(a) is LinkedAccount else a.wallet)
            + a.isolated_margin
            - a.signed_entry_notional
            for a in self.accounts.values()
        )

    def open_interest_lots(self) -> tuple[int, int]:
        longs = sum(a.size_lots for a in self.accounts.values() if a.size_lots > 0)
        shorts = -sum(a.size_lots for a in self.accounts.values() if a.size_lots < 0)
        return longs, shorts

    def reference_liquidation_price(self, account: Account) -> int | None:
        """The liquidation price a cross venue displays: the price of this position at which
        equity reaches MM with every other position held at its current mark, i.e. Binance's
        ``WB - TMM1 + UPNL1`` (exchange_mechanics.md §3.1, W1-W2; dYdX's cross ``e - MMR_o``,
        §3.5, W14). The risk monitor watches a tighter trigger for accounts over several markets
        (:mod:`exchange_sim.accounts.cross_margin`); for one position both are the same."""
        size = account.size_lots
        if not size:
            return None
        balance = account.collateral
        cross = self.cross
        if cross is not None and cross.is_member(account):
            balance += cross.other_equity(account, self) - cross.other_maintenance(account, self)
        lots = size if size > 0 else -size
        side = 1 if size > 0 else -1
        return self.margin.liquidation[side].price(
            side,
            lots,
            account.entry_notional,
            balance,
            self._mptl,
            self.current_price(account),
        )
