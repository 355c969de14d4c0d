"""The loss waterfall (pure core): who takes a position the book could not absorb.

Stages run in the configured order (``LiquidationConfig.waterfall``; exchange_mechanics.md §4-§5).
What the book cannot absorb goes to the first *position stage* that accepts it:

* ``fund``: the insurance fund takes the rest over at the bankruptcy price and the account's
  remaining collateral goes to it (Binance §4.1 step 5, BitMEX/Bybit §4.2-§4.3); it declines when
  ADL is due (``AdlConfig.trigger``: the fund is exhausted or cannot absorb the takeover's loss at
  the mark, or it fell ``drawdown`` from its peak, §5.1) or its position limit is reached (Binance
  2020: "by default 100 % the size of the insurance fund");
* ``vault``: the backstop vault takes it over (Hyperliquid §4.6), within its leverage cap;
* ``adl``: opposite positions ranked by :class:`AdlRanker` are closed at the bankruptcy price or
  the mark (§5.2-§5.7), fee-free, and their open orders cancelled (§5.3, §5.4).

A holder that is the *last* position stage accepts regardless: someone must hold the position
(long and short open interest stay equal). What no stage takes stays with the account
(``unresolved``: the risk monitor hands it over again). Negative balances and bad debt are
:mod:`~exchange_sim.liquidation.accounting`'s.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.core.contract import InverseContract, linear_only
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.liquidation import planners
from exchange_sim.liquidation.accounting import LiquidationAccounting, money_identity
from exchange_sim.liquidation.adl import AdlRanker, emit_adl
from exchange_sim.liquidation.adl_book import AdlBook
from exchange_sim.liquidation.adl_cap import AdlCapConfig, allocate_capped_ranked

__all__ = ["POSITION_STAGES", "Waterfall", "money_identity"]

POSITION_STAGES = ("fund", "vault", "adl")


class Waterfall:
    """The position stages of one instrument. ``cancel_orders(now, account_id, cause)`` cancels
    an ADL'd trader's open orders; ``holder_added(holder, seq)`` is told when the fund or vault
    receives a position (the engine then schedules its unwind)."""

    def __init__(self, accounting: LiquidationAccounting, money_decimals: int) -> None:
        self.accounting = accounting
        self.ledger = accounting.ledger
        self.log = accounting.log
        self.money_per_tick_lot = accounting.money_per_tick_lot
        self.config = accounting.config
        self.stages = accounting.stages
        self.fund = accounting.fund
        self.fund_account_id = accounting.fund_account_id
        self.vault = accounting.vault
        self.venue_accounts = accounting.venue_accounts
        self.ranker = AdlRanker(self.config.adl, self.money_per_tick_lot, money_decimals)
        self.adl_book = AdlBook(self.ledger, accounting, self.ranker)
        """Each side's positions and their ADL ranking, kept between steps."""
        self.cancel_orders: Callable[[int, int, int], object] | None = None
        self.holder_added: Callable[[str, int], None] | None = None
        self.position_moved: Callable[[int, int, str, int, int, int], None] | None = None
        """``position_moved(account_id, seq, reason, side, price, lots)``: tells an account's
        owner that its position was moved without a trade of its own (``adl``, ``takeover``)."""
        self.adl_cap: AdlCapConfig | None = None
        """A per-account cap on one ADL event (:mod:`.adl_cap`); ``None``: no cap."""

    def escalate(self, now: int, cause: int, account, mark: int) -> tuple[str, int]:
        """Hand the account's remaining position to the position stages in order. Returns the
        outcome (``taken_over``, ``deleveraged`` or ``unresolved``) and the last event's seq."""
        stages = [s for s in self.stages if s in POSITION_STAGES]
        outcome = "unresolved"
        for i, stage in enumerate(stages):
            if not account.size_lots:
                break
            last_resort = i == len(stages) - 1
            if stage == "fund":
                seq = self._fund_takeover(now, cause, account, mark, last_resort)
            elif stage == "vault":
                seq = self._vault_takeover(now, cause, account, mark, last_resort)
            else:
                seq = self._adl(now, cause, account, mark)
            if seq is not None:
                cause = seq
                outcome = "deleveraged" if stage == "adl" else "taken_over"
        return outcome, cause

    def _takeover_price(self, account, mark: int) -> int:
        price = account.bankruptcy_price
        return price if price is not None and price >= 1 else mark

    def _transfer_to(
        self,
        now: int,
        cause: int,
        account,
        holder: str,
        holder_id: int,
        price: int,
        mark: int,
        keep_residue: bool,
    ) -> tuple[int, int]:
        """Log ``takeover``, move the whole position to ``holder_id`` at ``price`` and the
        account's leftover collateral out (unless ``keep_residue``, or a cross account's wallet
        still backs its position in another perpetual: netted, settled when that closes, as
        :meth:`LiquidationAccounting.settle_flat` does). Returns (seq, residue)."""
        size = account.size_lots
        side = 1 if size > 0 else -1
        realised = self.ledger.close_pnl(account, price)
        if account.isolated:
            bucket = account.isolated_margin + realised
            residue = bucket if bucket > 0 else 0
        else:
            residue = max(account.wallet + realised, 0)
        if keep_residue or self.accounting.backs_other_positions(account):
            residue = 0
        seq = self.log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "takeover",
                "cause": cause,
                "account_id": account.account_id,
                "holder": holder,
                "holder_account_id": holder_id,
                "position_lots": size,
                "price_ticks": price,
                "mark_price": mark,
                "collateral": residue,
            }
        )
        ledger = self.ledger
        ledger.transfer_position(now, seq, account, ledger.accounts[holder_id], price, abs(size))
        if self.position_moved is not None:
            self.position_moved(account.account_id, seq, "takeover", -side, price, abs(size))
        if residue:
            ledger.adjust_collateral(now, account.account_id, -residue, seq)
        return seq, residue

    def _fund_takeover(self, now: int, cause: int, account, mark: int, force: bool) -> int | None:
        fund, money_per_tick_lot = self.fund, self.money_per_tick_lot
        size = account.size_lots
        price = self._takeover_price(account, mark)
        side = 1 if size > 0 else -1
        if isinstance(money_per_tick_lot, InverseContract):
            # inverse: what closing at the takeover price leaves above closing at the mark
            loss_at_mark = max(0, money_per_tick_lot.settlement_delta(side, abs(size), price, mark))
        else:
            loss_at_mark = max(0, (price - mark) * size * money_per_tick_lot)
        # The fund must also be able to pay for what it already holds: its open loss at the mark
        # counts against its balance (else it keeps taking risk it cannot pay for).
        held_account = self.ledger.accounts[self.fund_account_id]
        held_loss = max(0, -self.ledger.unrealised_pnl(held_account, mark))
        if not force:
            if self.ranker.triggered(fund, now, loss_at_mark + held_loss):
                return None
            limit = self.config.fund_position_limit
            held = self.ledger.accounts[self.fund_account_id].size_lots + size
            if (
                limit
                and self.ledger.lots_value(abs(held), mark) * RATE_SCALE > fund.balance * limit
            ):
                return None
        seq, residue = self._transfer_to(
            now, cause, account, "insurance_fund", self.fund_account_id, price, mark, False
        )
        if residue:
            fund.deposit(now, residue, seq, "collateral", account.account_id)
        self.accounting.sweep_fund(now, seq)
        if self.holder_added is not None:
            self.holder_added("fund", seq)
        return seq

    def _vault_takeover(self, now: int, cause: int, account, mark: int, force: bool) -> int | None:
        vault = self.vault
        if vault is None:
            return None
        size = account.size_lots
        side = 1 if size > 0 else -1
        price = planners.vault_takeover_price(
            side, account.bankruptcy_price, mark, vault.takeover_price_rule, vault.discount_ppb
        )
        if not force and not vault.accepts(
            self.ledger, size, price, mark, linear_only(self.money_per_tick_lot)
        ):
            return None
        keep = vault.takeover_price_rule != "bankruptcy"
        seq, residue = self._transfer_to(
            now, cause, account, "vault", vault.account_id, price, mark, keep
        )
        vault.receive(residue)
        vault.takeovers += 1
        vault.sweep(self.ledger, now, seq, "takeover", account.account_id, size, price, mark)
        if self.holder_added is not None:
            self.holder_added("vault", seq)
        return seq

    def _adl(self, now: int, cause: int, account, mark: int) -> int | None:
        """Close the remaining position against the ADL queue of the opposite side (§5)."""
        ledger = self.ledger
        size = account.size_lots
        side = 1 if size > 0 else -1
        price = self.ranker.close_price_ticks(self._takeover_price(account, mark), mark)
        cap = self.adl_cap
        if cap is None:
            queue, ranked = self.adl_book.queue_head(side, abs(size), account.account_id, mark)
            allocations = self.ranker.allocate(queue, abs(size))
        else:  # the capped walk may reach past the uncapped head: the whole queue (O(n))
            every = self.adl_book.candidates(side, account.account_id, mark)
            queue = self.ranker.queue(every, side)
            ranked = {c.account_id: c for c in every}
            allocations = allocate_capped_ranked(
                cap, queue, abs(size), price, self.money_per_tick_lot
            )
        last = None
        for account_id, lots in allocations:
            (seq,) = emit_adl(
                self.log, now, cause, account.account_id, queue, [(account_id, lots)], price, ranked
            )
            target = ledger.accounts[account_id]
            ledger.transfer_position(now, seq, account, target, price, lots)
            if self.position_moved is not None:
                self.position_moved(account.account_id, seq, "adl", -side, price, lots)
                self.position_moved(account_id, seq, "adl", side, price, lots)
            if self.cancel_orders is not None:
                self.cancel_orders(now, account_id, seq)
            # A losing position closed beyond its own bankruptcy price (a ranking that admits
            # losers, or a mark close) can leave the deleveraged trader flat and negative.
            last = self.accounting.cover_negative(now, seq, target, mark)
        return last
