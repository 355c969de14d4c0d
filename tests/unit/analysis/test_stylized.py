"""The stylized-facts tool on logs whose answer is known: each test writes a run directory by hand
(:mod:`tests.unit.analysis.stylized_logs`) or uses a real run, and checks one rule."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from exchange_sim.analysis.stylized import format_table, stylized_facts
from exchange_sim.analysis.stylized_cascade import cascades, main_cascade
from exchange_sim.analysis.stylized_read import read_run
from exchange_sim.analysis.stylized_stats import hill, pooled_acf
from exchange_sim.core.errors import InputError
from tests.unit.analysis.stylized_logs import (
    P0,
    LogWriter,
    S,
    garch,
    prices_from_returns,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
TOOL = os.path.join(ROOT, "tools", "stylized_facts.py")


def _returns_run(tmp_path, name: str, returns: np.ndarray) -> str:
    """A run whose perpetual trades once a second along ``returns`` (index flat)."""
    log = LogWriter(len(returns) + 1)
    log.trades_every_second(prices_from_returns(returns))
    return log.write(tmp_path / name)


def _facts(paths, **options) -> dict:
    return stylized_facts(list(paths) if isinstance(paths, list) else [paths], **options)["facts"]


# -- returns ---------------------------------------------------------------------------------------
def test_garch_returns_show_volatility_clustering(tmp_path):
    """GARCH(1,1) returns: the ACF of |r| stands above the white-noise band and above the ACF of
    r at many lags, so clustering holds."""
    run = _returns_run(tmp_path, "garch", garch(4000, seed=3))
    fact = _facts(run, grids=["1s"])["volatility_clustering_1s"]
    assert fact["holds"] is True
    assert fact["measured"]["lags_clustered"] >= 10
    assert fact["measured"]["acf_abs"][0] > 0.1


def test_iid_returns_show_no_volatility_clustering(tmp_path):
    """Independent Gaussian returns: |r| is not autocorrelated, so clustering does not hold."""
    rng = np.random.default_rng(4)
    run = _returns_run(tmp_path, "iid", 1e-3 * rng.standard_normal(4000))
    fact = _facts(run, grids=["1s"])["volatility_clustering_1s"]
    assert fact["holds"] is False
    assert fact["measured"]["lags_clustered"] <= 1


def test_negative_skew_is_detected(tmp_path):
    """Returns -(E - 1) with E exponential have skewness -2: negative skew holds."""
    rng = np.random.default_rng(5)
    run = _returns_run(tmp_path, "neg", -1e-3 * (rng.exponential(size=3000) - 1))
    fact = _facts(run, grids=["1s"])["negative_skew_1s"]
    assert fact["holds"] is True
    assert fact["measured"]["skewness"] == pytest.approx(-2, abs=0.3)


def test_positive_skew_fails_the_negative_skew_fact(tmp_path):
    """The mirror image, skewness +2: the fact does not hold and the sign is reported."""
    rng = np.random.default_rng(5)
    run = _returns_run(tmp_path, "pos", 1e-3 * (rng.exponential(size=3000) - 1))
    fact = _facts(run, grids=["1s"])["negative_skew_1s"]
    assert fact["holds"] is False
    assert fact["measured"]["skewness"] > 1.5
    assert "positive" in fact["note"]


def test_student_t_returns_have_heavy_tails(tmp_path):
    """Student-t returns with 3 degrees of freedom: significant excess kurtosis and a Hill index
    near 3, inside [2, 5]."""
    rng = np.random.default_rng(6)
    run = _returns_run(tmp_path, "t3", 1e-3 * rng.standard_t(3, size=6000))
    fact = _facts(run, grids=["1s"])["heavy_tails_1s"]
    assert fact["holds"] is True
    assert fact["measured"]["hill_alpha"] == pytest.approx(3, abs=0.6)
    assert fact["measured"]["beyond_3sigma_share"] > fact["measured"]["gaussian_3sigma_share"]


def test_gaussian_returns_do_not_have_heavy_tails(tmp_path):
    """Gaussian returns: the excess kurtosis is within noise of 0, so the fact fails."""
    rng = np.random.default_rng(7)
    run = _returns_run(tmp_path, "gauss", 1e-3 * rng.standard_normal(6000))
    fact = _facts(run, grids=["1s"])["heavy_tails_1s"]
    assert fact["holds"] is False
    assert abs(fact["measured"]["excess_kurtosis"]) < 2 * fact["measured"]["kurtosis_se"]


def test_a_hill_index_in_range_is_not_enough_without_excess_kurtosis(tmp_path):
    """With a 20 % tail even Gaussian returns give a Hill index inside [2, 5] (about 3.4): the
    kurtosis rule is what keeps them from passing as heavy-tailed."""
    rng = np.random.default_rng(7)
    run = _returns_run(tmp_path, "gauss", 1e-3 * rng.standard_normal(6000))
    fact = _facts(run, grids=["1s"], tail_fraction=0.2)["heavy_tails_1s"]
    assert 2 <= fact["measured"]["hill_alpha"] <= 5
    assert fact["holds"] is False


def test_excess_kurtosis_without_a_power_law_tail_is_not_heavy_tailed(tmp_path):
    """90 % small Gaussian returns and 10 % of size 1-1.1 (x 1e-3): excess kurtosis about 5.6,
    but the tail stops at 1.1, so Hill is far above 5 (about 45) and the fact fails."""
    rng = np.random.default_rng(10)
    small = 0.1 * rng.standard_normal(6000)
    block = rng.uniform(1, 1.1, 6000) * rng.choice([-1, 1], 6000)
    returns = 1e-3 * np.where(rng.random(6000) < 0.1, block, small)
    fact = _facts(_returns_run(tmp_path, "bounded", returns), grids=["1s"])["heavy_tails_1s"]
    assert fact["measured"]["excess_kurtosis"] > 10 * fact["measured"]["kurtosis_se"]
    assert fact["measured"]["hill_alpha"] > 20
    assert fact["holds"] is False


def test_too_few_returns_give_no_verdict(tmp_path):
    """Twenty returns are too few for moments or Hill: holds is None and the note says why."""
    run = _returns_run(tmp_path, "short", np.full(20, 1e-3))
    fact = _facts(run, grids=["1s"])["heavy_tails_1s"]
    assert fact["holds"] is None
    assert "too few" in fact["note"]


def test_coarser_grid_returns_are_closer_to_gaussian(tmp_path):
    """iid Student-t(5) returns summed over 10 s have a tenth of the 1 s excess kurtosis:
    aggregational Gaussianity holds."""
    rng = np.random.default_rng(8)
    run = _returns_run(tmp_path, "agg", 1e-3 * rng.standard_t(5, size=8000))
    fact = _facts(run, grids=["1s", "10s"])["aggregational_gaussianity"]
    kurt = fact["measured"]["excess_kurtosis_by_grid"]
    assert fact["holds"] is True
    assert kurt["10s"] < kurt["1s"] / 2


def test_returns_farther_from_gaussian_on_the_coarser_grid_fail_aggregation(tmp_path):
    """Returns of +/-1 (x 1e-3, plus noise) whose sign holds for blocks of 10 s: on the 10 s grid
    they are +/-10, more bimodal (excess kurtosis about -1.9 against -1.3), so the distribution
    moves away from the Gaussian and the fact fails although the kurtosis went down."""
    rng = np.random.default_rng(11)
    signs = np.repeat(rng.choice([-1.0, 1.0], 800), 10)
    returns = 1e-3 * (signs + 0.5 * rng.standard_normal(8000))
    fact = _facts(_returns_run(tmp_path, "blocks", returns), grids=["1s", "10s"])
    kurt = fact["aggregational_gaussianity"]["measured"]["excess_kurtosis_by_grid"]
    assert kurt["10s"] < kurt["1s"] < 0
    assert fact["aggregational_gaussianity"]["holds"] is False


def test_grid_takes_the_last_trade_at_or_before_each_time(tmp_path):
    """Trades at 0.5 s (100), 1.0 s (110) and 1.5 s (121) give the 1 s grid prices 110 and 121:
    one return of ln(1.1), the 0.5 s trade being overwritten."""
    log = LogWriter(2)
    for ts, price in ((S // 2, 100_000), (S, 110_000), (3 * S // 2, 121_000)):
        log.trade(ts, price)
    run = read_run(log.write(tmp_path / "grid"), S)
    from exchange_sim.analysis.stylized_returns import returns_by_run

    (returns,) = returns_by_run([run], S, "perp")
    assert returns.tolist() == pytest.approx([math.log(1.1)])


def test_returns_never_span_two_runs(tmp_path):
    """Two runs at constant but different prices pool to zero returns only (198 of them), so
    the jump between the runs' levels is never read as a return."""
    runs = []
    for name, price in (("a", P0), ("b", 2 * P0)):
        log = LogWriter(100)
        log.trades_every_second([price] * 100)
        runs.append(log.write(tmp_path / name))
    fact = _facts(runs, grids=["1s"])["heavy_tails_1s"]
    assert fact["measured"]["returns"] == 198
    assert fact["measured"]["std"] is None  # every return is exactly zero


