"""Running a sweep: check every point, lay out the sweep directory, run what is not done yet on
an :class:`~.executors.Executor`, and write ``results.parquet``.

Layout of a sweep directory ``DIR`` (``docs/sweeps.md``): ``sweep.toml`` (the resolved sweep),
``points.json``, ``point_configs.json`` (each point's resolved config hash), ``runs/<run_id>/``
(run directories; ``runs/<run_id>.failed/`` for failed runs) and ``results.parquet``.

**Resume**: the same sweep started again on its ``DIR`` (same ``sweep.toml`` and point configs)
skips the runs whose ``runs/<run_id>/summary.json`` exists, runs the rest again (removing the
failed or interrupted attempts it left itself) and rewrites ``results.parquet``; a ``DIR``
holding another sweep, or anything that is not a sweep, is refused. Tasks are submitted a few at
a time (:attr:`Executor.slots`), so memory does not grow with the number of runs.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Mapping

import orjson

from exchange_sim.config import toml_out
from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.rundir import temp_name
from exchange_sim.runner.sweep.executors import Executor, make_executor
from exchange_sim.runner.sweep.results import read_summary, row_from_summary, write_results
from exchange_sim.runner.sweep.spec import (
    SweepSpec,
    factor_value_json,
    load_sweep,
    resolve_points,
    spec_from_data,
    with_options,
)
from exchange_sim.runner.sweep.task import failed_dirs, run_id_of, run_task

WRITE_EVERY_S = 30.0
"""How often ``results.parquet`` is rewritten while a sweep runs (and once at its end)."""


class SweepOutcome:
    """What :func:`run_sweep` returns: where, and how many runs went how."""

    __slots__ = ("directory", "executor", "failed", "ok", "results", "skipped")

    def __init__(self, directory, results, ok, failed, skipped, executor) -> None:
        self.directory = directory
        self.results = results
        self.ok = ok
        self.failed = failed
        self.skipped = skipped
        self.executor = executor

    def __repr__(self) -> str:
        return f"SweepOutcome({self.directory!r}, ok={self.ok}, failed={self.failed})"


def _spec(sweep) -> SweepSpec:
    if isinstance(sweep, SweepSpec):
        return sweep
    if isinstance(sweep, Mapping):
        return spec_from_data(dict(sweep), "<sweep>", os.getcwd())
    return load_sweep(os.fspath(sweep))


def _write_atomic(path: str, data: bytes) -> None:
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _check_dir(directory: str, files: dict[str, bytes]) -> bool:
    """Whether ``directory`` holds this very sweep (resume); refuse anything else in the way."""
    if not os.path.lexists(directory):
        return False
    if not os.path.isdir(directory):
        raise ConfigError("--out", directory, "exists and is not a directory")
    previous = _read(os.path.join(directory, "sweep.toml"))
    if previous is None:
        if os.listdir(directory):
            raise ConfigError("--out", directory, "exists and is not a sweep directory")
        return False
    for name, data in files.items():
        if _read(os.path.join(directory, name)) != data:
            raise ConfigError(
                "--out", directory, f"holds a different sweep ({name} differs); choose another"
            )
    return True


def _clean_attempt(runs: str, run_id: str) -> None:
    """Remove what an earlier attempt at ``run_id`` left (this sweep made it): its ``.failed``
    directories and the temporary directory of an attempt that was killed."""
    for name in failed_dirs(runs, run_id):
        shutil.rmtree(os.path.join(runs, name))
    leftover = temp_name(os.path.join(runs, run_id))
    if os.path.isdir(leftover):
        shutil.rmtree(leftover)


def _progress_bar(total: int, done: int, show: bool):
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=done,
        unit="run",
        disable=not show,
        file=sys.stderr,
        dynamic_ncols=True,
        bar_format="{l_bar}{bar}| {n}/{total} runs [{elapsed}<{remaining}{postfix}]",
    )


def run_sweep(
    sweep,
    *,
    seeds: int | None = None,
    out: str | os.PathLike | None = None,
    workers: int | None = None,
    dask_local: int | None = None,
    scheduler: str | None = None,
    keep_logs: bool = False,
    progress: bool = False,
    executor: Executor | None = None,
) -> SweepOutcome:
    """Run a sweep (a sweep file's path, its parsed dict, or a :class:`SweepSpec`) into ``out``
    (default ``sweeps/<name>``); resume it if ``out`` holds it already. Bad input raises an
    ``InputError`` before anything is written. Back-end: ``workers`` processes (default), a local
    Dask cluster of ``dask_local`` workers, the Dask ``scheduler`` at an address or ``executor``.
    """
    spec = with_options(_spec(sweep), seeds, keep_logs)
    points, configs, base_dir = resolve_points(spec)
    directory = os.path.abspath(os.fspath(out) if out is not None else f"sweeps/{spec.name}")
    keys = spec.factor_keys()
    points_json = [
        {"point": p.index, "label": p.label, "factors": factor_value_json(p.factors)}
        for p in points
    ]
    shas = [
        {"point": p.index, "config_sha256": c.sha256()}
        for p, c in zip(points, configs, strict=True)
    ]
    files = {
        "sweep.toml": spec.to_toml().encode(),
        "points.json": orjson.dumps(points_json, option=orjson.OPT_INDENT_2) + b"\n",
        "point_configs.json": orjson.dumps(shas, option=orjson.OPT_INDENT_2) + b"\n",
    }
    resuming = _check_dir(directory, files)
    texts = [toml_out.dumps(c.to_data()) for c in configs]
    with executor or make_executor(workers, dask_local, scheduler) as backend:
        runs = os.path.join(directory, "runs")
        os.makedirs(runs, exist_ok=True)
        if not resuming:
            for name in ("points.json", "point_configs.json", "sweep.toml"):  # sweep.toml last
                _write_atomic(os.path.join(directory, name), files[name])
        rows: dict[str, dict] = {}
        todo = []
        for point in points:
            for seed in spec.seed_values():
                run_id = run_id_of(point.index, seed)
                summary = os.path.join(runs, run_id, "summary.json")
                if os.path.exists(summary):
                    row = row_from_summary(run_id, seed, f"runs/{run_id}", read_summary(summary))
                    rows[run_id] = {**row, "point": point.index}
                else:
                    _clean_attempt(runs, run_id)
                    todo.append((point.index, seed, run_id))
        skipped = len(rows)
        _run_all(
            backend,
            todo,
            rows,
            directory,
            texts,
            spec.keep_logs,
            base_dir,
            progress,
            (points, keys),
        )
        results = write_results(directory, list(rows.values()), points, keys)
        name = backend.name
    failed = sum(1 for r in rows.values() if r["status"] == "failed")
    return SweepOutcome(directory, results, len(rows) - failed, failed, skipped, name)


def _run_all(backend, todo, rows, directory, texts, keep_logs, base_dir, progress, layout) -> None:
    """Run ``todo`` on ``backend``, a few tasks in flight at a time, into ``rows``; the results
    file is rewritten every :data:`WRITE_EVERY_S` and, on an interrupt, once more before leaving."""
    points, keys = layout
    bar = _progress_bar(len(todo) + len(rows), len(rows), progress)
    failed = 0
    pending: dict = {}
    queue = iter(todo)
    last_write = time.monotonic()
    try:
        while True:
            while len(pending) < backend.slots:
                task = next(queue, None)
                if task is None:
                    break
                point, seed, run_id = task
                future = backend.submit(
                    run_task, directory, run_id, texts[point], seed, keep_logs, base_dir
                )
                pending[future] = task
            if not pending:
                break
            for future in backend.wait_first(pending):
                point, seed, run_id = pending.pop(future)
                try:
                    row = future.result()
                except Exception as exc:  # the worker died (not the run raising: see run_task)
                    error = " ".join(f"{type(exc).__name__}: {exc}".split())
                    row = {"run_id": run_id, "seed": seed, "status": "failed", "error": error}
                    row.update(wall_s=0.0, run_dir=f"runs/{run_id}.failed", summary=None)
                rows[run_id] = {**row, "point": point}
                failed += row["status"] == "failed"
                bar.update(1)
            running = min(len(pending), backend.workers)
            bar.set_postfix_str(f"failed {failed}, running {running}", refresh=False)
            if time.monotonic() - last_write > WRITE_EVERY_S:
                write_results(directory, list(rows.values()), points, keys)
                last_write = time.monotonic()
    except BaseException:
        write_results(directory, list(rows.values()), points, keys)
        raise
    finally:
        bar.close()
