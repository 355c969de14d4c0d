"""One perpetual contract of a venue, assembled: the same parts and wiring for every instrument.

A venue has a first perpetual (the root config's ``instrument``, ``index``, ``mark``, ``margin``,
``matching``, ``funding`` and ``liquidation`` sections) and, optionally, more (``perpetuals[]``,
:mod:`exchange_sim.venue.perpetual_config`), all on the instrument's grid (tick, lot, money unit)
and sharing the venue's kernel, log, RNG root and id source. Each gets its own index process,
matching engine and book, accounts ledger, gateway, market-data feed, mark price, risk monitor,
funding and liquidation engine (with its own insurance fund, vault and ADL; with
``shared_insurance_fund``, the first perpetual's fund instead of its own), wired by
:meth:`Instrument.wire_core` and :meth:`Instrument.wire_liquidation` in the order the venue's module
docstring gives. The first instrument's RNG streams keep their historical names (``index/path``,
``risk/check_latency``, ...); another's are prefixed with its symbol (``ETHUSDT/index/path``), and
its events carry ``instrument`` (its symbol).
"""

from __future__ import annotations

from typing import Any

from exchange_sim.accounts.inverse_ledger import InverseLedger
from exchange_sim.accounts.ledger import Ledger
from exchange_sim.accounts.margin_config import build_tiers
from exchange_sim.funding.scheduler import FundingScheduler
from exchange_sim.liquidation.engine import LiquidationEngine, build_liquidation
from exchange_sim.markets.spot_index import SpotIndexPath
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.pricing.correlation import CorrelatedGbmPath
from exchange_sim.pricing.index import GbmIndex, SpotIndex, build_path
from exchange_sim.pricing.index_process import IndexPublisher
from exchange_sim.risk.monitor import RiskMonitor
from exchange_sim.venue.feed import MarketDataFeed
from exchange_sim.venue.gateway import Gateway
from exchange_sim.venue.mark_service import MarkPriceService


class InstrumentLog:
    """The venue's log as one additional instrument writes to it: every event carries
    ``instrument`` (the symbol); everything else is the venue's log."""

    __slots__ = ("_log", "symbol")

    def __init__(self, log, symbol: str) -> None:
        self._log = log
        self.symbol = symbol

    def emit(self, ts: int, type: str, cause: int | None, **payload) -> int:
        return self._log.emit(ts, type, cause, instrument=self.symbol, **payload)

    def emit_record(self, record: dict) -> int:
        """``record`` (built for :meth:`EventLog.emit_record`) with ``instrument`` right after
        ``cause``, where :meth:`emit` puts it (``update`` keeps the first four keys in place)."""
        line = {
            "seq": 0,
            "ts": record["ts"],
            "type": record["type"],
            "cause": record["cause"],
            "instrument": self.symbol,
        }
        line.update(record)
        return self._log.emit_record(line)

    def __getattr__(self, name: str):
        return getattr(self._log, name)


