"""One simulation: builds the venue and its participants from a resolved config and runs them.

Lifecycle (desmod-style fixed phases): build -> start processes -> run until ``run.duration`` ->
close the log. The caller owns the output files (see :mod:`exchange_sim.sim.rundir`).

Wiring order matters only for listeners of one event, which run in registration order: the
ledger applies a trade before anyone else hears of it.
"""

from __future__ import annotations

from exchange_sim import __version__
from exchange_sim.accounts.ledger import Ledger
from exchange_sim.accounts.margin import build_tiers
from exchange_sim.config.schema import LoadedConfig
from exchange_sim.core.errors import SimulationError
from exchange_sim.core.ids import IdSource
from exchange_sim.core.rng import RngStreams
from exchange_sim.events.log import EventLog
from exchange_sim.funding.scheduler import FundingScheduler
from exchange_sim.liquidation.engine import build_liquidation
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.pricing.index import build_path
from exchange_sim.pricing.index_process import IndexPublisher
from exchange_sim.risk.monitor import RiskMonitor
from exchange_sim.sim.kernel import PhasedEnvironment
from exchange_sim.sim.latency import LatencySampler
from exchange_sim.sim.participants import add_participant
from exchange_sim.venue.feed import MarketDataFeed
from exchange_sim.venue.gateway import Gateway
from exchange_sim.venue.mark_service import MarkPriceService


class Simulation:
    """Wires the venue and its participants for one run. Everything random comes from ``rng``."""

    def __init__(self, loaded: LoadedConfig, log: EventLog) -> None:
        config = loaded.config
        self.loaded = loaded
        self.config = config
        self.scale = loaded.scale
        self.log = log
        self.env = env = PhasedEnvironment()
        self.rng = RngStreams(config.run.seed)
        self.ids = IdSource()
        index_cfg = config.index
        path = build_path(
            index_cfg.process, self.scale, self.rng.stream("index/path"), loaded.base_dir
        )
        self.index = IndexPublisher(
            env,
            path,
            index_cfg.cadence,
            self.sampler(index_cfg.oracle_latency, "index/oracle_latency"),
            log,
        )
        self.engine = engine = MatchingEngine(log, config.matching, self.ids.counter("trade"))
        self.tiers = build_tiers(config.margin, self.scale)
        self.ledger = ledger = Ledger(
            log,
            self.scale.money_per_tick_lot,
            self.tiers,
            config.fees,
            config.risk.margin_call_ratio,
            maintenance_on_entry=config.margin.maintenance_basis == "entry",
        )
        engine.pre_trade_check = ledger.pre_trade_check
        engine.reduce_only_capacity = ledger.reduce_only_capacity
        engine.trade_listeners.append(ledger.on_trade)
        ledger.open_orders = engine.book.open_orders
        self.gateway = Gateway(env, engine)
        self.feed = MarketDataFeed(env, engine)
        self.mark = MarkPriceService(env, log, config.mark, self.index, engine, self.feed)
        ledger.mark_price = lambda: self.mark.price
        ledger.fallback_price = lambda: self.index.price
        engine.reference_price = ledger.mark_price
        self.risk = RiskMonitor(
            env,
            log,
            config.risk,
            ledger,
            self.mark,
            self.sampler(config.risk.margin_check_latency, "risk/check_latency"),
            self.sampler(config.risk.notify_latency, "risk/notify_latency"),
        )
        self.funding = (
            FundingScheduler(
                env,
                log,
                config.funding.rule,
                ledger,
                engine.book,
                self.index,
                self.mark,
                self.scale,
                self.tiers,
            )
            if config.funding.enabled
            else None
        )
        self._starts: list = []
        for participant in config.participants:
            self._starts.extend(add_participant(self, participant))
        # After the participants, so their account ids do not depend on the liquidation setup.
        self.liquidation = build_liquidation(
            env, log, config.liquidation, ledger, engine, self.mark, self.scale, self.ids
        )
        self.liquidation.install_order_guard()
        self.liquidation.risk_monitor = self.risk
        self.risk.liquidation_engine = self.liquidation
        self.risk.venue_accounts = self.liquidation.venue_accounts
        if config.run.verify_money:
            self.liquidation.after_step.append(self._verify_money)

    def sampler(self, model, name: str) -> LatencySampler:
        return LatencySampler(model, self.rng.stream(name))

    def run(self) -> str:
        """Run to the configured duration; write the first and last log lines; return the digest."""
        config = self.config
        self.log.start(
            __version__,
            config.run.seed,
            self.loaded.sha256(),
            scenario=config.run.name,
            duration_ns=config.run.duration,
        )
        for component in self._starts:
            component.start()
        self.index.start()
        self.mark.start()
        if self.funding is not None:
            self.funding.start()
        self.risk.start()
        self.env.run_until(config.run.duration)
        return self.log.close(config.run.duration)

    def money_identity(self) -> tuple[int, int]:
        """``(held, put_in)``: every minor unit held (accounts at any common price, fees, the
        insurance fund, the vault's cash, the funding residue, less recorded bad debt) against
        deposits minus withdrawals plus the fund's seed and the vault's capital; equal after
        every event (see :mod:`exchange_sim.liquidation.settlement`)."""
        return self.liquidation.money_identity(self._funding_residue())

    def _verify_money(self, now: int) -> None:
        held, put_in = self.money_identity()
        if held != put_in:
            raise SimulationError(f"money not conserved at {now} ns: held {held}, put in {put_in}")

    def _funding_residue(self) -> int:
        return self.funding.residue_balance if self.funding is not None else 0

    def results(self) -> dict:
        """Run-level results for ``summary.json``."""
        book = self.engine.book
        held, put_in = self.money_identity()
        if held != put_in:
            raise SimulationError(f"money not conserved: held {held}, put in {put_in}")
        longs, shorts = self.ledger.open_interest_lots()
        return {
            "final_index_price_ticks": self.index.price,
            "final_mark_price_ticks": self.mark.price,
            "last_trade_price_ticks": self.feed.last_trade_price,
            "final_best_bid_ticks": book.best_bid(),
            "final_best_ask_ticks": book.best_ask(),
            "commands_handled": self.gateway.commands_handled,
            "open_interest_lots": longs,
            "open_interest_balanced": longs == shorts,
            "money_held_minor": held,
            "money_deposited_net_minor": put_in,
            "fees_collected_minor": self.ledger.fees_collected,
            "funding_residue_minor": self._funding_residue(),
            "funding_settlements": self.funding.settlements if self.funding is not None else 0,
            "margin_checks": self.risk.checks,
            "liquidations_triggered": len(self.risk.handoffs),
            "insurance_fund_minor": self.liquidation.fund.balance,
            "bad_debt_outstanding_minor": self.liquidation.settlement.bad_debt_outstanding,
            "vault_cash_minor": self.liquidation.vault.cash if self.liquidation.vault else None,
        }
