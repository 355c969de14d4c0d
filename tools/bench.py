"""Benchmarks of exchange_sim: every row repeated, the median kept; JSON and a markdown table.

    python tools/bench.py                    # every row (about 10 minutes on 2 cores)
    python tools/bench.py --quick            # small sizes, one repetition: what CI runs (not timed)
    python tools/bench.py --rows book,adl_step --repeats 5
    python tools/bench.py --json out.json --markdown out.md
    python tools/bench.py --sweep            # only the sweep speed-up, 2 workers against 1

Each row is run once as a warm-up (not kept) and then ``--repeats`` times (default 3); the
figures of the repetition with the median headline figure are printed, with the headline's
minimum and maximum over the repetitions beside it. ``--quick`` runs every row once at small
sizes, with no warm-up: it shows that each row still runs, its figures mean nothing.
Figures are ratios where they compare: the machines here are shared and noisy, so only two
loops measured side by side in one process are compared. docs/performance.md gives the figures
and where the time goes.

Rows:
``book``: the order book and matching engine alone, operations per second for a realistic mix
    (70 % limit adds near the touch, 25 % cancels, 5 % marketable orders sweeping 1-3 levels) at
    1k and 100k resting orders (tools/bench_book.py).
``order_path``: the order path as a run uses it (venue-assembled gateway with link latencies,
    the ledger's pre-trade check, the matching engine, the event log to a buffered file) replaying
    the reference loop's own op stream, side by side with the reference's ceiling row (a bare
    ``heapq`` loop, a list book, raw orjson lines); split rows show the engine alone and the full
    venue; the log writer row is ``EventLog.emit`` against raw ``orjson.dumps`` per line
    (tools/bench_order_path.py).
``engine_vs_nautilus``: the matching engine with its event log against NautilusTrader's L3
    ``OrderBook`` driven from Python (the optional extra ``bench``; the row says when it is
    absent) on the reference 70/25/5 stream, fills checked against the reference book
    (tools/bench_engine.py).
``gateway_shell``: one command stream through the gateway on SimPy and on a bare ``heapq`` loop,
    both with the project's own engine and log: their ratio is the SimPy shell's cost alone
    (tools/bench_gateway.py).
``scenarios``: whole runs of shipped scenarios in-process (every subsystem), events per second of
    simulated activity, the event log rendered to a null sink (tools/bench_runs.py).
``scale``: the million-account flash crash (configs/scale/million_accounts.toml) at 100,000
    accounts, every one opening a position in the first 40 s (2,000 with ``--quick``; the table
    shows how many hold one at 42 s, before the news: all of them): events per second, bytes per
    account holding a position, peak RSS, ADL fills (tools/bench_scale.py; the 1,000,000-account
    run is ``python tools/bench_scale.py``).
``replay_redrive``: ``exchange-sim replay`` and ``redrive`` of a run directory written first (the
    ADL scenario), lines per second by wall and CPU time (tools/bench_runs.py).
``adl_step``: one ADL step (rank the opposite side, allocate 200 lots) at 10k and 100k ranked
    positions, the full sort against the ranking the engine uses (tools/bench_adl.py).
``sweep_speedup`` (only with ``--sweep``): a 40-run sweep on a process pool of 1 worker and of 2.
Only the measured loops are timed (``time.perf_counter``); inputs are generated before timing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_adl import bench_adl
from bench_book import bench_book
from bench_engine import bench_engine
from bench_gateway import bench_gateway_heapq, bench_gateway_simpy, make_stream
from bench_order_path import bench_order_path
from bench_runs import bench_replay, bench_scenario, bench_sweep_speedup
from bench_scale import bench_scale

Figures = dict
Headline = tuple[str, tuple[str, ...], str]
"""(label, path of keys into the row's figures, unit) of one figure shown in the table."""


def _book(quick: bool, seed: int) -> Figures:
    ops = 20_000 if quick else 200_000
    return {f"{n}_resting": bench_book(n, ops, seed) for n in (1_000, 100_000)}


def _gateway_shell(quick: bool, seed: int) -> Figures:
    stream = make_stream(20_000 if quick else 200_000, seed)
    resting = 1_000 if quick else 10_000
    simpy_fig = bench_gateway_simpy(stream, resting)
    heapq_fig = bench_gateway_heapq(stream, resting)
    if simpy_fig["events"] != heapq_fig["events"]:
        raise SystemExit(f"the two loops did different work: {simpy_fig} vs {heapq_fig}")
    ratio = round(simpy_fig["orders_per_s"] / heapq_fig["orders_per_s"], 3)
    return {"simpy": simpy_fig, "heapq": heapq_fig, "ratio_simpy_over_heapq": ratio}


def _scenarios(quick: bool, seed: int) -> Figures:
    duration = "2min" if quick else "20min"
    return {name: bench_scenario(name, duration) for name in ("quickstart", "index_shock")}


def _scale(quick: bool, seed: int) -> Figures:
    return bench_scale(accounts=2_000 if quick else 100_000)


def _replay(quick: bool, seed: int) -> Figures:
    return bench_replay("october_2025_adl", "60s" if quick else "150s")


REFERENCE: list[str | None] = [None]
"""The reference loop's directory (``--reference``; default ``<repo>/../shared/bench``)."""


def _order_path(quick: bool, seed: int) -> Figures:
    return bench_order_path(quick=quick, reference=REFERENCE[0])


def _engine(quick: bool, seed: int) -> Figures:
    return bench_engine(quick=quick, reference=REFERENCE[0])


def _adl(quick: bool, seed: int) -> Figures:
    return bench_adl((1_000, 10_000) if quick else (10_000, 100_000), repeat=1 if quick else 3)


ROWS: dict[str, tuple[Callable[[bool, int], Figures], list[Headline], bool]] = {
    # name: (run(quick, seed), headline figures, repeat here (False: the row repeats itself))
    "book": (
        _book,
        [
            ("1k resting", ("1000_resting", "ops_per_sec"), "ops/s"),
            ("100k resting", ("100000_resting", "ops_per_sec"), "ops/s"),
        ],
        True,
    ),
    "order_path": (
        _order_path,
        [
            ("order path / reference ceiling (CPU)", ("ratio_project_over_ceiling_cpu",), "ratio"),
            ("order path / reference ceiling (wall)", ("ratio_project_over_ceiling",), "ratio"),
            ("order path", ("project", "op_per_cpu_s"), "ops/CPU s"),
            ("reference ceiling", ("ceiling", "op_per_cpu_s"), "ops/CPU s"),
            (
                "engine + log alone / ceiling",
                ("ratio_split_engine_alone_over_ceiling_cpu",),
                "ratio",
            ),
            ("full venue / ceiling", ("ratio_project_full_venue_over_ceiling_cpu",), "ratio"),
            ("log writer: emit / raw orjson", ("writer", "ratio_emit_over_orjson_cpu"), "ratio"),
            (
                "log writer: emit_record / raw orjson",
                ("writer", "ratio_emit_record_over_orjson_cpu"),
                "ratio",
            ),
        ],
        False,
    ),
    "engine_vs_nautilus": (
        _engine,
        [
            ("engine + log / nautilus", ("ratio_engine_log_vs_nautilus",), "ratio"),
            ("engine, no-op log / nautilus", ("ratio_engine_noop_log_vs_nautilus",), "ratio"),
            ("engine + log", ("engine_log_ops_per_s",), "ops/s"),
            ("nautilus L3 book", ("nautilus_ops_per_s",), "ops/s"),
        ],
        False,
    ),
    "gateway_shell": (
        _gateway_shell,
        [
            ("SimPy shell", ("simpy", "orders_per_s"), "orders/s"),
            ("bare heapq", ("heapq", "orders_per_s"), "orders/s"),
            ("SimPy / heapq", ("ratio_simpy_over_heapq",), "ratio"),
        ],
        True,
    ),
    "scenarios": (
        _scenarios,
        [
            ("quickstart", ("quickstart", "events_per_s"), "events/s"),
            ("index_shock", ("index_shock", "events_per_s"), "events/s"),
        ],
        True,
    ),
    "scale": (
        _scale,
        [
            ("events per second", ("events_per_s",), "events/s"),
            ("accounts holding a position", ("positions_at_measure",), "accounts"),
            (
                "accounts without a position (0: all hold)",
                ("without_position_at_measure",),
                "accounts",
            ),
            ("bytes per position (venue)", ("traced_per_position_venue_only_b",), "B"),
            ("bytes per position (with observers)", ("traced_per_position_b",), "B"),
            ("peak RSS", ("peak_rss_mb",), "MB"),
            ("ADL fills", ("adl_fills",), "fills"),
            ("liquidation backlog, longest", ("liquidation_backlog_max",), "accounts"),
            ("liquidation backlog at the end", ("liquidation_backlog_at_end",), "accounts"),
        ],
        True,
    ),
    "replay_redrive": (
        _replay,
        [
            ("replay", ("replay", "lines_per_s"), "lines/s"),
            ("re-drive", ("redrive", "lines_per_s"), "lines/s"),
        ],
        True,
    ),
    "adl_step": (
        _adl,
        [
            (f"{ranking} {n:,}", (ranking, n, "after_s"), "s/step")
            for ranking in ("bitmex", "binance", "hyperliquid")
            for n in (10_000, 100_000)
        ],
        False,
    ),
}


def _dig(figures: Figures, path: tuple) -> float | None:
    value: object = figures
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value if isinstance(value, int | float) else None


def run_row(name: str, quick: bool, seed: int, repeats: int) -> Figures:
    """Run one row: a warm-up, then ``repeats`` repetitions; keep the median's figures."""
    run, headlines, repeat_here = ROWS[name]
    if quick or not repeat_here:
        figures = run(quick, seed)
        figures["repetitions"] = 1
        return figures
    run(quick, seed)  # warm-up: imports, caches, allocator
    runs = [run(quick, seed) for _ in range(repeats)]
    label, path, _ = headlines[0]
    keyed = sorted(runs, key=lambda f: _dig(f, path) or 0.0)
    figures = keyed[len(keyed) // 2]
    figures["repetitions"] = repeats
    figures["spread"] = {}
    for label, path, _ in headlines:
        values = [v for v in (_dig(f, path) for f in runs) if v is not None]
        if values:
            figures["spread"][label] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
    return figures


def markdown(results: dict[str, Figures]) -> str:
    """A table of the headline figures: row, figure, median, min, max, unit."""
    lines = ["| row | figure | median | min | max | unit |", "|---|---|---:|---:|---:|---|"]
    for name, figures in results.items():
        if name not in ROWS:
            continue
        for label, path, unit in ROWS[name][1]:
            spread = figures.get("spread", {}).get(label)
            value = _dig(figures, path)
            if value is None and spread is None:
                continue
            low, high = (spread["min"], spread["max"]) if spread else (value, value)
            median = spread["median"] if spread else value
            lines.append(
                f"| {name} | {label} | {_fmt(median)} | {_fmt(low)} | {_fmt(high)} | {unit} |"
            )
    return "\n".join(lines) + "\n"


def _fmt(value: float) -> str:
    if isinstance(value, int) or (isinstance(value, float) and value >= 100):
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _stringify_keys(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _stringify_keys(v) for k, v in value.items()}
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="repetitions after the warm-up")
    parser.add_argument("--rows", help=f"comma-separated subset of: {', '.join(ROWS)}")
    parser.add_argument(
        "--reference", help="the reference loop's directory (default: <repo>/../shared/bench)"
    )
    parser.add_argument("--json", help="also write the JSON figures to this file")
    parser.add_argument("--markdown", help="also write the markdown table to this file")
    parser.add_argument(
        "--sweep", action="store_true", help="only the sweep speed-up (1 vs 2 workers, 40 runs)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    REFERENCE[0] = args.reference
    results: dict = {"python": sys.version.split()[0], "cpus": os.cpu_count(), "quick": args.quick}
    if args.sweep:
        results["sweep_speedup"] = bench_sweep_speedup("30s" if args.quick else "2min")
        print(json.dumps(results, indent=2))
        return 0
    names = list(ROWS) if not args.rows else [n.strip() for n in args.rows.split(",")]
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        parser.error(f"unknown row {unknown[0]!r}; rows: {', '.join(ROWS)}")
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        results[name] = run_row(name, args.quick, args.seed, args.repeats)
    rendered = json.dumps(_stringify_keys(results), indent=2)
    table = markdown(results)
    print(rendered)
    print()
    print(table, end="")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            handle.write(rendered + "\n")
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
