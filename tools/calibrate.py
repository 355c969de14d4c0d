"""Measure a scenario against its calibration targets over many seeds (issue: endogenous market).

    python tools/calibrate.py flash_crash [--seeds 20] [--jobs 2] [--json out.json]
    python tools/calibrate.py calm [--seeds 20]

Every run uses ``run.amplification = true`` (the same seed again without forced closures, see
``docs/metrics.md``), so each seed gives the amplification of the perpetual's and the index's
drawdowns, the deepest causal generation and the number of liquidations. Targets:

* ``flash_crash``: median perp amplification >= 1.5, median index amplification > 1, median
  deepest generation >= 3; and the same market with **10x maker depth** (every maker's quoted
  sizes x10, its inventory unit and withdrawal inventory x10 and its flow weight / 10: a maker ten
  times the size) or **leverage / 5** (every leveraged trader's leverage divided by 5, at least 1)
  gives a median perp amplification <= 1.1 and at most half the liquidations.
* ``calm``: no liquidation above generation 1 in any seed, and a day's liquidations a few
  percent of open interest: the median over seeds of the liquidated size (base units, at trigger)
  over the run's peak open interest (base units) in [0.5 %, 10 %]. calm.toml compresses a day
  into its 20 minutes (a day's variance), so the run is the day. Run without the amplification
  baseline: there is no cascade to compare.

Every scenario is also run twice with seed 1 at full length: the two logs must have the same
digest (money is checked by every run itself: a run whose money is not conserved fails). Prints
one line per seed and a verdict per target; exits 0 when every target holds, 1 when one does not,
2 on bad input. Runs are independent processes (``--jobs``); results do not depend on
the number of jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from decimal import ROUND_HALF_EVEN, Decimal

import exchange_sim as es
from exchange_sim.core.errors import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKER_KINDS = ("adaptive_maker", "market_maker")


def scenario_path(name: str) -> str:
    path = name if name.endswith(".toml") else os.path.join(ROOT, "configs", "scenarios", name)
    return path if path.endswith(".toml") else path + ".toml"


def _times(value, factor) -> str:
    return f"{Decimal(str(value)) * Decimal(str(factor)):f}"


def depth_overrides(loaded, factor=10) -> list[str]:
    """Every maker ``factor`` times the size: quoted sizes, inventory unit and withdrawal
    inventory times ``factor``, flow weight divided by it and rounded to the 1e-9 rate grid
    (``factor`` may be fractional; sizes must stay on the lot grid, or loading the config says
    which key is off)."""
    out = []
    for table in loaded.to_data()["participants"]:
        if table["kind"] not in MAKER_KINDS:
            continue
        key = f"participants.{table['name']}"
        if table["kind"] == "adaptive_maker":
            sizes = ",".join(_times(v, factor) for v in table["level_sizes"])
            out.append(f"{key}.level_sizes=[{sizes}]")
            out.append(f"{key}.skew_unit={_times(table['skew_unit'], factor)}")
            out.append(f"{key}.withdraw_inventory={_times(table['withdraw_inventory'], factor)}")
            flow = Decimal(str(table["flow_weight"])) / Decimal(str(factor))
            flow = flow.quantize(Decimal("1e-9"), ROUND_HALF_EVEN)  # the rate grid
            out.append(f"{key}.flow_weight={flow:f}")
        else:
            out.append(f"{key}.level_size={_times(table['level_size'], factor)}")
    return out


def leverage_overrides(loaded, divisor: int = 5) -> list[str]:
    """Every leveraged trader's leverage divided by ``divisor`` (floored, at least 1)."""
    out = []
    for table in loaded.to_data()["participants"]:
        if table["kind"] == "leveraged":
            lev = [max(1, int(v) // divisor) for v in table["leverages"]]
            out.append(f"participants.{table['name']}.leverages=[{','.join(map(str, lev))}]")
    return out


def run_one(job: tuple[str, int, tuple[str, ...]]) -> dict:
    """One seed (with amplification unless told otherwise): the figures the targets read."""
    path, seed, overrides = job
    result = es.run(path, seed=seed, overrides=overrides)
    summary = result.summary
    none = {"ratio": None, "drawdown": None}
    amp = summary.get("amplification") or {"perp": none, "index": none}
    metrics = summary["metrics"]
    cascade = metrics["cascade"]
    liquidations = metrics.get("liquidations") or {}
    oi = metrics.get("open_interest") or {}
    return {
        "seed": seed,
        "perp": amp["perp"]["ratio"],
        "index": amp["index"]["ratio"],
        "perp_drawdown": amp["perp"]["drawdown"],
        "index_drawdown": amp["index"]["drawdown"],
        "generation": cascade["deepest_generation"],
        "per_generation": cascade["per_generation"],
        "liquidations": cascade["liquidations"],
        "liquidated_notional": liquidations.get("notional", 0.0),
        "liquidated_size": (liquidations.get("longs") or {}).get("size", 0.0)
        + (liquidations.get("shorts") or {}).get("size", 0.0),
        "open_interest_max": oi.get("max", 0.0),  # base units, like liquidated_size
        "sim_time_s": summary["sim_time_s"],
        "wall_time_s": summary["wall_time_s"],
        "digest": summary["log_digest_sha256"],
    }


def run_variant(
    path: str, seeds: list[int], overrides: list[str], jobs: int, amplification: bool = True
) -> list[dict]:
    extra = ("run.amplification=true",) if amplification else ()
    work = [(path, seed, (*extra, *overrides)) for seed in seeds]
    if jobs <= 1:
        return [run_one(job) for job in work]
    with ProcessPoolExecutor(jobs) as pool:
        return list(pool.map(run_one, work))


def median(rows: list[dict], key: str) -> float:
    values = [r[key] if r[key] is not None else 0.0 for r in rows]
    return statistics.median(values)


def print_rows(name: str, rows: list[dict]) -> None:
    print(f"-- {name}")
    for r in rows:
        perp = "n/a" if r["perp"] is None else f"{r['perp']:.2f}"
        index = "n/a" if r["index"] is None else f"{r['index']:.2f}"
        print(
            f"  seed {r['seed']:>3}: perp x{perp} ({100 * (r['perp_drawdown'] or 0):.2f} %), "
            f"index x{index} ({100 * (r['index_drawdown'] or 0):.2f} %), "
            f"generation {r['generation']}, {r['liquidations']} liquidations, "
            f"{r['wall_time_s']:.1f} s wall"
        )
    print(
        f"  median: perp x{median(rows, 'perp'):.3f}, index x{median(rows, 'index'):.3f}, "
        f"generation {median(rows, 'generation'):g}, liquidations {median(rows, 'liquidations'):g}"
    )


def check(label: str, value: float, holds: bool, checks: list) -> None:
    checks.append({"target": label, "value": value, "holds": holds})
    print(f"  [{'holds' if holds else 'FAILS'}] {label}: {value:.3f}")


def flash_crash(path: str, seeds: list[int], jobs: int) -> tuple[dict, list]:
    loaded = es.load_config(path)
    base = run_variant(path, seeds, [], jobs)
    print_rows("flash_crash", base)
    deep = run_variant(path, seeds, depth_overrides(loaded), jobs)
    print_rows("10x maker depth", deep)
    low = run_variant(path, seeds, leverage_overrides(loaded), jobs)
    print_rows("leverage / 5", low)
    checks: list = []
    print("-- targets")
    check(
        "median perp amplification >= 1.5",
        median(base, "perp"),
        median(base, "perp") >= 1.5,
        checks,
    )
    check(
        "median index amplification > 1", median(base, "index"), median(base, "index") > 1, checks
    )
    gen = median(base, "generation")
    check("median deepest generation >= 3", gen, gen >= 3, checks)
    base_liq = median(base, "liquidations")
    for name, rows in (("10x maker depth", deep), ("leverage / 5", low)):
        check(
            f"{name}: median perp amplification <= 1.1",
            median(rows, "perp"),
            median(rows, "perp") <= 1.1,
            checks,
        )
        liq = median(rows, "liquidations")
        ratio = liq / base_liq if base_liq else 0.0
        check(f"{name}: median liquidations / flash_crash's <= 0.5", ratio, ratio <= 0.5, checks)
    return {"flash_crash": base, "depth_x10": deep, "leverage_div5": low}, checks


def calm(path: str, seeds: list[int], jobs: int) -> tuple[dict, list]:
    rows = run_variant(path, seeds, [], jobs, amplification=False)
    print_rows("calm", rows)
    checks: list = []
    print("-- targets")
    deepest = max(r["generation"] for r in rows)
    check("no generation above 1 (deepest over all seeds)", deepest, deepest <= 1, checks)
    daily = [
        r["liquidated_size"] / r["open_interest_max"] if r["open_interest_max"] else 0.0
        for r in rows
    ]
    share = statistics.median(daily)
    check(
        "median day's liquidated size / peak open interest in [0.5 %, 10 %]",
        share,
        0.005 <= share <= 0.10,
        checks,
    )
    return {"calm": rows, "daily_liquidated_share_of_oi": daily}, checks


TARGETS = {"flash_crash": flash_crash, "calm": calm}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=sorted(TARGETS))
    parser.add_argument("--seeds", type=int, default=20, help="seeds 1..N (default 20)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        print("calibrate: --seeds must be at least 1", file=sys.stderr)
        return 2
    path = scenario_path(args.scenario)
    try:
        results, checks = TARGETS[args.scenario](path, list(range(1, args.seeds + 1)), args.jobs)
        twice = run_variant(path, [1, 1], [], min(args.jobs, 2))
        same = twice[0]["digest"] == twice[1]["digest"]
        check(
            "seed 1 run twice at full length gives the same log digest", float(same), same, checks
        )
    except InputError as exc:
        print(f"calibrate: {exc}", file=sys.stderr)
        return 2
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(
                {"scenario": args.scenario, "results": results, "checks": checks}, handle, indent=1
            )
    return 0 if all(c["holds"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
