"""Reactive stress-mitigation policies: rules that fire on market conditions (``[stress]``).

The timeline interventions (:mod:`.interventions`) change the rules at fixed times; these react
to the market. Each is off by default (:mod:`.stress_config`); the decisions are pure
(:mod:`.stress_rules`, :mod:`exchange_sim.pricing.mark_smoothing`,
:mod:`exchange_sim.liquidation.adl_cap`); this module wires them into the venue and decides when
they are asked. Every change is one ``stress_policy`` event (or, for a halt, an ``intervention``
caused by one):

* **circuit breaker** (a mark listener, after the risk monitor; with ``source = "last_trade"`` a
  trade listener, after the liquidation desk): each ``mark_price`` (``trade``) joins a rolling
  window; a price more than ``move`` from the window's high or low trips it (event
  ``stress_policy`` action ``trip``, caused by that ``mark_price`` or ``trade``). Action
  ``halt``: a halt of the perpetual for ``duration`` through :meth:`Interventions.halt` (nests
  with timeline halts; the liquidation engine starts no account meanwhile; a trip during a
  sweep stops new orders, the sweeping order completes); action ``band``: the price band becomes
  ``band`` and, ``duration`` later, goes back to the band in force before the trip (action
  ``band_restore``, caused by the trip). While tripped it ignores prices; the window restarts
  at the end.
* **dynamic maintenance margin** (every ``cadence``, ``RULES`` phase, from the first mark on):
  the realised volatility of the marks of the last ``window`` and the largest account's share of
  open interest give a factor (:func:`~.stress_rules.margin_factor_ppb`); when it moved by at
  least ``min_change`` (or is back to 1) the configured tiers scaled by it are installed with
  ``Ledger.set_tiers`` (action ``margin_scale``, caused by the latest ``mark_price``). Cost: the
  share is O(accounts) per cadence; each change is O(accounts with a position) (every trigger
  moves), hence the cadence and the minimum change.
* **liquidation throttle**: the liquidation engine asks :meth:`StressPolicies.start_gap` for the
  gap after each start: from the depth within ``depth_band`` of the touch on the side the
  account's close-out hits (:func:`~.stress_rules.throttle_gap_ns`). A new gap is logged (action
  ``pace``, caused by the started account's ``liquidation_triggered``).
* **mark smoothing**: the mark service's rule is wrapped in a
  :class:`~exchange_sim.pricing.mark_smoothing.SmoothedMark` (no event of its own).
* **ADL cap**: the waterfall's ADL step closes at most the cap of each ranked account
  (:mod:`exchange_sim.liquidation.adl_cap`); its ``adl`` events show the sizes.
"""

from __future__ import annotations

from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.pricing.mark_smoothing import SmoothedMark
from exchange_sim.venue.stress_config import StressConfig, to_ppb
from exchange_sim.venue.stress_rules import (
    MoveWindow,
    ReturnWindow,
    largest_share_ppb,
    margin_factor_ppb,
    throttle_gap_ns,
    tripped,
    worth_applying,
)