def test_spot_market_trades_are_not_the_perpetual_price(tmp_path):
    """Trades on a spot market move wildly while the perpetual stays flat: the perpetual's
    returns are all zero."""
    log = LogWriter(100)
    log.trades_every_second([P0] * 100)
    for k in range(100):
        log.trade(k * S + 1, P0 + (k % 2) * 100_000, market="spot-a")
    fact = _facts(log.write(tmp_path / "spot"), grids=["1s"])["heavy_tails_1s"]
    assert fact["measured"]["std"] is None


# -- the statistics themselves ---------------------------------------------------------------------
def test_hill_is_k_over_the_sum_of_log_excesses_over_the_next_order_statistic():
    """Exact Pareto quantiles x_i = (200 / i)^(1/3), i = 1..200, and a 5 % tail (k = 10): the
    estimate is 10 x 3 / (10 ln 11 - ln 10!), the threshold being x_11, not x_10."""
    sample = (200 / np.arange(1, 201)) ** (1 / 3)
    expected = 30 / (10 * math.log(11) - math.lgamma(11))
    result = hill(sample, 0.05)
    assert result["k"] == 10
    assert result["alpha"] == pytest.approx(expected, rel=1e-12)


def test_hill_recovers_the_index_of_a_pareto_sample():
    """The Hill estimator on 20,000 Pareto draws of index 3 gives 3 within 0.2."""
    rng = np.random.default_rng(9)
    sample = rng.pareto(3.0, size=20_000) + 1.0
    assert hill(sample, 0.05)["alpha"] == pytest.approx(3.0, abs=0.2)


