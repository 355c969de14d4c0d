"""Sweep files: strict reading, the grid, preflight of every point, the results table."""

from __future__ import annotations

import os
import random

import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.sweep.results import build_table
from exchange_sim.runner.sweep.spec import load_sweep, spec_from_data
from tests.sweep_helpers import FUND, write_sweep

GRID = {
    "sweep": {"name": "g", "seeds": 1},
    "factors": [
        {"key": "liquidation.throughput", "values": [10, 20]},
        {
            "keys": ["risk.margin_check_latency", "liquidation.insurance_fund.initial_balance"],
            "values": [["0ms", 0], ["500ms", 5]],
        },
    ],
}


def test_grid_is_the_product_of_factors_with_zipped_keys_together():
    """Points are the cartesian product over [[factors]] (first outermost); a zipped entry's keys
    vary together."""
    points = spec_from_data(GRID, "g.toml", ".").points()
    assert [p.factors for p in points] == [
        {
            "liquidation.throughput": 10,
            "risk.margin_check_latency": "0ms",
            "liquidation.insurance_fund.initial_balance": 0,
        },
        {
            "liquidation.throughput": 10,
            "risk.margin_check_latency": "500ms",
            "liquidation.insurance_fund.initial_balance": 5,
        },
        {
            "liquidation.throughput": 20,
            "risk.margin_check_latency": "0ms",
            "liquidation.insurance_fund.initial_balance": 0,
        },
        {
            "liquidation.throughput": 20,
            "risk.margin_check_latency": "500ms",
            "liquidation.insurance_fund.initial_balance": 5,
        },
    ]
    assert points[1].label == (
        "liquidation.throughput=10, risk.margin_check_latency=500ms, "
        "liquidation.insurance_fund.initial_balance=5"
    )


def test_resolved_sweep_file_reads_back_as_the_same_sweep(tmp_path):
    """DIR/sweep.toml is itself a sweep file giving the same sweep."""
    spec = spec_from_data(GRID, "g.toml", str(tmp_path))
    path = tmp_path / "resolved.toml"
    path.write_text(spec.to_toml())
    assert load_sweep(str(path)) == spec


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"sweep": {"name": "x", "seedz": 3}}, "sweep.seedz: unknown key"),
        ({"sweep": {}, "factor": []}, "factor: unknown key"),
        ({"factors": [{"key": "run.duration", "value": [1]}]}, "factors[0].value: unknown key"),
        ({"factors": [{"key": "run.seed", "values": [1]}]}, "is set by the sweep"),
        ({"factors": [{"keys": ["a.b", "c.d"], "values": [[1]]}]}, "expected a list of 2 values"),
        ({"factors": [{"key": "run.duration", "values": []}]}, "expected a non-empty list"),
    ],
)
def test_bad_sweep_files_are_refused_naming_the_key(data, named):
    """Unknown keys and malformed factors raise a ConfigError naming them."""
    with pytest.raises(ConfigError) as error:
        spec_from_data(data, "s.toml", ".")
    assert named in str(error.value)


def test_unknown_sweep_key_exits_2_and_writes_nothing(cli, tmp_path):
    """`exchange-sim sweep` with an unknown key: status 2, one line naming it, no directory."""
    path = write_sweep(tmp_path, FUND, extra="workers = 3")
    status, _, err = cli("sweep", path, "--out", str(tmp_path / "out"), "--quiet")
    assert status == 2
    assert "sweep.workers: unknown key" in err and err.strip().count("\n") == 0
    assert not (tmp_path / "out").exists()


def test_bad_factor_value_exits_2_naming_point_key_and_value(cli, tmp_path):
    """Every point is preflighted before anything starts: a bad value names its point, key and
    value, and nothing is written."""
    factors = '[[factors]]\nkey = "liquidation.insurance_fund.initial_balance"\nvalues = [0, -5]\n'
    path = write_sweep(tmp_path, factors)
    status, _, err = cli("sweep", path, "--out", str(tmp_path / "out"), "--quiet")
    assert status == 2
    assert "point 1 (liquidation.insurance_fund.initial_balance=-5)" in err
    assert "liquidation.insurance_fund.initial_balance" in err and "-5" in err
    assert not (tmp_path / "out").exists()


def test_unknown_participant_group_in_a_factor_exits_2(cli, tmp_path):
    """A factor key naming no participant group is refused naming the candidates."""
    factors = '[[factors]]\nkey = "participants.whales.count"\nvalues = [1]\n'
    status, _, err = cli("sweep", write_sweep(tmp_path, factors), "--out", str(tmp_path / "o"))
    assert status == 2
    assert "participants.whales" in err and "2: leveraged (leveraged)" in err


def test_directory_that_is_not_a_sweep_is_refused(cli, tmp_path):
    """--out pointing at a non-empty directory without sweep.toml: status 2, untouched."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("x")
    status, _, err = cli("sweep", write_sweep(tmp_path, FUND), "--out", str(out), "--quiet")
    assert status == 2 and "is not a sweep directory" in err
    assert os.listdir(out) == ["mine.txt"]


def test_results_rows_sorted_by_point_and_seed_whatever_the_completion_order():
    """The table's order is (point, seed), not the order rows arrive in."""
    spec = spec_from_data(
        {"sweep": {"seeds": 3}, "factors": [{"key": "a.b", "values": [1, 2]}]}, "s", "."
    )
    points = spec.points()
    rows = [
        {
            "run_id": f"p{p}-s{s}",
            "point": p,
            "seed": s,
            "status": "ok",
            "error": None,
            "wall_s": 0.0,
            "run_dir": "x",
            "summary": {"m": p * 10 + s},
        }
        for p in (0, 1)
        for s in (1, 2, 3)
    ]
    random.Random(5).shuffle(rows)
    table = build_table(rows, points, spec.factor_keys()).to_pydict()
    assert list(zip(table["point"], table["seed"], strict=True)) == [
        (p, s) for p in (0, 1) for s in (1, 2, 3)
    ]
    assert table["m"] == [1, 2, 3, 11, 12, 13]


def test_mixed_type_factor_values_are_stored_as_text():
    """A factor whose values mix types is a text column (one type per column)."""
    spec = spec_from_data({"factors": [{"key": "a.b", "values": [1, "2s"]}]}, "s", ".")
    rows = [
        {
            "run_id": f"p{p}",
            "point": p,
            "seed": 1,
            "status": "ok",
            "error": None,
            "wall_s": 0.0,
            "run_dir": "x",
            "summary": {},
        }
        for p in (0, 1)
    ]
    table = build_table(rows, spec.points(), spec.factor_keys())
    assert table.column("factor:a.b").to_pylist() == ["1", "2s"]


def test_unquoted_dotted_keys_in_set_override_one_key_each():
    """[set] run.duration = "60s" (a nested table in TOML) sets that key only; a table with a
    kind is set whole."""
    data = {
        "set": {
            "run": {"duration": "60s"},
            "risk": {"margin_check_latency": {"kind": "uniform", "low": "1ms", "high": "2ms"}},
        }
    }
    spec = spec_from_data(data, "s", ".")
    assert spec.fixed == {
        "run.duration": "60s",
        "risk.margin_check_latency": {"kind": "uniform", "low": "1ms", "high": "2ms"},
    }
