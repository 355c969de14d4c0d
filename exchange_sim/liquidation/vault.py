"""The backstop (liquidator) vault: takes positions over and unwinds them (pure core).

Hyperliquid §4.6 step 3: when book liquidation fails (equity < 2/3 MM), the liquidator vault takes
the account's positions and margin over; "the MM is not returned, so the vault is profitable on
average". After the JELLYJELLY event it got a collateral cap (§4.6), modelled here as
``max_leverage``: the vault accepts a takeover only while its position notional stays within
``equity x max_leverage``.

**Money.** The vault's cash (``cash``, starting at ``capital``) lives outside the ledger; its
positions live in a ledger account of its own (``account_id``) that holds positions only. Every
realised result of that account (unwind fills, fees, funding) lands in the account's wallet and is
swept into ``cash`` by :meth:`BackstopVault.sweep`, so ``cash - capital`` is the vault's realised
PnL. Cash may go negative: the vault is then under-collateralised (Hyperliquid's sub-vaults "were
temporarily undercollateralized by design", §5.7) and stops accepting takeovers.
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.define
class BackstopVault:
    """One vault for the instrument; ``log`` receives its ``vault`` events."""

    account_id: int
    capital: int
    log: Any
    max_leverage: int = 0
    takeover_price_rule: str = "bankruptcy"
    discount_ppb: int = 0
    cash: int = attrs.field(init=False)
    takeovers: int = attrs.field(init=False, default=0)

    def __attrs_post_init__(self) -> None:
        self.cash = self.capital

    @property
    def realised_pnl(self) -> int:
        return self.cash - self.capital

    def equity(self, ledger, mark_ticks: int) -> int:
        """Cash plus the vault account's unswept wallet and open PnL at the mark."""
        account = ledger.accounts[self.account_id]
        return self.cash + account.wallet + ledger.unrealised_pnl(account, mark_ticks)

    def accepts(
        self, ledger, added_lots: int, price_ticks: int, mark_ticks: int, money_per_tick_lot: int
    ) -> bool:
        """Whether the vault can take ``added_lots`` (signed, the position it would receive) at
        ``price_ticks``: its equity after (the new position marked at ``mark``) must be positive
        and, with ``max_leverage``, cover its whole position notional / ``max_leverage``."""
        account = ledger.accounts[self.account_id]
        equity = (
            self.equity(ledger, mark_ticks)
            + added_lots * (mark_ticks - price_ticks) * money_per_tick_lot
        )
        if equity <= 0:
            return False
        if not self.max_leverage:
            return True
        notional = abs(account.size_lots + added_lots) * mark_ticks * money_per_tick_lot
        return notional <= equity * self.max_leverage

    def sweep(
        self,
        ledger,
        now: int,
        cause: int | None,
        action: str,
        account_id: int | None,
        size_lots: int,
        price_ticks: int | None,
        mark_ticks: int,
    ) -> int | None:
        """Move the vault account's wallet into ``cash`` and log a ``vault`` event (always for a
        takeover or unwind; for ``settle`` only when something moved). Returns the event seq."""
        account = ledger.accounts[self.account_id]
        moved = account.wallet
        if moved:
            self.cash += moved
            ledger.adjust_collateral(now, self.account_id, -moved, cause)
        if action == "settle" and not moved:
            return None
        return self.log.emit(
            now,
            "vault",
            cause,
            action=action,
            account_id=self.account_id if account_id is None else account_id,
            size_lots=size_lots,
            price_ticks=price_ticks,
            position_lots=account.size_lots,
            cash=self.cash,
            realised_pnl=self.realised_pnl,
            unrealised_pnl=ledger.unrealised_pnl(account, mark_ticks),
        )

    def receive(self, amount: int) -> None:
        """Cash handed to the vault outside its own account (an account's remaining margin)."""
        self.cash += amount