def test_pooled_acf_of_one_series_is_the_textbook_acf():
    """One series: lag-1 autocorrelation of 1, -1, 1, -1, ... is -(n-1)/n."""
    series = np.array([1.0, -1.0] * 50)
    assert pooled_acf([series], 1)[0] == pytest.approx(-99 / 100)


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
    facts = _facts(_stress_book(tmp_path, "stress", withdraw=True))
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
    facts = _facts(_stress_book(tmp_path, "still", withdraw=False))
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
    facts = _facts(log.write(tmp_path / "up"))
    assert facts["spread_widening"]["holds"] is None
    assert "never fell" in facts["spread_widening"]["note"]


# -- gap at the trough -----------------------------------------------------------------------------
def _gap_run(tmp_path, name: str, index_follows: bool) -> str:
    """The perpetual trades at P0 +/- 1 tick, then at 0.95 P0 at 60 s and P0 after; the index is
    P0 throughout (or follows the perpetual's trough when ``index_follows``)."""
    log = LogWriter(100)
    prices = [P0 + (1 if t % 2 else -1) for t in range(100)]
    prices[60] = P0 * 95 // 100
    log.trades_every_second(prices)
    for t in range(100):
        log.index(t * S, prices[60] if index_follows and t == 60 else P0)
    return log.write(tmp_path / name)


def test_the_perp_below_the_index_at_its_trough_is_a_dislocation(tmp_path):
    """At the trough the perpetual is 5 % under the index, far beyond its usual 1-tick gap."""
    fact = _facts(_gap_run(tmp_path, "gap", index_follows=False))["perp_index_gap_at_trough"]
    row = fact["measured"]["runs"][0]
    assert row["gap"] == pytest.approx(-0.05)
    assert row["trough_time_s"] == 60
    assert row["usual_abs_gap"] == pytest.approx(1 / P0)
    assert fact["holds"] is True


def test_an_index_that_falls_with_the_perp_leaves_no_gap(tmp_path):
    """The index at the perpetual's trough price: the gap is 0 and the fact fails."""
    fact = _facts(_gap_run(tmp_path, "nogap", index_follows=True))["perp_index_gap_at_trough"]
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
    fact = _facts(_cascade_run(tmp_path, "fund", 0.99, -1_000_000))["funding_after_cascade"]
    row = fact["measured"]["runs"][0]
    assert (row["basis"], row["before"], row["after"]) == ("funding_rate", 1e-4, -1e-3)
    assert fact["holds"] is True


