"""One sweep task: a run that raises becomes a failed row, never an exception."""

from __future__ import annotations

import os

from exchange_sim.config import toml_out
from exchange_sim.runner import rundir
from exchange_sim.runner.api import load_config
from exchange_sim.runner.sweep.task import failed_dirs, flatten_summary, run_task
from tests.sweep_helpers import QUICKSTART


def _text() -> str:
    return toml_out.dumps(load_config(QUICKSTART, ["run.duration=1s"]).to_data())


def test_raising_run_is_a_failed_row_with_its_error_and_failed_dir(tmp_path, monkeypatch):
    """A run that raises returns status failed, the error's text, and leaves
    runs/<run_id>.failed/error.txt with the traceback."""
    (tmp_path / "runs").mkdir()

    def boom(*args, **kwargs):
        raise RuntimeError("engine fell over")

    monkeypatch.setattr(rundir, "simulate", boom)
    row = run_task(str(tmp_path), "p000-s1", _text(), 1, False)
    assert row["status"] == "failed"
    assert row["error"] == "RuntimeError: engine fell over"
    assert row["run_dir"] == "runs/p000-s1.failed"
    assert "engine fell over" in (tmp_path / "runs" / "p000-s1.failed" / "error.txt").read_text()
    assert row["summary"] is None


def test_run_without_logs_keeps_the_summary_only(tmp_path):
    """keep_logs false: config.toml and summary.json, no events.jsonl; the row has the summary."""
    (tmp_path / "runs").mkdir()
    row = run_task(str(tmp_path), "p000-s3", _text(), 3, False)
    assert row["status"] == "ok" and row["error"] is None
    assert sorted(os.listdir(tmp_path / "runs" / "p000-s3")) == ["config.toml", "summary.json"]
    assert row["summary"]["seed"] == 3
    assert "wall_time_s" not in row["summary"]


def test_flattened_summary_has_dotted_scalars_and_no_wall_clock():
    """Nested tables become dotted keys; lists of tables are dropped; wall-clock figures too."""
    flat = flatten_summary(
        {"a": {"b": 1, "c": {"d": "x"}}, "rows": [{"x": 1}], "tags": [1, 2], "wall_time_s": 0.5}
    )
    assert flat == {"a.b": 1, "a.c.d": "x", "tags": "[1,2]"}


def test_latency_given_as_a_duration_is_a_constant_latency():
    """A bare duration where a latency table is expected means {kind = "constant", value = ...}."""
    loaded = load_config({}, ['risk.margin_check_latency="250ms"'])
    latency = loaded.config.risk.margin_check_latency
    assert type(latency).KIND == "constant" and latency.value == 250_000_000


def test_run_with_logs_keeps_events(tmp_path):
    """keep_logs true: the run directory has its events.jsonl too."""
    (tmp_path / "runs").mkdir()
    assert run_task(str(tmp_path), "p000-s1", _text(), 1, True)["status"] == "ok"
    assert "events.jsonl" in os.listdir(tmp_path / "runs" / "p000-s1")


def test_failed_attempts_are_told_from_other_names(tmp_path):
    """Only <run_id>.failed and <run_id>.failed-N are a run's failed attempts (in that order);
    a user's p000-s1.failed-notes or another run's p000-s10.failed are not."""
    for name in (
        "p000-s1.failed-10",
        "p000-s1.failed",
        "p000-s1.failed-2",
        "p000-s1.failed-notes",
        "p000-s10.failed",
    ):
        (tmp_path / name).mkdir()
    assert failed_dirs(str(tmp_path), "p000-s1") == [
        "p000-s1.failed",
        "p000-s1.failed-2",
        "p000-s1.failed-10",
    ]
