"""One run in memory: build the venue with its participants, run it, summarise it.

Shared by the public API (:mod:`exchange_sim.runner.api`) and the run directory
(:mod:`exchange_sim.runner.rundir`), so a run kept in memory and a run written to disk produce the
same log and summary.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from exchange_sim import __version__
from exchange_sim.analysis.cascade import CascadeTree
from exchange_sim.analysis.metrics import MetricsCollector
from exchange_sim.analysis.metrics_venue import VenueMetrics
from exchange_sim.core.units import NS_PER_S
from exchange_sim.events.log import ByteSink, EventLog
from exchange_sim.runner.config import LoadedConfig
from exchange_sim.runner.population import populate
from exchange_sim.runner.progress import RunProgress
from exchange_sim.venue.venue import Venue


def build_venue(loaded: LoadedConfig, log: EventLog) -> Venue:
    """The venue of ``loaded`` with its participants connected (not started)."""
    return Venue(loaded, log, populate(loaded.config.participants))


def observe_run(
    loaded: LoadedConfig, log: EventLog
) -> tuple[MetricsCollector, CascadeTree, VenueMetrics | None]:
    """The run's in-run analysis on ``log``: the metrics (each of its handlers reached only by
    its own event types), the cascade tree (every event), and with several perpetuals the
    :class:`VenueMetrics` (one metrics collector per perpetual, each fed its own events, and
    the venue's account replay; fed by one observer). After the venue is built, give the first
    metrics its book: ``metrics.read_book(venue.instrument.engine.book)`` (single perpetual
    only)."""
    config = loaded.config
    metrics = MetricsCollector(
        loaded.scale, config.liquidation.insurance_fund.initial_balance, config.instrument.symbol
    )
    tree = CascadeTree()
    if config.perpetuals:  # each perpetual's metrics from its own events; the tree spans them
        more = {
            p.symbol: MetricsCollector(
                loaded.scale_of(p.symbol), p.liquidation.insurance_fund.initial_balance, p.symbol
            )
            for p in config.perpetuals
        }
        sharers = frozenset(p.symbol for p in config.perpetuals if p.shared_insurance_fund)
        venue = VenueMetrics(metrics, more, sharers)
        log.observe(venue.add)
        log.observe(tree.add)
        return metrics, tree, venue
    metrics.attach(log)
    log.observe(tree.add)
    return metrics, tree, None


def simulate(
    loaded: LoadedConfig, sink: ByteSink, progress: bool = False, build=None
) -> tuple[dict, str]:
    """Run ``loaded`` writing its log to ``sink``; return ``(summary, digest)``. The summary's
    ``metrics`` (``docs/metrics.md``) and its ``cascade`` tree are computed as the events are
    written. ``progress`` shows a bar on stderr for a long run (display only). No preflight and
    no files: callers (:func:`run`, the run directory) do those. ``build(loaded, log)`` makes
    the venue instead of :func:`build_venue` (a re-drive: the venue without participants)."""
    config = loaded.config
    # EventLog only calls sink.write(); its BinaryIO annotation is narrower than it needs.
    log = EventLog(sink, buffer_lines=config.log.buffer_lines)
    metrics, tree, venue_metrics = observe_run(loaded, log)
    wall_start = time.perf_counter()
    venue = (build or build_venue)(loaded, log)
    if venue_metrics is None:
        metrics.read_book(venue.instrument.engine.book)
    bar = RunProgress(config.run.duration, log) if progress else None
    try:
        digest = venue.run(__version__, bar)
    except BaseException:
        # Whatever stopped the run (a signal, a bug), the lines emitted so far reach the sink.
        with contextlib.suppress(OSError):
            log.flush()
        raise
    finally:
        if bar is not None:
            bar.close()
    wall_s = time.perf_counter() - wall_start
    summary: dict[str, Any] = {
        "scenario": config.run.name,
        "seed": config.run.seed,
        "symbol": config.instrument.symbol,
        "settlement_asset": config.instrument.settlement_asset,
        "config_sha256": loaded.sha256(),
        "sim_time_ns": config.run.duration,
        "sim_time_s": config.run.duration / NS_PER_S,
        "wall_time_s": round(wall_s, 6),
        # As in run_end: the lines before it. log_lines counts run_end too.
        "event_count": log.seq - 1,
        "log_lines": log.seq,
        "events_per_second": round(log.seq / wall_s, 1) if wall_s > 0 else None,
        "events_by_type": dict(sorted(log.counts.items())),
        "log_digest_sha256": digest,
    }
    summary.update(venue.results())
    summary["invariant_checks"] = venue.invariants.summary()
    if venue_metrics is None:
        summary["metrics"] = metrics.result()
    else:
        first, more, venue_section = venue_metrics.results()
        summary["metrics"] = first
        for symbol, result in more.items():
            summary["perpetuals"][symbol]["metrics"] = result
        summary["venue"] = venue_section
    summary["metrics"]["cascade"] = tree.summary()
    return summary, digest