def test_positive_funding_after_a_long_cascade_fails(tmp_path):
    """Funding of +0.1 % after a long cascade is the wrong sign: the fact fails."""
    fact = _facts(_cascade_run(tmp_path, "fund+", 0.99, 1_000_000))["funding_after_cascade"]
    assert fact["holds"] is False


def test_premium_samples_stand_in_when_no_funding_interval_ends_after(tmp_path):
    """No funding rate after the cascade: the premium's mean after (-0.2 %) against before
    (+0.05 %) decides, and the basis says so."""
    fact = _facts(_cascade_run(tmp_path, "prem", 0.99, None))["funding_after_cascade"]
    row = fact["measured"]["runs"][0]
    assert (row["basis"], row["before"], row["after"]) == ("premium_sample", 5e-4, -2e-3)
    assert fact["holds"] is True
    assert "premium samples stand in" in fact["note"]


def test_the_price_rebounds_when_forced_flow_stops(tmp_path):
    """Trough 0.9 P0 at 54 s (the last forced event), 0.99 P0 ten seconds later, index flat: the
    rebound is ln(0.99 / 0.9), all of it in excess of the index, 90 % of the fall recovered."""
    fact = _facts(_cascade_run(tmp_path, "up", 0.99, None))["rebound_after_forced_flow"]
    row = fact["measured"]["runs"][0]
    assert row["trough_time_s"] == 54 and row["forced_flow_stop_s"] == pytest.approx(54, abs=1e-6)
    assert row["rebound"] == pytest.approx(math.log(0.99 / 0.9))
    assert row["excess"] == pytest.approx(row["rebound"])
    assert row["recovered_share"] == pytest.approx(0.9)
    assert fact["holds"] is True


def test_a_price_that_keeps_falling_after_the_cascade_has_no_rebound(tmp_path):
    """The price goes on to 0.85 P0 after the last forced event: negative rebound, fails."""
    fact = _facts(_cascade_run(tmp_path, "down", 0.85, None))["rebound_after_forced_flow"]
    assert fact["measured"]["runs"][0]["rebound"] < 0
    assert fact["holds"] is False


def test_a_run_without_liquidations_has_no_cascade_facts(tmp_path):
    """No liquidation: funding and rebound have no verdict, and the note says there was none."""
    run = _returns_run(tmp_path, "calm", np.zeros(50))
    facts = _facts(run)
    for name in ("funding_after_cascade", "rebound_after_forced_flow"):
        assert facts[name]["holds"] is None
        assert facts[name]["measured"]["runs"][0]["why"] == "no liquidation"


# -- impact ----------------------------------------------------------------------------------------
def _impact_runs(tmp_path, law) -> list[str]:
    """Two runs of metaorders of 100, 400 (run a) and 1600, 6400 lots (run b) whose impact is
    ``law(lots)`` ppb."""
    paths = []
    for name, sizes in (("a", (100, 400)), ("b", (1600, 6400))):
        log = LogWriter(100)
        log.trades_every_second([P0] * 100)
        for account, lots in enumerate(sizes, start=20):
            log.metaorder(account, 10 * S, 30 * S, lots, law(lots))
        paths.append(log.write(tmp_path / name))
    return paths


def test_exact_square_root_impact_pooled_across_runs_fits_one_half(tmp_path):
    """Impacts 1, 2, 4, 8 x 10^-3 for sizes 0.1, 0.4, 1.6, 6.4 base (two runs pooled): delta is
    0.5, Y is 10^-3 / sqrt(0.1), and the fact holds."""
    runs = _impact_runs(tmp_path, lambda lots: round(1e6 * math.sqrt(lots / 100)))
    fact = _facts(runs)["square_root_impact"]
    assert fact["measured"]["delta"] == pytest.approx(0.5, abs=1e-9)
    assert fact["measured"]["Y"] == pytest.approx(1e-3 / math.sqrt(0.1))
    assert fact["measured"]["metaorders"] == 4
    assert fact["holds"] is True


def test_linear_impact_fails_the_square_root_fact(tmp_path):
    """Impact proportional to size: delta 1, outside [0.3, 0.7]."""
    fact = _facts(_impact_runs(tmp_path, lambda lots: 10_000 * lots))["square_root_impact"]
    assert fact["measured"]["delta"] == pytest.approx(1.0)
    assert fact["holds"] is False


