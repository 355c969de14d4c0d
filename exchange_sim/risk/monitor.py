"""The risk monitor: notices margin trouble late, the way a real venue does.

**Index mode** (default). Each account with a position is indexed by two trigger prices
(:mod:`exchange_sim.risk.trigger_index`): its margin-call price (equity = ratio x MM) and its
liquidation price (equity = MM). A mark update (MARK phase) pops only the accounts it crosses and
schedules a **margin check** for each after ``margin_check_latency`` (MARGIN phase). The check
re-evaluates the account exactly against the mark *at check time* or the mark *at trigger time*
(``check_price``). Outcomes:

* ``liquidate`` (equity < MM): ``liquidation_triggered``, then the account is handed to the
  liquidation engine (``liquidation_engine.handoff``), which calls :meth:`liquidation_finished`;
* ``margin_call`` (equity < ratio x MM): a ``margin_call`` reaches the trader after
  ``notify_latency`` (its handler may top up or reduce); no repeat within ``margin_call_cooldown``;
* ``ok``: the account is re-indexed;
* ``past_maintenance`` (equity < MM with ``forced_closures`` off, the counterfactual of
  ``run.amplification``): the account is left as it is and not watched again until it changes
  (a fill, a deposit, a funding payment), when it is checked again.

Any change to an account (fill, deposit, funding payment) re-indexes it; if the current mark is
already past a new trigger, its check is scheduled at once with ``cause`` = the change.

**Sweep mode** checks every account with a position every ``sweep_interval`` (O(accounts) per
sweep: a policy some venues run, and the correctness oracle of index mode;
``verify_with_sweep`` runs both and fails loudly on any difference).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from exchange_sim.core.errors import SimulationError
from exchange_sim.kernel.environment import Phase
from exchange_sim.risk.config import RiskConfig
from exchange_sim.risk.trigger_index import LIQUIDATION, MARGIN_CALL, TIER_STEP, TriggerIndex

MarginCallDelivery = Callable[[int, int, int, int, int, int, int], None]
"""``deliver(account_id, margin_call_seq, mark, equity, maintenance_margin, position_lots,
delay_ns)``: hands a margin call to whoever carries it to the trader (the venue's gateway)."""


class LiquidationIntake(Protocol):
    """What the monitor hands a liquidatable account to (the liquidation engine, a layer up)."""

    def handoff(self, now: int, account_id: int, cause: int, /) -> None: ...


class RiskMonitor:
    __slots__ = (
        "_call_latency",
        "_check_latency",
        "_config",
        "_env",
        "_inverse",
        "_log",
        "_mark",
        "called_until",
        "checks",
        "collateral_indexes",
        "cross",
        "deliver_margin_call",
        "handoffs",
        "in_liquidation",
        "index",
        "ledger",
        "left_alone",
        "liquidation_engine",
        "mark_seq",
        "monitor_for",
        "past_maintenance_accounts",
        "pending",
        "venue_accounts",
    )

    def __init__(
        self, env, log, config: RiskConfig, ledger, mark_service, check_latency, call_latency
    ) -> None:
        self._env = env
        self._log = log
        self._config = config
        self._mark = mark_service
        self._check_latency = check_latency
        self._call_latency = call_latency
        self.ledger = ledger
        self._inverse = ledger.inverse
        self.index = TriggerIndex()
        self.collateral_indexes: dict[str, TriggerIndex] = {}
        """Per collateral asset: accounts by the collateral price below which they are checked
        (:mod:`exchange_sim.accounts.collateral`); empty without collateral."""
        self.pending: set[int] = set()
        self.in_liquidation: set[int] = set()
        self.left_alone: set[int] = set()
        """Accounts past maintenance with forced closures off, until they change."""
        self.past_maintenance_accounts: set[int] = set()
        """Every account ever found past maintenance with forced closures off."""
        self.called_until: dict[int, int] = {}
        self.deliver_margin_call: MarginCallDelivery | None = None
        self.liquidation_engine: LiquidationIntake | None = None
        self.venue_accounts: set[int] | frozenset[int] = frozenset()
        self.handoffs: list[tuple[int, int, int]] = []
        self.checks = 0
        self.cross: Any = None
        """The venue's :class:`~exchange_sim.accounts.cross_margin.CrossMargin` when it has
        several perpetuals: a safe check or a finished liquidation of a cross account re-splits
        its slack in every ledger."""
        self.monitor_for: Callable[[int, int], RiskMonitor | None] | None = None
        """``monitor_for(account_id, check_seq)``: the monitor of the perpetual whose position a
        liquidatable cross account loses first (the venue's close-first policy); it logs the
        ``liquidation_triggered`` (caused by this monitor's check) and hands the account to its
        liquidation engine. None: this monitor's own."""
        self.mark_seq: int | None = None
        """The latest ``mark_price`` (what a sweep or a re-armed check reads)."""

    def share_state(self, first: RiskMonitor) -> None:
        """Watch accounts as one with ``first`` (another perpetual's monitor of the same venue):
        an account pending a check, in liquidation, left alone or in a margin-call cooldown is so
        in every market."""
        self.pending = first.pending
        self.in_liquidation = first.in_liquidation
        self.left_alone = first.left_alone
        self.past_maintenance_accounts = first.past_maintenance_accounts
        self.called_until = first.called_until
        self.handoffs = first.handoffs

    def start(self) -> None:
        if self._config.mode == "sweep":
            self._env.call_at(self._config.sweep_interval, Phase.MARGIN, self._sweep)

    # -- index mode ----------------------------------------------------------------------------
    def on_mark(self, now: int, mark: int, seq: int) -> None:
        """A new mark (index mode): schedule a check of every account whose trigger it crossed.
        The mark's seq is remembered: a check that reads the mark later names it as cause."""
        self.mark_seq = seq
        if self._config.mode != "index":
            return
        index = self.index
        crossed = set(index.pop_crossed(mark, LIQUIDATION))
        crossed.update(index.pop_crossed(mark, MARGIN_CALL))
        crossed.update(index.pop_crossed(mark, TIER_STEP))
        in_order = sorted(crossed)
        if self._config.verify_with_sweep:
            self._verify(mark, in_order)
        pending, in_liquidation = self.pending, self.in_liquidation
        for account_id in in_order:
            if account_id in pending or account_id in in_liquidation:
                continue  # watched by another perpetual's monitor (several perpetuals) already
            self._schedule_check(now, account_id, mark, seq)

    def _verify(self, mark: int, crossed: list[int]) -> None:
        ledger = self.ledger
        skip = self.pending | self.in_liquidation | self.left_alone | set(self.venue_accounts)
        scanned = {
            a.account_id
            for a in ledger.accounts.values()
            if a.account_id not in skip and ledger.is_liquidatable(a, mark)
        }
        found = {
            a for a in crossed if a not in skip and ledger.is_liquidatable(ledger.accounts[a], mark)
        }
        if scanned != found:
            raise SimulationError(
                f"trigger index and full scan disagree at mark {mark}: "
                f"index {sorted(found)}, scan {sorted(scanned)}"
            )

    def on_account_change(self, now: int, account, seq: int | None) -> None:
        account_id = account.account_id
        if (
            account_id in self.pending
            or account_id in self.in_liquidation
            or account_id in self.venue_accounts
        ):
            return
        self.left_alone.discard(account_id)
        self._reindex(now, account, seq)

    def _reindex(self, now: int, account, cause: int | None, after_check: bool = False) -> None:
        index = self.index
        account_id = account.account_id
        self._unindex(account_id)
        if self._config.mode != "index" or not account.size_lots:
            return
        side = 1 if account.size_lots > 0 else -1
        mark = self._mark.price
        liquidation, call = account.liquidation_price, account.margin_call_price
        # An inverse position's None is the mirror of a linear one's (a long's "already", a
        # short's "never"): read it as the other side's None.
        liquidation_side = -side if liquidation is None and self._inverse else side
        call_side = -side if call is None and self._inverse else side
        if (
            mark is not None
            and not after_check
            and (
                index.is_crossed(liquidation_side, liquidation, mark)
                or (not self._cooling(account_id, now) and index.is_crossed(call_side, call, mark))
            )
        ):
            self._schedule_check(now, account_id, mark, cause)
            return
        if account.holder.holdings and self._index_collateral(now, account, cause, after_check):
            return
        index.set(account_id, LIQUIDATION, liquidation_side, liquidation)
        if not self._cooling(account_id, now):
            index.set(account_id, MARGIN_CALL, call_side, call)
        step = account.tier_step_price
        if step is not None:
            if self._inverse:  # an inverse short's MM jumps at or below it (a falling price)
                index.set(account_id, TIER_STEP, 1, step + 1)
            else:  # a linear long's at or above it (a rising price)
                index.set(account_id, TIER_STEP, -1, step - 1)

    def _unindex(self, account_id: int) -> None:
        self.index.remove_account(account_id)
        for collateral_index in self.collateral_indexes.values():
            collateral_index.remove_account(account_id)

    def _index_collateral(self, now: int, account, cause: int | None, after_check: bool) -> bool:
        """Index the account by each of its collateral-price triggers; if an asset's price is
        already past one (and this is not the re-arm after a check), schedule its check at once
        and return True."""
        account_id = account.account_id
        collateral = self.ledger.collateral
        triggers = collateral.triggers.get(account_id) or {}
        cooling = self._cooling(account_id, now)
        mark = self._mark.price
        if mark is not None and not after_check:
            for asset, (liquidation, call) in triggers.items():
                price = collateral.price_ppb[asset]
                if price < liquidation or (not cooling and price < call):
                    self._schedule_check(now, account_id, mark, cause)
                    return True
        for asset, (liquidation, call) in triggers.items():
            collateral_index = self.collateral_indexes.get(asset)
            if collateral_index is None:
                collateral_index = self.collateral_indexes[asset] = TriggerIndex()
            collateral_index.set(account_id, LIQUIDATION, 1, liquidation)
            if not cooling:
                collateral_index.set(account_id, MARGIN_CALL, 1, call)
        return False

    def on_collateral_price(self, now: int, asset: str, price_ppb: int, seq: int) -> None:
        """A collateral asset's new price (the ledger already values it): schedule a check of
        every account whose collateral-price trigger it crossed, caused by the price event."""
        collateral_index = self.collateral_indexes.get(asset)
        mark = self._mark.price
        if collateral_index is None or mark is None or self._config.mode != "index":
            return
        crossed = set(collateral_index.pop_crossed(price_ppb, LIQUIDATION))
        crossed.update(collateral_index.pop_crossed(price_ppb, MARGIN_CALL))
        for account_id in sorted(crossed):
            if account_id in self.pending or account_id in self.in_liquidation:
                continue  # another perpetual's monitor found it first (shared state)
            self._schedule_check(now, account_id, mark, seq)

    def _cooling(self, account_id: int, now: int) -> bool:
        """Whether a margin call to the account is still within its cooldown."""
        return self.called_until.get(account_id, -1) > now

    def _rearm(self, payload) -> None:
        """Cooldown over: index the margin-call trigger again (checking at once if past it)."""
        account_id = payload
        if self.called_until.get(account_id, -1) <= self._env.now:
            self.called_until.pop(account_id, None)  # over: an absent entry reads as not cooling
        if (
            account_id in self.pending
            or account_id in self.in_liquidation
            or account_id in self.left_alone
        ):
            return
        self._reindex(self._env.now, self.ledger.accounts[account_id], self.mark_seq)

    # -- checks --------------------------------------------------------------------------------
    def _schedule_check(
        self, now: int, account_id: int, trigger_mark: int, cause: int | None
    ) -> None:
        self._unindex(account_id)
        self.pending.add(account_id)
        self._env.call_at(
            self._check_latency.draw(),
            Phase.MARGIN,
            self._run_check,
            (account_id, trigger_mark, now, cause),
        )

    def _run_check(self, payload) -> None:
        account_id, trigger_mark, trigger_ts, cause = payload
        self.pending.discard(account_id)
        mark = trigger_mark if self._config.check_price == "trigger_time" else self._mark.price
        self._check(self._env.now, account_id, mark, trigger_mark, trigger_ts, cause)

    def _check(
        self,
        now: int,
        account_id: int,
        mark: int,
        trigger_mark: int,
        trigger_ts: int,
        cause: int | None,
    ) -> None:
        ledger = self.ledger
        account = ledger.accounts[account_id]
        self.checks += 1
        equity = ledger.equity(account, mark)
        mm = ledger.maintenance_margin(account, mark)
        call_level = ledger.margin_call_level(account, mark)
        if account.size_lots and equity < mm:
            outcome = "liquidate" if self._config.forced_closures else "past_maintenance"
        elif account.size_lots and equity < call_level and not self._cooling(account_id, now):
            outcome = "margin_call"
        else:
            outcome = "ok"
        seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "margin_check",
                "cause": cause,
                "account_id": account_id,
                "mark_price": mark,
                "trigger_mark_price": trigger_mark,
                "trigger_ts": trigger_ts,
                "equity": equity,
                "maintenance_margin": mm,
                "outcome": outcome,
            }
        )
        if outcome == "liquidate":
            target = self
            if (
                self.cross is not None
                and self.monitor_for is not None
                and self.cross.is_member(account)
            ):  # several perpetuals: the market whose position the venue closes first
                target = self.monitor_for(account_id, seq) or self
            if target is not self:
                account = target.ledger.accounts[account_id]
                mark = target._mark.price or mark
            target._trigger_liquidation(now, account, mark, equity, mm, seq)
            return
        if outcome == "past_maintenance":
            self._unindex(account_id)
            self.left_alone.add(account_id)
            self.past_maintenance_accounts.add(account_id)
            return
        if outcome == "margin_call":
            self._margin_call(now, account_id, mark, equity, mm, seq)
        if self.cross is not None and self.cross.is_member(account):
            # Safe at this check: split its slack again at the current prices in every market
            # (its triggers there came from one split, which this check has outlived).
            self.cross.refresh(now, account_id, seq)
            return
        current = self._mark.price
        if current is not None and current != mark and ledger.is_liquidatable(account, current):
            # Checked at the trigger-time mark, but the mark has moved on past the line since:
            # check again now at the current mark rather than wait for the next mark change.
            self._schedule_check(now, account_id, current, seq)
            return
        if account.holdings:
            # Its collateral triggers came from the split at its last change, which this check
            # has outlived (a collateral price crossing one is why it ran): split it again at
            # the current mark and collateral prices before re-arming.
            ledger.refresh_prices(account)
        # Re-arm without an immediate re-check: the check just ran (with the trigger-time mark
        # the current mark may already be past the trigger; the next mark update decides).
        self._reindex(now, account, seq, after_check=True)

    def _convert_collateral(self, now: int, holder, cause: int) -> None:
        """Convert the holder's collateral in the ledger that holds it: this perpetual's, or for
        a linked account the home account's perpetual (several perpetuals)."""
        ledger = self.ledger
        if ledger.accounts.get(holder.account_id) is not holder:
            assert self.cross is not None
            ledger = next(
                led for led, acc in self.cross.members[holder.account_id] if acc is holder
            )
        ledger.convert_collateral(now, holder, cause)

    def _trigger_liquidation(self, now, account, mark, equity, mm, check_seq) -> None:
        account_id = account.account_id
        holder = account.holder
        if holder.holdings:  # log the bankruptcy price at the collateral's value now
            self.ledger.refresh_prices(account)
        seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "liquidation_triggered",
                "cause": check_seq,
                "account_id": account_id,
                "mark_price": mark,
                "position_lots": account.size_lots,
                "equity": equity,
                "maintenance_margin": mm,
                "shortfall": mm - equity,
                "bankruptcy_price_ticks": account.bankruptcy_price,
            }
        )
        self.in_liquidation.add(account_id)
        self._unindex(account_id)
        if holder.holdings:
            self._convert_collateral(now, holder, seq)
        self.handoffs.append((now, account_id, seq))
        if self.liquidation_engine is not None:
            self.liquidation_engine.handoff(now, account_id, seq)

    def _margin_call(self, now, account_id, mark, equity, mm, check_seq) -> None:
        delay = self._call_latency.draw()
        cooldown = self._config.margin_call_cooldown
        self.called_until[account_id] = now + cooldown
        if self._config.mode == "index" and cooldown:
            self._env.call_at(cooldown, Phase.MARGIN, self._rearm, account_id)
        seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "margin_call",
                "cause": check_seq,
                "account_id": account_id,
                "mark_price": mark,
                "equity": equity,
                "maintenance_margin": mm,
                "deliver_at": now + delay,
            }
        )
        if self.deliver_margin_call is not None:
            position = self.ledger.accounts[account_id].size_lots
            self.deliver_margin_call(account_id, seq, mark, equity, mm, position, delay)

    def liquidation_finished(self, now: int, account_id: int, cause: int) -> None:
        """Called by the liquidation engine when it is done with an account."""
        self.in_liquidation.discard(account_id)
        account = self.ledger.accounts[account_id]
        if self.cross is not None and self.cross.is_member(account):
            self.cross.refresh(now, account_id, cause)
            return
        self._reindex(now, account, cause)

    # -- sweep mode ----------------------------------------------------------------------------
    def _sweep(self, _event) -> None:
        env = self._env
        env.call_at(self._config.sweep_interval, Phase.MARGIN, self._sweep)
        mark = self._mark.price
        if mark is None:
            return
        now = env.now
        for account_id in sorted(self.ledger.accounts):
            account = self.ledger.accounts[account_id]
            if (
                not account.size_lots
                or account_id in self.in_liquidation
                or account_id in self.pending
                or account_id in self.left_alone
            ):
                continue
            self._check(now, account_id, mark, mark, now, self.mark_seq)
