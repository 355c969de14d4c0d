"""Sweep directories built in tests, in the layout ``exchange-sim sweep`` writes.

:func:`write_sweep_dir` writes ``points.json`` and ``results.parquet`` from rows given directly
(synthetic numbers, for the statistics).
"""

from __future__ import annotations

import json
import os

import pandas as pd


def write_sweep_dir(path, points: list[dict], runs: list[dict]) -> str:
    """``points``: ``{key: value}`` per point; ``runs``: dicts with ``point``, ``seed`` and
    metric columns (``status`` defaults to ok)."""
    os.makedirs(path, exist_ok=True)
    entries = [
        {"point": i, "label": ", ".join(f"{k}={v}" for k, v in f.items()), "factors": f}
        for i, f in enumerate(points)
    ]
    with open(os.path.join(path, "points.json"), "w") as handle:
        json.dump(entries, handle)
    keys = list(points[0])
    rows = []
    for run in runs:
        point, seed = run["point"], run["seed"]
        row = {"run_id": f"p{point:03d}-s{seed}", "point": point, "seed": seed}
        row |= {f"factor:{k}": json.dumps(points[point][k]) for k in keys}
        row |= {"status": "ok", "error": None, "wall_s": 0.1, "run_dir": f"runs/{row['run_id']}"}
        row |= {k: v for k, v in run.items() if k not in ("point", "seed")}
        rows.append(row)
    frame = pd.DataFrame(rows).sort_values(["point", "seed"]).reset_index(drop=True)
    frame.to_parquet(os.path.join(path, "results.parquet"), index=False)
    return str(path)
