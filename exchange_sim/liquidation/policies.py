"""Close-out policies (pure): what the liquidation engine does next for one account.

Each policy is a small state machine over a :class:`Job`. The engine (SimPy shell) calls
:meth:`next_action` whenever the account may need something: right after the start, right after
an order's immediate outcome, and when a wait ends. Before each call the engine has checked that
the account still has a position and (unless the job is *bankrupt*, i.e. its position was taken
over by a limit order at the bankruptcy price) is still liquidatable at the mark; so a policy
only decides what to send. Actions:

* ``Action.submit(...)``: an order for the account (the engine sends it at once);
* ``Action.wait(delay_ns)``: call again after ``delay_ns``;
* ``Action.escalate()``: hand what is left to the waterfall (fund, vault, ADL).

Fee modes of the orders (how :class:`~exchange_sim.liquidation.waterfall.Waterfall` settles
their fills): ``none`` (the trader keeps everything), ``liquidation_fee`` (a fee on the amount
liquidated to the fund), ``bankrupt`` (every fill settles against the bankruptcy price, §5.1),
``dydx`` (the capped insurance-fund fee, §4.5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from exchange_sim.core.contract import Valuation, linear_only
from exchange_sim.liquidation import planners
from exchange_sim.liquidation.config import (
    BinancePolicyConfig,
    DydxPolicyConfig,
    HyperliquidPolicyConfig,
    LiquidationConfig,
    MarketPolicyConfig,
    TieredPolicyConfig,
)
from exchange_sim.matching.orders import FOK, GTC, IOC

if TYPE_CHECKING:
    from exchange_sim.accounts.ledger import Ledger

SUBMIT = "submit"
WAIT = "wait"
ESCALATE = "escalate"

FEE_NONE = "none"
FEE_LIQUIDATION = "liquidation_fee"
FEE_BANKRUPT = "bankrupt"
FEE_DYDX = "dydx"


@attrs.define(slots=True)
class Action:
    kind: str
    price_ticks: int | None = None
    size_lots: int = 0
    tif: str = IOC
    purpose: str = ""
    fee_mode: str = FEE_NONE
    delay_ns: int = 0

    @classmethod
    def submit(cls, price_ticks, size_lots, tif, purpose, fee_mode) -> Action:
        return cls(SUBMIT, price_ticks, size_lots, tif, purpose, fee_mode)

    @classmethod
    def wait(cls, delay_ns: int) -> Action:
        return cls(WAIT, delay_ns=delay_ns)

    @classmethod
    def escalate(cls) -> Action:
        return cls(ESCALATE)


@attrs.define(slots=True)
class Job:
    """One account's liquidation, from hand-off to finish (mutable; the engine owns it)."""

    account_id: int
    cause_seq: int
    handed_at: int
    ready_at: int
    last_seq: int = 0
    stage: str = "start"
    retries: int = 0
    orders: int = 0
    last_filled: int = 0
    last_partial: bool = False
    bankrupt: bool = False
    bankrupt_price: int | None = None
    wallet_base: int = 0
    resting_order_id: int | None = None
    wait_token: int = 0
    done: bool = False
    outcome: str = ""


@attrs.define(slots=True)
class Context:
    """What a policy may read: the time, the mark, the ledger, the instrument's grid, the
    insurance fund's balance and when each account was last partially liquidated."""

    now: int
    mark: int
    ledger: Ledger
    money_per_tick_lot: Valuation
    last_partial_ns: dict
    fund_balance: int = 0


