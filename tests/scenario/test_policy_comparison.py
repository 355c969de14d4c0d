"""Paired policy comparisons on real sweeps (``exchange-sim sweep``) of
configs/scenarios/cascade.toml: short runs, few seeds."""

from __future__ import annotations

import os

from exchange_sim.analysis.sweep_data import load_sweep
from exchange_sim.analysis.sweep_stats import compare

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASCADE = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")


def _sweep(cli, tmp_path, seeds: int, factor: str) -> str:
    path = tmp_path / "study.toml"
    path.write_text(
        f'[sweep]\nname = "study"\nbase = "{CASCADE}"\nseeds = {seeds}\n\n'
        '[set]\n"run.duration" = "80s"  # the crash is over by 70 s\n\n'
        f"[[factors]]\n{factor}\n"
    )
    out = str(tmp_path / "out")
    status, _, err = cli("sweep", str(path), "--out", out, "--workers", "2", "--quiet")
    assert status == 0, err
    return out


def test_market_close_out_without_a_fund_leaves_more_bad_debt(cli, tmp_path):
    """A plain market close-out with no insurance fund against binance's rules with a 50,000
    USDT fund: on every seed it records more bad debt, so the paired difference (market minus
    binance) and its whole 95 % interval are above zero."""
    factor = (
        'keys = ["liquidation.policy.kind", "liquidation.insurance_fund.initial_balance"]\n'
        'values = [["binance", 50000], ["market", 0]]'
    )
    sweep = load_sweep(_sweep(cli, tmp_path, 3, factor))
    metrics, _ = sweep.available(["bad_debt", "fund_drawdown"])
    rows = {row.metric: row for row in compare(sweep, "liquidation.policy.kind", metrics).rows}
    bad = rows["bad_debt"]
    assert (bad.baseline, bad.value, bad.n_pairs) == ("binance", "market", 3)
    assert bad.baseline_mean == 0.0
    assert bad.mean_diff > 1000.0 and bad.ci_low > 0.0
    assert rows["fund_drawdown"].value_mean == 0.0  # nothing to draw down


def test_a_factor_that_changes_nothing_gives_zero_differences(cli, tmp_path):
    """log.buffer_lines only changes how the log is written: every metric's paired difference
    is exactly 0 with a zero-width interval."""
    factor = 'key = "log.buffer_lines"\nvalues = [1024, 64]'
    sweep = load_sweep(_sweep(cli, tmp_path, 2, factor))
    metrics, _ = sweep.available()
    rows = compare(sweep, "log.buffer_lines", metrics).rows
    assert len(rows) >= 15
    for row in rows:
        assert row.n_pairs == 2, row.metric
        assert (row.mean_diff, row.ci_low, row.ci_high) == (0.0, 0.0, 0.0), row.metric
