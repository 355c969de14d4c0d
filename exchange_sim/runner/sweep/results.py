"""``results.parquet``: one row per run of a sweep, in (point, seed) order whatever the order the
runs finished in (columns: ``docs/sweeps.md``).

The file is written atomically (a temporary sibling renamed over it) and holds no wall-clock
figure except ``wall_s``: the same sweep gives the same table, and the same bytes once ``wall_s``
is left out. Column types are fixed by the values, never by the order they arrived in: a metric
whose values are all ints is int64, ints and floats float64, bools bool, anything else (mixed
types, ints past int64) text.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import orjson

from exchange_sim.runner.sweep.spec import Point, show_value

RESULTS = "results.parquet"
LEAD = ("run_id", "point", "seed")
TAIL = ("status", "error", "wall_s", "run_dir")
INT64 = (-(2**63), 2**63 - 1)


def _column_type(values: list) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "string"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if any(isinstance(v, bool) for v in present):
        return "string"
    if all(isinstance(v, int) for v in present):
        return "int64" if all(INT64[0] <= v <= INT64[1] for v in present) else "string"
    if all(isinstance(v, int | float | Decimal) for v in present):
        return "float64"
    return "string"


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dict | list | tuple):
        return show_value(value)
    if isinstance(value, str):
        return value
    return show_value(value)


def _array(values: list, kind: str):
    import pyarrow as pa

    if kind == "string":
        return pa.array([_as_text(v) for v in values], type=pa.string())
    if kind == "float64":
        return pa.array([None if v is None else float(v) for v in values], type=pa.float64())
    return pa.array(values, type=pa.bool_() if kind == "bool" else pa.int64())


def build_table(rows: list[dict], points: list[Point], factor_keys: list[str]):
    """The results table (pyarrow) of task ``rows`` (with ``point``), sorted by (point, seed)."""
    import pyarrow as pa

    rows = sorted(rows, key=lambda r: (r["point"], r["seed"]))
    by_point = {p.index: p for p in points}
    columns: dict[str, Any] = {}
    columns["run_id"] = pa.array([r["run_id"] for r in rows], type=pa.string())
    columns["point"] = pa.array([r["point"] for r in rows], type=pa.int64())
    columns["seed"] = pa.array([r["seed"] for r in rows], type=pa.int64())
    for key in factor_keys:
        # Typed over all points' values, so a partial table has the same types as a full one.
        kind = _column_type([p.factors[key] for p in points])
        values = [by_point[r["point"]].factors[key] for r in rows]
        columns[f"factor:{key}"] = _array(values, kind)
    columns["status"] = pa.array([r["status"] for r in rows], type=pa.string())
    columns["error"] = pa.array([r["error"] for r in rows], type=pa.string())
    columns["wall_s"] = pa.array([float(r["wall_s"]) for r in rows], type=pa.float64())
    columns["run_dir"] = pa.array([r["run_dir"] for r in rows], type=pa.string())
    metrics = sorted({k for r in rows for k in (r["summary"] or {})})
    for name in metrics:
        values = [(r["summary"] or {}).get(name) for r in rows]
        columns[name] = _array(values, _column_type(values))
    return pa.table(columns)


def write_results(sweep_dir: str, rows: list[dict], points: list[Point], keys: list[str]) -> str:
    """Write ``sweep_dir/results.parquet`` atomically; return its path."""
    import pyarrow.parquet as pq

    table = build_table(rows, points, keys)
    path = os.path.join(sweep_dir, RESULTS)
    temp = os.path.join(sweep_dir, f"{RESULTS}.tmp-{os.getpid()}")
    pq.write_table(table, temp, compression="zstd")
    os.replace(temp, path)
    return path


def load_results(sweep_dir: str | os.PathLike):
    """The sweep's ``results.parquet`` as a pandas DataFrame (one row per run, (point, seed)
    order)."""
    import pandas as pd

    return pd.read_parquet(os.path.join(os.fspath(sweep_dir), RESULTS))


def row_from_summary(run_id: str, seed: int, run_dir: str, summary: dict) -> dict:
    """The row of a run finished by an earlier invocation (resume): from its ``summary.json``."""
    from exchange_sim.runner.sweep.task import flatten_summary

    return {
        "run_id": run_id,
        "seed": seed,
        "status": "ok",
        "error": None,
        "run_dir": run_dir,
        "wall_s": float(summary.get("wall_time_s") or 0.0),
        "summary": flatten_summary(summary),
    }


def read_summary(path: str) -> dict:
    with open(path, "rb") as handle:
        return orjson.loads(handle.read())
