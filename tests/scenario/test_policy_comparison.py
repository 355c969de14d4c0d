"""Paired policy comparisons on real runs of configs/scenarios/cascade.toml (short, few seeds)."""

from __future__ import annotations

import os

from exchange_sim.analysis.sweep_data import load_sweep
from exchange_sim.analysis.sweep_stats import compare
from tests.unit.analysis.sweep_dirs import run_sweep_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASCADE = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")
SHORT = ['run.duration="80s"']  # the crash is over by 70 s


def test_market_close_out_without_a_fund_leaves_more_bad_debt(tmp_path):
    """A plain market close-out with no insurance fund against binance's rules with a 50,000
    USDT fund: on every seed it records more bad debt, so the paired difference (market minus
    binance) and its whole 95 % interval are above zero."""
    kind, fund = "liquidation.policy.kind", "liquidation.insurance_fund.initial_balance"
    points = [{kind: "binance", fund: 50000}, {kind: "market", fund: 0}]
    sweep = load_sweep(run_sweep_dir(tmp_path / "s", CASCADE, SHORT, points, seeds=(1, 2, 3)))
    metrics, _ = sweep.available(["bad_debt", "fund_drawdown"])
    rows = {row.metric: row for row in compare(sweep, kind, metrics).rows}
    bad = rows["bad_debt"]
    assert (bad.baseline, bad.value, bad.n_pairs) == ("binance", "market", 3)
    assert bad.baseline_mean == 0.0
    assert bad.mean_diff > 1000.0 and bad.ci_low > 0.0
    assert rows["fund_drawdown"].value_mean == 0.0  # nothing to draw down


def test_a_factor_that_changes_nothing_gives_zero_differences(tmp_path):
    """log.buffer_lines only changes how the log is written: every metric's paired difference
    is exactly 0 with a zero-width interval."""
    key = "log.buffer_lines"
    points = [{key: 1024}, {key: 64}]
    sweep = load_sweep(run_sweep_dir(tmp_path / "s", CASCADE, SHORT, points, seeds=(1, 2)))
    metrics, _ = sweep.available()
    rows = compare(sweep, key, metrics).rows
    assert len(rows) >= 15
    for row in rows:
        assert row.n_pairs == 2, row.metric
        assert (row.mean_diff, row.ci_low, row.ci_high) == (0.0, 0.0, 0.0), row.metric
