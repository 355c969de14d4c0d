"""Interrupted, killed and starved runs: a clean stop, the partial log kept, nothing growing."""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time

import pytest

import exchange_sim as es
from exchange_sim.core.errors import RunIOError
from exchange_sim.runner import clean, rundir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CALM = os.path.join(ROOT, "configs", "scenarios", "calm.toml")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _start(tmp_path, name: str, **kwargs) -> subprocess.Popen:
    command = [sys.executable, "-m", "exchange_sim.cli", "run", CALM, "--quiet"]
    command += ["--out", str(tmp_path / name)]
    return subprocess.Popen(
        command, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs
    )


def _wait_for_log(tmp_path, name: str, proc: subprocess.Popen) -> None:
    """Until the run has written part of its log (so the signal lands mid-run)."""
    log = tmp_path / f".{name}{rundir.TEMP_SUFFIX}" / "events.jsonl"
    deadline = time.monotonic() + 60
    while not (log.exists() and log.stat().st_size > 0):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the run never started writing"
        time.sleep(0.05)


def _interrupt(tmp_path, signum: int) -> tuple[int, str]:
    proc = _start(tmp_path, "x")
    _wait_for_log(tmp_path, "x", proc)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode()


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_run_in_one_line(tmp_path, signum, status):
    """SIGINT and SIGTERM: status 128 + signal number, one stderr line naming it, no traceback."""
    code, err = _interrupt(tmp_path, signum)
    assert code == status
    assert err.strip().splitlines() == [err.strip()]
    assert f"interrupted by {signal.Signals(signum).name}" in err
    assert "Traceback" not in err


def test_interrupted_run_keeps_its_partial_log_in_failed(tmp_path):
    """The run directory becomes X.failed holding config, the log so far and an error.txt that
    says interrupted; no temporary directory is left."""
    _interrupt(tmp_path, signal.SIGTERM)
    assert sorted(os.listdir(tmp_path)) == ["x.failed"]
    failed = tmp_path / "x.failed"
    assert "interrupted by SIGTERM" in (failed / "error.txt").read_text()
    lines = (failed / "events.jsonl").read_bytes().splitlines()
    assert json.loads(lines[0])["type"] == "run_start"
    assert json.loads(lines[-1])["seq"] == len(lines) - 1  # whole lines, none missing
    assert not (failed / rundir.OWNER_FILE).exists()


def test_replay_reports_an_interrupted_log_as_truncated(tmp_path):
    """`exchange-sim replay` of the partial run: truncated, at its last good seq, status 1."""
    _interrupt(tmp_path, signal.SIGINT)
    lines = (tmp_path / "x.failed" / "events.jsonl").read_bytes().splitlines()
    replay = subprocess.run(
        [sys.executable, "-m", "exchange_sim.cli", "replay", str(tmp_path / "x.failed")],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replay.returncode == 1
    assert f"truncated at line {len(lines)}:" in replay.stdout
    assert f"last good seq {len(lines) - 1}" in replay.stdout


def test_killed_run_leaves_a_temporary_directory_that_clean_removes(tmp_path):
    """SIGKILL leaves only .x.tmp-run; `clean --dry-run` lists it, `clean` removes it."""
    proc = _start(tmp_path, "x")
    _wait_for_log(tmp_path, "x", proc)
    proc.kill()
    proc.communicate(timeout=60)
    assert os.listdir(tmp_path) == [f".x{rundir.TEMP_SUFFIX}"]
    command = [sys.executable, "-m", "exchange_sim.cli", "clean", str(tmp_path)]
    dry = subprocess.run([*command, "--dry-run"], env=_env(), capture_output=True, text=True)
    assert "1 leftover temporary run directories found" in dry.stdout
    assert os.listdir(tmp_path) == [f".x{rundir.TEMP_SUFFIX}"]
    done = subprocess.run(command, env=_env(), capture_output=True, text=True)
    assert done.returncode == 0
    assert os.listdir(tmp_path) == []


def test_next_run_reports_a_killed_runs_leftover(tmp_path):
    """A run finishing next to a leftover says so on stderr and names the clean command."""
    leftover = tmp_path / f".old{rundir.TEMP_SUFFIX}"
    leftover.mkdir()  # no claim.json: nobody owns it
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "exchange_sim.cli",
            "run",
            "--quiet",
            "--out",
            str(tmp_path / "n"),
            "--set",
            "run.duration=2s",
        ],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"exchange-sim clean {tmp_path}" in done.stderr


