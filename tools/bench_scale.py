"""The million-account flash crash: wall time, events/s, memory and where the time goes.

    python tools/bench_scale.py                    # 1,000,000 accounts (about 9 min of CPU, 2 GB)
    python tools/bench_scale.py --quick            # 10,000 accounts, seconds
    python tools/bench_scale.py --accounts 100000  # any size
    python tools/bench_scale.py --accounts 100000 --set participants.longs.entry_retries=40

Runs ``configs/scale/million_accounts.toml`` (flash_crash's market with its leveraged crowd split
over ``accounts`` accounts: four in five long at 20-75x, one in five short at 2-4x, all opening a
position in the first 40 s; deposits scale so the crowd holds the same money at every size, and
the engine starts ``accounts / 20`` accounts a second so its backlog clears). The run is the one
``exchange_sim.run`` makes (same observers: metrics and cascade tree), driven here so that it can
be measured at ``MEASURE_AT`` (every entry done, before the news).

* ``wall_s``, ``events``, ``events_per_s``: the whole run (build included); ``cpu_s`` the
  process's CPU seconds over it (on a shared machine wall time includes waiting for a core).
* ``peak_rss_mb``: the process's peak resident set (``getrusage``).
* ``positions_at_measure``: the leveraged accounts holding a position at ``MEASURE_AT``;
  ``without_position_at_measure`` those holding none, ``all_hold_positions`` whether that is 0
  (the scaling row's condition: every account in it holds a position).
* ``liquidation_backlog_max``, ``liquidation_wait_max_s``: the longest backlog of the
  liquidation engine (accounts handed over, not yet started) and the longest wait an account
  had in it; ``liquidation_backlog_at_end``: what is left at the end (0: the backlog cleared).
* ``rss_per_position_b``: resident memory at ``MEASURE_AT`` less before the build, over the
  accounts holding a position then (an upper bound: the venue's fixed parts are in it).
* ``traced_per_position_b``: what one more leveraged account holding a position costs
  (:func:`traced_per_position`, at ``n`` up to 100,000 accounts), with the run's log observers
  (metrics, cascade tree) and, ``..._venue_only_b``, without them.
* ``stages_s``: a sampling profile (the main thread's stack every ``SAMPLE_S``); each sample goes
  to the stage of its innermost frame in the simulator (``matching``, ``ledger``, ``risk``,
  ``liquidation``, ``logging``: the event log and its observers, ``gateway``, ``participants``,
  ``market``: index, mark, funding, ``kernel``: the scheduler and simpy), except that anything
  under an ADL step counts as ``adl``. Seconds = share of samples x wall time of the run.
"""

from __future__ import annotations

import gc
import os
import resource
import sys
import threading
import time
import tracemalloc
from array import array
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "configs", "scale", "million_accounts.toml")
MEASURE_AT = 42_000_000_000  # ns: every entry (2-40 s) filled, the news at 90 s still ahead
SAMPLE_S = 0.005
FULL = 1_000_000
QUICK = 10_000
LONG_MONEY = 200_000  # USDT the longs hold together (flash_crash: 400 x 500)
SHORT_MONEY = 3_200_000  # USDT the shorts hold together (flash_crash: 100 x 32,000)


def overrides(accounts: int) -> list[str]:
    """``--set`` overrides for ``accounts`` leveraged accounts (the same money at every size)."""
    longs = accounts * 4 // 5
    shorts = accounts - longs
    return [
        f"participants.longs.count={longs}",
        f"participants.longs.deposit={LONG_MONEY / longs:.6f}",
        f"participants.shorts.count={shorts}",
        f"participants.shorts.deposit={SHORT_MONEY / shorts:.6f}",
        f"liquidation.throughput={max(1, accounts // 20)}",
    ]


