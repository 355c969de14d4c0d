"""Square-root impact of metaorders, several runs together, the result as JSON and the command
line (table, JSON file, one-line errors)."""

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
from exchange_sim.core.errors import InputError
from tests.unit.analysis.stylized_logs import (
    P0,
    LogWriter,
    S,
    facts_of,
    gap_run,
    returns_run,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
TOOL = os.path.join(ROOT, "tools", "stylized_facts.py")


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
    fact = facts_of(runs)["square_root_impact"]
    assert fact["measured"]["delta"] == pytest.approx(0.5, abs=1e-9)
    assert fact["measured"]["Y"] == pytest.approx(1e-3 / math.sqrt(0.1))
    assert fact["measured"]["metaorders"] == 4
    assert fact["holds"] is True


def test_linear_impact_fails_the_square_root_fact(tmp_path):
    """Impact proportional to size: delta 1, outside [0.3, 0.7]."""
    fact = facts_of(_impact_runs(tmp_path, lambda lots: 10_000 * lots))["square_root_impact"]
    assert fact["measured"]["delta"] == pytest.approx(1.0)
    assert fact["holds"] is False


def test_metaorders_of_one_size_give_no_impact_verdict(tmp_path):
    """Three metaorders of the same size cannot fit an exponent: holds is None."""
    log = LogWriter(100)
    for account in (20, 21, 22):
        log.metaorder(account, 10 * S, 30 * S, 500, 1_000_000 + account)
    fact = facts_of(log.write(tmp_path / "same"))["square_root_impact"]
    assert fact["holds"] is None
    assert "span" in fact["note"]


# -- several runs, output, the command line --------------------------------------------------------
def test_per_run_facts_hold_by_majority(tmp_path):
    """Two runs with the dislocation and one without: the gap fact holds in 2 of 3 runs."""
    runs = [
        gap_run(tmp_path, "g1", index_follows=False),
        gap_run(tmp_path, "g2", index_follows=False),
        gap_run(tmp_path, "g3", index_follows=True),
    ]
    fact = facts_of(runs)["perp_index_gap_at_trough"]
    assert fact["holds"] is True
    assert "holds in 2 of 3" in fact["note"]


def test_more_than_three_runs_are_summarised_by_their_median(tmp_path):
    """Four runs, three with a -5 % gap and one with none: the headline gives the median gap
    over the four runs instead of listing each run."""
    runs = [gap_run(tmp_path, f"m{k}", index_follows=k == 3) for k in range(4)]
    fact = facts_of(runs)["perp_index_gap_at_trough"]
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
    run = returns_run(tmp_path, "r", np.zeros(10))
    with pytest.raises(InputError, match="grid"):
        stylized_facts([run], grids=["fast"])


def _load_tool():
    spec = importlib.util.spec_from_file_location("stylized_facts_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tool_prints_the_table_and_writes_json(tmp_path, capsys):
    """The command prints a row per fact and writes the same result as JSON."""
    run = gap_run(tmp_path, "gap", index_follows=False)
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
        returns_run(tmp_path, "run", np.zeros(10))
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
