"""Stylized facts of returns on hand-written logs whose answer is known: tails, skew, clustering,
aggregation, the sampling grid and pooling, and the statistics underneath."""

from __future__ import annotations

import math

import numpy as np
import pytest

from exchange_sim.analysis.stylized_read import read_run
from exchange_sim.analysis.stylized_returns import returns_by_run
from exchange_sim.analysis.stylized_stats import hill, pooled_acf
from tests.unit.analysis.stylized_logs import (
    P0,
    LogWriter,
    S,
    facts_of,
    garch,
    returns_run,
)


# -- returns ---------------------------------------------------------------------------------------
def test_garch_returns_show_volatility_clustering(tmp_path):
    """GARCH(1,1) returns: the ACF of |r| stands above the white-noise band and above the ACF of
    r at many lags, so clustering holds."""
    run = returns_run(tmp_path, "garch", garch(4000, seed=3))
    fact = facts_of(run, grids=["1s"])["volatility_clustering_1s"]
    assert fact["holds"] is True
    assert fact["measured"]["lags_clustered"] >= 10
    assert fact["measured"]["acf_abs"][0] > 0.1


def test_iid_returns_show_no_volatility_clustering(tmp_path):
    """Independent Gaussian returns: |r| is not autocorrelated, so clustering does not hold."""
    rng = np.random.default_rng(4)
    run = returns_run(tmp_path, "iid", 1e-3 * rng.standard_normal(4000))
    fact = facts_of(run, grids=["1s"])["volatility_clustering_1s"]
    assert fact["holds"] is False
    assert fact["measured"]["lags_clustered"] <= 1


def test_negative_skew_is_detected(tmp_path):
    """Returns -(E - 1) with E exponential have skewness -2: negative skew holds."""
    rng = np.random.default_rng(5)
    run = returns_run(tmp_path, "neg", -1e-3 * (rng.exponential(size=3000) - 1))
    fact = facts_of(run, grids=["1s"])["negative_skew_1s"]
    assert fact["holds"] is True
    assert fact["measured"]["skewness"] == pytest.approx(-2, abs=0.3)


def test_positive_skew_fails_the_negative_skew_fact(tmp_path):
    """The mirror image, skewness +2: the fact does not hold and the sign is reported."""
    rng = np.random.default_rng(5)
    run = returns_run(tmp_path, "pos", 1e-3 * (rng.exponential(size=3000) - 1))
    fact = facts_of(run, grids=["1s"])["negative_skew_1s"]
    assert fact["holds"] is False
    assert fact["measured"]["skewness"] > 1.5
    assert "positive" in fact["note"]


def test_student_t_returns_have_heavy_tails(tmp_path):
    """Student-t returns with 3 degrees of freedom: significant excess kurtosis and a Hill index
    near 3, inside [2, 5]."""
    rng = np.random.default_rng(6)
    run = returns_run(tmp_path, "t3", 1e-3 * rng.standard_t(3, size=6000))
    fact = facts_of(run, grids=["1s"])["heavy_tails_1s"]
    assert fact["holds"] is True
    assert fact["measured"]["hill_alpha"] == pytest.approx(3, abs=0.6)
    assert fact["measured"]["beyond_3sigma_share"] > fact["measured"]["gaussian_3sigma_share"]


def test_gaussian_returns_do_not_have_heavy_tails(tmp_path):
    """Gaussian returns: the excess kurtosis is within noise of 0, so the fact fails."""
    rng = np.random.default_rng(7)
    run = returns_run(tmp_path, "gauss", 1e-3 * rng.standard_normal(6000))
    fact = facts_of(run, grids=["1s"])["heavy_tails_1s"]
    assert fact["holds"] is False
    assert abs(fact["measured"]["excess_kurtosis"]) < 2 * fact["measured"]["kurtosis_se"]


def test_a_hill_index_in_range_is_not_enough_without_excess_kurtosis(tmp_path):
    """With a 20 % tail even Gaussian returns give a Hill index inside [2, 5] (about 3.4): the
    kurtosis rule is what keeps them from passing as heavy-tailed."""
    rng = np.random.default_rng(7)
    run = returns_run(tmp_path, "gauss", 1e-3 * rng.standard_normal(6000))
    fact = facts_of(run, grids=["1s"], tail_fraction=0.2)["heavy_tails_1s"]
    assert 2 <= fact["measured"]["hill_alpha"] <= 5
    assert fact["holds"] is False


def test_excess_kurtosis_without_a_power_law_tail_is_not_heavy_tailed(tmp_path):
    """90 % small Gaussian returns and 10 % of size 1-1.1 (x 1e-3): excess kurtosis about 5.6,
    but the tail stops at 1.1, so Hill is far above 5 (about 45) and the fact fails."""
    rng = np.random.default_rng(10)
    small = 0.1 * rng.standard_normal(6000)
    block = rng.uniform(1, 1.1, 6000) * rng.choice([-1, 1], 6000)
    returns = 1e-3 * np.where(rng.random(6000) < 0.1, block, small)
    fact = facts_of(returns_run(tmp_path, "bounded", returns), grids=["1s"])["heavy_tails_1s"]
    assert fact["measured"]["excess_kurtosis"] > 10 * fact["measured"]["kurtosis_se"]
    assert fact["measured"]["hill_alpha"] > 20
    assert fact["holds"] is False


def test_too_few_returns_give_no_verdict(tmp_path):
    """Twenty returns are too few for moments or Hill: holds is None and the note says why."""
    run = returns_run(tmp_path, "short", np.full(20, 1e-3))
    fact = facts_of(run, grids=["1s"])["heavy_tails_1s"]
    assert fact["holds"] is None
    assert "too few" in fact["note"]


def test_coarser_grid_returns_are_closer_to_gaussian(tmp_path):
    """iid Student-t(5) returns summed over 10 s have a tenth of the 1 s excess kurtosis:
    aggregational Gaussianity holds."""
    rng = np.random.default_rng(8)
    run = returns_run(tmp_path, "agg", 1e-3 * rng.standard_t(5, size=8000))
    fact = facts_of(run, grids=["1s", "10s"])["aggregational_gaussianity"]
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
    fact = facts_of(returns_run(tmp_path, "blocks", returns), grids=["1s", "10s"])
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
    fact = facts_of(runs, grids=["1s"])["heavy_tails_1s"]
    assert fact["measured"]["returns"] == 198
    assert fact["measured"]["std"] is None  # every return is exactly zero


def test_spot_market_trades_are_not_the_perpetual_price(tmp_path):
    """Trades on a spot market move wildly while the perpetual stays flat: the perpetual's
    returns are all zero."""
    log = LogWriter(100)
    log.trades_every_second([P0] * 100)
    for k in range(100):
        log.trade(k * S + 1, P0 + (k % 2) * 100_000, market="spot-a")
    fact = facts_of(log.write(tmp_path / "spot"), grids=["1s"])["heavy_tails_1s"]
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
