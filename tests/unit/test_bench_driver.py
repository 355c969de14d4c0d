"""tools/bench.py's driver: a warm-up then repetitions, the median kept, a markdown table."""

from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import bench  # noqa: E402


@pytest.fixture
def fake_row(monkeypatch):
    """A row whose figure is the next value of a fixed sequence, one per call."""
    values = iter([100.0, 5.0, 9.0, 1.0])
    calls = []

    def run(quick, seed):
        calls.append((quick, seed))
        return {"inner": {"ops": next(values)}}

    rows = {"fake": (run, [("ops", ("inner", "ops"), "ops/s")], True)}
    monkeypatch.setattr(bench, "ROWS", rows)
    return calls


def test_warm_up_is_run_and_not_kept(fake_row):
    """The first call is a warm-up: its figure (100) is neither the median nor the maximum."""
    figures = bench.run_row("fake", quick=False, seed=1, repeats=3)
    assert len(fake_row) == 4
    assert figures["spread"]["ops"] == {"median": 5.0, "min": 1.0, "max": 9.0}


def test_median_repetition_figures_are_kept(fake_row):
    """The figures printed are those of the repetition with the median headline figure."""
    figures = bench.run_row("fake", quick=False, seed=1, repeats=3)
    assert figures["inner"]["ops"] == 5.0
    assert figures["repetitions"] == 3


def test_quick_mode_runs_once_without_warm_up(fake_row):
    """--quick runs each row once, no warm-up: it shows the row still runs."""
    figures = bench.run_row("fake", quick=True, seed=1, repeats=3)
    assert fake_row == [(True, 1)]
    assert figures["inner"]["ops"] == 100.0


def test_markdown_table_has_one_line_per_headline(fake_row):
    """The table gives row, figure, median, min, max and unit."""
    results = {"fake": bench.run_row("fake", quick=False, seed=1, repeats=3)}
    table = bench.markdown(results).splitlines()
    assert table[0] == "| row | figure | median | min | max | unit |"
    assert table[2] == "| fake | ops | 5 | 1 | 9 | ops/s |"


def test_unknown_row_is_a_usage_error(capsys):
    """--rows with a name that is not a row exits 2 naming it."""
    with pytest.raises(SystemExit) as stop:
        bench.main(["--rows", "nope"])
    assert stop.value.code == 2
    assert "'nope'" in capsys.readouterr().err