def test_metaorders_of_one_size_give_no_impact_verdict(tmp_path):
    """Three metaorders of the same size cannot fit an exponent: holds is None."""
    log = LogWriter(100)
    for account in (20, 21, 22):
        log.metaorder(account, 10 * S, 30 * S, 500, 1_000_000 + account)
    fact = _facts(log.write(tmp_path / "same"))["square_root_impact"]
    assert fact["holds"] is None
    assert "span" in fact["note"]


# -- several runs, output, the command line --------------------------------------------------------
def test_per_run_facts_hold_by_majority(tmp_path):
    """Two runs with the dislocation and one without: the gap fact holds in 2 of 3 runs."""
    runs = [
        _gap_run(tmp_path, "g1", index_follows=False),
        _gap_run(tmp_path, "g2", index_follows=False),
        _gap_run(tmp_path, "g3", index_follows=True),
    ]
    fact = _facts(runs)["perp_index_gap_at_trough"]
    assert fact["holds"] is True
    assert "holds in 2 of 3" in fact["note"]


def test_more_than_three_runs_are_summarised_by_their_median(tmp_path):
    """Four runs, three with a -5 % gap and one with none: the headline gives the median gap
    over the four runs instead of listing each run."""
    runs = [_gap_run(tmp_path, f"m{k}", index_follows=k == 3) for k in range(4)]
    fact = _facts(runs)["perp_index_gap_at_trough"]
    assert fact["headline"] == "median gap -5% over 4 of 4 runs"
    assert "holds in 3 of 4" in fact["note"]


def test_a_real_run_gives_the_same_json_safe_result_twice(cascade_run):
    """A real cascade run: every fact is present, the result is strict JSON (no NaN or inf)
    and reading it again gives the same dict; its liquidations give the cascade facts data."""
    first = stylized_facts([cascade_run])
    assert first == stylized_facts([cascade_run])
    json.dumps(first, allow_nan=False)
    facts = first["facts"]
    assert facts["rebound_after_forced_flow"]["measured"]["runs"][0].get("cascade")
    assert "perp_index_gap_at_trough" in format_table(first)


def test_a_bad_option_is_an_input_error(tmp_path):
    """A grid that is not a duration is refused as input, naming the option."""
    run = _returns_run(tmp_path, "r", np.zeros(10))
    with pytest.raises(InputError, match="grid"):
        stylized_facts([run], grids=["fast"])


def _load_tool():
    spec = importlib.util.spec_from_file_location("stylized_facts_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tool_prints_the_table_and_writes_json(tmp_path, capsys):
    """The command prints a row per fact and writes the same result as JSON."""
    run = _gap_run(tmp_path, "gap", index_follows=False)
    out = tmp_path / "facts.json"
    assert _load_tool().main([run, "--json", str(out), "--grid", "1s"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split()[:4] == ["fact", "holds", "measured", "target"]
    assert "perp_index_gap_at_trough   yes" in printed
    assert json.loads(out.read_text())["facts"]["perp_index_gap_at_trough"]["holds"] is True


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        ("missing", "no such run directory"),
        ("empty", "not a run directory (no config.toml)"),
        ("altered", "digest mismatch"),
        ("badgrid", "expected a duration"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, make, expected):
    """A missing directory, one that is not a run, an altered log or a bad option: one line on
    stderr naming the problem (and the path), exit status 2, nothing on stdout."""
    path = str(tmp_path / "run")
    args = [path]
    if make == "empty":
        os.makedirs(path)
    elif make in ("altered", "badgrid"):
        _returns_run(tmp_path, "run", np.zeros(10))
        if make == "altered":
            with open(os.path.join(path, "events.jsonl"), "r+b") as handle:
                data = handle.read().replace(b'"price_ticks":5000000', b'"price_ticks":5000001', 1)
                handle.seek(0)
                handle.write(data)
        else:
            args += ["--grid", "fast"]
    assert _load_tool().main(args) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert expected in err
    if make != "badgrid":
        assert path in err


def test_the_tool_as_a_process_fails_cleanly_on_a_missing_directory(tmp_path):
    """Run as a script on a missing directory: status 2, one line naming it, no traceback."""
    missing = str(tmp_path / "nowhere")
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        [sys.executable, TOOL, missing], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"stylized_facts: error: {missing}: no such run directory (got {missing!r})"
    ]
