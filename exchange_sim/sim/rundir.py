"""The run directory: one directory per run holding the resolved config, the log and results.

Written atomically: everything goes to a hidden temporary sibling first and is renamed into place
only when the run has finished, so a directory named like a run is always complete. A run that
crashes is renamed to ``<dir>.failed`` with ``error.txt`` inside (desmod-style), never to ``<dir>``.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback

import orjson

from exchange_sim.config import toml_out
from exchange_sim.config.schema import LoadedConfig
from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import NS_PER_S
from exchange_sim.events.log import EventLog
from exchange_sim.sim.run import Simulation

WRITE_BUFFER_BYTES = 1 << 20


def fresh_run_dir(root: str, name: str, seed: int) -> str:
    """``root/<name>-s<seed>-<n>`` with the smallest n not yet taken (no wall clock involved)."""
    n = 1
    while True:
        candidate = os.path.join(root, f"{name}-s{seed}-{n}")
        if not os.path.exists(candidate) and not os.path.exists(candidate + ".failed"):
            return candidate
        n += 1


class RunResult:
    __slots__ = ("directory", "summary")

    def __init__(self, directory: str, summary: dict) -> None:
        self.directory = directory
        self.summary = summary


def execute(loaded: LoadedConfig, out_dir: str | None) -> RunResult:
    config = loaded.config
    if out_dir is None:
        out_dir = fresh_run_dir("runs", config.run.name, config.run.seed)
    out_dir = os.path.abspath(out_dir)
    if os.path.exists(out_dir):
        raise ConfigError("--out", out_dir, "already exists; choose a new directory")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    temp_dir = os.path.join(parent, f".{os.path.basename(out_dir)}.tmp-{os.getpid()}")
    if os.path.exists(temp_dir):
        shutil.rmtree(temp_dir)
    os.makedirs(temp_dir)
    try:
        with open(os.path.join(temp_dir, "config.toml"), "w", encoding="utf-8") as handle:
            handle.write(toml_out.dumps(loaded.to_data()))
        wall_start = time.perf_counter()
        with open(
            os.path.join(temp_dir, "events.jsonl"), "wb", buffering=WRITE_BUFFER_BYTES
        ) as sink:
            log = EventLog(sink, buffer_lines=config.log.buffer_lines)
            simulation = Simulation(loaded, log)
            digest = simulation.run()
        wall_s = time.perf_counter() - wall_start
        summary = {
            "scenario": config.run.name,
            "seed": config.run.seed,
            "config_sha256": loaded.sha256(),
            "sim_time_ns": config.run.duration,
            "sim_time_s": config.run.duration / NS_PER_S,
            "wall_time_s": round(wall_s, 6),
            "event_count": log.seq,
            "events_per_second": round(log.seq / wall_s, 1) if wall_s > 0 else None,
            "events_by_type": dict(sorted(log.counts.items())),
            "log_digest_sha256": digest,
        }
        summary.update(simulation.results())
        with open(os.path.join(temp_dir, "summary.json"), "wb") as handle:
            handle.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    except BaseException:
        with open(os.path.join(temp_dir, "error.txt"), "w", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
        failed = out_dir + ".failed"
        if os.path.exists(failed):
            shutil.rmtree(failed)
        os.rename(temp_dir, failed)
        raise
    os.rename(temp_dir, out_dir)
    return RunResult(out_dir, summary)