class BinancePolicy:
    """Binance (§4.1): one IOC sized to restore maintenance (at the mark, fees included), with
    the liquidation fee to the fund; still liquidatable -> takeover (escalate). An IOC that fills
    nothing (price band, empty book) is retried ``max_retries`` times."""

    name = "binance"

    def __init__(self, config: BinancePolicyConfig, liquidation: LiquidationConfig) -> None:
        self.config = config
        self.liquidation = liquidation

    def next_action(self, ctx: Context, job: Job, account) -> Action:
        if job.stage == "start":
            ledger = ctx.ledger
            fee_ppb = ledger.fees.taker_fee_ppb + self.liquidation.liquidation_fee
            lots = planners.reduction_lots(
                account,
                ctx.mark,
                ctx.mark,
                fee_ppb,
                ledger.margin.tiers[1 if account.size_lots > 0 else -1],
                ctx.money_per_tick_lot,
                ledger.maintenance_on_entry,
            )
            side = 1 if account.size_lots > 0 else -1
            limit = None
            if self.config.order_limit == "bankruptcy":
                limit = planners.bankruptcy_limit(side, account.bankruptcy_price)
            job.stage = "sent"
            return Action.submit(limit, lots, IOC, "reduce", FEE_LIQUIDATION)
        if job.last_filled == 0 and job.retries < self.liquidation.max_retries:
            job.retries += 1
            job.stage = "start"
            return Action.wait(self.liquidation.retry_interval)
        return Action.escalate()


class TieredPolicy:
    """BitMEX (§4.2) / Bybit (§4.3): above the lowest risk tier a FillOrKill of the size that
    brings the position value into the next lower tier; if it fails or the account is still
    liquidatable, the whole position is taken over by a limit order at the bankruptcy price
    (the account is bankrupt from then on: fills settle against that price, the surplus goes to
    the fund). What is still unfilled after ``max_retries`` x ``retry_interval`` is escalated."""

    name = "tiered"

    def __init__(self, config: TieredPolicyConfig, liquidation: LiquidationConfig) -> None:
        self.config = config
        self.liquidation = liquidation

    def next_action(self, ctx: Context, job: Job, account) -> Action:
        side = 1 if account.size_lots > 0 else -1
        if job.stage == "start":
            ledger = ctx.ledger
            lots = planners.tier_reduction_lots(
                account,
                ctx.mark,
                ledger.margin.tiers[side],
                ctx.money_per_tick_lot,
                ledger.maintenance_on_entry,
            )
            job.stage = "takeover"
            if lots is not None and lots < abs(account.size_lots):
                limit = None
                if self.config.order_limit == "bankruptcy":
                    limit = planners.bankruptcy_limit(side, account.bankruptcy_price)
                return Action.submit(limit, lots, FOK, "tier_reduce", FEE_LIQUIDATION)
        if job.stage == "takeover":
            price = planners.bankruptcy_limit(side, account.bankruptcy_price)
            if price is None:
                return Action.escalate()
            job.stage = "resting"
            job.bankrupt = True
            job.bankrupt_price = price
            job.wallet_base = account.wallet
            return Action.submit(price, abs(account.size_lots), GTC, "takeover_limit", FEE_BANKRUPT)
        if job.retries < self.liquidation.max_retries:
            job.retries += 1
            return Action.wait(self.liquidation.retry_interval)
        return Action.escalate()


class DydxPolicy:
    """dYdX v4 (§4.5): each interval one IOC at the fillable price for a slice bounded by the
    position portion and the per-interval notional and insurance-loss limits (and what the fund
    can cover); fills pay the capped fee or draw on the fund; an order that fills nothing, or
    that could only fill beyond those limits, goes to deleveraging (the escalation)."""

    name = "dydx"

    def __init__(self, config: DydxPolicyConfig, liquidation: LiquidationConfig) -> None:
        self.config = config
        self.liquidation = liquidation

    def next_action(self, ctx: Context, job: Job, account) -> Action:
        config = self.config
        if job.stage == "sent":
            if job.last_filled == 0:
                return Action.escalate()
            job.stage = "start"
            return Action.wait(config.interval)
        ledger = ctx.ledger
        side = 1 if account.size_lots > 0 else -1
        held = abs(account.size_lots)
        mm = ledger.maintenance_margin(account, ctx.mark)
        equity = ledger.equity(account, ctx.mark)
        limit = planners.dydx_fillable_price(
            side,
            held,
            ctx.mark,
            mm,
            equity,
            mm,
            config.bankruptcy_adjustment,
            config.spread_to_maintenance_ratio,
            linear_only(ctx.money_per_tick_lot),
        )
        lots = planners.dydx_slice_lots(
            held,
            ctx.mark,
            limit,
            account.bankruptcy_price,
            side,
            linear_only(ctx.money_per_tick_lot),
            config,
            ctx.fund_balance,
        )
        if lots == 0:  # the fills would be rejected (limits, or the fund cannot cover them)
            return Action.escalate()
        job.stage = "sent"
        return Action.submit(limit, lots, IOC, "slice" if lots < held else "close", FEE_DYDX)