_STAGES = (
    ("exchange_sim/liquidation/adl", "adl"),
    ("exchange_sim/matching/", "matching"),
    ("exchange_sim/accounts/", "ledger"),
    ("exchange_sim/risk/", "risk"),
    ("exchange_sim/liquidation/", "liquidation"),
    ("exchange_sim/events/", "logging"),
    ("exchange_sim/analysis/", "logging"),
    ("exchange_sim/venue/gateway", "gateway"),
    ("exchange_sim/venue/", "market"),
    ("exchange_sim/pricing/", "market"),
    ("exchange_sim/markets/", "market"),
    ("exchange_sim/funding/", "market"),
    ("exchange_sim/agents/", "participants"),
    ("exchange_sim/runner/population", "participants"),
    ("exchange_sim/kernel/", "kernel"),
    ("exchange_sim/", "other"),
)


def _stage(frame) -> str:
    """The stage of a sample: ``adl`` if an ADL step is on the stack, else its innermost
    simulator frame's package (the interpreter's own and library frames count for the caller)."""
    inner = None
    while frame is not None:
        path = frame.f_code.co_filename.replace(os.sep, "/")
        if "exchange_sim/liquidation/adl" in path or frame.f_code.co_name == "_adl":
            return "adl"
        if inner is None and "exchange_sim/" in path:
            for prefix, stage in _STAGES:
                if prefix in path:
                    inner = stage
                    break
        frame = frame.f_back
    return inner or "kernel"


