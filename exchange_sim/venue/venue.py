"""The venue: one object, assembled from a resolved config in exactly one place (:class:`Venue`).

Runs, the public API and every test harness build a venue here; nothing else wires components
together. A venue holds its instruments (today one linear perpetual: book, matching engine,
index, mark, margin tiers, funding), the accounts ledger, the order gateway and market-data feed,
the risk monitor and the liquidation engine (with its insurance fund, vault and ADL).

**Who hears of what, in which order.** Components never subscribe themselves; the table below is
registered in :meth:`Venue._wire` and nowhere else, so the order is a decision, not an accident:

* a ``trade`` printed by the matching engine: the **ledger** first (positions, fees, realised
  PnL: everyone after it sees the account as the trade left it), then the **gateway** (fill
  reports to both parties), the **market-data feed** (the instant's view), the **mark service**
  (the trade becomes its latest input) and last the **liquidation desk** (settles the venue's
  own fills against the ledger's result);
* an order outcome (accepted, rested, cancelled, expired, ...): the **gateway** (the owner's
  response), then the **feed** (the book changed), then the **mark service** (the touch may have
  moved: its rule may read it);
* an ``index_price``: the **mark service**, then the **funding scheduler**, then the **feed**
  (index subscribers, in the order they subscribed, each after its own latency);
* a ``mark_price``: the **risk monitor** (it pops the accounts whose trigger the mark crossed);
* an account change in the ledger (fill, deposit, funding payment): the **risk monitor**;
* a margin call: the **gateway** carries it to the account's owner (notify latency); a position
  moved by ADL or a takeover: the **gateway** reports it to both owners (response latency); a
  forced fill: the **feed**'s public liquidation stream.

Same-instant ordering across components is the kernel's phases
(:class:`~exchange_sim.kernel.environment.Phase`); within one listener list, the order above.

**Account ids.** Participants' accounts are opened (by the run layer's ``populate`` callback)
before the venue's own ledger accounts (insurance fund, vault), so participants' ids never depend
on the liquidation setup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from exchange_sim.core.errors import SimulationError
from exchange_sim.core.ids import IdSource
from exchange_sim.core.rng import RngStreams
from exchange_sim.events.log import EventLog
from exchange_sim.funding.scheduler import FundingScheduler
from exchange_sim.kernel.environment import PhasedEnvironment
from exchange_sim.kernel.latency import LatencySampler
from exchange_sim.markets.fundamental import FundamentalValue
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.pricing.correlation import build_shocks
from exchange_sim.pricing.index_process import IndexPublisher
from exchange_sim.venue.collateral import build_collateral
from exchange_sim.venue.instrument import Instrument
from exchange_sim.venue.interventions import Interventions
from exchange_sim.venue.invariants import InvariantChecker
from exchange_sim.venue.mark_service import MarkPriceService
from exchange_sim.venue.perpetuals import Perpetuals
from exchange_sim.venue.spot_market import SpotMarket
from exchange_sim.venue.stress import build_stress

if TYPE_CHECKING:
    from exchange_sim.runner.config import LoadedConfig

PROGRESS_SLICES = 400
"""How many slices of simulated time a run with a progress callback is cut into."""

Populate = Callable[["Venue"], list]
"""Called once during assembly to open participants' accounts and connect them; returns the
objects to ``start()`` when the run starts."""


class Venue:
    """The exchange of one run, built from ``loaded`` (a resolved config) writing to ``log``.

    ``populate(venue)`` (optional) opens and connects the participants at the right point of the
    assembly (see the module docstring); :meth:`start` starts the venue's own processes and the
    participants; :meth:`run` runs to the configured duration and closes the log.
    """

    def __init__(self, loaded: LoadedConfig, log: EventLog, populate: Populate | None = None):
        config = loaded.config
        self.loaded = loaded
        self.config = config
        self.scale = scale = loaded.scale
        self.log = log
        self.env = env = PhasedEnvironment()
        self.rng = RngStreams(config.run.seed)
        self.ids = IdSource()

        self.fundamental = (
            FundamentalValue(
                env,
                log,
                config.fundamental,
                scale.tick_size,
                self.rng.stream("fundamental/path"),
            )
            if config.fundamental.enabled
            else None
        )
        self.spot_markets: dict[str, SpotMarket] = {
            spot.name: SpotMarket(env, log, spot, scale.money_per_tick_lot, self.ids)
            for spot in config.spot_markets
        }
        self.index_shocks = build_shocks(config, self.rng)
        self.instrument = instrument = Instrument(self, config.instrument.symbol, config, True)
        self.ledger, self.gateway, self.feed, self.risk = (
            instrument.ledger,
            instrument.gateway,
            instrument.feed,
            instrument.risk,
        )
        self.perpetuals = Perpetuals(self, instrument)
        self.group_accounts: dict[str, tuple] = {}
        """Leveraged groups' accounts by group name: ``(ledger, accounts)`` (``accounts_of``)."""
        self._starts: list = populate(self) if populate is not None else []
        # After the participants, so their account ids do not depend on the liquidation setup.
        instrument.build_liquidation(self)
        assert instrument.liquidation is not None
        self.liquidation = instrument.liquidation
        self.perpetuals.build_liquidation()
        # Last: the collateral books' accounts after every other account; each book is also a
        # spot market of the venue (money checks, results, the log's ``market`` field).
        self.collateral_markets = build_collateral(self)
        for collateral_market in self.collateral_markets.values():
            self.spot_markets[collateral_market.book_market.name] = collateral_market.book_market
        self.interventions = Interventions(self, config.interventions)
        self.stress = build_stress(self, config.stress)
        if config.run.verify_money:
            self.liquidation.after_step.append(self.verify_money)
        self.invariants = InvariantChecker(self, config.run.check)
        if config.run.check == "every-event":
            log.observe(self.invariants.check_cause)

    def sampler(self, model, name: str) -> LatencySampler:
        """A latency sampler drawing from the run's RNG stream ``name``."""
        return LatencySampler(model, self.rng.stream(name))

    # -- convenience views -------------------------------------------------------------------------
    @property
    def engine(self) -> MatchingEngine:
        return self.instrument.engine

    @property
    def book(self):
        return self.instrument.engine.book

    @property
    def tiers(self):
        return self.instrument.tiers

    @property
    def index(self) -> IndexPublisher:
        return self.instrument.index

    @property
    def mark(self) -> MarkPriceService:
        return self.instrument.mark

    @property
    def funding(self) -> FundingScheduler | None:
        return self.instrument.funding

    # -- running -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Log the accounts, start participants, then the index, mark, funding and risk processes
        (at t = 0)."""
        self.ledger.announce_accounts(self.env.now)
        self.perpetuals.announce()
        for spot in self.spot_markets.values():
            spot.ledger.announce_accounts(self.env.now)
        self.interventions.start()
        for collateral_market in self.collateral_markets.values():
            collateral_market.start()

        if self.stress is not None:
            self.stress.start()
        if self.fundamental is not None:
            self.fundamental.start()
        for component in self._starts:
            component.start()
        self.instrument.start()
        self.perpetuals.start()

    def run(self, package_version: str, progress: Callable[[int], None] | None = None) -> str:
        """Write ``run_start``, run to ``run.duration``, write ``run_end``; return the digest.

        ``progress(now_ns)``, if given, is called between slices of simulated time (a run is
        cut into ``PROGRESS_SLICES``); slicing adds no event and changes no outcome."""
        config = self.config
        duration = config.run.duration
        self.log.start(
            package_version,
            config.run.seed,
            self.loaded.sha256(),
            scenario=config.run.name,
            duration_ns=duration,
        )
        self.start()
        advance = self._run_checked if config.run.check == "every-event" else self.env.run_until
        if progress is None:
            advance(duration)
        else:
            step = max(1, -(-duration // PROGRESS_SLICES))
            for until in range(step, duration + step, step):
                advance(min(until, duration))
                progress(self.env.now)
        if config.run.check != "off":
            self.invariants.check_state()
        return self.log.close(duration)

    def _run_checked(self, end_ns: int) -> None:
        """:meth:`PhasedEnvironment.run_until`, one kernel step at a time, checking the
        invariants after each step that wrote an event (``run.check = "every-event"``)."""
        env, log, check = self.env, self.log, self.invariants.check_state
        while env.peek() < end_ns:
            before = log.seq
            env.step()
            if log.seq != before:
                check()
        env.run_until(end_ns)  # no event is left before end_ns: this only moves the clock

    # -- money and results -------------------------------------------------------------------------
    def money_identity(self) -> tuple[int, int]:
        """``(held, put_in)``: every minor unit held (accounts at any common price, fees, the
        insurance fund, the vault's cash, the funding residue, less recorded bad debt) against
        deposits minus withdrawals plus the fund's seed and the vault's capital; equal after
        every event (see :mod:`exchange_sim.liquidation.accounting`)."""
        held, put_in = self.liquidation.money_identity(self._funding_residue())
        if self.perpetuals.extra:
            more_held, more_in = self.perpetuals.money_identity()
            held, put_in = held + more_held, put_in + more_in
        return held, put_in

    def verify_money(self, now: int) -> None:
        """Raise :class:`SimulationError` unless the money identity holds, on the perpetual and
        on every spot market (quote and base) (``now`` for the message)."""
        held, put_in = self.money_identity()
        if held != put_in:
            raise SimulationError(f"money not conserved at {now} ns: held {held}, put in {put_in}")
        for name, spot in self.spot_markets.items():
            for asset, (spot_held, spot_in) in zip(
                ("quote", "base"), spot.ledger.identity(), strict=True
            ):
                if spot_held != spot_in:
                    raise SimulationError(
                        f"{asset} not conserved on {name} at {now} ns: held {spot_held}, "
                        f"put in {spot_in}"
                    )
        for asset, (units_held, units_in) in self.collateral_identity().items():
            if units_held != units_in:
                raise SimulationError(
                    f"collateral {asset} not conserved at {now} ns: held {units_held}, "
                    f"deposited {units_in}"
                )

    def collateral_identity(self) -> dict[str, tuple[int, int]]:
        """Per collateral asset ``(units held by accounts and the venue, units deposited)``."""
        collateral = self.ledger.collateral
        held = dict(collateral.desk_units)
        for instrument in self.perpetuals.all.values():  # a linked account holds none itself
            for account in instrument.ledger.accounts.values():
                for asset, units in (account.holdings or {}).items():
                    held[asset] += units
        return {asset: (held[asset], collateral.deposited[asset]) for asset in held}

    def _funding_residue(self) -> int:
        return self.funding.residue_balance if self.funding is not None else 0

    def results(self) -> dict:
        """Venue-level results for ``summary.json`` (raises if money is not conserved)."""
        book = self.book
        self.verify_money(self.env.now)
        held, put_in = self.money_identity()
        longs, shorts = self.ledger.open_interest_lots()
        liquidation = self.liquidation
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
            # An inverse contract's trades leave the exchange their values' rounding.
            **({"value_residue_minor": self.ledger.value_residue} if self.ledger.inverse else {}),
            "funding_settlements": self.funding.settlements if self.funding is not None else 0,
            "margin_checks": self.risk.checks,
            "liquidations_triggered": len(self.risk.handoffs),
            "accounts_past_maintenance_left": len(self.risk.past_maintenance_accounts),
            "insurance_fund_minor": liquidation.fund.balance,
            "bad_debt_outstanding_minor": liquidation.accounting.bad_debt_outstanding,
            "vault_cash_minor": liquidation.vault.cash if liquidation.vault else None,
            "spot_markets": {name: _spot_results(spot) for name, spot in self.spot_markets.items()},
            **self._collateral_results(),
            **self.perpetuals.results(),
        }

    def _collateral_results(self) -> dict:
        """``collateral`` (per asset) and what the venue paid for liquidated accounts' collateral,
        only when the venue accepts collateral (so other runs' summaries are unchanged)."""
        if not self.collateral_markets:
            return {}
        return {
            "collateral": {a: c.results() for a, c in self.collateral_markets.items()},
            "collateral_paid_by_venue_minor": self.ledger.collateral.desk_paid,
        }


def _spot_results(spot: SpotMarket) -> dict:
    """A spot market's end state for ``summary.json``."""
    (quote, quote_in), (base, base_in) = spot.ledger.identity()
    book = spot.book
    return {
        "last_trade_price_ticks": spot.state.last_trade_price,
        "final_best_bid_ticks": book.best_bid(),
        "final_best_ask_ticks": book.best_ask(),
        "quote_held_minor": quote,
        "quote_deposited_net_minor": quote_in,
        "base_held_lots": base,
        "base_deposited_lots": base_in,
        "fees_collected_minor": spot.ledger.fees_collected,
    }
