"""The ledger of an inverse (coin-margined) perpetual (pure): BitMEX XBTUSD's accounts.

Money is in minor units of the *base* asset (satoshis); a position of ``Q`` lots is worth ``Q k
/ P`` (:class:`~exchange_sim.core.contract.InverseContract`). The arithmetic is
:mod:`exchange_sim.accounts.inverse`'s, per fill:

* a fill is valued once: a buy's value rounded DOWN, a sell's UP; a flip's closing part is
  valued as its own fill and the opening part gets the rest;
* ``entry_notional`` holds the position's *entry value* (the sum of its opening fills' values,
  in coin); a reduction removes its proportional share, rounded so the trader's realised PnL
  rounds down (DOWN for a long, UP for a short);
* realised PnL is ``removed - exit value`` for a long and ``exit value - removed`` for a short
  (a long gains when its contracts are worth fewer coins);
* the seller's value of a trade exceeds the buyer's by 0 or 1 minor unit: the exchange's,
  booked at the sell fill into :attr:`Ledger.value_residue`, which the money identity counts.

So each account's ``collateral + side x entry_value`` moves by exactly its fill's value (a buy
``+V``, a sell ``-V``), and ``Σ (collateral + side x entry_value) + fees + value_residue`` is
conserved: with equal open interest the ``V(P)`` terms of ``Σ uPnL`` cancel at any common price,
as the linear ledger's do.

Trigger and bankruptcy prices are solved in value and converted to prices
(:mod:`exchange_sim.accounts.inverse_triggers`). Their ``None`` is the mirror of the linear
ledger's: a long's ``None`` is *already* (at every price), a short's *never*; the risk monitor
reads them so (``Ledger.inverse``).

Not supported for an inverse perpetual (the config refuses them): collateral assets, several
perpetuals (cross margin over markets), spot markets.
"""

from __future__ import annotations

from exchange_sim.accounts.account import Account
from exchange_sim.accounts.inverse import bankruptcy_price
from exchange_sim.accounts.inverse_triggers import (
    liquidation_price,
    short_step_price,
)
from exchange_sim.accounts.ledger import Ledger
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE


class InverseLedger(Ledger):
    """A :class:`Ledger` whose positions are valued ``Q k / P`` in the base asset."""

    __slots__ = ("_k",)

    inverse = True

    def __init__(
        self,
        log,
        inverse_k: int,
        tiers,
        fees,
        margin_call_factor_ppb: int = 1_500_000_000,
        maintenance_on_entry: bool = False,
    ) -> None:
        super().__init__(log, 0, tiers, fees, margin_call_factor_ppb, maintenance_on_entry)
        self._k = inverse_k
        # No money per tick-lot: a linear formula left on this ledger's path fails loudly.
        self._mptl = self.money_per_tick_lot = None  # type: ignore[assignment]

    # -- valuation -----------------------------------------------------------------------------
    def lots_value(self, lots: int, price: int) -> int:
        """A long's value of ``lots`` at ``price`` (rounded UP: the larger margin basis)."""
        return div_round(lots * self._k, price, UP)

    def notional(self, account: Account, price: int) -> int:
        size = account.size_lots
        if size >= 0:
            return div_round(size * self._k, price, UP)
        return div_round(-size * self._k, price, DOWN)

    def unrealised_pnl(self, account: Account, price: int) -> int:
        size = account.size_lots
        if not size:
            return 0
        entry = account.entry_notional
        if size > 0:
            return entry - div_round(size * self._k, price, UP)
        return div_round(-size * self._k, price, DOWN) - entry

    def current_price(self, account: Account) -> int:
        mark = self.mark_price()
        if mark is None:
            mark = self.fallback_price()
        if mark is None:
            lots = account.size_lots if account.size_lots > 0 else -account.size_lots
            mark = self._average_entry(account, lots) if lots else 1
        return max(mark, 1)

    def _average_entry(self, account: Account, lots: int) -> int:
        """``Q k / entry_value`` (the harmonic mean of the fills), rounded DOWN."""
        entry = account.entry_notional
        return div_round(lots * self._k, entry, DOWN) if entry > 0 else 1

    def money_in_accounts(self) -> int:
        """``Σ (wallet + isolated_margin + side x entry_value)`` (the module docstring)."""
        return sum(
            a.wallet + a.isolated_margin + a.signed_entry_notional for a in self.accounts.values()
        )

    def close_pnl(self, account: Account, price: int) -> int:
        """The realised PnL of closing the whole position at ``price`` (the closing fill's value:
        a sell's UP, a buy's DOWN)."""
        size = account.size_lots
        if size > 0:
            return account.entry_notional - div_round(size * self._k, price, UP)
        return div_round(-size * self._k, price, DOWN) - account.entry_notional

    # -- fills ---------------------------------------------------------------------------------
    def apply_fill(
        self, now: int, cause: int, account: Account, side: int, price: int, lots: int, fee_ppb: int
    ) -> int:
        """Apply one fill to ``account`` and log its ``position`` event; return that seq."""
        k = self._k
        total = div_round(lots * k, price, DOWN if side > 0 else UP)
        if side < 0:  # the seller's value less the buyer's: the exchange's
            self.value_residue += total - div_round(lots * k, price, DOWN)
        fee = div_round(total * fee_ppb, RATE_SCALE, UP)
        size = account.size_lots
        realised = 0
        if size == 0 or (size > 0) == (side > 0):
            self._open(account, side, lots, total)
        else:
            held = size if size > 0 else -size
            closing = lots if lots < held else held
            if closing == held:
                removed = account.entry_notional
            else:
                removed = div_round(
                    account.entry_notional * closing, held, DOWN if size > 0 else UP
                )
            exit_value = (
                total
                if closing == lots
                else div_round(closing * k, price, DOWN if side > 0 else UP)
            )
            realised = removed - exit_value if size > 0 else exit_value - removed
            account.entry_notional -= removed
            account.size_lots = size + side * closing
            account.realised_pnl += realised
            self._settle_close(account, realised, closing, held)
            if lots > closing:
                self._open(account, side, lots - closing, total - exit_value)
        return self._book_fill(now, cause, account, side, price, lots, fee, realised)

    # -- triggers ------------------------------------------------------------------------------
    def _refresh_prices(self, account: Account) -> None:
        size = account.size_lots
        if size == 0:
            account.liquidation_price = account.margin_call_price = account.bankruptcy_price = None
            account.tier_step_price = None
            return
        side = 1 if size > 0 else -1
        lots = size if size > 0 else -size
        current = self.current_price(account)
        k, entry, collateral = self._k, account.entry_notional, account.collateral
        margin = self.margin
        account.liquidation_price = liquidation_price(
            margin.liquidation[side], side, lots, entry, collateral, k, current
        )
        account.margin_call_price = liquidation_price(
            margin.call[side], side, lots, entry, collateral, k, current
        )
        account.tier_step_price = (
            short_step_price(self.tiers, lots, k, current)
            if side < 0 and not self.maintenance_on_entry
            else None
        )
        account.bankruptcy_price = bankruptcy_price(
            side=side, size_lots=lots, entry_value=entry, margin_balance=collateral, k=k
        )

    def reference_liquidation_price(self, account: Account) -> int | None:
        size = account.size_lots
        if not size:
            return None
        side = 1 if size > 0 else -1
        return liquidation_price(
            self.margin.liquidation[side],
            side,
            abs(size),
            account.entry_notional,
            account.collateral,
            self._k,
            self.current_price(account),
        )
