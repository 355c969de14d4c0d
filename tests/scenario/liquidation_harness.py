"""A small venue for liquidation tests: engine + ledger + scripted mark + a crude risk monitor.

One tick on one lot is one minor unit (``m = 1``) so the hand-computed cases stay readable.
Account ids: the liquidation engine opens the fund's account (1) and the vault's (2); tests use
ids from 10 up and the maker :data:`MAKER` (9).
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.core.ids import IdSource
from exchange_sim.core.units import Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.liquidation import event_types
from exchange_sim.liquidation.config import LiquidationConfig
from exchange_sim.liquidation.engine import build_liquidation
from exchange_sim.liquidation.insurance_fund import InsuranceFundConfig
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import GTC, Order
from exchange_sim.runner.event_catalog import validate_record

S = 1_000_000_000
MAKER = 9
ONE_PERCENT = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
NO_FEES = FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
SCALE = Scale.build(Decimal(1), Decimal(1), 0, "test")
REGISTRY = {e.name: e for e in event_types.EVENTS}


class FakeMark:
    """Stands in for MarkPriceService: ``.price`` and ``.listeners``, set by the test."""

    def __init__(self, env, log) -> None:
        self.env = env
        self.log = log
        self.price: int | None = None
        self.listeners: list = []

    def publish(self, price: int) -> None:
        self.price = price
        seq = self.log.emit(self.env.now, "mark_price", None, price=price, index_price=price)
        for listener in self.listeners:
            listener(self.env.now, price, seq)

    def at(self, t_ns: int, price: int) -> None:
        self.env.call_at(t_ns - self.env.now, Phase.MARK, lambda _e: self.publish(price))


class StubRiskMonitor:
    """Checks every account at each mark (MARGIN phase) and on hand-back; hands liquidatable
    ones to the engine, logging ``liquidation_triggered`` like the real monitor."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.in_liquidation: set[int] = set()
        self.finished: list[tuple[int, int, int]] = []
        venue.mark.listeners.append(self.on_mark)

    def on_mark(self, now: int, price: int, seq: int) -> None:
        self.venue.env.call_at(0, Phase.MARGIN, lambda _e: self.sweep(seq))

    def sweep(self, cause: int | None) -> None:
        venue = self.venue
        ledger, mark = venue.ledger, venue.mark.price
        skip = venue.liquidation.venue_accounts
        for account_id in sorted(ledger.accounts):
            account = ledger.accounts[account_id]
            if account_id in skip or account_id in self.in_liquidation:
                continue
            if ledger.is_liquidatable(account, mark):
                seq = venue.log.emit(
                    venue.env.now,
                    "liquidation_triggered",
                    cause,
                    account_id=account_id,
                    mark_price=mark,
                )
                self.in_liquidation.add(account_id)
                venue.liquidation.handoff(venue.env.now, account_id, seq)

    def liquidation_finished(self, now: int, account_id: int, seq: int) -> None:
        """Like the real monitor: re-check the account handed back (MARGIN phase, no latency)."""
        self.in_liquidation.discard(account_id)
        self.finished.append((now, account_id, seq))
        self.venue.env.call_at(0, Phase.MARGIN, lambda _e: self.sweep(seq))


class Venue:
    def __init__(
        self,
        config: LiquidationConfig,
        *,
        tiers=ONE_PERCENT,
        fees=NO_FEES,
        band_ppb: int = 0,
        fund: int = 10_000,
        risk_monitor: bool = True,
    ) -> None:
        if fund is not None:
            config = attrs.evolve(config, insurance_fund=InsuranceFundConfig(initial_balance=fund))
        self.config = config
        self.env = PhasedEnvironment()
        self.log = MemoryLog()
        self.ids = IdSource()
        self.ledger = Ledger(self.log, 1, tiers, fees)
        self.engine = MatchingEngine(
            self.log, MatchingConfig(price_band_ppb=band_ppb), self.ids.counter("trade")
        )
        self.mark = FakeMark(self.env, self.log)
        self.ledger.mark_price = lambda: self.mark.price
        self.ledger.open_orders = self.engine.book.open_orders
        self.engine.pre_trade_check = self.ledger.pre_trade_check
        self.engine.trade_listeners.append(self.ledger.on_trade)
        self.engine.reference_price = lambda: self.mark.price
        self.liquidation = build_liquidation(
            self.env, self.log, config, self.ledger, self.engine, self.mark, SCALE, self.ids
        )
        self.engine.trade_listeners.append(self.liquidation.desk.on_trade)
        self.liquidation.install_order_guard()
        self.fund = self.liquidation.fund
        self.vault = self.liquidation.vault
        self.fund_account = self.liquidation.waterfall.fund_account_id
        self.risk = StubRiskMonitor(self) if risk_monitor else None
        self.liquidation.risk_monitor = self.risk
        self.ledger.open_account(MAKER, leverage=50)
        self.ledger.deposit(0, MAKER, 10**12, None)
        self.identity_checks = 0
        self.liquidation.after_step.append(self.check_identity)

    def check_identity(self, now: int) -> None:
        left, right = self.liquidation.money_identity()
        assert left == right, (now, left, right)
        longs, shorts = self.ledger.open_interest_lots()
        assert longs == shorts
        self.identity_checks += 1

    # -- set-up ----------------------------------------------------------------------------
    def account(self, account_id: int, wallet: int, isolated: bool = False):
        account = self.ledger.open_account(account_id, isolated=isolated, leverage=50)
        if wallet:
            self.ledger.deposit(0, account_id, wallet, None)
        return account

    def pair(self, long_id: int, short_id: int, lots: int, price: int) -> None:
        """Open ``lots`` between two accounts at ``price``, fee-free (a trade done earlier)."""
        ledger = self.ledger
        ledger.apply_fill(0, 0, ledger.accounts[long_id], 1, price, lots, 0)
        ledger.apply_fill(0, 0, ledger.accounts[short_id], -1, price, lots, 0)

    def quote(self, side: int, price: int, lots: int, account_id: int = MAKER) -> Order:
        order = Order(self.ids.next("order"), account_id, side, price, lots, tif=GTC)
        self.engine.submit(self.env.now, order, None)
        return order

    def quote_at(self, t_ns: int, side: int, price: int, lots: int, account_id: int = MAKER):
        self.env.call_at(
            t_ns - self.env.now, Phase.MATCH, lambda _e: self.quote(side, price, lots, account_id)
        )

    # -- running and reading ---------------------------------------------------------------
    def run(self, until_ns: int) -> None:
        self.env.run_until(until_ns)

    def events(self, type_: str) -> list[dict]:
        return self.log.of_type(type_)

    def assert_events_valid(self) -> None:
        """Every liquidation event in the log matches its declared schema."""
        for event in self.log.events:
            if event["type"] in REGISTRY:
                assert validate_record(event, REGISTRY) is None, event

    def acct(self, account_id: int):
        return self.ledger.accounts[account_id]

    def state(self, account_id: int) -> tuple[int, int, int]:
        """(position lots, entry notional, wallet)."""
        a = self.ledger.accounts[account_id]
        return a.size_lots, a.entry_notional, a.wallet


def cause_chain(log: MemoryLog, seq: int) -> list[str]:
    """Event types from ``seq`` back to the first event without a cause."""
    by_seq = {e["seq"]: e for e in log.events}
    types = []
    while seq is not None:
        event = by_seq[seq]
        types.append(event["type"])
        seq = event["cause"]
    return types
