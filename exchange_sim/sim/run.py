"""One simulation: builds the components from a resolved config and runs them.

Lifecycle (desmod-style fixed phases): build -> start processes -> run until ``run.duration`` ->
close the log. The caller owns the output files (see :mod:`exchange_sim.sim.rundir`).
"""

from __future__ import annotations

from exchange_sim import __version__
from exchange_sim.config.schema import LoadedConfig
from exchange_sim.core.ids import IdSource
from exchange_sim.core.rng import RngStreams
from exchange_sim.events.log import EventLog
from exchange_sim.pricing.index import build_path
from exchange_sim.pricing.index_process import IndexPublisher
from exchange_sim.sim.kernel import PhasedEnvironment
from exchange_sim.sim.latency import LatencySampler


class Simulation:
    """Wires the venue and its participants for one run. Everything random comes from ``rng``."""

    def __init__(self, loaded: LoadedConfig, log: EventLog) -> None:
        config = loaded.config
        self.loaded = loaded
        self.config = config
        self.scale = loaded.scale
        self.log = log
        self.env = PhasedEnvironment()
        self.rng = RngStreams(config.run.seed)
        self.ids = IdSource()
        index_cfg = config.index
        path = build_path(
            index_cfg.process, self.scale, self.rng.stream("index/path"), loaded.base_dir
        )
        self.index = IndexPublisher(
            self.env,
            path,
            index_cfg.cadence,
            LatencySampler(index_cfg.oracle_latency, self.rng.stream("index/oracle_latency")),
            log,
        )

    def run(self) -> str:
        """Run to the configured duration; write the first and last log lines; return the digest."""
        config = self.config
        self.log.start(
            __version__,
            config.run.seed,
            self.loaded.sha256(),
            scenario=config.run.name,
            duration_ns=config.run.duration,
        )
        self.index.start()
        self.env.run_until(config.run.duration)
        return self.log.close(config.run.duration)

    def results(self) -> dict:
        """Run-level results for ``summary.json`` (grown by each subsystem)."""
        return {"final_index_price_ticks": self.index.price}
