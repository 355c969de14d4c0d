"""Run directories are claimed atomically and never delete what a run did not create."""

from __future__ import annotations

import os
import subprocess
import sys

from exchange_sim.runner import rundir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICKSTART = os.path.join(ROOT, "configs", "scenarios", "quickstart.toml")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_parallel_runs_of_one_config_and_seed_get_distinct_directories(tmp_path):
    """Four `exchange-sim run` processes started together on the same config and seed all succeed,
    each in its own runs/<name>-s<seed>-<n>, and no temporary directory is left behind."""
    command = [sys.executable, "-m", "exchange_sim.cli", "run", QUICKSTART, "--quiet"]
    command += ["--set", "run.duration=2s"]
    procs = [
        subprocess.Popen(
            command, cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]
    for proc in procs:
        proc.stdout.close()
        proc.stderr.close()
    assert [status for status, _ in results] == [0, 0, 0, 0], results
    names = sorted(os.listdir(tmp_path / "runs"))
    assert names == [f"quickstart-s1-{n}" for n in (1, 2, 3, 4)]
    for name in names:
        assert os.path.exists(tmp_path / "runs" / name / "summary.json")


def test_claim_of_a_taken_name_moves_on_to_the_next(tmp_path):
    """A default name whose claim (hidden temporary directory) is held is skipped, not shared."""
    first = rundir.claim_fresh_dir(str(tmp_path), "x", 3)
    second = rundir.claim_fresh_dir(str(tmp_path), "x", 3)
    assert os.path.basename(first.final) == "x-s3-1"
    assert os.path.basename(second.final) == "x-s3-2"
    rundir.release(first)
    rundir.release(second)
    assert os.listdir(tmp_path) == []


def test_failing_run_keeps_an_existing_failed_directory(cli, tmp_path, monkeypatch):
    """A run that crashes with --out X leaves X.failed-2 and never touches a user's X.failed/."""
    failed = tmp_path / "run.failed"
    failed.mkdir()
    (failed / "notes.txt").write_text("mine")

    def boom(*args, **kwargs):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(rundir, "simulate", boom)
    status, _, err = cli("run", "--out", str(tmp_path / "run"), "--set", "run.duration=1s")
    assert status == 1 and "simulated crash" in err
    assert (failed / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(failed)) == ["notes.txt"]
    assert "simulated crash" in (tmp_path / "run.failed-2" / "error.txt").read_text()
    assert sorted(os.listdir(tmp_path)) == ["run.failed", "run.failed-2"]  # nothing hidden left


def test_existing_out_is_exit_2_naming_it(cli, tmp_path):
    """An existing --out target is bad input: status 2, one line naming it, no traceback, and
    its content untouched."""
    out = tmp_path / "taken"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    status, _, err = cli("run", "--out", str(out), "--set", "run.duration=1s")
    assert status == 2
    assert str(out) in err and "already exists" in err
    assert "Traceback" not in err and err.strip().count("\n") == 0
    assert os.listdir(out) == ["keep.txt"]


def test_out_being_written_by_another_run_is_refused(cli, tmp_path):
    """A target whose claim is held by another run is refused with status 2 (not shared)."""
    claim = rundir.claim_dir(str(tmp_path / "busy"))
    status, _, err = cli("run", "--out", str(tmp_path / "busy"), "--set", "run.duration=1s")
    assert status == 2
    assert "being written by another run" in err
    assert os.path.isdir(claim.temp)
    rundir.release(claim)
