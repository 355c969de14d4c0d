"""Paired comparisons of a sweep's factor values (exchange_sim.analysis.sweep_stats), on
synthetic sweep directories in the layout the sweep command writes."""

from __future__ import annotations

import math

import pytest

from exchange_sim.analysis.sweep_data import load_sweep, resolve_factor
from exchange_sim.analysis.sweep_stats import compare, mean_ci, t975
from exchange_sim.core.errors import InputError
from tests.unit.analysis.sweep_dirs import write_sweep_dir

BAD = "metrics.bad_debt.recorded"
FUND = "liquidation.insurance_fund.initial_balance"


def _sweep(tmp_path, points, runs):
    return load_sweep(write_sweep_dir(tmp_path / "sweep", points, runs))


def _metric(sweep, name="bad_debt"):
    metrics, _ = sweep.available([name])
    return metrics


def test_t_quantile_table_and_expansion():
    """t(0.975) is the exact table value up to 30 degrees of freedom and the Cornish-Fisher
    expansion above (checked against published values for 31, 60 and 120)."""
    assert t975(1) == 12.706204736
    assert t975(30) == 2.042272456
    assert t975(31) == pytest.approx(2.039513446, abs=1e-6)
    assert t975(60) == pytest.approx(2.000297822, abs=1e-6)
    assert t975(120) == pytest.approx(1.979930405, abs=1e-6)


