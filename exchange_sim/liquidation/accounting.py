"""Money of the liquidation process (pure core): fill accounting, negative balances, bad debt.

**Where money lives** (one insurance fund per instrument; "shared vs per-instrument" is moot with
one instrument). The fund's balance (:class:`InsuranceFund`) and the vault's cash
(:class:`BackstopVault`) live outside the ledger; each holder has a ledger account that holds
**positions only**: its realised results (unwind fills, fees, funding) land in the account's
wallet and are swept out to the fund balance / vault cash after every step. Every move here is a
pair (one side in an account, the other in the fund, the vault or the bad-debt record), so after
every step

    money_in_accounts + fees_collected + fund.balance + vault.cash - bad_debt_outstanding
        == deposits - withdrawals + fund seed + vault capital

exactly (:func:`money_identity`; it also holds between sweeps, since the holder accounts are
ledger accounts and count in ``money_in_accounts``).

**Fills** (:meth:`LiquidationAccounting.settle_fill`, by the order's fee mode, see
:mod:`~exchange_sim.liquidation.policies`): ``liquidation_fee`` moves ``rate x fill notional``
(rounded UP, capped at the account's remaining equity so the fee never creates a deficit) to the
fund (Binance §4.1); ``bankrupt`` books ``(fill - bankruptcy) x size x side`` to or from the fund
(§5.1: the account of a taken-over position keeps nothing beyond the bankruptcy price);
``dydx`` takes ``min(max_fee x |quote|, surplus)`` or covers the shortfall (§4.5 step 6).

**Negative balances** of a flat account (:meth:`LiquidationAccounting.cover_negative`) walk the
waterfall's stages in order: ``fund`` pays what it can (§4.1 step 5: "the insurance fund pays it
back to 0"); the rest is written off and recorded as **bad debt** (``bad_debt``), which a
``socialise`` stage claws back from profitable accounts (§5.5, ``bad_debt_covered``); otherwise it
stays recorded.
"""

from __future__ import annotations

from collections.abc import Container

from exchange_sim.core.contract import Valuation, linear_only
from exchange_sim.liquidation import planners
from exchange_sim.liquidation.insurance_fund import InsuranceFund, liquidation_fill_delta
from exchange_sim.liquidation.policies import FEE_BANKRUPT, FEE_DYDX, FEE_LIQUIDATION
from exchange_sim.liquidation.socialised_loss import clawback, emit_clawback
from exchange_sim.liquidation.vault import BackstopVault


def money_identity(
    ledger,
    fund: InsuranceFund,
    vault: BackstopVault | None = None,
    bad_debt_outstanding: int = 0,
    other_ledgers: int = 0,
) -> tuple[int, int]:
    """``(left, right)`` of the conservation identity (see the module docstring); equal after
    every liquidation step. ``other_ledgers``: money held by other venue ledgers outside the
    accounts (e.g. the funding residue account)."""
    left = (
        ledger.money_in_accounts()
        + ledger.fees_collected
        + ledger.value_residue
        + fund.balance
        + (vault.cash if vault is not None else 0)
        - bad_debt_outstanding
        + other_ledgers
    )
    right = (
        ledger.total_deposits
        - ledger.total_withdrawals
        + fund.initial_balance
        + fund.injected
        + (vault.capital if vault is not None else 0)
        + ledger.collateral.desk_paid
    )
    return left, right


