"""Sweeps on every back-end give the same results, resume after an interruption, record failed
runs, and pair seeds (common random numbers). Small: quickstart runs of two simulated seconds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from exchange_sim.runner.sweep import load_results, run_sweep
from tests.sweep_helpers import FUND, env_with_package, without_wall, write_sweep

SEEDS = 2


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    return write_sweep(tmp_path_factory.mktemp("sweep"), FUND, seeds=SEEDS)


@pytest.fixture(scope="module")
def reference(sweep_file, tmp_path_factory):
    """The sweep on the process pool (2 workers): the results every other way must match."""
    out = tmp_path_factory.mktemp("pool") / "out"
    outcome = run_sweep(sweep_file, out=out, workers=2)
    assert (outcome.ok, outcome.failed) == (4, 0)
    return load_results(out)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """A `dask scheduler` and one `dask worker` started as real processes on localhost."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = env_with_package()
    dask = [sys.executable, "-m", "dask"]
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [*dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from distributed import Client

        with Client(address, timeout=60) as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for proc in (worker, scheduler):
            proc.terminate()
        for proc in (worker, scheduler):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_results_have_one_row_per_run_in_point_seed_order(reference):
    """results.parquet: (point, seed) order, factor columns, status, metrics."""
    assert list(reference["run_id"]) == ["p000-s1", "p000-s2", "p001-s1", "p001-s2"]
    assert list(reference["factor:liquidation.insurance_fund.initial_balance"]) == [
        0,
        0,
        10**6,
        10**6,
    ]
    assert set(reference["status"]) == {"ok"}
    assert list(reference.columns[:3]) == ["run_id", "point", "seed"]
    assert "metrics.liquidations.count" in reference.columns


def test_local_dask_cluster_gives_the_same_results(sweep_file, reference, tmp_path):
    """--dask-local 2 gives the pool's results.parquet (wall_s aside)."""
    run_sweep(sweep_file, out=tmp_path / "out", dask_local=2)
    assert without_wall(load_results(tmp_path / "out")).equals(without_wall(reference))


def test_dask_scheduler_and_worker_processes_give_the_same_results(
    sweep_file, reference, tmp_path, dask_cluster
):
    """A sweep sent to a `dask scheduler` with a `dask worker` gives the pool's results."""
    outcome = run_sweep(sweep_file, out=tmp_path / "out", scheduler=dask_cluster)
    assert outcome.failed == 0
    assert without_wall(load_results(tmp_path / "out")).equals(without_wall(reference))


def test_resume_after_lost_runs_reruns_only_those(sweep_file, reference, tmp_path):
    """Runs whose directories are gone (and a stale results file) are redone on a second start;
    the finished ones are skipped; the results equal an uninterrupted sweep's."""
    out = tmp_path / "out"
    run_sweep(sweep_file, out=out, workers=1)
    for run_id in ("p000-s2", "p001-s1"):
        os.rename(out / "runs" / run_id, out / "runs" / f".{run_id}.tmp-run")  # as if killed
    os.remove(out / "results.parquet")
    outcome = run_sweep(sweep_file, out=out, workers=1)
    assert (outcome.skipped, outcome.ok) == (2, 4)
    assert sorted(os.listdir(out / "runs")) == ["p000-s1", "p000-s2", "p001-s1", "p001-s2"]
    assert without_wall(load_results(out)).equals(without_wall(reference))


def test_resume_after_killing_the_sweep_process(tmp_path):
    """A sweep process killed mid-sweep (with its workers) resumes to the same results as a
    sweep that was never interrupted."""
    path = write_sweep(tmp_path, FUND, seeds=4, name="killed")
    command = [sys.executable, "-m", "exchange_sim.cli", "sweep", path, "--workers", "1", "--quiet"]
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*command, "--out", str(out)],
        env=env_with_package(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = out / "runs"
        if runs.exists() and len([n for n in os.listdir(runs) if not n.startswith(".")]) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = [n for n in os.listdir(out / "runs") if not n.startswith(".")]
    assert 2 <= len(done_before) < 8
    resumed = run_sweep(path, out=out, workers=2)
    assert resumed.skipped == len(done_before) and resumed.failed == 0
    whole = run_sweep(path, out=tmp_path / "whole", workers=2)
    assert whole.skipped == 0
    assert without_wall(load_results(out)).equals(without_wall(load_results(whole.directory)))


def test_sigterm_stops_a_sweep_in_one_line_and_it_resumes(tmp_path):
    """SIGTERM to a sweep (its process group: the sweep and its workers) exits 143 with one line
    saying the finished runs are kept, no traceback; the same command then resumes them."""
    path = write_sweep(tmp_path, FUND, seeds=4, name="stopped")
    command = [sys.executable, "-m", "exchange_sim.cli", "sweep", path, "--workers", "1", "--quiet"]
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*command, "--out", str(out)],
        env=env_with_package(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = out / "runs"
        if runs.exists() and len([n for n in os.listdir(runs) if not n.startswith(".")]) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    err = err.decode()
    assert proc.returncode == 143, err
    assert err.strip().splitlines() == [
        "exchange-sim: interrupted by SIGTERM; finished runs are kept: run the same command "
        "to resume"
    ]
    done_before = [n for n in os.listdir(out / "runs") if not n.startswith(".")]
    resumed = run_sweep(path, out=out, workers=1)
    assert resumed.skipped == len([n for n in done_before if not n.endswith(".failed")])


def test_failed_run_is_recorded_and_the_others_complete(cli, tmp_path):
    """A run that cannot write its directory (a user's directory is in its place) is a failed
    row with its error; the other runs complete, the sweep exits 1, and the user's directory
    is untouched."""
    path = write_sweep(tmp_path, FUND)
    out = tmp_path / "out"
    assert cli("sweep", path, "--out", str(out), "--workers", "1", "--quiet")[0] == 0
    blocked = out / "runs" / "p001-s1"
    for name in os.listdir(blocked):
        os.remove(blocked / name)
    (blocked / "mine.txt").write_text("keep me")
    status, stdout, _ = cli("sweep", path, "--out", str(out), "--workers", "1", "--quiet")
    assert status == 1
    assert "1 failed" in stdout
    frame = load_results(out).set_index("run_id")
    assert list(frame["status"]) == ["ok", "ok", "failed", "ok"]
    error = frame.loc["p001-s1", "error"]
    assert "already exists" in error and "'runs/p001-s1'" in error
    assert frame.loc["p001-s1", "run_dir"] == "runs/p001-s1.failed"
    assert (out / "runs" / "p001-s1.failed" / "error.txt").exists()
    assert os.listdir(blocked) == ["mine.txt"]


def test_identical_points_meet_the_same_market_per_seed(tmp_path):
    """Common random numbers: two points with the same config give the same summary on each
    seed (same log digest), and different seeds give different markets."""
    factors = '[[factors]]\nkey = "liquidation.throughput"\nvalues = [10, 10]\n'
    outcome = run_sweep(write_sweep(tmp_path, factors), out=tmp_path / "out", workers=2)
    frame = load_results(outcome.directory)
    digests = frame.pivot(index="seed", columns="point", values="log_digest_sha256")
    assert list(digests[0]) == list(digests[1])
    assert digests.loc[1, 0] != digests.loc[2, 0]


def test_different_sweep_on_an_existing_directory_is_refused(cli, sweep_file, tmp_path):
    """A DIR holding another sweep: status 2 naming it, nothing changed."""
    out = tmp_path / "out"
    assert cli("sweep", sweep_file, "--out", str(out), "--workers", "1", "--quiet")[0] == 0
    before = sorted(os.listdir(out / "runs"))
    status, _, err = cli("sweep", sweep_file, "--out", str(out), "--seeds", "3", "--quiet")
    assert status == 2 and "holds a different sweep (sweep.toml differs)" in err
    assert sorted(os.listdir(out / "runs")) == before


def test_progress_bar_counts_runs_and_failures(sweep_file, tmp_path, capsys):
    """Asked for (as on a terminal), the sweep shows runs done of all, failed and running."""
    run_sweep(sweep_file, out=tmp_path / "out", workers=1, progress=True)
    err = capsys.readouterr().err
    assert "4/4 runs" in err and "failed 0" in err


_STOPPED_POOL = """
import time
from exchange_sim.cli import exit_at_once
from exchange_sim.runner.sweep.executors import PoolExecutor

pool = PoolExecutor(1)
futures = [pool.submit(time.sleep, 0.2) for _ in range(4)]
futures[0].result()
pool.close(cancel=True)
exit_at_once(143)
"""


def test_an_interrupted_sweep_exits_without_leaking_the_pool_s_semaphores():
    """The CLI's exit after an interrupted sweep releases the pool's semaphores first, so the
    resource tracker (which outlives it) prints no leak warning: stderr stays the one line."""
    done = subprocess.run(
        [sys.executable, "-c", _STOPPED_POOL],
        env=env_with_package(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 143
    assert done.stderr.decode() == ""
