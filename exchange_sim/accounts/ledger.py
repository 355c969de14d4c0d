"""The accounts ledger (pure): wallets, positions, fees, margin, and exact money conservation.

One linear (quote-settled) perpetual's accounts; a venue with several perpetuals has one
ledger each, joined by cross margin (:mod:`exchange_sim.accounts.cross_margin`). Units: money
in minor units, prices in ticks, sizes in lots.

**Positions** are a signed ``size_lots`` and an exact ``entry_notional`` (money; the average entry
price is ``entry_notional / (|size| x money_per_tick_lot)``, never rounded). A fill that reduces a
position removes the proportional share of the cost basis, ``entry_notional x closed / |size|``,
rounded so the trader's realised PnL rounds down (UP for a long's basis, DOWN for a short's); the
remainder stays in the basis of what is left, so nothing is lost: a full close removes it all.

**Margin modes.** *Cross*: the wallet backs the position; ``equity = wallet + uPnL(mark)``.
*Isolated*: opening fills move the initial margin (at the account's leverage) from the wallet into
the position's ``isolated_margin`` bucket; realised PnL settles into the bucket, and a reduction
returns the bucket's proportional share to the wallet; ``equity = isolated_margin + uPnL(mark)``.
Liquidation when ``equity < MM(notional at mark)`` (Binance ``Collateral < MM``, §2.1); with
``maintenance_on_entry`` (Bybit USDT, §2.3) the MM is taken on the position's entry value instead.

**Conservation.** Every fill moves ``wallet + isolated_margin - signed_entry_notional`` of each
side by exactly the trade's cash flow (``-side x price x lots x m``, zero across both sides), and
fees move money from wallets to ``fees_collected``. Because long and short open interest are
equal, ``Σ uPnL`` at any common price is ``-Σ signed_entry_notional``, so
``Σ (wallet + isolated_margin + uPnL) + fees_collected + other ledgers == deposits - withdrawals``
holds exactly; :meth:`Ledger.money_in_accounts` gives the left side's account part.

**Fees**: ``fee = notional x rate`` rounded UP (a negative maker rate is a rebate whose magnitude
rounds down), charged to the wallet on every fill, liquidation and ADL fills by their own rules.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.accounts.account import Account, FeeSchedule, LinkedAccount
from exchange_sim.accounts.collateral import CollateralAssets
from exchange_sim.accounts.collateral_ledger import CollateralHoldings
from exchange_sim.accounts.cross_margin import CrossMargin
from exchange_sim.accounts.liquidation_price import bankruptcy_price
from exchange_sim.accounts.pretrade import PreTradeChecks
from exchange_sim.accounts.side_margin import MarginRules, SideMargin
from exchange_sim.accounts.triggers import step_up_price
from exchange_sim.accounts.valuation import Valuation
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE


class Ledger(Valuation, PreTradeChecks, CollateralHoldings, MarginRules):
    """All accounts of the instrument, with the hooks the engine and risk monitor call."""

    __slots__ = (
        "_emit",
        "_emit_record",
        "_mptl",
        "accounts",
        "change_listeners",
        "collateral",
        "cross",
        "fallback_price",
        "fees",
        "fees_collected",
        "flat_below_zero",
        "maintenance_on_entry",
        "margin",
        "margin_call_factor_ppb",
        "mark_price",
        "money_per_tick_lot",
        "open_orders",
        "tiers",
        "total_deposits",
        "total_withdrawals",
        "value_residue",
    )

    inverse = False
    """Whether positions are inverse (:mod:`exchange_sim.accounts.inverse_ledger`): trigger
    prices' ``None`` then means *already* for a long and *never* for a short."""

    def __init__(
        self,
        log,
        money_per_tick_lot: int,
        tiers,
        fees: FeeSchedule,
        margin_call_factor_ppb: int = 1_500_000_000,
        maintenance_on_entry: bool = False,
    ) -> None:
        self._emit = log.emit
        self._emit_record = log.emit_record
        self._mptl = money_per_tick_lot
        self.money_per_tick_lot = money_per_tick_lot
        self.tiers = tiers
        self.fees = fees
        self.margin_call_factor_ppb = margin_call_factor_ppb
        self.maintenance_on_entry = maintenance_on_entry
        self.margin = SideMargin(tiers, margin_call_factor_ppb, maintenance_on_entry)
        """Each side's tiers and trigger levels (:mod:`exchange_sim.accounts.side_margin`):
        ``tiers`` plus, for the side paying it, the funding term (BitMEX)."""
        self.accounts: dict[int, Account] = {}
        self.fees_collected = 0
        self.total_deposits = 0
        self.total_withdrawals = 0
        self.value_residue = 0
        """What trades left the exchange by rounding values (always 0 here; an inverse ledger's
        seller's value exceeds the buyer's by up to one minor unit per trade)."""
        self.mark_price: Callable[[], int | None] = lambda: None
        self.fallback_price: Callable[[], int | None] = lambda: None
        self.open_orders: Callable[[int], list] = lambda account_id: []
        self.change_listeners: list[Callable[[int, Account, int | None], None]] = []
        self.collateral = CollateralAssets({}, {})
        self.flat_below_zero: Callable[[int, Account, int, int], None] | None = None
        """Called with ``(now, account, position seq, trade price)`` when a trade leaves an
        account flat with a negative balance (the venue settles it:
        :meth:`Instrument._trade_shortfall`)."""
        self.cross: CrossMargin | None = None
        """Cross margin over several perpetuals (:mod:`exchange_sim.accounts.cross_margin`);
        None in a venue of one perpetual."""
        """Accepted collateral assets (:mod:`exchange_sim.accounts.collateral`); none by default."""

    # -- accounts and money in/out -----------------------------------------------------------
    def open_account(
        self,
        account_id: int,
        isolated: bool = False,
        leverage: int = 20,
        owner: str = "",
        role: str = "",
    ) -> Account:
        """Register an account (before the run; logged by :meth:`announce_accounts`)."""
        if account_id in self.accounts:
            raise ValueError(f"account {account_id} exists")
        if leverage < 1:
            raise ValueError("leverage must be >= 1")
        account = Account(account_id, isolated=isolated, leverage=leverage, owner=owner, role=role)
        self.accounts[account_id] = account
        return account

    def open_linked_account(
        self, home: Account, isolated: bool, leverage: int, owner: str, role: str
    ) -> LinkedAccount:
        """Register ``home``'s account in this ledger: its own position here, ``home``'s wallet
        (:class:`LinkedAccount`); logged by :meth:`announce_accounts` like any other."""
        if home.account_id in self.accounts:
            raise ValueError(f"account {home.account_id} exists")
        account = LinkedAccount(home, isolated, leverage, owner, role)
        self.accounts[home.account_id] = account
        return account

    def announce_accounts(self, now: int) -> None:
        """Log one ``account_opened`` per account, in the order they were opened (the run's
        first events after ``run_start``: the setup a reader needs to tell traders from the
        venue's own accounts)."""
        emit_record = self._emit_record
        for account in self.accounts.values():
            emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "account_opened",
                    "cause": None,
                    "account_id": account.account_id,
                    "participant": account.owner,
                    "role": account.role,
                    "isolated": account.isolated,
                    "leverage": account.leverage,
                }
            )

    def deposit(
        self,
        now: int,
        account_id: int,
        amount: int,
        cause: int | None,
        ts_sent: int | None = None,
        purpose: str = "deposit",
        asset: str = "",
    ) -> tuple[int, str | None]:
        """Credit ``amount`` (> 0) to the wallet; in isolated mode with a position, to its bucket
        (a margin top-up). Logged as ``deposit`` (``ts_sent``: when the owner sent it, default
        now). Returns ``(seq, None)``, or ``(seq, reason)`` of a ``deposit_rejected``."""
        account = self.accounts[account_id]
        if asset and amount > 0 and self.collateral.accepts(asset):
            return self._deposit_collateral(now, account, asset, amount, cause, ts_sent, purpose)
        if amount <= 0 or asset:
            reason = "non_positive_amount" if amount <= 0 else "asset_not_accepted"
            seq = self._emit(
                now, "deposit_rejected", cause, account_id=account_id, amount=amount, reason=reason
            )
            return seq, reason
        if account.isolated and account.size_lots:
            account.isolated_margin += amount
        else:
            account.wallet += amount
        # The first deposit keeps the amount's own int (a million accounts funded alike share it).
        account.deposited = account.deposited + amount if account.deposited else amount
        self.total_deposits += amount
        seq = self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "deposit",
                "cause": cause,
                "account_id": account_id,
                "amount": amount,
                "purpose": purpose,
                "ts_sent": now if ts_sent is None else ts_sent,
                "wallet": account.wallet,
                "isolated_margin": account.isolated_margin,
            }
        )
        self.refresh(now, account, seq)
        return seq, None

    def withdraw(
        self, now: int, account_id: int, amount: int, cause: int | None, ts_sent: int | None = None
    ) -> tuple[int, str | None]:
        """Debit the wallet if what stays covers initial margin; else ``withdrawal_rejected``.
        Returns ``(seq, None)`` or ``(seq, reason)``."""
        account = self.accounts[account_id]
        available = self.available_balance(account)
        if account.holder.holdings and available > account.wallet:
            available = account.wallet  # collateral backs margin; only the wallet is paid out
        if amount <= 0 or amount > available:
            reason = "non_positive_amount" if amount <= 0 else "insufficient_available"
            seq = self._emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "withdrawal_rejected",
                    "cause": cause,
                    "account_id": account_id,
                    "amount": amount,
                    "available": available,
                    "reason": reason,
                }
            )
            return seq, reason
        account.wallet -= amount
        account.withdrawn += amount
        self.total_withdrawals += amount
        seq = self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "withdrawal",
                "cause": cause,
                "account_id": account_id,
                "amount": amount,
                "ts_sent": now if ts_sent is None else ts_sent,
                "wallet": account.wallet,
            }
        )
        self.refresh(now, account, seq)
        return seq, None

    def adjust_collateral(self, now: int, account_id: int, amount: int, cause: int) -> None:
        """Move ``amount`` (either sign) into the account's collateral: the wallet in cross mode,
        the isolated bucket in isolated mode. The caller logs the reason (e.g. ``funding_payment``
        with seq ``cause``) and accounts for the other side of the money; triggers are recomputed
        and change listeners told (a payment can push an account under maintenance)."""
        account = self.accounts[account_id]
        if account.isolated and account.size_lots:
            account.isolated_margin += amount
        else:
            account.wallet += amount
        self.refresh(now, account, cause)

    def on_trade(self, now: int, seq: int, maker, taker, price: int, size: int) -> None:
        """Engine hook: apply both sides of a trade (maker first); then tell
        :attr:`flat_below_zero` of a side the trade left flat with a negative balance (a close
        that walked the book past its bankruptcy price)."""
        fees = self.fees
        maker_account = self.accounts.get(maker.account_id)
        maker_seq = taker_seq = 0
        if maker_account is not None:
            maker_seq = self.apply_fill(
                now, seq, maker_account, maker.side, price, size, fees.maker_fee_ppb
            )
        taker_account = self.accounts.get(taker.account_id)
        if taker_account is not None:
            taker_seq = self.apply_fill(
                now, seq, taker_account, taker.side, price, size, fees.taker_fee_ppb
            )
        hook = self.flat_below_zero
        if hook is not None:  # attribute tests inline: this runs on every trade
            if (
                maker_account is not None
                and not maker_account.size_lots
                and (maker_account.wallet < 0 or maker_account.isolated_margin < 0)
            ):
                hook(now, maker_account, maker_seq, price)
            if (
                taker_account is not None
                and not taker_account.size_lots
                and (taker_account.wallet < 0 or taker_account.isolated_margin < 0)
            ):
                hook(now, taker_account, taker_seq, price)

    # -- fills ---------------------------------------------------------------------------------
    def apply_fill(
        self, now: int, cause: int, account: Account, side: int, price: int, lots: int, fee_ppb: int
    ) -> int:
        """Apply one fill to ``account`` and log its ``position`` event; return that seq."""
        mptl = self._mptl
        fill_notional = price * lots * mptl
        fee = div_round(fill_notional * fee_ppb, RATE_SCALE, UP)
        size = account.size_lots
        realised = 0
        if size == 0 or (size > 0) == (side > 0):
            self._open(account, side, lots, fill_notional)
        else:
            held = size if size > 0 else -size
            closing = lots if lots < held else held
            if closing == held:
                removed = account.entry_notional
            else:
                removed = div_round(
                    account.entry_notional * closing, held, UP if size > 0 else DOWN
                )
            exit_notional = price * closing * mptl
            realised = exit_notional - removed if size > 0 else removed - exit_notional
            account.entry_notional -= removed
            account.size_lots = size + side * closing
            account.realised_pnl += realised
            self._settle_close(account, realised, closing, held)
            if lots > closing:
                self._open(account, side, lots - closing, price * (lots - closing) * mptl)
        return self._book_fill(now, cause, account, side, price, lots, fee, realised)

    def _settle_close(self, account: Account, realised: int, closing: int, held: int) -> None:
        """Move a reducing fill's realised PnL: into the wallet (cross), or into the isolated
        bucket, whose proportional share (all of it on a full close) goes back to the wallet."""
        if account.isolated:
            bucket = account.isolated_margin + realised
            if account.size_lots == 0:
                released = bucket if bucket > 0 else 0
            else:
                released = div_round(bucket * closing, held, DOWN) if bucket > 0 else 0
            account.isolated_margin = bucket - released
            account.wallet += released
        else:
            account.wallet += realised

    def _book_fill(
        self,
        now: int,
        cause: int,
        account: Account,
        side: int,
        price: int,
        lots: int,
        fee: int,
        realised: int,
    ) -> int:
        """Charge a fill's fee, re-price the account's triggers, log its ``position`` event and
        tell the listeners; return the event's seq (both ledgers' fills end here)."""
        account.wallet -= fee
        paid = account.fees_paid
        account.fees_paid = paid + fee if paid else fee  # a first fee: the logged int, shared
        self.fees_collected += fee
        self._refresh_prices(account)
        seq = self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "position",
                "cause": cause,
                "account_id": account.account_id,
                "side": side,
                "price_ticks": price,
                "size_lots": lots,
                "fee": fee,
                "realised_pnl": realised,
                "position_lots": account.size_lots,
                "entry_notional": account.entry_notional,
                "wallet": account.wallet,
                "isolated_margin": account.isolated_margin,
                "liquidation_price_ticks": account.liquidation_price,
                "bankruptcy_price_ticks": account.bankruptcy_price,
            }
        )
        self._changed(now, account, seq)
        return seq

    def _open(self, account: Account, side: int, lots: int, notional: int) -> None:
        account.size_lots += side * lots
        account.entry_notional += notional
        if account.isolated:
            margin = self.tiers.initial_margin(notional, account.leverage)
            moved = margin if margin < account.wallet else max(account.wallet, 0)
            account.wallet -= moved
            account.isolated_margin += moved

    def close_pnl(self, account: Account, price: int) -> int:
        """The realised PnL of closing the whole position at ``price`` (no fee)."""
        size = account.size_lots
        side = 1 if size > 0 else -1
        return side * (price * abs(size) * self._mptl) - side * account.entry_notional

    def transfer_position(
        self, now: int, cause: int, source: Account, target: Account, price: int, lots: int
    ) -> tuple[int, int]:
        """Move ``lots`` of ``source``'s position to ``target`` at ``price`` with no fee (takeovers,
        ADL): a fill of ``source`` closing and of ``target`` on the other side."""
        side = -1 if source.size_lots > 0 else 1
        first = self.apply_fill(now, cause, source, side, price, lots, 0)
        second = self.apply_fill(now, cause, target, -side, price, lots, 0)
        return first, second

    # -- triggers ------------------------------------------------------------------------------
    def _refresh_prices(self, account: Account) -> None:
        size = account.size_lots
        if size == 0:
            account.liquidation_price = account.margin_call_price = account.bankruptcy_price = None
            account.tier_step_price = None
            if account.holdings and not (
                self.cross is not None and self.cross.holds_any(account.account_id)
            ):  # collateral still backs a position in another perpetual: its triggers stay
                self.collateral.triggers.pop(account.account_id, None)
            return
        side = 1 if size > 0 else -1
        lots = size if size > 0 else -size
        mark = self.mark_price()
        current = (
            mark if mark is not None else div_round(account.entry_notional, lots * self._mptl, DOWN)
        )
        entry, collateral, mptl, at = (
            account.entry_notional,
            account.collateral,
            self._mptl,
            max(current, 1),
        )
        call_collateral = collateral
        if account.holdings or (self.cross is not None and self.cross.is_member(account)):
            collateral, call_collateral = self._split_slack(account, current)
        margin = self.margin
        account.liquidation_price = margin.liquidation[side].price(
            side, lots, entry, collateral, mptl, at
        )
        account.margin_call_price = margin.call[side].price(
            side, lots, entry, call_collateral, mptl, at
        )
        account.tier_step_price = (
            step_up_price(self.tiers, lots * self._mptl, current)
            if side > 0 and not self.maintenance_on_entry
            else None
        )
        held = account.collateral
        if account.holdings:
            held += self.collateral.holdings_value(account.holdings)
        if self.cross is not None and self.cross.is_member(account):
            held += self.cross.other_equity(account, self)
        account.bankruptcy_price = bankruptcy_price(
            side, lots, account.entry_notional, held, self._mptl
        )

    def refresh_prices(self, account: Account) -> None:
        """Recompute an account's trigger and bankruptcy prices (no listener is told)."""
        self._refresh_prices(account)

    def refresh(self, now: int, account: Account, cause: int | None) -> None:
        """Recompute an account's trigger prices after an outside change (a funding payment)."""
        self._refresh_prices(account)
        self._changed(now, account, cause)

    def _changed(self, now: int, account: Account, seq: int | None) -> None:
        for listener in self.change_listeners:
            listener(now, account, seq)
