"""Stylized facts of a stress episode on hand-written logs whose answer is known: spread and
depth, calm against the steepest fall; the signed gap at the trough; cascades, funding after the
main one and the rebound when its forced flow stops."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from exchange_sim.analysis.stylized import stylized_facts
from exchange_sim.analysis.stylized_cascade import cascades, main_cascade
from exchange_sim.analysis.stylized_read import read_run
from tests.unit.analysis.stylized_logs import (
    P0,
    LogWriter,
    S,
    facts_of,
    gap_run,
    returns_run,
)


# -- the book under stress -------------------------------------------------------------------------
def _stress_book(tmp_path, name: str, withdraw: bool) -> str:
    """Flat at P0 to 40 s, -5 % from 40 s to 50 s (0.5 % a second), flat after. Calm quotes:
    1000 lots at P0 -/+ 100 ticks; at 39.5 s they are replaced by 100 lots at P0 -/+ 10,000 ticks
    (or left alone when ``withdraw`` is false)."""
    log = LogWriter(100)
    prices = [P0 if t <= 40 else P0 * (1 - 0.005 * min(t - 40, 10)) for t in range(100)]
    log.trades_every_second(prices)
    log.order(S // 10, 1, 1, P0 - 100, 1000)
    log.order(S // 10, 2, -1, P0 + 100, 1000)
    if withdraw:
        log.cancel(39 * S + S // 2, 1, 1, P0 - 100, 1000)
        log.cancel(39 * S + S // 2, 2, -1, P0 + 100, 1000)
        log.order(39 * S + S // 2, 3, 1, P0 - 10_000, 100)
        log.order(39 * S + S // 2, 4, -1, P0 + 10_000, 100)
    return log.write(tmp_path / name)


def test_spread_widens_and_depth_collapses_during_the_steepest_fall(tmp_path):
    """Calm spread 200 ticks and depth 2.0 base; during the fall 20,000 ticks and 0.2 base: the
    spread ratio is 100, the depth ratio 0.1, both facts hold."""
    facts = facts_of(_stress_book(tmp_path, "stress", withdraw=True))
    spread = facts["spread_widening"]["measured"]["runs"][0]
    assert spread["stress_start_s"] == 40 and spread["stress_end_s"] == 50
    assert spread["spread_calm"] == pytest.approx(200 / P0)
    assert spread["spread_stress"] == pytest.approx(20_000 / P0)
    assert spread["depth_calm"] == pytest.approx(2.0)
    assert spread["depth_stress"] == pytest.approx(0.2)
    assert facts["spread_widening"]["holds"] is True
    assert facts["depth_collapse"]["holds"] is True


def test_an_unchanged_book_through_the_fall_holds_neither_fact(tmp_path):
    """The same fall with the calm quotes left in place: ratios 1, both facts fail."""
    facts = facts_of(_stress_book(tmp_path, "still", withdraw=False))
    assert facts["spread_widening"]["measured"]["runs"][0]["spread_ratio"] == pytest.approx(1)
    assert facts["spread_widening"]["holds"] is False
    assert facts["depth_collapse"]["holds"] is False


def test_a_book_emptied_during_the_fall_is_infinitely_wide_and_json_stays_strict(tmp_path):
    """Every quote cancelled at 39.5 s and none placed: the stress spread is unbounded, the
    spread fact holds, depth falls to 0, and the JSON result writes ``None`` for the infinite
    ratio instead of a non-standard ``Infinity``."""
    log = LogWriter(100)
    prices = [P0 if t <= 40 else P0 * (1 - 0.005 * min(t - 40, 10)) for t in range(100)]
    log.trades_every_second(prices)
    log.order(S // 10, 1, 1, P0 - 100, 1000)
    log.order(S // 10, 2, -1, P0 + 100, 1000)
    log.cancel(39 * S + S // 2, 1, 1, P0 - 100, 1000)
    log.cancel(39 * S + S // 2, 2, -1, P0 + 100, 1000)
    result = stylized_facts([log.write(tmp_path / "empty")])
    row = result["facts"]["spread_widening"]["measured"]["runs"][0]
    assert row["one_sided_stress_share"] == 1.0
    assert row["spread_stress"] is None and row["spread_ratio"] is None
    assert result["facts"]["spread_widening"]["holds"] is True
    assert result["facts"]["depth_collapse"]["measured"]["runs"][0]["depth_stress"] == 0
    json.dumps(result, allow_nan=False)


def test_a_price_that_never_falls_gives_no_stress_verdict(tmp_path):
    """A rising price has no fall to call stress: holds is None and the note says so."""
    log = LogWriter(60)
    log.trades_every_second([P0 + 100 * t for t in range(60)])
    facts = facts_of(log.write(tmp_path / "up"))
    assert facts["spread_widening"]["holds"] is None
    assert "never fell" in facts["spread_widening"]["note"]


# -- gap at the trough -----------------------------------------------------------------------------
def test_the_perp_below_the_index_at_its_trough_is_a_dislocation(tmp_path):
    """At the trough the perpetual is 5 % under the index, far beyond its usual 1-tick gap."""
    fact = facts_of(gap_run(tmp_path, "gap", index_follows=False))["perp_index_gap_at_trough"]
    row = fact["measured"]["runs"][0]
    assert row["gap"] == pytest.approx(-0.05)
    assert row["trough_time_s"] == 60
    assert row["usual_abs_gap"] == pytest.approx(1 / P0)
    assert fact["holds"] is True


def test_an_index_that_falls_with_the_perp_leaves_no_gap(tmp_path):
    """The index at the perpetual's trough price: the gap is 0 and the fact fails."""
    fact = facts_of(gap_run(tmp_path, "nogap", index_follows=True))["perp_index_gap_at_trough"]
    assert fact["measured"]["runs"][0]["gap"] == 0
    assert fact["holds"] is False


