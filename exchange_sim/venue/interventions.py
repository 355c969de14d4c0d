"""Interventions on a timeline: what a venue (or an outage) does to the market at given times.

Each configured intervention (:mod:`exchange_sim.venue.intervention_config`) runs at its ``at``
in the ``RULES`` phase, before anything else at that instant (an index sample, an order, a mark,
a margin check), and is logged as an ``intervention`` event with no cause (root kind
``intervention``); one with a duration ends at ``at + duration``, again in the ``RULES`` phase,
with a second ``intervention`` event caused by the first. So an intervention covers its start
instant and not its end instant, whoever scheduled work at those instants first:

* ``halt`` / ``resume``: the market's matching engine rejects new orders and amends
  (``trading_halted``); on the perpetual the liquidation engine starts no account meanwhile;
* ``liquidation_outage`` / ``liquidation_restore``: the liquidation engine starts no account
  (hand-offs queue up);
* ``oracle_outage`` / ``oracle_restore``: no index price is published;
* ``margin_rates``: every maintenance rate times a factor; every position's triggers move;
* ``price_band``: the perpetual's price band changes;
* ``fund_top_up``: money into the insurance fund (counted as money put in).

Overlapping halts of one market, and overlapping oracle outages, nest: the market trades again
(the index is published again) when the last of them has ended, and one for good (``duration``
0) is never lifted; each timed one still logs its own end. Liquidation outages and perpetual
halts nest the same way in the liquidation engine (:meth:`LiquidationEngine.pause`). A circuit
breaker's halt (:mod:`exchange_sim.venue.stress`) is the same halt, caused by its trip.
"""

from __future__ import annotations

from exchange_sim.kernel.environment import Phase
from exchange_sim.venue.intervention_config import (
    FundTopUp,
    HaltTrading,
    LiquidationOutage,
    MarginRates,
    OracleOutage,
    PriceBand,
)


class Interventions:
    """Schedules and applies a venue's interventions (see the module docstring)."""

    __slots__ = ("_configs", "_halts", "_oracle_outages", "_venue", "applied")

    def __init__(self, venue, configs) -> None:
        self._venue = venue
        self._configs = configs
        self._halts: dict[str, int] = {}
        """Halts in force per market (its engine trades again at 0)."""
        self._oracle_outages = 0
        self.applied = 0

    def start(self) -> None:
        env = self._venue.env
        for config in self._configs:
            env.call_at(config.at - env.now, Phase.RULES, self._apply, config)

    def _emit(self, action: str, cause: int | None, market="", until=None, **values) -> int:
        venue = self._venue
        self.applied += 1
        return venue.log.emit(
            venue.env.now,
            "intervention",
            cause,
            action=action,
            market=market,
            until_ns=until,
            factor_ppb=values.get("factor_ppb"),
            band_ppb=values.get("band_ppb"),
            amount=values.get("amount"),
        )

    def _end(self, duration: int, callback, seq: int) -> None:
        if duration:
            self._venue.env.call_at(duration, Phase.RULES, callback, seq)

    def _apply(self, config) -> None:
        venue = self._venue
        now = venue.env.now
        until = now + config.duration if getattr(config, "duration", 0) else None
        if isinstance(config, HaltTrading):
            self.halt(config.market, config.duration, None)
        elif isinstance(config, LiquidationOutage):
            seq = self._emit("liquidation_outage", None, until=until)
            venue.liquidation.pause()
            self._end(config.duration, self._liquidation_restore, seq)
        elif isinstance(config, OracleOutage):
            seq = self._emit("oracle_outage", None, until=until)
            self._oracle_outages += 1
            venue.index.paused = True
            self._end(config.duration, self._oracle_restore, seq)
        elif isinstance(config, MarginRates):
            factor = config.factor_ppb
            seq = self._emit("margin_rates", None, factor_ppb=factor)
            venue.ledger.set_tiers(now, venue.ledger.tiers.with_maintenance_scaled(factor), seq)
        elif isinstance(config, PriceBand):
            self._emit("price_band", None, band_ppb=config.band_ppb)
            venue.engine.set_price_band(config.band_ppb)
        elif isinstance(config, FundTopUp):
            seq = self._emit("fund_top_up", None, amount=config.amount)
            venue.liquidation.fund.inject(now, config.amount, seq)

    def halt(self, market: str, duration: int, cause: int | None) -> int:
        """Halt ``market`` (empty: the perpetual) now for ``duration`` (0: for good), nesting
        with every other halt; log it as an ``intervention`` caused by ``cause`` (``None`` for
        one on the timeline; a circuit breaker's trip, :mod:`exchange_sim.venue.stress`)."""
        venue = self._venue
        engine = self._engine(market)
        until = venue.env.now + duration if duration else None
        seq = self._emit("halt", cause, engine.market, until)
        self._count_halt(engine, 1)
        if not market:
            venue.liquidation.pause()
        self._end(duration, lambda end_cause, m=market: self._resume(m, end_cause), seq)
        return seq

    def _engine(self, market: str):
        venue = self._venue
        return venue.engine if not market else venue.spot_markets[market].engine

    def _count_halt(self, engine, step: int) -> None:
        count = self._halts.get(engine.market, 0) + step
        self._halts[engine.market] = count
        engine.halted = count > 0

    def _resume(self, market: str, cause: int) -> None:
        engine = self._engine(market)
        self._emit("resume", cause, engine.market)
        self._count_halt(engine, -1)
        if not market:
            self._venue.liquidation.resume(self._venue.env.now)

    def _liquidation_restore(self, cause: int) -> None:
        self._emit("liquidation_restore", cause)
        self._venue.liquidation.resume(self._venue.env.now)

    def _oracle_restore(self, cause: int) -> None:
        self._emit("oracle_restore", cause)
        self._oracle_outages -= 1
        self._venue.index.paused = self._oracle_outages > 0