def test_mean_ci_against_a_hand_computed_example():
    """Differences 1, 2, 3, 4: mean 2.5, s = sqrt(5/3), half-width t(3) s / 2 = 2.05426."""
    mean, low, high = mean_ci([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305 * math.sqrt(5 / 3) / 2
    assert mean == 2.5
    assert (low, high) == pytest.approx((2.5 - half, 2.5 + half), abs=1e-12)
    assert half == pytest.approx(2.054260, abs=1e-6)


def test_identical_policies_give_zero_difference_and_zero_width_ci(tmp_path):
    """Two values with the same metric on every seed: mean difference 0, CI [0, 0]."""
    points = [{FUND: 0}, {FUND: 1000}]
    runs = [{"point": p, "seed": s, BAD: 10.0 * s} for p in (0, 1) for s in (1, 2, 3)]
    sweep = _sweep(tmp_path, points, runs)
    (row,) = compare(sweep, FUND, _metric(sweep)).rows
    assert (row.n_pairs, row.mean_diff, row.ci_low, row.ci_high) == (3, 0.0, 0.0, 0.0)


def test_differences_are_paired_by_seed(tmp_path):
    """A constant shift of +5 on seeds whose levels vary widely is exactly +5 with a zero-width
    CI: the spread between seeds cancels (an unpaired interval would be wide)."""
    points = [{FUND: 0}, {FUND: 1000}]
    base = {1: 3.0, 2: 400.0, 3: 51.0, 4: 9000.0}
    runs = [{"point": 0, "seed": s, BAD: v} for s, v in base.items()]
    runs += [{"point": 1, "seed": s, BAD: v + 5.0} for s, v in reversed(base.items())]
    sweep = _sweep(tmp_path, points, runs)
    (row,) = compare(sweep, FUND, _metric(sweep)).rows
    assert row.mean_diff == 5.0
    assert row.ci_low == row.ci_high == 5.0


def test_sign_is_value_minus_baseline(tmp_path):
    """The difference is the other value minus the baseline, and --baseline changes which."""
    points = [{FUND: 0}, {FUND: 1000}]
    runs = [{"point": 0, "seed": s, BAD: 100.0 + s} for s in (1, 2, 3)]
    runs += [{"point": 1, "seed": s, BAD: float(s)} for s in (1, 2, 3)]
    sweep = _sweep(tmp_path, points, runs)
    (row,) = compare(sweep, FUND, _metric(sweep)).rows
    assert (row.baseline, row.value, row.mean_diff) == ("0", "1000", -100.0)
    (row,) = compare(sweep, FUND, _metric(sweep), baseline="1000").rows
    assert (row.baseline, row.value, row.mean_diff) == ("1000", "0", 100.0)


def test_failed_runs_are_excluded_and_counted(tmp_path):
    """A failed run loses its pair; the row says how many runs failed."""
    points = [{FUND: 0}, {FUND: 1000}]
    runs = [{"point": p, "seed": s, BAD: float(s + p)} for p in (0, 1) for s in (1, 2, 3)]
    runs[4] |= {"status": "failed", "error": "boom", BAD: None}  # point 1, seed 2
    sweep = _sweep(tmp_path, points, runs)
    comparison = compare(sweep, FUND, _metric(sweep))
    (row,) = comparison.rows
    assert (row.n_pairs, row.failed_excluded, row.unpaired, comparison.failed) == (2, 1, 1, 1)
    assert (row.baseline_mean, row.value_mean) == (2.0, 3.0)  # over the paired seeds 1 and 3


def test_other_factors_are_held_equal(tmp_path):
    """In a crossed design each difference is taken within one value of the other factor."""
    points = [{FUND: f, "liquidation.throughput": t} for t in (10, 40) for f in (0, 1000)]
    runs = []
    for p, point in enumerate(points):
        effect = 7.0 if point[FUND] else 0.0
        level = 1000.0 if point["liquidation.throughput"] == 40 else 0.0
        runs += [{"point": p, "seed": s, BAD: level + effect + s} for s in (1, 2)]
    sweep = _sweep(tmp_path, points, runs)
    rows = compare(sweep, FUND, _metric(sweep)).rows
    assert [(r.stratum, r.mean_diff, r.ci_low) for r in rows] == [
        ("liquidation.throughput=10", 7.0, 7.0),
        ("liquidation.throughput=40", 7.0, 7.0),
    ]


def test_zipped_factors_change_together_and_repeated_values_are_told_apart(tmp_path):
    """A zipped group is not held equal; a value repeated with another zipped value is labelled
    by it, so both can be compared."""
    kind, fund = "liquidation.policy.kind", FUND
    points = [
        {kind: "binance", fund: 50000},
        {kind: "market", fund: 50000},
        {kind: "market", fund: 0},
    ]
    runs = [{"point": p, "seed": s, BAD: 10.0 * p} for p in range(3) for s in (1, 2)]
    sweep = _sweep(tmp_path, points, runs)
    comparison = compare(sweep, kind, _metric(sweep))
    assert comparison.tied == (fund,)
    assert comparison.levels == (
        "binance",
        "market (initial_balance=50000)",
        "market (initial_balance=0)",
    )
    assert [r.mean_diff for r in comparison.rows] == [10.0, 20.0]


def test_factor_names_resolve_by_key_prefix_or_unique_suffix(tmp_path):
    """--by takes the key, factor:<key> or a unique suffix; anything else names the factors."""
    points = [{FUND: 0, "liquidation.throughput": 10}]
    sweep = _sweep(tmp_path, points, [{"point": 0, "seed": 1, BAD: 0.0}])
    assert resolve_factor(sweep, FUND) == FUND
    assert resolve_factor(sweep, f"factor:{FUND}") == FUND
    assert resolve_factor(sweep, "throughput") == "liquidation.throughput"
    with pytest.raises(InputError, match=r"factors: liquidation\.insurance_fund\.initial_balance"):
        resolve_factor(sweep, "ranking")


def test_two_runs_of_one_value_on_one_seed_are_bad_input(tmp_path):
    """Two points with the same value (nothing else to tell them apart) cannot be paired by
    seed: an InputError naming the factor, the value and the seed, even when one run failed."""
    points = [{FUND: 0}, {FUND: 1000}, {FUND: 0}]
    runs = [{"point": p, "seed": 1, BAD: 1.0} for p in range(3)]
    runs[0] |= {"status": "failed", BAD: None}
    sweep = _sweep(tmp_path, points, runs)
    with pytest.raises(InputError, match=r"two runs with .*initial_balance=0 on the same seed"):
        compare(sweep, FUND, _metric(sweep))
