"""One run of a sweep, as a task any back-end can run: a top-level, picklable function.

:func:`run_task` takes plain values (the sweep directory, the run id, the point's resolved config
as TOML text, the seed, whether to keep the event log) and returns a small row: status, error,
wall time, the run directory (relative to the sweep directory) and the run's summary flattened to
scalars. The worker writes its own run directory (``DIR/runs/<run_id>/``, claimed as any run's:
:mod:`exchange_sim.runner.rundir`); the row carries the summary too, so ``results.parquet`` is
complete even when the workers' filesystem is not the one the sweep is started from.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import orjson

from exchange_sim.runner.config import load_toml_text
from exchange_sim.runner.rundir import execute

WALL_CLOCK_KEYS = (
    "wall_time_s",
    "events_per_second",
    "invariant_checks.seconds",
    "invariant_checks.per_second",
)
"""Summary keys (dotted paths) that read the wall clock: left out of the results (``wall_s`` is
the one kept)."""


def run_id_of(point: int, seed: int) -> str:
    return f"p{point:03d}-s{seed}"


def failed_dirs(runs: str, run_id: str) -> list[str]:
    """The names of ``run_id``'s failed attempts in ``runs`` (``<run_id>.failed``,
    ``<run_id>.failed-2``, ...: what :mod:`exchange_sim.runner.rundir` makes), oldest first."""
    pattern = re.compile(re.escape(run_id) + r"\.failed(?:-(\d+))?")
    found = [(m, n) for n in os.listdir(runs) if (m := pattern.fullmatch(n))]
    return [n for m, n in sorted(found, key=lambda item: int(item[0].group(1) or 1))]


def flatten_summary(summary: dict) -> dict:
    """Every scalar of a summary, keyed by its dotted path; lists of scalars as JSON text, lists
    of tables dropped, wall-clock figures dropped (they would break byte-identical results)."""
    flat: dict[str, Any] = {}

    def walk(node: dict, prefix: str) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if name in WALL_CLOCK_KEYS:
                continue
            if isinstance(value, dict):
                walk(value, name + ".")
            elif isinstance(value, list):
                if all(not isinstance(v, dict | list) for v in value):
                    flat[name] = orjson.dumps(value).decode()
            else:
                flat[name] = value

    plain = orjson.loads(orjson.dumps(summary))  # as summary.json has it (tuples are lists)
    walk(plain, "")
    return flat


def _one_line(exc: BaseException, sweep_dir: str) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text.replace(os.path.abspath(sweep_dir) + os.sep, "")


def _failed_dir(sweep_dir: str, run_id: str, error: str) -> str:
    """The run's ``.failed`` directory: the one the run left, or one made here with error.txt
    when the run failed before it had claimed its directory."""
    runs = os.path.join(sweep_dir, "runs")
    os.makedirs(runs, exist_ok=True)  # a cluster worker may not share the sweep's filesystem
    candidates = failed_dirs(runs, run_id)
    if candidates:
        return os.path.join("runs", candidates[-1])
    failed = os.path.join(runs, f"{run_id}.failed")
    os.mkdir(failed)
    with open(os.path.join(failed, "error.txt"), "w", encoding="utf-8") as handle:
        handle.write(error + "\n")
    return os.path.join("runs", f"{run_id}.failed")


def run_task(
    sweep_dir: str,
    run_id: str,
    config_text: str,
    seed: int,
    keep_logs: bool,
    base_dir: str | None = None,
) -> dict:
    """Run one point of a sweep at one seed into ``sweep_dir/runs/<run_id>``; return its row.

    A run that raises is a row with ``status = "failed"`` and the error's one-line text (the
    traceback is in ``runs/<run_id>.failed/error.txt``), never an exception; only an interrupt
    (or a worker's death) escapes."""
    start = time.perf_counter()
    row: dict[str, Any] = {"run_id": run_id, "seed": seed}
    try:
        loaded = load_toml_text(config_text, base_dir or sweep_dir, (f"run.seed={seed}",))
        result = execute(loaded, os.path.join(sweep_dir, "runs", run_id), keep_events=keep_logs)
    except Exception as exc:
        error = _one_line(exc, sweep_dir)
        row.update(status="failed", error=error, run_dir=_failed_dir(sweep_dir, run_id, error))
        row.update(wall_s=time.perf_counter() - start, summary=None)
        return row
    row.update(status="ok", error=None, run_dir=os.path.join("runs", run_id))
    row.update(wall_s=time.perf_counter() - start, summary=flatten_summary(result.summary))
    return row
