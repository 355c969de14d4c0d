"""The liquidation engine (SimPy shell): *when* accounts are liquidated.

The maths is pure (:mod:`.planners`, :mod:`.policies`, :mod:`.waterfall`, :mod:`.accounting`);
this module and :mod:`.desk` only schedule it, always in ``Phase.LIQUIDATE``:

* **Hand-off** (from the risk monitor, after its ``liquidation_triggered``): the account joins a
  FIFO queue. It may start ``processing_latency`` after the hand-off, and the engine starts at
  most one account every ``1 / throughput`` seconds, so a burst of hand-offs builds a backlog
  while the price keeps moving (``liquidation_started`` logs the wait and the backlog).
* **Start**: cancel the account's open orders (``MatchingEngine.cancel_all``), re-check it at the
  current mark (no longer liquidatable: finish as ``recovered``), then run the close-out policy.
  Its orders (tag ``liquidation``: the ledger skips margin checks) go through the
  :class:`~exchange_sim.liquidation.desk.OrderDesk` straight to the matching engine.
* **Escalation** and **finish**: the waterfall takes what the book could not; at the end a
  negative balance is covered or recorded as bad debt; ``liquidation_finished`` is logged and
  ``risk_monitor.liquidation_finished(now, account_id, finished_seq)`` is called.

``after_step`` listeners are called with ``now`` at the end of every engine or desk callback:
the points where :meth:`LiquidationEngine.money_identity` holds. Tests check it there; a run
checks it there when ``run.verify_money`` is on, and always once at its end.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from exchange_sim.accounts.pretrade import NO_CHECK_TAGS
from exchange_sim.core.errors import SimulationError
from exchange_sim.core.rounding import UP, div_round
from exchange_sim.core.units import NS_PER_S
from exchange_sim.kernel.environment import Phase
from exchange_sim.liquidation.accounting import LiquidationAccounting
from exchange_sim.liquidation.config import LiquidationConfig
from exchange_sim.liquidation.desk import OrderDesk, OrderRecord
from exchange_sim.liquidation.insurance_fund import DEFAULT_MAX_WINDOW_NS, InsuranceFund
from exchange_sim.liquidation.policies import (
    FEE_BANKRUPT,
    SUBMIT,
    WAIT,
    Context,
    Job,
    build_policy,
)
from exchange_sim.liquidation.vault import BackstopVault
from exchange_sim.liquidation.waterfall import Waterfall
from exchange_sim.matching.orders import Order

if TYPE_CHECKING:
    from exchange_sim.risk.monitor import RiskMonitor

MAX_ACTIONS_PER_STEP = 1_000
"""A policy that sends this many orders in one instant without waiting is a bug."""


class LiquidationEngine:
    """See the module docstring. ``risk_monitor`` is set by the wiring (optional)."""

    def __init__(
        self,
        env,
        log,
        config: LiquidationConfig,
        ledger,
        engine,
        mark_service,
        waterfall: Waterfall,
        next_order_id,
    ) -> None:
        self._env = env
        self._log = log
        self.config = config
        self.ledger = ledger
        self.engine = engine
        self._mark = mark_service
        self.waterfall = waterfall
        self.accounting = waterfall.accounting
        self.money_per_tick_lot = waterfall.money_per_tick_lot
        self.policy = build_policy(config)
        self.risk_monitor: RiskMonitor | None = None
        self.after_step: list = []
        self.jobs: dict[int, Job] = {}
        self._queue: deque[Job] = deque()
        self._latency = config.processing_latency
        self._service_ns = div_round(NS_PER_S, config.throughput, UP) if config.throughput else 0
        self._next_free = 0
        self.start_gap: Callable[[int, Job], int] | None = None
        """``start_gap(now, job)``: ns until the next account may start after ``job`` (an
        adaptive throughput policy); ``None``: the fixed ``1 / throughput``."""
        self._start_pending = False
        self._pauses = 0
        self._last_partial: dict[int, int] = {}
        self._not_before: dict[int, int] = {}
        self.started = 0
        self.accounting.busy = self.jobs
        waterfall.cancel_orders = lambda now, account_id, cause: engine.cancel_all(
            now, account_id, cause, "adl"
        )
        self.desk = OrderDesk(
            env, log, engine, ledger, mark_service, waterfall, next_order_id, config
        )
        self.desk.on_filled = self._finish_if_flat
        self.desk.stepped = self._stepped

    # -- public --------------------------------------------------------------------------------
    @property
    def fund(self) -> InsuranceFund:
        return self.accounting.fund

    @property
    def vault(self) -> BackstopVault | None:
        return self.accounting.vault

    @property
    def venue_accounts(self) -> frozenset[int]:
        """The fund's and vault's ledger accounts: the risk monitor must not check them."""
        return self.accounting.venue_accounts

    @property
    def backlog(self) -> int:
        """Accounts handed over and not started yet."""
        return len(self._queue)

    def money_identity(self, other_ledgers: int = 0) -> tuple[int, int]:
        """``(left, right)`` of the conservation identity (:func:`.accounting.money_identity`)."""
        return self.accounting.identity(other_ledgers)

    def install_order_guard(self) -> None:
        """Reject a trader's own new orders (and price/size-raising amends) while its account is
        queued or being liquidated, reason ``account_in_liquidation`` (venues lock a liquidated
        account; Binance §4.1 step 2). The venue's own tagged orders pass. Wraps the matching
        engine's ``pre_trade_check``: call it after the ledger's hook is installed."""
        inner = self.engine.pre_trade_check
        jobs = self.jobs

        def check(now: int, order) -> str | None:
            if order.account_id in jobs and order.tag not in NO_CHECK_TAGS:
                return "account_in_liquidation"
            return inner(now, order) if inner is not None else None

        self.engine.pre_trade_check = check

    def handoff(self, now: int, account_id: int, cause_seq: int) -> None:
        """Queue ``account_id`` (the risk monitor's ``liquidation_triggered`` is ``cause_seq``).

        Ignored while the account is already queued or being liquidated. An account handed back
        ``unresolved`` (a position nothing could take) starts again no earlier than
        ``retry_interval`` after that, so a re-hand-off at the same instant cannot loop. A venue
        account (fund, vault) is never liquidated and never handed back: the risk monitor should
        skip them."""
        if account_id in self.jobs or account_id in self.accounting.venue_accounts:
            return
        ready = now + self._latency
        not_before = self._not_before.pop(account_id, None)
        if not_before is not None and not_before > ready:
            ready = not_before
        job = Job(account_id, cause_seq, now, ready, last_seq=cause_seq)
        self.jobs[account_id] = job
        self._queue.append(job)
        self._schedule_start(now)

    # -- queue and pacing ----------------------------------------------------------------------
    def pause(self) -> None:
        """Start no account until :meth:`resume` (an outage or a halt; they may overlap)."""
        self._pauses += 1

    def resume(self, now: int) -> None:
        self._pauses -= 1
        self._schedule_start(now)

    def _schedule_start(self, now: int) -> None:
        if self._start_pending or not self._queue or self._pauses:
            return
        at = max(self._queue[0].ready_at, self._next_free, now)
        self._start_pending = True
        self._env.call_at(at - now, Phase.LIQUIDATE, self._on_start_due)

    def _on_start_due(self, _event) -> None:
        self._start_pending = False
        now = self._env.now
        self.desk.flush(now)
        queue = self._queue
        while queue and queue[0].ready_at <= now and self._next_free <= now and not self._pauses:
            job = queue.popleft()
            gap = self._service_ns if self.start_gap is None else self.start_gap(now, job)
            self._next_free = now + gap
            self._start(now, job)
        self._schedule_start(now)
        self._stepped(now)

    def _start(self, now: int, job: Job) -> None:
        self.started += 1
        ledger = self.ledger
        account = ledger.accounts[job.account_id]
        mark = self._mark.price
        job.last_seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "liquidation_started",
                "cause": job.cause_seq,
                "account_id": job.account_id,
                "policy": self.policy.name,
                "queue_wait_ns": now - job.handed_at,
                "backlog": len(self._queue),
                "mark_price": mark,
                "position_lots": account.size_lots,
                "equity": ledger.equity(account, mark) if mark is not None else account.collateral,
                "maintenance_margin": ledger.maintenance_margin(account, mark) if mark else 0,
            }
        )
        self.engine.cancel_all(now, job.account_id, job.last_seq, "liquidation")
        self._run(now, job)

    # -- one account -----------------------------------------------------------------------------
    def _run(self, now: int, job: Job) -> None:
        """Drive the policy until it waits or the account is finished."""
        ledger = self.ledger
        for _ in range(MAX_ACTIONS_PER_STEP):
            if job.done:
                return
            account = ledger.accounts[job.account_id]
            mark = self._mark.price
            if mark is None:
                self._finish(now, job, "no_mark")
                return
            if not account.size_lots:
                self._finish(now, job, "closed")
                return
            if not job.bankrupt and not ledger.is_liquidatable(account, mark):
                self._finish(now, job, "recovered")
                return
            context = Context(
                now,
                mark,
                ledger,
                self.money_per_tick_lot,
                self._last_partial,
                self.accounting.fund.balance,
            )
            action = self.policy.next_action(context, job, account)
            if action.kind == SUBMIT:
                self._submit_for(now, job, account, action, mark)
            elif action.kind == WAIT:
                job.wait_token += 1
                self._env.call_at(
                    action.delay_ns,
                    Phase.LIQUIDATE,
                    self._resume,
                    (job, job.wait_token),
                )
                return
            else:  # ESCALATE
                self._cancel_resting(now, job)
                outcome, job.last_seq = self.waterfall.escalate(now, job.last_seq, account, mark)
                self._finish(now, job, outcome)
                return
        raise SimulationError(f"liquidation policy {self.policy.name} did not settle")

    def _resume(self, payload: tuple[Job, int]) -> None:
        job, token = payload
        if job.done or token != job.wait_token:
            return
        now = self._env.now
        self.desk.flush(now)
        self._run(now, job)
        self._stepped(now)

    def _finish_if_flat(self, now: int, job: Job) -> None:
        """A resting order of ``job`` was filled by someone else: finish if now flat."""
        if not job.done and not self.ledger.accounts[job.account_id].size_lots:
            self._run(now, job)

    def _submit_for(self, now: int, job: Job, account, action, mark: int) -> None:
        side = -1 if account.size_lots > 0 else 1
        job.orders += 1
        order_id = self.desk.next_order_id()
        job.last_seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "liquidation_order",
                "cause": job.last_seq,
                "account_id": job.account_id,
                "order_id": order_id,
                "purpose": action.purpose,
                "side": side,
                "price_ticks": action.price_ticks,
                "size_lots": action.size_lots,
                "tif": action.tif,
                "attempt": job.orders,
                "mark_price": mark,
                "bankruptcy_price_ticks": account.bankruptcy_price,
            }
        )
        bankrupt_price = (
            job.bankrupt_price if action.fee_mode == FEE_BANKRUPT else account.bankruptcy_price
        )
        record = OrderRecord(
            job, None, job.account_id, action.purpose, action.fee_mode, bankrupt_price, -side
        )
        order = Order(
            order_id,
            job.account_id,
            side,
            action.price_ticks,
            action.size_lots,
            tif=action.tif,
            tag="liquidation",
        )
        job.last_filled, resting = self.desk.send(now, order, record, job.last_seq)
        if resting:
            job.resting_order_id = order_id

    def _cancel_resting(self, now: int, job: Job) -> None:
        order_id = job.resting_order_id
        if order_id is not None:
            job.resting_order_id = None
            self.desk.cancel(now, job.account_id, order_id, job.last_seq)

    def _finish(self, now: int, job: Job, outcome: str) -> None:
        self._cancel_resting(now, job)
        account = self.ledger.accounts[job.account_id]
        job.last_seq = self.accounting.settle_flat(
            now, job.last_seq, account, job.bankrupt, job.wallet_base, self._mark.price or 0
        )
        seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "liquidation_finished",
                "cause": job.last_seq,
                "account_id": job.account_id,
                "outcome": outcome,
                "position_lots": account.size_lots,
                "wallet": account.wallet,
                "isolated_margin": account.isolated_margin,
                "duration_ns": now - job.handed_at,
                "orders": job.orders,
            }
        )
        job.done = True
        job.outcome = outcome
        del self.jobs[job.account_id]
        if outcome == "unresolved" or (outcome != "recovered" and account.size_lots):
            self._not_before[job.account_id] = now + self.config.retry_interval
        if self.risk_monitor is not None:
            self.risk_monitor.liquidation_finished(now, job.account_id, seq)

    def _stepped(self, now: int) -> None:
        for listener in self.after_step:
            listener(now)


def build_liquidation(
    env,
    log,
    config: LiquidationConfig,
    ledger,
    engine,
    mark_service,
    scale,
    ids,
    fund: InsuranceFund | None = None,
    fund_window_ns: int = 0,
) -> LiquidationEngine:
    """The liquidation engine of one instrument, its insurance fund (seeded with
    ``config.insurance_fund.initial_balance``; or ``fund``, another instrument's, when the
    venue shares one, exchange_mechanics.md §5.1; ``fund_window_ns``: the longest drawdown
    window any engine drawing on a new fund asks for) and, when the waterfall has a ``vault`` stage,
    the backstop vault. Opens one ledger account for the fund's takeovers (and one for the vault)
    with ``ids.next("account")``; order ids come from ``ids.counter("order")``. Logs nothing
    (safe to call before ``run_start``)."""
    # An inverse contract's valuation travels where a linear one's money per tick-lot does: the
    # functions that value positions dispatch on it (the others fail loudly on it).
    money_per_tick_lot = scale.valuation
    fund_account = ids.next("account")
    ledger.open_account(fund_account, owner="insurance_fund", role="insurance_fund")
    if fund is None:
        fund = InsuranceFund(
            fund_id="insurance_fund",
            balance=config.insurance_fund.initial_balance,
            log=log,
            max_window_ns=max(DEFAULT_MAX_WINDOW_NS, config.adl.drawdown_window, fund_window_ns),
        )
    vault = None
    if "vault" in config.waterfall:
        vault_account = ids.next("account")
        ledger.open_account(vault_account, owner="vault", role="vault")
        vault_cfg = config.vault
        vault = BackstopVault(
            vault_account,
            vault_cfg.capital,
            log,
            vault_cfg.max_leverage,
            vault_cfg.takeover_price,
            vault_cfg.discount,
        )
    accounting = LiquidationAccounting(
        log, ledger, money_per_tick_lot, config, fund, fund_account, vault
    )
    waterfall = Waterfall(accounting, scale.money_decimals)
    return LiquidationEngine(
        env, log, config, ledger, engine, mark_service, waterfall, ids.counter("order")
    )