class HyperliquidPolicy:
    """Hyperliquid (§4.6): market orders into the book, no fee; above ``partial_threshold`` only
    ``partial_fraction`` per order, and after a partial the ``cooldown`` applies (``full``: orders
    within it are for the whole position, as the docs say; ``wait``: the next slice waits for it
    to end). When ``equity < 2/3 MM`` without a successful book liquidation, the backstop (the
    waterfall: vault, then ADL) takes over. Unfilled orders are retried ``max_retries`` times."""

    name = "hyperliquid"

    def __init__(self, config: HyperliquidPolicyConfig, liquidation: LiquidationConfig) -> None:
        self.config = config
        self.liquidation = liquidation

    def next_action(self, ctx: Context, job: Job, account) -> Action:
        config = self.config
        liquidation = self.liquidation
        last = ctx.last_partial_ns.get(account.account_id)
        in_cooldown = last is not None and ctx.now - last < config.cooldown
        if job.stage == "sent":
            job.stage = "start"
            if job.last_filled == 0:
                if job.retries >= liquidation.max_retries:
                    return Action.escalate()
                job.retries += 1
                return Action.wait(liquidation.retry_interval)
            if job.last_partial and config.cooldown_action == "wait":
                return Action.wait(config.cooldown)
            return Action.wait(liquidation.retry_interval)
        ledger = ctx.ledger
        equity = ledger.equity(account, ctx.mark)
        mm = ledger.maintenance_margin(account, ctx.mark)
        if planners.below_backstop(
            equity, mm, config.backstop_numerator, config.backstop_denominator
        ):
            return Action.escalate()
        if last is not None and in_cooldown and config.cooldown_action == "wait":
            return Action.wait(last + config.cooldown - ctx.now)
        held = abs(account.size_lots)
        lots, partial = planners.hyperliquid_lots(
            held,
            ledger.notional(account, ctx.mark),
            config.partial_threshold,
            config.partial_fraction,
            in_cooldown and config.cooldown_action == "full",
        )
        if partial:
            ctx.last_partial_ns[account.account_id] = ctx.now
        job.last_partial = partial
        job.stage = "sent"
        return Action.submit(None, lots, IOC, "slice" if partial else "close", FEE_NONE)


class MarketPolicy:
    """The naive baseline: one market order for the whole position, no fee, no takeover of its
    own (what the waterfall config adds is still applied to an unfilled rest)."""

    name = "market"

    def __init__(self, config: MarketPolicyConfig, liquidation: LiquidationConfig) -> None:
        self.config = config
        self.liquidation = liquidation

    def next_action(self, ctx: Context, job: Job, account) -> Action:
        if job.stage == "start":
            job.stage = "sent"
            return Action.submit(None, abs(account.size_lots), IOC, "close", FEE_NONE)
        if job.retries < self.liquidation.max_retries:
            job.retries += 1
            job.stage = "start"
            return Action.wait(self.liquidation.retry_interval)
        return Action.escalate()


POLICIES: dict[str, Callable[[Any, LiquidationConfig], Any]] = {
    cls.name: cls
    for cls in (BinancePolicy, TieredPolicy, DydxPolicy, HyperliquidPolicy, MarketPolicy)
}


def build_policy(liquidation: LiquidationConfig):
    """The policy object of ``liquidation.policy`` (chosen by its ``KIND``)."""
    config = liquidation.policy
    return POLICIES[type(config).KIND](config, liquidation)
