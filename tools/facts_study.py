"""Run the shipped scenarios and measure the stylized facts of market_events.md section 3 on them.

    python tools/facts_study.py --out DIR [--seeds 3] [--jobs 2] [--json OUT]

Writes one run directory per (scenario, seed) under ``DIR/runs/`` and then measures, with
``exchange_sim.analysis.stylized`` (the measure behind ``tools/stylized_facts.py``), three pools:

* **stress**: the crash scenarios (flash_crash, black_thursday_2020, may_2021, october_2025_adl,
  latency_storm, liquidity_withdrawal, funding_squeeze), every seed: spreads and depth under
  stress, the perp-index gap at the trough, funding after the cascade, the rebound;
* **calm**: calm.toml's normal day, every seed: return tails, skew and volatility clustering
  where no crash dominates the sample;
* **impact**: calm.toml cut to 780 s with its TWAP buyer at 5, 10, 20 and 40 BTC (seed 1): the
  square-root law of the execution agent's impact.

Nothing is fitted: each fact is judged by the rule in docs/stylized_facts.md. Existing run
directories under ``DIR/runs/`` are reused (delete them to re-run); the study takes about
15 minutes on two cores with the defaults. Bad input exits with status 2.
"""

from __future__ import annotations

import argparse
import json
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
IMPACT_DURATION = "780s"  # the metaorder runs 600-720 s; a minute after it


def _job_list(seeds: int) -> dict[str, list[tuple[str, str, int, tuple[str, ...]]]]:
    """The study's runs by pool: (directory name, scenario, seed, overrides)."""
    stress = [(f"{s}-s{k}", s, k, ()) for s in STRESS for k in range(1, seeds + 1)]
    calm = [(f"calm-s{k}", "calm", k, ()) for k in range(1, seeds + 1)]
    impact = [
        (
            f"calm-impact-{size}",
            "calm",
            1,
            (f"participants.buyer.total_size={size}", f"run.duration={IMPACT_DURATION}"),
        )
        for size in IMPACT_SIZES
    ]
    return {"stress": stress, "calm": calm, "impact": impact}


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
        for label, pool_jobs in pools.items():
            dirs = [os.path.join(runs_dir, job[0]) for job in pool_jobs]
            results[label] = stylized_facts(dirs, grids=DEFAULT_GRIDS)
    except InputError as error:
        print(f"facts_study: {error}", file=sys.stderr)
        return 2
    for label, result in results.items():
        print(f"== {label} ({len(pools[label])} runs)")
        print(format_table(result))
        print()
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