# -- cascades, funding, rebound --------------------------------------------------------------------
def _cascade_run(tmp_path, name: str, after_price: float, rate_after: int | None) -> str:
    """Index flat at P0. The perpetual trades at P0 to 50 s, falls to 0.9 P0 at 54 s while longs
    are liquidated every second from 50 s to 54 s, then trades at ``after_price x P0`` from 55 s.
    Funding: +0.01 % for the interval ending at 40 s and ``rate_after`` ppb at 60 s."""
    log = LogWriter(100)
    prices = []
    for t in range(100):
        if t <= 50:
            prices.append(P0)
        elif t <= 54:
            prices.append(round(P0 * (1 - 0.025 * (t - 50))))
        else:
            prices.append(round(P0 * after_price))
    log.trades_every_second(prices)
    for t in range(100):
        log.index(t * S, P0)
    for t in range(50, 55):
        log.liquidation(t * S, 1000, prices[t], account=t)
        log.liquidation_fill(t * S + 1, prices[t], 1000, account=t)
    log.funding_rate(40 * S, 100_000)
    if rate_after is not None:
        log.funding_rate(60 * S, rate_after)
    for t in range(5, 100, 5):
        log.premium(t * S, 500_000 if t < 50 else -2_000_000)
    return log.write(tmp_path / name)


def test_cascades_are_cut_at_quiet_gaps_and_the_largest_is_the_main_one(tmp_path):
    """Forced events at 10-12 s and at 30-31 s with a 10 s gap rule: two episodes, the second
    (more notional) is the main one, and long liquidations make it a down cascade."""
    log = LogWriter(60)
    log.trades_every_second([P0] * 60)
    for t, lots in ((10, 100), (12, 100), (30, 1000), (31, 1000)):
        log.liquidation(t * S, lots, P0, account=t)
    run = read_run(log.write(tmp_path / "two"), S)
    found = cascades(run, 10 * S)
    assert [(c["start_s"], c["end_s"]) for c in found] == [(10, 12), (30, 31)]
    assert main_cascade(run, 10 * S)["start_s"] == 30
    assert found[1]["direction"] == -1
    assert found[1]["notional"] == pytest.approx(2 * 1000 * 0.001 * 50_000)


def test_funding_negative_after_a_long_cascade_holds(tmp_path):
    """The first funding after the cascade is -0.1 %, below the +0.01 % before: it holds."""
    fact = facts_of(_cascade_run(tmp_path, "fund", 0.99, -1_000_000))["funding_after_cascade"]
    row = fact["measured"]["runs"][0]
    assert (row["basis"], row["before"], row["after"]) == ("funding_rate", 1e-4, -1e-3)
    assert fact["holds"] is True


def test_positive_funding_after_a_long_cascade_fails(tmp_path):
    """Funding of +0.1 % after a long cascade is the wrong sign: the fact fails."""
    fact = facts_of(_cascade_run(tmp_path, "fund+", 0.99, 1_000_000))["funding_after_cascade"]
    assert fact["holds"] is False


def test_premium_samples_stand_in_when_no_funding_interval_ends_after(tmp_path):
    """No funding rate after the cascade: the premium's mean after (-0.2 %) against before
    (+0.05 %) decides, and the basis says so."""
    fact = facts_of(_cascade_run(tmp_path, "prem", 0.99, None))["funding_after_cascade"]
    row = fact["measured"]["runs"][0]
    assert (row["basis"], row["before"], row["after"]) == ("premium_sample", 5e-4, -2e-3)
    assert fact["holds"] is True
    assert "premium samples stand in" in fact["note"]


def test_the_price_rebounds_when_forced_flow_stops(tmp_path):
    """Trough 0.9 P0 at 54 s (the last forced event), 0.99 P0 ten seconds later, index flat: the
    rebound is ln(0.99 / 0.9), all of it in excess of the index, 90 % of the fall recovered."""
    fact = facts_of(_cascade_run(tmp_path, "up", 0.99, None))["rebound_after_forced_flow"]
    row = fact["measured"]["runs"][0]
    assert row["trough_time_s"] == 54 and row["forced_flow_stop_s"] == pytest.approx(54, abs=1e-6)
    assert row["rebound"] == pytest.approx(math.log(0.99 / 0.9))
    assert row["excess"] == pytest.approx(row["rebound"])
    assert row["recovered_share"] == pytest.approx(0.9)
    assert fact["holds"] is True


def test_a_price_that_keeps_falling_after_the_cascade_has_no_rebound(tmp_path):
    """The price goes on to 0.85 P0 after the last forced event: negative rebound, fails."""
    fact = facts_of(_cascade_run(tmp_path, "down", 0.85, None))["rebound_after_forced_flow"]
    assert fact["measured"]["runs"][0]["rebound"] < 0
    assert fact["holds"] is False


def test_a_run_without_liquidations_has_no_cascadefacts_of(tmp_path):
    """No liquidation: funding and rebound have no verdict, and the note says there was none."""
    run = returns_run(tmp_path, "calm", np.zeros(50))
    facts = facts_of(run)
    for name in ("funding_after_cascade", "rebound_after_forced_flow"):
        assert facts[name]["holds"] is None
        assert facts[name]["measured"]["runs"][0]["why"] == "no liquidation"