class Instrument:
    """One perpetual contract of the venue and the parts that serve it (module docstring)."""

    __slots__ = (
        "config",
        "engine",
        "feed",
        "funding",
        "gateway",
        "index",
        "ledger",
        "liquidation",
        "log",
        "mark",
        "prefix",
        "risk",
        "scale",
        "symbol",
        "tiers",
    )

    def __init__(self, venue, symbol: str, config, first: bool) -> None:
        """``config``: an object with the instrument's sections (``index``, ``mark``, ``margin``,
        ``matching``, ``funding``, ``liquidation``): the root config for the first instrument,
        a :class:`PerpetualConfig` for another."""
        root = venue.config
        env = venue.env
        # Another perpetual may have a tick and lot of its own (money is the instrument's).
        scale = venue.scale if first else venue.loaded.scale_of(symbol)
        self.symbol = symbol
        self.config = config
        self.scale = scale
        self.prefix = prefix = "" if first else f"{symbol}/"
        log: Any = venue.log if first else InstrumentLog(venue.log, symbol)
        self.log = log
        index_cfg = config.index
        shocks = venue.index_shocks
        path: Any
        if isinstance(index_cfg.process, SpotIndex):
            states = {name: market.state for name, market in venue.spot_markets.items()}
            path = SpotIndexPath(index_cfg.process, states)
        elif shocks is not None and isinstance(index_cfg.process, GbmIndex):
            symbols = [root.instrument.symbol] + [p.symbol for p in root.perpetuals]
            path = CorrelatedGbmPath(
                index_cfg.process,
                scale,
                venue.rng.stream(f"{prefix}index/path"),
                shocks,
                symbols.index(symbol),
            )
        else:
            path = build_path(
                index_cfg.process,
                scale,
                venue.rng.stream(f"{prefix}index/path"),
                venue.loaded.base_dir,
            )
        self.index = index = IndexPublisher(
            env,
            path,
            index_cfg.cadence,
            venue.sampler(index_cfg.oracle_latency, f"{prefix}index/oracle_latency"),
            log,
        )
        self.engine = engine = MatchingEngine(
            log, config.matching, venue.ids.counter("trade"), market=symbol
        )
        self.tiers = tiers = build_tiers(config.margin, scale)
        self.ledger = ledger = (InverseLedger if scale.inverse else Ledger)(
            log,
            scale.inverse_k or scale.money_per_tick_lot,
            tiers,
            root.fees,
            root.risk.margin_call_ratio,
            maintenance_on_entry=config.margin.maintenance_basis == "entry",
        )
        self.gateway = Gateway(env, engine, ledger)
        self.feed = MarketDataFeed(env, engine)
        self.mark = mark = MarkPriceService(env, log, config.mark, index, engine, self.feed)
        self.risk = RiskMonitor(
            env,
            log,
            root.risk,
            ledger,
            mark,
            venue.sampler(root.risk.margin_check_latency, f"{prefix}risk/check_latency"),
            venue.sampler(root.risk.notify_latency, f"{prefix}risk/notify_latency"),
        )
        self.funding = (
            FundingScheduler(
                env, log, config.funding.rule, ledger, engine.book, index, mark, scale, tiers
            )
            if config.funding.enabled
            else None
        )
        self.liquidation: LiquidationEngine | None = None
        self.wire_core()

    @property
    def book(self):
        return self.engine.book

    # -- assembly ----------------------------------------------------------------------------
    def wire_core(self) -> None:
        """Hooks and listeners of the core (the venue module docstring's table, in its order)."""
        ledger, engine, index, mark, funding = (
            self.ledger,
            self.engine,
            self.index,
            self.mark,
            self.funding,
        )
        gateway, feed, risk = self.gateway, self.feed, self.risk
        engine.pre_trade_check = ledger.pre_trade_check
        engine.reduce_only_capacity = ledger.reduce_only_capacity
        engine.reference_price = mark.current
        ledger.open_orders = engine.book.open_orders
        ledger.mark_price = mark.current
        ledger.fallback_price = index.current
        engine.trade_listeners[:] = [
            ledger.on_trade,
            gateway.on_trade,
            feed.on_trade,
            mark.on_trade,
        ]
        engine.order_listeners[:] = [
            gateway.on_order_event,
            feed.on_order_event,
            mark.on_order_event,
        ]
        index.listeners[:] = [
            mark.on_index,
            *([funding.on_index] if funding else []),
            feed.on_index,
        ]
        mark.listeners[:] = [risk.on_mark]
        ledger.change_listeners[:] = [risk.on_account_change]
        risk.deliver_margin_call = gateway.deliver_margin_call

    def build_liquidation(self, venue) -> None:
        """The liquidation engine (after the participants: its holders' account ids come after
        theirs), and its hooks: its desk hears trades last; it guards order entry."""
        shared = bool(self.prefix) and self.config.shared_insurance_fund
        # The first perpetual's fund keeps the longest drawdown window of the engines sharing it.
        window = 0
        if not self.prefix:
            window = max(
                (
                    p.liquidation.adl.drawdown_window
                    for p in venue.config.perpetuals
                    if p.shared_insurance_fund
                ),
                default=0,
            )
        self.liquidation = liquidation = build_liquidation(
            venue.env,
            self.log,
            self.config.liquidation,
            self.ledger,
            self.engine,
            self.mark,
            self.scale,
            venue.ids,
            fund=venue.liquidation.fund if shared else None,
            fund_window_ns=window,
        )
        engine, risk = self.engine, self.risk
        engine.trade_listeners.append(liquidation.desk.on_trade)
        liquidation.install_order_guard()
        liquidation.risk_monitor = risk
        risk.liquidation_engine = liquidation
        risk.venue_accounts = liquidation.venue_accounts
        liquidation.waterfall.position_moved = self.gateway.deliver_position_transfer
        liquidation.accounting.fill_listeners[:] = [self.feed.on_liquidation_fill]
        if self.funding is not None:
            self.funding.shortfall_listener = self._funding_shortfall
        self.ledger.flat_below_zero = self._trade_shortfall

    def _trade_shortfall(self, now: int, account, position_seq: int, price: int) -> None:
        """A trade left an account flat below zero: a trader's own close (a market order, or a
        limit beyond its bankruptcy price) that filled past its bankruptcy price. Unless the
        account is in the liquidation pipeline (its settlement covers it), a venue holder, its
        wallet backs a position in another perpetual, or its collateral assets cover the
        wallet, the deficit goes down the waterfall as a liquidation's would: the fund covers
        it, the rest is bad debt (:meth:`LiquidationAccounting.cover_negative`), caused by the
        fill (*assumption*: the reference names no venue's rule for this case). A socialised
        loss is shared at the mark (the trade's price if there is no mark yet)."""
        assert self.liquidation is not None
        accounting = self.liquidation.accounting
        account_id = account.account_id
        if account_id in accounting.busy or account_id in accounting.venue_accounts:
            return
        if self._collateral_covers(account):
            return
        mark = self.mark.price
        accounting.cover_negative(now, position_seq, account, price if mark is None else mark)

    def _funding_shortfall(self, now: int, account, payment_seq: int, price: int) -> None:
        """A delayed funding payment left a flat account below zero: unless the account is
        still in the liquidation pipeline (whose settlement covers its deficit), its wallet
        still backs a position in another perpetual (settled when that closes), or its
        collateral assets cover the wallet, record the deficit as bad debt, caused by the
        payment (docs/mechanics.md, funding). A socialised loss is shared at the mark (the
        settlement price if there is no mark yet)."""
        assert self.liquidation is not None
        accounting = self.liquidation.accounting
        if account.account_id in accounting.busy or accounting.backs_other_positions(account):
            return
        if self._collateral_covers(account):
            return
        deficit = max(0, -account.wallet) + max(0, -account.isolated_margin)
        mark = self.mark.price
        accounting.write_off(now, payment_seq, account, deficit, price if mark is None else mark)

    def _collateral_covers(self, account) -> bool:
        """Whether a cross account's collateral assets cover its negative wallet (they back it:
        nothing to settle)."""
        return bool(
            not account.isolated
            and account.holder.holdings
            and account.wallet + self.ledger.collateral_value(account) >= 0
        )

    def start(self) -> None:
        """The instrument's own processes: index, mark, funding, risk (at t = 0)."""
        self.index.start()
        self.mark.start()
        if self.funding is not None:
            self.funding.start()
        self.risk.start()
