"""The ledger's collateral-asset methods (a mixin of :class:`~exchange_sim.accounts.ledger.Ledger`):
deposits of a collateral asset, its conversion when the account is liquidated, and the split of
an account's slack between the mark and the collateral price
(:mod:`exchange_sim.accounts.collateral`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchange_sim.accounts.account import Account
from exchange_sim.accounts.collateral import collateral_share


class CollateralHoldings:
    """Collateral methods over the ledger's accounts (see the module docstring)."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the mixin reads of the ledger it is mixed into
        collateral: Any
        _emit: Callable[..., int]

        def refresh(self, now: int, account: Account, cause: int | None) -> None: ...

        def _refresh_prices(self, account: Account) -> None: ...

        def notional(self, account: Account, price: int) -> int: ...

        def unrealised_pnl(self, account: Account, price: int) -> int: ...

        def maintenance_margin(self, account: Account, price: int) -> int: ...

        def margin_call_level(self, account: Account, price: int) -> int: ...

    def _deposit_collateral(
        self,
        now: int,
        account: Account,
        asset: str,
        units: int,
        cause: int | None,
        ts_sent: int | None,
        purpose: str,
    ) -> tuple[int, str | None]:
        """Credit ``units`` of a collateral asset (cross accounts only, one asset per account);
        logged as ``collateral_deposit``, or ``deposit_rejected``."""
        reason = None
        if account.isolated:
            reason = "collateral_needs_cross_margin"
        elif account.collateral_asset not in ("", asset):
            reason = "one_collateral_asset_per_account"
        if reason is not None:
            seq = self._emit(
                now,
                "deposit_rejected",
                cause,
                account_id=account.account_id,
                amount=units,
                reason=reason,
            )
            return seq, reason
        collateral = self.collateral
        account.collateral_asset = asset
        account.collateral_units += units
        collateral.deposited[asset] += units
        seq = self._emit(
            now,
            "collateral_deposit",
            cause,
            account_id=account.account_id,
            asset=asset,
            units=units,
            purpose=purpose,
            ts_sent=now if ts_sent is None else ts_sent,
            collateral_units=account.collateral_units,
            value=collateral.value(asset, account.collateral_units),
        )
        self.refresh(now, account, seq)
        return seq, None

    def revalue_collateral(self, account: Account) -> None:
        """Recompute the account's trigger and bankruptcy prices with its collateral at the
        asset's current price (they were solved at the price of the account's last change; a
        collateral price move does not refresh them). No listener is told."""
        if account.collateral_units:
            self._refresh_prices(account)

    def convert_collateral(self, now: int, account: Account, cause: int) -> int | None:
        """Take the account's collateral over at its haircut value (the venue's conversion desk
        pays it into the wallet): what a venue does when it liquidates a multi-asset account.
        Logged as ``collateral_converted``; returns its seq, or None without collateral."""
        units = account.collateral_units
        if not units:
            return None
        asset = account.collateral_asset
        collateral = self.collateral
        value = collateral.value(asset, units)
        account.collateral_units = 0
        account.collateral_asset = ""
        account.wallet += value
        collateral.desk_units[asset] += units
        collateral.desk_paid += value
        collateral.triggers.pop(account.account_id, None)
        seq = self._emit(
            now,
            "collateral_converted",
            cause,
            account_id=account.account_id,
            asset=asset,
            units=units,
            price_ppb=collateral.price_ppb[asset],
            value=value,
            wallet=account.wallet,
        )
        self._refresh_prices(account)
        return seq

    def _split_collateral(self, account: Account, price: int) -> tuple[int, int]:
        """Split the slack of an account holding a collateral asset between the mark and the
        collateral price (:mod:`exchange_sim.accounts.collateral`): record the collateral-price
        triggers and return the collateral (wallet plus the collateral's *reserved* value) to
        solve the liquidation and margin-call trigger prices with."""
        collateral = self.collateral
        asset, units = account.collateral_asset, account.collateral_units
        value = collateral.value(asset, units)
        notional = self.notional(account, price)
        equity = account.wallet + value + self.unrealised_pnl(account, price)
        liquidation_keep = collateral_share(
            equity - self.maintenance_margin(account, price), value, notional
        )
        call_keep = collateral_share(
            equity - self.margin_call_level(account, price), value, notional
        )
        collateral.triggers[account.account_id] = (
            collateral.trigger(asset, units, value - liquidation_keep),
            collateral.trigger(asset, units, value - call_keep),
        )
        wallet = account.wallet
        return wallet + value - liquidation_keep, wallet + value - call_keep