class StressPolicies:
    """The enabled stress policies of one venue (module docstring). Build with
    :func:`build_stress`, which returns ``None`` when every policy is off."""

    def __init__(self, venue, config: StressConfig) -> None:
        self._venue = venue
        self.config = config
        breaker = config.circuit_breaker
        margin = config.dynamic_margin
        self._moves = MoveWindow(breaker.window) if breaker.enabled else None
        self._returns = ReturnWindow(margin.window) if margin.enabled else None
        self._tripped_until: int | None = None
        self._breaker_on_trades = breaker.enabled and breaker.source == "last_trade"
        self._mark_seq: int | None = None
        self.margin_factor_ppb = RATE_SCALE
        self._gap_ns: int | None = None
        self.trips = 0
        self.margin_changes = 0

    # -- wiring ------------------------------------------------------------------------------
    def wire(self) -> None:
        """Install the enabled policies' hooks (before the run starts)."""
        venue, config = self._venue, self.config
        if config.mark_smoothing.kind != "none":
            venue.mark.rule = SmoothedMark(venue.mark.rule, config.mark_smoothing)
        if (self._moves is not None and not self._breaker_on_trades) or self._returns is not None:
            venue.mark.listeners.append(self.on_mark)
        if self._breaker_on_trades:
            venue.engine.trade_listeners.append(self.on_trade)
        if config.liquidation_throttle.enabled:
            venue.liquidation.start_gap = self.start_gap
        if config.adl_cap.enabled:
            venue.liquidation.waterfall.adl_cap = config.adl_cap

    def start(self) -> None:
        if self._returns is not None:
            self._venue.env.call_at(
                self.config.dynamic_margin.cadence, Phase.RULES, self._recompute_margin
            )

    def _emit(self, policy: str, action: str, cause: int | None, **values) -> int:
        venue = self._venue
        return venue.log.emit(
            venue.env.now,
            "stress_policy",
            cause,
            policy=policy,
            action=action,
            value_ppb=values.get("value_ppb"),
            threshold_ppb=values.get("threshold_ppb"),
            share_ppb=values.get("share_ppb"),
            factor_ppb=values.get("factor_ppb"),
            band_ppb=values.get("band_ppb"),
            until_ns=values.get("until_ns"),
            gap_ns=values.get("gap_ns"),
            depth_lots=values.get("depth_lots"),
        )

    # -- prices: circuit breaker and the volatility window ----------------------------------------
    def on_mark(self, now: int, mark: int, seq: int) -> None:
        """Mark listener (after the risk monitor)."""
        self._mark_seq = seq
        if self._returns is not None:
            self._returns.add(now, mark)
        if not self._breaker_on_trades:
            self._watch(now, mark, seq)

    def on_trade(self, now, seq, maker, taker, price, size) -> None:
        """Trade listener (last, after the liquidation desk): the breaker's ``last_trade``
        source. A trip mid-sweep halts new orders; the sweeping order itself completes."""
        self._watch(now, price, seq)

    def _watch(self, now: int, price: int, seq: int) -> None:
        """A price for the breaker, from event ``seq`` (a mark or a trade)."""
        moves = self._moves
        if moves is None:
            return
        if self._tripped_until is not None:
            if now < self._tripped_until:
                return
            self._tripped_until = None
            moves.clear()
        moves.add(now, price)
        breaker = self.config.circuit_breaker
        move = moves.move_ppb(price)
        if tripped(move, breaker.move):
            self._trip(now, move, seq)

    def _trip(self, now: int, move_ppb: int, price_seq: int) -> None:
        breaker = self.config.circuit_breaker
        venue = self._venue
        until = now + breaker.duration
        self._tripped_until = until
        self.trips += 1
        band = breaker.band if breaker.action == "band" else None
        seq = self._emit(
            "circuit_breaker",
            "trip",
            price_seq,
            value_ppb=move_ppb,
            threshold_ppb=breaker.move,
            band_ppb=band,
            until_ns=until,
        )
        if breaker.action == "halt":
            venue.interventions.halt("", breaker.duration, seq)
            return
        engine = venue.engine
        before = engine.price_band_ppb
        engine.set_price_band(breaker.band)
        venue.env.call_at(breaker.duration, Phase.RULES, self._restore_band, (before, seq))

    def _restore_band(self, payload: tuple[int, int]) -> None:
        band, trip_seq = payload
        self._emit("circuit_breaker", "band_restore", trip_seq, band_ppb=band)
        self._venue.engine.set_price_band(band)

    # -- dynamic maintenance margin -------------------------------------------------------------
    def _recompute_margin(self, _payload) -> None:
        venue = self._venue
        margin = self.config.dynamic_margin
        now = venue.env.now
        venue.env.call_at(margin.cadence, Phase.RULES, self._recompute_margin)
        if self._mark_seq is None or self._returns is None:
            return
        vol = self._returns.volatility_ppb(now)
        ledger = venue.ledger
        share = 0
        if margin.concentration_threshold < RATE_SCALE:
            longs, _shorts = ledger.open_interest_lots()
            share = largest_share_ppb((a.size_lots for a in ledger.accounts.values()), longs)
        target = margin_factor_ppb(
            vol,
            share,
            margin.vol_threshold,
            to_ppb(margin.vol_slope),
            margin.concentration_threshold,
            to_ppb(margin.concentration_slope),
            to_ppb(margin.max_factor),
        )
        if not worth_applying(target, self.margin_factor_ppb, margin.min_change):
            return
        self.margin_factor_ppb = target
        self.margin_changes += 1
        seq = self._emit(
            "dynamic_margin",
            "margin_scale",
            self._mark_seq,
            value_ppb=vol,
            threshold_ppb=margin.vol_threshold,
            share_ppb=share,
            factor_ppb=target,
        )
        ledger.set_tiers(now, venue.tiers.with_maintenance_scaled(target), seq)

    # -- liquidation throttle ---------------------------------------------------------------------
    def start_gap(self, now: int, job) -> int:
        """The liquidation engine's pacing hook: ns until the next start after ``job``'s."""
        throttle = self.config.liquidation_throttle
        venue = self._venue
        size = venue.ledger.accounts[job.account_id].size_lots
        side = BUY if size > 0 else SELL  # a long's close-out sells into the bids
        book = venue.book
        touch = book.best_bid() if side == BUY else book.best_ask()
        depth = 0
        if touch is not None:
            distance = touch * throttle.depth_band // RATE_SCALE
            depth = book.depth_within(side, distance)
        gap = throttle_gap_ns(
            depth, throttle.reference_depth, throttle.max_throughput, throttle.min_throughput
        )
        if gap != self._gap_ns:
            self._gap_ns = gap
            self._emit("liquidation_throttle", "pace", job.cause_seq, gap_ns=gap, depth_lots=depth)
        return gap


def build_stress(venue, config: StressConfig) -> StressPolicies | None:
    """The venue's stress policies, wired; ``None`` (nothing installed) when all are off."""
    if not config.any_enabled:
        return None
    policies = StressPolicies(venue, config)
    policies.wire()
    return policies
