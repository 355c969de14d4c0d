"""Run the shipped scenarios and measure the stylized facts of market_events.md section 3 on them.

    python tools/facts_study.py --out DIR [--seeds 3] [--jobs 2] [--json OUT]

Writes one run directory per (scenario, seed) under ``DIR/runs/`` and then measures, with
``exchange_sim.analysis.stylized`` (the measure behind ``tools/stylized_facts.py``), three pools:

* **stress**: the crash scenarios (flash_crash, black_thursday_2020, may_2021, october_2025_adl,
  latency_storm, liquidity_withdrawal, funding_squeeze), every seed: spreads and depth under
  stress, the perp-index gap at the trough, funding after the cascade, the rebound;
* **calm**: calm.toml's normal day, every seed: return tails, skew and volatility clustering
  where no crash dominates the sample;
* **impact, paired**: calm.toml cut to 780 s with its TWAP buyer at 5, 10, 20 and 40 BTC and at a
  control size of 0.12 BTC (one lot a second), on every seed. In calm's day-in-20-minutes market
  the price drifts by about 0.8 % over the metaorder's two minutes, which swamps its own impact
  measured from the arrival price; with common random numbers the control run is the same market
  without (nearly) the order, so the impact of size Q on seed k is
  ``(VWAP(Q, k) - VWAP(control, k)) / arrival price``, and ``delta`` is the least-squares slope of
  ``ln(mean impact over seeds)`` on ``ln(Q)``; the square-root law holds for delta in [0.3, 0.7]
  (docs/stylized_facts.md).

Nothing is fitted: each fact is judged by the rule in docs/stylized_facts.md. Existing run
directories under ``DIR/runs/`` are reused (delete them to re-run); the study takes about
20 minutes on two cores with the defaults (39 runs). Bad input exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import exchange_sim as es
from exchange_sim.analysis.stylized import DEFAULT_GRIDS, format_table, stylized_facts
from exchange_sim.core.errors import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STRESS = (
    "flash_crash",
    "black_thursday_2020",
    "may_2021",
    "october_2025_adl",
    "latency_storm",
    "liquidity_withdrawal",
    "funding_squeeze",
)
IMPACT_SIZES = (5, 10, 20, 40)  # BTC bought by calm.toml's TWAP buyer
IMPACT_CONTROL = "0.12"  # one lot a second for 120 s: the same market without (nearly) the order
IMPACT_DURATION = "780s"  # the metaorder runs 600-720 s; a minute after it


def _job_list(seeds: int) -> dict[str, list[tuple[str, str, int, tuple[str, ...]]]]:
    """The study's runs by pool: (directory name, scenario, seed, overrides)."""
    stress = [(f"{s}-s{k}", s, k, ()) for s in STRESS for k in range(1, seeds + 1)]
    calm = [(f"calm-s{k}", "calm", k, ()) for k in range(1, seeds + 1)]
    impact = [
        (
            f"calm-impact-{size}-s{k}",
            "calm",
            k,
            (f"participants.buyer.total_size={size}", f"run.duration={IMPACT_DURATION}"),
        )
        for k in range(1, seeds + 1)
        for size in (IMPACT_CONTROL, *IMPACT_SIZES)
    ]
    return {"stress": stress, "calm": calm, "impact": impact}


def _metaorder_end(run_dir: str) -> dict:
    """The buyer's ``metaorder`` end event (the only execution agent in calm.toml)."""
    with open(os.path.join(run_dir, "events.jsonl"), "rb") as handle:
        for line in handle:
            if b'"metaorder"' in line and b'"phase":"end"' in line:
                return json.loads(line)
    raise InputError(run_dir, "events.jsonl", "no finished metaorder in the log")


def paired_impact(runs_dir: str, seeds: int) -> dict:
    """Each size's impact net of the same seed's control run, its mean over seeds, and the
    square-root law's exponent fitted on the means (see the module doc)."""
    rows = []
    for k in range(1, seeds + 1):
        control = _metaorder_end(os.path.join(runs_dir, f"calm-impact-{IMPACT_CONTROL}-s{k}"))
        for size in IMPACT_SIZES:
            end = _metaorder_end(os.path.join(runs_dir, f"calm-impact-{size}-s{k}"))
            net = end["side"] * (end["vwap_ticks"] - control["vwap_ticks"])
            rows.append({"seed": k, "size": size, "impact": net / end["arrival_price_ticks"]})
    means = {q: sum(r["impact"] for r in rows if r["size"] == q) / seeds for q in IMPACT_SIZES}
    points = [(math.log(q), math.log(m)) for q, m in means.items() if m > 0]
    delta = None
    if len(points) >= 3:
        mx = sum(x for x, _ in points) / len(points)
        my = sum(y for _, y in points) / len(points)
        sxx = sum((x - mx) ** 2 for x, _ in points)
        delta = sum((x - mx) * (y - my) for x, y in points) / sxx
    holds = None if delta is None else 0.3 <= delta <= 0.7
    return {"rows": rows, "mean_impact_by_size": means, "delta": delta, "holds": holds}


def _format_impact(result: dict) -> str:
    lines = ["size BTC  mean impact (net of control)  per seed"]
    for size, mean in result["mean_impact_by_size"].items():
        per_seed = ", ".join(f"{r['impact']:+.3%}" for r in result["rows"] if r["size"] == size)
        lines.append(f"{size:>8}  {mean:>+27.3%}  {per_seed}")
    delta = result["delta"]
    verdict = {True: "holds", False: "fails", None: "no data"}[result["holds"]]
    shown = "n/a (fewer than 3 sizes with a positive mean)" if delta is None else f"{delta:.2f}"
    lines.append(f"square-root law: delta = {shown} (holds in [0.3, 0.7]): {verdict}")
    return "\n".join(lines)


def _run(job: tuple[str, str, int, tuple[str, ...], str]) -> str:
    name, scenario, seed, overrides, runs_dir = job
    out = os.path.join(runs_dir, name)
    if not os.path.exists(os.path.join(out, "summary.json")):
        path = os.path.join(ROOT, "configs", "scenarios", f"{scenario}.toml")
        es.run(path, seed=seed, overrides=overrides, out=out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="facts_study", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="study directory (runs are kept under it)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per scenario (default 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", metavar="OUT", help="also write every pool's facts as JSON")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.jobs < 1:
        print("facts_study: --seeds and --jobs must be >= 1", file=sys.stderr)
        return 2
    runs_dir = os.path.join(args.out, "runs")
    os.makedirs(runs_dir, exist_ok=True)
    pools = _job_list(args.seeds)
    jobs = [(*job, runs_dir) for pool in pools.values() for job in pool]
    try:
        with ProcessPoolExecutor(args.jobs) as pool:
            list(pool.map(_run, jobs))
        results = {}
        for label in ("stress", "calm"):
            dirs = [os.path.join(runs_dir, job[0]) for job in pools[label]]
            results[label] = stylized_facts(dirs, grids=DEFAULT_GRIDS)
        results["impact_paired"] = paired_impact(runs_dir, args.seeds)
    except InputError as error:
        print(f"facts_study: {error}", file=sys.stderr)
        return 2
    for label in ("stress", "calm"):
        print(f"== {label} ({len(pools[label])} runs)")
        print(format_table(results[label]))
        print()
    print(f"== impact, paired by seed ({len(pools['impact'])} runs)")
    print(_format_impact(results["impact_paired"]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
