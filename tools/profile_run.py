"""Where a run's time goes: the share of each stage and the costliest functions.

    python tools/profile_run.py flash_crash            # a shipped scenario, its own duration
    python tools/profile_run.py cascade --top 25 --set run.duration=60s

Two passes over the same run (same config and seed, so the same events): a sampling pass (the
main thread's stack every millisecond, each sample to the stage of its innermost simulator
frame, as tools/bench_scale.py does: matching, ledger, risk, liquidation, adl, logging (the
event log and the in-run metrics and cascade tree), gateway, market (index, mark, funding,
feed), participants, kernel), then a cProfile pass for the functions with the most own time.
Sampling barely slows the run, so its shares are the truth; cProfile's per-call overhead
inflates small functions, so read its list as a ranking. Prints JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_scale import _Sampler

import exchange_sim as es

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def profile(name: str, overrides: tuple[str, ...] = (), top: int = 15) -> dict:
    path = os.path.join(ROOT, "configs", "scenarios", f"{name}.toml")
    loaded = es.load_config(path, overrides)
    with _Sampler() as sampler:
        start = time.perf_counter()
        result = es.run(loaded)
        wall = time.perf_counter() - start
    samples = sum(sampler.counts.values()) or 1
    events = result.summary["log_lines"]
    figures: dict = {
        "scenario": name,
        "overrides": list(overrides),
        "events": events,
        "wall_s": round(wall, 2),
        "events_per_s": round(events / wall),
        "us_per_event": round(wall / events * 1e6, 2),
        "stages_share": {
            stage: round(count / samples, 3) for stage, count in sampler.counts.most_common()
        },
    }
    profiler = cProfile.Profile()
    profiler.enable()
    es.run(loaded)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # type: ignore[attr-defined]
    total = sum(value[2] for value in stats.stats.values()) or 1.0  # type: ignore[attr-defined]
    figures["top_functions_own_time"] = [
        {
            "function": f"{os.path.relpath(f, ROOT) if f.startswith(ROOT) else f}:{line}({fn})",
            "calls": calls,
            "share": round(own / total, 3),
        }
        for (f, line, fn), (_, calls, own, _, _) in rows
    ]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="a name in configs/scenarios/")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    print(json.dumps(profile(args.scenario, tuple(args.set), args.top), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
