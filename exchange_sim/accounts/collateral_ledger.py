"""The ledger's collateral-asset methods (a mixin of :class:`~exchange_sim.accounts.ledger.Ledger`):
deposits of collateral assets, their conversion when the account is liquidated, and the split of
an account's slack between the mark and each collateral price
(:mod:`exchange_sim.accounts.collateral`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchange_sim.accounts.account import Account
from exchange_sim.accounts.cross_margin import split_slack


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

        def position_maintenance(self, account: Account, price: int) -> int: ...

        def position_call_level(self, account: Account, price: int) -> int: ...

        def collateral_value(self, account: Account) -> int: ...

        cross: Any

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
        """Credit ``units`` of a collateral asset (cross accounts only; an account may hold
        several assets); logged as ``collateral_deposit``, or ``deposit_rejected``."""
        if account.isolated:
            seq = self._emit(
                now,
                "deposit_rejected",
                cause,
                account_id=account.account_id,
                amount=units,
                reason="collateral_needs_cross_margin",
            )
            return seq, "collateral_needs_cross_margin"
        collateral = self.collateral
        holder = account.holder  # a linked account's units go to its home account (one pool)
        holdings = holder.holdings
        if holdings is None:
            holdings = holder.holdings = {}
        held = holdings[asset] = holdings.get(asset, 0) + units
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
            collateral_units=held,
            value=collateral.value(asset, held),
        )
        self.refresh(now, account, seq)
        return seq, None

    def convert_collateral(self, now: int, account: Account, cause: int) -> int | None:
        """Take the account's collateral over at its haircut value (the venue's conversion desk
        pays it into the wallet): what a venue does when it liquidates a multi-asset account.
        One ``collateral_converted`` per asset, in the venue's asset order; returns the last
        one's seq, or None without collateral."""
        holdings = account.holdings
        if not holdings:
            return None
        collateral = self.collateral
        account.holdings = None
        collateral.triggers.pop(account.account_id, None)
        seq = None
        for asset, units in collateral.in_order(holdings):
            value = collateral.value(asset, units)
            account.wallet += value
            collateral.desk_units[asset] += units
            collateral.desk_paid += value
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

    def _split_slack(self, account: Account, price: int) -> tuple[int, int]:
        """Split the account's slack over its dimensions (:mod:`exchange_sim.accounts.cross_margin`
        and :mod:`exchange_sim.accounts.collateral`): each cross position's mark and each
        collateral asset's price, in the ledgers' and then the venue's asset order. Records this
        ledger's collateral-price triggers and returns the collateral to solve this position's
        liquidation and margin-call trigger prices with: the wallet plus every *other*
        dimension's current term less what it keeps (``equity - MM`` terms for positions, the
        haircut value for collateral)."""
        cross = self.cross
        if cross is not None and cross.is_member(account):
            entries = [
                (ledger, other, price if ledger is self else ledger.current_price(other))
                for ledger, other in cross.members[account.account_id]
                if not other.isolated
            ]
        else:
            entries = [(self, account, price)]
        exposures: list[int] = []
        liquidation_terms: list[int] = []
        call_terms: list[int] = []
        dimensions: list[tuple[Any, str | None, int]] = []
        """Per dimension: its ledger, asset (None: the position) and units."""
        for ledger, other, at in entries:
            if other.size_lots:
                pnl = ledger.unrealised_pnl(other, at)
                exposures.append(ledger.notional(other, at))
                liquidation_terms.append(pnl - ledger.position_maintenance(other, at))
                call_terms.append(pnl - ledger.position_call_level(other, at))
                dimensions.append((ledger, None, 0))
            if other.holdings:
                assets = ledger.collateral
                for asset, units in assets.in_order(other.holdings):
                    value = assets.value(asset, units)
                    exposures.append(value)
                    liquidation_terms.append(value)
                    call_terms.append(value)
                    dimensions.append((ledger, asset, units))
        wallet = account.wallet
        keep_liquidation = split_slack(wallet + sum(liquidation_terms), exposures)
        keep_call = split_slack(wallet + sum(call_terms), exposures)
        liquidation_collateral = call_collateral = wallet
        triggers: dict[str, tuple[int, int]] = {}
        for i, (ledger, asset, units) in enumerate(dimensions):
            if asset is None and ledger is self:
                continue  # this position's own mark: the trigger price solves for it
            liquidation_collateral += liquidation_terms[i] - keep_liquidation[i]
            call_collateral += call_terms[i] - keep_call[i]
            if asset is not None:  # every ledger derives the same split: any may record it
                assets = self.collateral
                triggers[asset] = (
                    assets.trigger(asset, units, liquidation_terms[i] - keep_liquidation[i]),
                    assets.trigger(asset, units, call_terms[i] - keep_call[i]),
                )
        if triggers:
            self.collateral.triggers[account.account_id] = triggers
        return liquidation_collateral, call_collateral