class _Sampler:
    """Samples the main thread's stack from a daemon thread."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self._stop = threading.Event()
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            frame = sys._current_frames().get(self._main)
            if frame is not None:
                self.counts[_stage(frame)] += 1

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class _Backlog:
    """Observer of ``liquidation_started``: the longest backlog and queue wait the engine had
    (whether its throughput keeps up with the crowd, rather than throttling the cascade)."""

    __slots__ = ("longest_wait_ns", "most")

    def __init__(self) -> None:
        self.most = 0
        self.longest_wait_ns = 0

    def __call__(self, record: dict) -> None:
        if record["backlog"] > self.most:
            self.most = record["backlog"]
        if record["queue_wait_ns"] > self.longest_wait_ns:
            self.longest_wait_ns = record["queue_wait_ns"]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _positions(venue) -> tuple[int, int]:
    """``(holding, leveraged)``: the leveraged accounts holding a position, and all of them."""
    holding = leveraged = 0
    for account in venue.ledger.accounts.values():
        if account.role == "leveraged":
            leveraged += 1
            holding += bool(account.size_lots)
    return holding, leveraged


def _venue(
    accounts: int,
    duration: str | None = None,
    start: bool = True,
    observe: bool = True,
    extra: tuple[str, ...] = (),
):
    import exchange_sim as es
    from exchange_sim.events.log import EventLog
    from exchange_sim.runner.api import _HashingNullSink
    from exchange_sim.runner.simulate import build_venue, observe_run

    more = [f"run.duration={duration}"] if duration else []
    loaded = es.load_config(CONFIG, overrides=overrides(accounts) + more + list(extra))
    config = loaded.config
    log = EventLog(_HashingNullSink(), buffer_lines=config.log.buffer_lines)
    metrics = tree = None
    if observe:
        metrics, tree, _more = observe_run(loaded, log)
    venue = build_venue(loaded, log)
    if metrics is not None:
        metrics.read_book(venue.instrument.engine.book)
    log.start(es.__version__, config.run.seed, loaded.sha256(), scenario=config.run.name,
              duration_ns=config.run.duration)  # fmt: skip
    if start:
        venue.start()
    return venue, log, metrics, tree


def _open_positions(venue) -> int:
    """Every leveraged account deposits and opens its position at the start price through the
    ledger (as its entry fill would; a maker's account takes the other side), so the risk
    monitor, the ADL book and the log's observers see them. Returns the positions opened."""
    from exchange_sim.agents.leveraged import LeveragedTraderGroup

    ledger = venue.ledger
    maker = next(a for a in ledger.accounts.values() if a.role == "adaptive_maker")
    price = venue.config.fundamental.start_price  # ticks
    fee = ledger.fees.taker_fee_ppb
    opened = 0
    for group in venue._starts:
        if not isinstance(group, LeveragedTraderGroup):
            continue
        for account_id in group.members:
            ledger.deposit(0, account_id, group._cfg.deposit, None)
            lots = group.entry_lots(account_id, price)
            side = group.sides[account_id]
            ledger.apply_fill(0, 0, ledger.accounts[account_id], side, price, lots, fee)
            ledger.apply_fill(0, 0, maker, -side, price, lots, 0)
            group.positions[account_id] = side * lots
            opened += 1
        group._entry_times = array("q")  # as after its entries have run
    return opened


def traced_per_position(accounts: int, observe: bool = True) -> dict:
    """What one more leveraged account holding a position costs: ``tracemalloc`` of a venue
    built with ``accounts`` and with ``accounts // 10`` leveraged accounts, each account then
    depositing and opening its position through the ledger (:func:`_open_positions`), the
    difference over the difference in positions. Everything is in it: the account and its ledger
    entry, trigger index and ADL entries, the risk monitor's, the gateway link, the participant
    group's per-member state and the run's log observers' per-account state."""
    figures = {}
    _venue(10, start=False)  # imports and caches first, outside the measurement
    for n in (accounts // 10, accounts):
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        venue, log, metrics, tree = _venue(n, start=False, observe=observe)
        opened = _open_positions(venue)
        gc.collect()
        figures[n] = (tracemalloc.get_traced_memory()[0] - base, opened)
        del venue, log, metrics, tree
        tracemalloc.stop()
        gc.collect()
    (low_b, low_p), (high_b, high_p) = figures[accounts // 10], figures[accounts]
    return round((high_b - low_b) / (high_p - low_p))


def bench_scale(
    quick: bool = False, accounts: int | None = None, extra: tuple[str, ...] = ()
) -> dict:
    """Run the million-account flash crash (``accounts`` of them; 10,000 with ``quick``);
    ``extra``: more ``--set`` overrides for the crash run (not the memory tracing)."""
    n = accounts or (QUICK if quick else FULL)
    out: dict = {"accounts": n, "overrides": list(extra)}
    traced = min(n, 100_000)
    out["traced_accounts"] = traced
    out["traced_per_position_b"] = traced_per_position(traced)
    out["traced_per_position_venue_only_b"] = traced_per_position(traced, observe=False)
    gc.collect()
    rss_before = _rss_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    with _Sampler() as sampler:
        venue, log, _metrics, _tree = _venue(n, extra=extra)
        backlog = _Backlog()
        log.observe(backlog, ("liquidation_started",))
        built = time.perf_counter()
        venue.env.run_until(MEASURE_AT)
        rss_at = _rss_bytes()
        positions, leveraged = _positions(venue)
        venue.env.run_until(venue.config.run.duration)
        log.close(venue.config.run.duration)
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    results = venue.results()
    events = log.seq
    samples = sum(sampler.counts.values()) or 1
    by_type = log.counts
    out.update(
        {
            "events": events,
            "wall_s": round(wall, 1),
            "build_s": round(built - start, 1),
            "events_per_s": round(events / wall),
            "cpu_s": round(usage.ru_utime + usage.ru_stime - cpu_before, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "positions_at_measure": positions,
            "without_position_at_measure": leveraged - positions,
            "all_hold_positions": positions == leveraged,
            "rss_per_position_b": round((rss_at - rss_before) / max(positions, 1)),
            "liquidations": by_type.get("liquidation_triggered", 0),
            "liquidation_fills": by_type.get("liquidation_fill", 0),
            "liquidation_backlog_max": backlog.most,
            "liquidation_wait_max_s": round(backlog.longest_wait_ns / 1e9, 3),
            "liquidation_backlog_at_end": venue.liquidation.backlog,
            "adl_fills": by_type.get("adl", 0),
            "takeovers": by_type.get("takeover", 0),
            "money_conserved": results["money_held_minor"] == results["money_deposited_net_minor"],
            "stages_s": {
                stage: round(wall * count / samples, 1)  # share of wall time
                for stage, count in sampler.counts.most_common()
            },
        }
    )
    return out


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 accounts")
    parser.add_argument("--accounts", type=int)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config override for the crash run, e.g. participants.longs.entry_retries=40",
    )
    args = parser.parse_args()
    print(json.dumps(bench_scale(args.quick, args.accounts, tuple(args.set)), indent=1))