def test_a_live_runs_claim_is_not_a_leftover(tmp_path):
    """A claim made by this (live) process is kept by clean; a dead pid's claim is removed."""
    live = rundir.claim_dir(str(tmp_path / "live"))
    dead = rundir.claim_dir(str(tmp_path / "dead"))
    owner = {"host": os.uname().nodename, "pid": 2**22 + 12345}  # above any pid_max default
    (tmp_path / ".dead.tmp-run" / rundir.OWNER_FILE).write_text(json.dumps(owner))
    assert clean.find_leftovers(str(tmp_path)) == [(dead.temp, len(json.dumps(owner)))]
    assert not clean.is_leftover(live.temp)
    rundir.release(live)


def test_another_hosts_claim_is_never_a_leftover(tmp_path):
    """A claim naming another host cannot be checked from here: clean leaves it alone."""
    claim = rundir.claim_dir(str(tmp_path / "x"))
    owner = {"host": "some-other-host.invalid", "pid": 1}
    (tmp_path / ".x.tmp-run" / rundir.OWNER_FILE).write_text(json.dumps(owner))
    assert not clean.is_leftover(claim.temp)


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))


def test_file_size_limit_is_an_io_error_not_a_bug(tmp_path):
    """Under `ulimit -f`: status 1, one line saying I/O error and naming the run, no traceback,
    X.failed without the partial log (it hit the limit), no temporary directory."""
    proc = _start(tmp_path, "x", preexec_fn=_limit_file_size)
    _, err = proc.communicate(timeout=120)
    err = err.decode()
    assert proc.returncode == 1
    assert err.startswith("exchange-sim: I/O error: ") and "File too large" in err
    assert str(tmp_path / "x.failed") in err
    assert "internal error" not in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["x.failed"]
    assert not (tmp_path / "x.failed" / "events.jsonl").exists()


def test_full_disk_removes_the_partial_log(tmp_path):
    """ENOSPC mid-run (in-process): RunIOError naming X.failed; the log that filled the disk is
    removed, error.txt says why."""

    def build(loaded, log):
        raise OSError(errno.ENOSPC, "No space left on device")

    loaded = es.load_config({}, ("run.duration=2s",))
    with pytest.raises(RunIOError) as caught:
        rundir.execute(loaded, str(tmp_path / "x"), build=build)
    assert caught.value.path == str(tmp_path / "x.failed")
    assert sorted(os.listdir(tmp_path)) == ["x.failed"]
    assert not (tmp_path / "x.failed" / "events.jsonl").exists()
    assert "No space left on device" in (tmp_path / "x.failed" / "error.txt").read_text()


def test_interruption_flushes_every_emitted_line(tmp_path):
    """A run stopped at seq 1500 (not a multiple of the log's 1024-line buffer) keeps exactly the
    1500 lines emitted before the stop: the buffer is written out, not dropped."""
    from exchange_sim.core.errors import RunInterrupted
    from exchange_sim.runner.simulate import build_venue

    def build(loaded, log):
        def stop_at_1500(event):
            if event["seq"] == 1500:  # observers run before the line is rendered
                raise RunInterrupted("SIGTERM")

        log.observe(stop_at_1500)
        return build_venue(loaded, log)

    loaded = es.load_config({}, ("run.duration=60s",))
    with pytest.raises(RunInterrupted):
        rundir.execute(loaded, str(tmp_path / "x"), build=build)
    lines = (tmp_path / "x.failed" / "events.jsonl").read_bytes().splitlines()
    assert len(lines) == 1500
    assert json.loads(lines[-1])["seq"] == 1499
