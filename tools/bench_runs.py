"""Whole runs: shipped scenarios, the cascade with more accounts, sweeps, replay and re-drive."""

from __future__ import annotations

import os
import time

from bench_gateway import NullSink

from exchange_sim.events.log import EventLog


def bench_scenario(name: str, duration: str) -> dict:
    from exchange_sim.runner.api import load_config
    from exchange_sim.runner.simulate import build_venue

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "scenarios")
    loaded = load_config(os.path.join(root, f"{name}.toml"), (f'run.duration="{duration}"',))
    log = EventLog(NullSink())
    simulation = build_venue(loaded, log)
    start = time.perf_counter()
    simulation.run("bench")
    wall = time.perf_counter() - start
    return {
        "sim_time": duration,
        "events": log.seq,
        "wall_s": round(wall, 3),
        "events_per_s": round(log.seq / wall),
        "accounts": len(simulation.ledger.accounts),
    }


SWEEP_TOML = """[sweep]
name = "bench"
base = "{base}"
seeds = 10

[set]
"run.duration" = "{duration}"

[[factors]]
key = "liquidation.insurance_fund.initial_balance"
values = [0, 1000, 100000, 10000000]
"""


def bench_sweep_speedup(duration: str = "2min") -> dict:
    import tempfile

    from exchange_sim.runner.sweep import load_results, run_sweep

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "scenarios")
    base = os.path.abspath(os.path.join(root, "quickstart.toml"))
    figures: dict = {"runs": 40, "sim_time_per_run": duration}
    figures["load_average_before"] = round(os.getloadavg()[0], 2)  # other work on the machine
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "bench.toml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(SWEEP_TOML.format(base=base, duration=duration))
        for workers in (1, 2):
            start = time.perf_counter()
            outcome = run_sweep(path, out=os.path.join(scratch, f"w{workers}"), workers=workers)
            wall = time.perf_counter() - start
            if outcome.failed or outcome.ok != 40:
                raise SystemExit(f"sweep bench: {outcome}")
            figures[f"{workers}_worker_wall_s"] = round(wall, 2)
            # Sum of the runs' own wall times over the sweep's: how many ran at once, on average.
            busy = float(load_results(outcome.directory)["wall_s"].sum())
            figures[f"{workers}_worker_concurrency"] = round(busy / wall, 2)
    figures["speedup_2_over_1"] = round(figures["1_worker_wall_s"] / figures["2_worker_wall_s"], 2)
    return figures


def bench_replay(name: str, duration: str) -> dict:
    import tempfile

    from exchange_sim.replay.audit import replay
    from exchange_sim.replay.redrive import redrive
    from exchange_sim.runner.api import run

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "scenarios")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run")
        run(os.path.join(root, f"{name}.toml"), overrides=[f'run.duration="{duration}"'], out=out)
        size = os.path.getsize(os.path.join(out, "events.jsonl"))
        start, cpu = time.perf_counter(), time.process_time()
        result = replay(out)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        if result.status != "consistent":
            raise SystemExit(f"replay of {name}: {result.divergence or result.damage}")
        start, cpu_redrive = time.perf_counter(), time.process_time()
        again = redrive(out, os.path.join(tmp, "again"))
        wall_redrive = time.perf_counter() - start
        cpu_redrive = time.process_time() - cpu_redrive
        if not again.identical:
            raise SystemExit(f"re-drive of {name} differs at line {again.first_difference}")
    figures = {"scenario": name, "sim_time": duration, "log_mb": round(size / 1e6, 1)}
    figures["replay"] = {
        "lines": result.lines,
        "wall_s": round(wall, 3),
        "lines_per_s": round(result.lines / wall),
        "lines_per_cpu_s": round(result.lines / cpu),
    }
    figures["redrive"] = {
        "lines": again.lines + 1,
        "wall_s": round(wall_redrive, 3),
        "lines_per_s": round((again.lines + 1) / wall_redrive),
        "lines_per_cpu_s": round((again.lines + 1) / cpu_redrive),
    }
    return figures
