"""Sweep maker depth at a fixed shock: the transition from absorbed to self-sustaining cascades.

    python tools/depth_sweep.py [--scenario flash_crash] [--factors 0.5,0.75,1,1.5,2,3,5,10]
                                [--seeds 5] [--jobs 2] --out DIR

For each depth factor (every maker that many times its size, as ``tools/calibrate.py`` defines
"10x maker depth") and each seed, the scenario runs with its amplification baseline. ``DIR``
receives ``depth_sweep.json`` (every run's figures), ``depth_sweep.csv`` (one row per factor:
medians and quartiles) and ``depth_sweep.png``: median perp and index amplification, median
deepest causal generation and median liquidations against the depth factor (log scale), with
the inter-quartile range shaded. The shock is the scenario's own (the same news, the same seeds)
at every factor.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys

import exchange_sim as es
from exchange_sim.core.errors import InputError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from calibrate import depth_overrides, run_variant, scenario_path

FIELDS = ("perp", "index", "generation", "liquidations")


def quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def summarise(rows: list[dict]) -> dict:
    out = {}
    for field in FIELDS:
        values = [float(r[field]) if r[field] is not None else 0.0 for r in rows]
        out[field] = quartiles(values)
    return out


def plot(points: list[tuple[float, dict]], scenario: str, seeds: int, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    factors = [f for f, _ in points]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    titles = (
        ("Amplification (with forced closures / without)", ("perp", "index")),
        ("Deepest causal generation", ("generation",)),
        ("Liquidations", ("liquidations",)),
    )
    colours = {"perp": "#c0392b", "index": "#2c3e50", "generation": "#8e44ad"}
    colours["liquidations"] = "#d35400"
    for ax, (title, fields) in zip(axes, titles, strict=True):
        for field in fields:
            low = [s[field][0] for _, s in points]
            mid = [s[field][1] for _, s in points]
            high = [s[field][2] for _, s in points]
            ax.fill_between(factors, low, high, color=colours[field], alpha=0.18)
            ax.plot(factors, mid, "o-", color=colours[field], label=f"{field} (median)")
        if "perp" in fields:
            ax.axhline(1.0, color="grey", lw=0.8, ls=":")
            ax.axhline(1.5, color="grey", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xticks(factors)
        ax.set_xticklabels([f"{f:g}x" for f in factors])
        ax.set_xlabel("maker depth (x the scenario's)")
        ax.set_title(title, fontsize=11)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    fig.suptitle(
        f"{scenario}: maker depth sweep at a fixed shock (median and inter-quartile range, "
        f"{seeds} seeds per point)",
        fontsize=12,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="flash_crash")
    parser.add_argument("--factors", default="0.5,0.75,1,1.5,2,3,5,10")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", required=True, help="directory for the json, csv and png")
    args = parser.parse_args(argv)
    try:
        factors = sorted(float(f) for f in args.factors.split(","))
    except ValueError:
        print(f"depth_sweep: --factors: not a list of numbers: {args.factors!r}", file=sys.stderr)
        return 2
    if args.seeds < 1 or any(f <= 0 for f in factors):
        print("depth_sweep: --seeds and every factor must be positive", file=sys.stderr)
        return 2
    path = scenario_path(args.scenario)
    seeds = list(range(1, args.seeds + 1))
    try:
        loaded = es.load_config(path)
        results = {}
        for factor in factors:
            rows = run_variant(path, seeds, depth_overrides(loaded, factor), args.jobs)
            results[factor] = rows
            s = summarise(rows)
            print(
                f"depth x{factor:g}: perp x{s['perp'][1]:.2f}, index x{s['index'][1]:.3f}, "
                f"generation {s['generation'][1]:g}, liquidations {s['liquidations'][1]:g}",
                flush=True,
            )
    except InputError as exc:
        print(f"depth_sweep: {exc}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    points = [(f, summarise(results[f])) for f in factors]
    with open(os.path.join(args.out, "depth_sweep.json"), "w", encoding="utf-8") as handle:
        json.dump({str(f): rows for f, rows in results.items()}, handle, indent=1)
    with open(os.path.join(args.out, "depth_sweep.csv"), "w", newline="", encoding="utf-8") as h:
        writer = csv.writer(h)
        writer.writerow(
            ["depth_factor", *(f"{f}_{q}" for f in FIELDS for q in ("q1", "median", "q3"))]
        )
        for factor, s in points:
            writer.writerow([factor, *(f"{v:.6g}" for f in FIELDS for v in s[f])])
    plot(points, args.scenario, args.seeds, os.path.join(args.out, "depth_sweep.png"))
    print(f"wrote {args.out}/depth_sweep.png, .csv, .json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