class LiquidationAccounting:
    """The money side of one instrument's liquidations. ``busy`` holds the accounts in the
    liquidation pipeline (not eligible for ADL or clawback); ``venue_accounts`` the holders'."""

    def __init__(
        self,
        log,
        ledger,
        money_per_tick_lot: Valuation,
        config,
        fund: InsuranceFund,
        fund_account_id: int,
        vault: BackstopVault | None,
    ) -> None:
        self.log = log
        self.ledger = ledger
        self.money_per_tick_lot = money_per_tick_lot
        self.config = config
        self.stages = tuple(config.waterfall)
        self.fund = fund
        self.fund_account_id = fund_account_id
        self.vault = vault
        self.fill_listeners: list = []
        """``listener(now, liquidation_fill_seq, order_side, price_ticks, lots)`` after each forced
        fill (the venue's public liquidation stream)."""
        self.bad_debt_outstanding = 0
        self.bad_debt_total = 0
        self.busy: Container[int] = ()
        venue = {fund_account_id}
        if vault is not None:
            venue.add(vault.account_id)
        self.venue_accounts = frozenset(venue)

    def identity(self, other_ledgers: int = 0) -> tuple[int, int]:
        """:func:`money_identity` of this instrument."""
        return money_identity(
            self.ledger, self.fund, self.vault, self.bad_debt_outstanding, other_ledgers
        )

    def eligible(self, account, exclude: int) -> bool:
        account_id = account.account_id
        return (
            account.size_lots != 0
            and account_id != exclude
            and account_id not in self.venue_accounts
            and account_id not in self.busy
        )

    def settle_fill(
        self,
        now: int,
        trade_seq: int,
        account,
        order_id: int,
        purpose: str,
        fee_mode: str,
        side: int,
        price: int,
        lots: int,
        bankrupt_price: int | None,
        mark: int,
    ) -> int:
        """Settle one fill that closed ``lots`` of ``account``'s position of ``side`` (+1 long;
        already applied by the ledger); log ``liquidation_fill`` and the fund's side of it (by
        ``fee_mode``, see :mod:`~exchange_sim.liquidation.policies`); return the fill's seq."""
        ledger, fund, money_per_tick_lot = self.ledger, self.fund, self.money_per_tick_lot
        to_fund = from_fund = 0
        if fee_mode == FEE_LIQUIDATION:
            fee = planners.fee_amount(price, lots, money_per_tick_lot, self.config.liquidation_fee)
            # What the account can pay: its equity while it holds a position (here, or in
            # another perpetual its one wallet backs: that position's uPnL counts), else its
            # collateral.
            open_somewhere = account.size_lots or self.backs_other_positions(account)
            room = ledger.equity(account, mark) if open_somewhere else account.collateral
            to_fund = min(fee, max(room, 0))
        elif fee_mode == FEE_BANKRUPT and bankrupt_price is not None:
            delta = liquidation_fill_delta(side, price, bankrupt_price, lots, money_per_tick_lot, 0)
            to_fund, from_fund = (delta, 0) if delta > 0 else (0, min(-delta, fund.balance))
        elif fee_mode == FEE_DYDX and bankrupt_price is not None:
            fee, owed = planners.dydx_fill_split(
                side,
                price,
                bankrupt_price,
                lots,
                linear_only(money_per_tick_lot),
                self.config.policy.max_fee,
            )
            to_fund, from_fund = fee, min(owed, fund.balance)
        seq = self.log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "liquidation_fill",
                "cause": trade_seq,
                "account_id": account.account_id,
                "order_id": order_id,
                "purpose": purpose,
                "price_ticks": price,
                "size_lots": lots,
                "bankruptcy_price_ticks": bankrupt_price,
                "fund_delta": to_fund - from_fund,
                "position_lots": account.size_lots,
            }
        )
        for listener in self.fill_listeners:
            listener(now, seq, -side, price, lots)
        if fee_mode == FEE_BANKRUPT and bankrupt_price is not None:
            # The §5.1 booking itself; the account pays the surplus or receives what is covered.
            fund.on_liquidation_fill(
                now,
                side,
                price,
                bankrupt_price,
                lots,
                money_per_tick_lot,
                0,
                seq,
                account.account_id,
            )
            if to_fund:
                ledger.adjust_collateral(now, account.account_id, -to_fund, seq)
            self.credit(now, seq, account, from_fund)
            return seq
        if to_fund:
            ledger.adjust_collateral(now, account.account_id, -to_fund, seq)
            fund.deposit(now, to_fund, seq, "liquidation_fee", account.account_id)
        if from_fund:
            self.credit(
                now,
                seq,
                account,
                fund.cover(now, from_fund, seq, "liquidation_fill", account.account_id),
            )
        return seq

    # -- negative balances -------------------------------------------------------------------
    def settle_flat(
        self, now: int, cause: int, account, bankrupt: bool, wallet_base: int, mark: int
    ) -> int:
        """End of a liquidation: a flat bankrupt account's leftover goes to the fund ("remaining
        collateral", §4.1-§4.3); a negative balance goes down the waterfall. A cross account
        still holding a position in another perpetual is netted instead: its wallet backs that
        position, and what is left of it (or owed) is settled when its last position closes
        (*assumption*: the reference gives no venue's rule; one wallet, one settlement)."""
        if account.size_lots or self.backs_other_positions(account):
            return cause
        if bankrupt:
            leftover = account.wallet - wallet_base if account.isolated else account.wallet
            if leftover > 0:
                self.ledger.adjust_collateral(now, account.account_id, -leftover, cause)
                self.fund.deposit(now, leftover, cause, "collateral", account.account_id)
        return self.cover_negative(now, cause, account, mark)

    def cover_negative(self, now: int, cause: int, account, mark: int) -> int:
        """Pay a flat account's negative balance (wallet, or isolated bucket) back to 0: the
        ``fund`` stage first, then a write-off as bad debt (which ``socialise`` may cover).
        Nothing while the wallet backs the account's position in another perpetual (netted)."""
        if account.size_lots or self.backs_other_positions(account):
            return cause
        remaining = max(0, -account.wallet) + max(0, -account.isolated_margin)
        for stage in self.stages:
            if not remaining:
                break
            if stage == "fund" and account.account_id != self.fund_account_id:
                paid = self.fund.cover(now, remaining, cause, "cover", account.account_id)
                self.credit(now, cause, account, paid)
                remaining -= paid
            elif stage == "socialise":
                cause = self.write_off(now, cause, account, remaining, mark)
                remaining = 0
        if remaining:
            cause = self.write_off(now, cause, account, remaining, mark)
        return cause

    def backs_other_positions(self, account) -> bool:
        """Whether the account's (shared) wallet still backs a position in another perpetual
        (whatever it holds in this one)."""
        cross = self.ledger.cross
        return (
            cross is not None
            and cross.is_member(account)
            and cross.holds_elsewhere(account.account_id, self.ledger)
        )

    def credit(self, now: int, cause: int, account, amount: int) -> None:
        """Add ``amount`` to the account's collateral. A flat isolated account's negative bucket
        is filled first, written directly: ``Ledger.adjust_collateral`` credits the wallet of a
        flat account, and the trader's wallet must not pay an isolated position's deficit."""
        if amount <= 0:
            return
        if account.isolated and not account.size_lots and account.isolated_margin < 0:
            take = min(amount, -account.isolated_margin)
            account.isolated_margin += take
            amount -= take
            if not amount:
                self.ledger.refresh(now, account, cause)
                return
        self.ledger.adjust_collateral(now, account.account_id, amount, cause)

    def write_off(self, now: int, cause: int, account, amount: int, mark: int) -> int:
        self.bad_debt_outstanding += amount
        self.bad_debt_total += amount
        seq = self.log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "bad_debt",
                "cause": cause,
                "account": account.account_id,
                "amount": amount,
                "outstanding": self.bad_debt_outstanding,
            }
        )
        self.credit(now, seq, account, amount)
        if "socialise" in self.stages:
            seq = self.socialise(now, seq, amount, mark)
        return seq

    def socialise(self, now: int, cause: int, amount: int, mark: int) -> int:
        """Claw ``amount`` of recorded bad debt back from profitable accounts (§5.5), pro rata
        to their unrealised profit at the mark (the simulator keeps no daily PnL)."""
        ledger = self.ledger
        profits = [
            (a.account_id, ledger.unrealised_pnl(a, mark))
            for a in ledger.accounts.values()
            if self.eligible(a, -1)
        ]
        result = clawback(amount, 0, profits)
        seqs = emit_clawback(self.log, now, cause, result)
        for (account_id, charge), seq in zip(result.charges, seqs, strict=True):
            ledger.adjust_collateral(now, account_id, -charge, seq)
        if result.residue > 0:
            self.fund.deposit(now, result.residue, cause, "clawback_residue")
        covered = amount - result.uncollected
        if covered:
            self.bad_debt_outstanding -= covered
            cause = self.log.emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "bad_debt_covered",
                    "cause": cause,
                    "amount": covered,
                    "outstanding": self.bad_debt_outstanding,
                    "stage": "socialise",
                }
            )
        return cause

    # -- holders' realised results -----------------------------------------------------------
    def sweep_fund(self, now: int, cause: int) -> int:
        """Move the fund account's wallet (its realised result) into or out of the fund; a loss
        beyond the balance is written off as bad debt."""
        account = self.ledger.accounts[self.fund_account_id]
        wallet = account.wallet
        if wallet > 0:
            self.ledger.adjust_collateral(now, self.fund_account_id, -wallet, cause)
            self.fund.deposit(now, wallet, cause, "takeover_pnl", self.fund_account_id)
        elif wallet < 0:
            paid = self.fund.cover(now, -wallet, cause, "takeover_loss", self.fund_account_id)
            if paid:
                self.ledger.adjust_collateral(now, self.fund_account_id, paid, cause)
            if paid < -wallet:
                mark = self.ledger.mark_price()
                cause = self.write_off(now, cause, account, -wallet - paid, mark or 0)
        return cause
