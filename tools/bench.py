"""Benchmarks of exchange_sim; prints one JSON object of figures.

    python tools/bench.py            # all figures (about a minute)
    python tools/bench.py --quick    # smaller sizes, for a smoke check
    python tools/bench.py --sweep    # only (f): sweep speed-up, 2 workers against 1

Figures:
(a) ``book``: the order book and matching engine alone, operations per second for a realistic
    mix (70 % limit adds near the touch, 25 % cancels, 5 % marketable orders sweeping 1-3 levels)
    at 1k and 100k resting orders (see tools/bench_book.py).
(b) ``gateway_simpy``: orders per second through the SimPy shell: a driver process sends each
    command through the gateway (request latency, FIFO link), the engine matches it in the MATCH
    phase, every outcome is rendered to the event log, and acks and fills travel back over the
    response leg to the participant.
(c) ``gateway_heapq``: the same command stream, latencies, engine, event log and responses on a
    bare ``heapq`` event loop: the Python ceiling for this design. ``ratio_b_over_c`` shows how
    close the SimPy shell comes to it.
(d) ``scenarios``: whole runs of the shipped scenarios in-process (every subsystem: index, mark,
    matching, ledger, risk monitor, liquidation, funding, participants), events per second of
    simulated activity, with the event log rendered to a null sink.
(e) ``cascade_scaling``: the cascade scenario with 10x and 100x more leveraged accounts: events
    per second should fall far less than the account count grows (the risk monitor touches only
    the accounts a mark update crosses; nothing scans all accounts per tick).
(f) ``sweep_speedup`` (only with ``--sweep``): a 40-run sweep (4 fund sizes x 10 seeds of the
    quickstart market, 2 simulated minutes each, no event logs kept) on a process pool of 1
    worker and of 2 workers: wall seconds of each (pool start-up included), their ratio, and the
    concurrency reached (sum of the runs' wall times / the sweep's); the load average before it
    says how busy the machine was with other work.
(g) ``replay_redrive.replay``: ``exchange-sim replay`` of a run directory written first (the ADL
    scenario: a thin book requoted every few ms, so most lines are order adds and cancels),
    lines per second of the whole replay (config load, streaming, every recomputation, summary
    and digest), by wall and by CPU time (the second is steadier on a shared machine).
(h) ``replay_redrive.redrive``: ``exchange-sim redrive`` of the same run directory without
    overrides (a fresh venue fed the recorded commands; the new log compared with the original).
(i) ``adl_step``: one ADL step (rank the opposite side, allocate 200 lots) at 10k and 100k ranked
    positions, seconds per step ``before`` (full sort of score objects, ``AdlRanker.queue``) and
    ``after`` (integer-keyed heap head, ``adl_select.queue_head``); see tools/bench_adl.py.
Only the event loops are timed (``time.perf_counter``); streams are generated before timing.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_adl import bench_adl
from bench_book import bench_book

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import EventLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, GTC, SELL, Order
from exchange_sim.venue.gateway import Gateway
from exchange_sim.venue.messages import CancelOrder, SubmitOrder

MID = 1_000_000
ACCOUNTS = 50
MS = 1_000_000


class NullSink:
    """Discards bytes (the log's rendering and digest still run)."""

    def write(self, data: bytes) -> int:
        return len(data)


class Quiet:
    __slots__ = ("account_id", "fills", "updates")

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.updates = 0
        self.fills = 0

    def on_order_update(self, now, seq, update) -> None:
        self.updates += 1

    def on_fill(self, now, seq, fill) -> None:
        self.fills += 1


def make_stream(n: int, seed: int) -> list[tuple[int, int, int, int, int, int]]:
    """(gap_ns, account, kind, side, price, size) rows; kind 0 add, 1 cancel, 2 market."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(50_000, n).astype(np.int64) + 1
    kinds = np.searchsorted([0.70, 0.95], rng.random(n), side="right")
    sides = rng.integers(0, 2, n) * 2 - 1
    offsets = rng.integers(0, 10, n)
    sizes = rng.integers(1, 11, n)
    sweep = rng.integers(1, 4, n) * 50
    accounts = rng.integers(1, ACCOUNTS + 1, n)
    rows = []
    for i in range(n):
        side = int(sides[i])
        kind = int(kinds[i])
        price = MID - side * (1 + int(offsets[i]))
        size = int(sweep[i]) if kind == 2 else int(sizes[i])
        rows.append((int(gaps[i]), int(accounts[i]), kind, side, price, size))
    return rows


def _prefill(engine: MatchingEngine, resting: int) -> int:
    for i in range(resting):
        side = BUY if i % 2 else SELL
        price = MID - side * (1 + (i // 20) % 200)
        engine.submit(0, Order(i + 1, 0, side, price, 5, tif=GTC), None)
    return resting


def _latency(account: int) -> int:
    return (1 + account % 5) * MS


def bench_gateway_simpy(stream, resting: int) -> dict:
    env = PhasedEnvironment()
    log = EventLog(NullSink())
    engine = MatchingEngine(log, MatchingConfig(stp="none"))
    next_id = _prefill(engine, resting) + 1
    tiers = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
    gateway = Gateway(env, engine, Ledger(log, 1, tiers, FeeSchedule()))
    engine.trade_listeners.append(gateway.on_trade)
    engine.order_listeners.append(gateway.on_order_event)
    rng = np.random.Generator(np.random.PCG64(0))
    for account in range(1, ACCOUNTS + 1):
        lat = _latency(account)
        gateway.connect(
            Quiet(account),
            LatencySampler(ConstantLatency(value=lat), rng),
            LatencySampler(ConstantLatency(value=lat), rng),
        )

    def driver():
        order_id = next_id
        send = gateway.send
        for gap, account, kind, side, price, size in stream:
            yield env.at(gap, Phase.AGENT)
            if kind == 1:
                send(account, CancelOrder(order_id - 7), None)
            else:
                order = SubmitOrder(order_id, side, price if kind == 0 else None, size)
                order_id += 1
                send(account, order, None)

    env.process(driver())
    start = time.perf_counter()
    env.run()
    wall = time.perf_counter() - start
    return {
        "commands": len(stream),
        "events": log.seq,
        "wall_s": round(wall, 4),
        "orders_per_s": round(len(stream) / wall),
    }


def bench_gateway_heapq(stream, resting: int) -> dict:
    log = EventLog(NullSink())
    engine = MatchingEngine(log, MatchingConfig(stp="none"))
    next_id = _prefill(engine, resting) + 1
    queue: list = []
    counter = iter(range(1, 1 << 62)).__next__
    push, pop = heapq.heappush, heapq.heappop
    clock = [0]
    last_arrival = dict.fromkeys(range(ACCOUNTS + 1), 0)
    receivers = {a: Quiet(a) for a in range(ACCOUNTS + 1)}
    handling = [0]

    def on_order(now, seq, order, status):
        account = order.account_id if order is not None else handling[0]
        push(
            queue,
            (now + _latency(account), Phase.AGENT, counter(), 2, (account, seq, order, status)),
        )

    def on_trade(now, seq, maker, taker, price, size):
        for order in (maker, taker):
            push(
                queue,
                (
                    now + _latency(order.account_id),
                    Phase.AGENT,
                    counter(),
                    3,
                    (order.account_id, seq, order, price, size),
                ),
            )

    engine.order_listeners.append(on_order)
    engine.trade_listeners.append(on_trade)
    rows = iter(stream)
    order_id = next_id

    def schedule_next_send():
        row = next(rows, None)
        if row is not None:
            push(queue, (clock[0] + row[0], Phase.AGENT, counter(), 0, row))

    schedule_next_send()
    start = time.perf_counter()
    while queue:
        now, _, _, kind, payload = pop(queue)
        clock[0] = now
        if kind == 0:
            _, account, op, side, price, size = payload
            if op == 1:
                command = CancelOrder(order_id - 7)
            else:
                command = SubmitOrder(order_id, side, price if op == 0 else None, size)
                order_id += 1
            arrival = max(now + _latency(account), last_arrival[account])
            last_arrival[account] = arrival
            push(queue, (arrival, Phase.MATCH, counter(), 1, (account, command, now)))
            schedule_next_send()
        elif kind == 1:
            account, command, ts_sent = payload
            handling[0] = account
            if type(command) is SubmitOrder:
                order = Order(
                    command.order_id,
                    account,
                    command.side,
                    command.price_ticks,
                    command.size_lots,
                    ts_sent=ts_sent,
                )
                engine.submit(now, order, None)
            else:
                engine.cancel(now, account, command.order_id, None)
        elif kind == 2:
            account, seq, order, status = payload
            receivers[account].on_order_update(now, seq, (order, status))
        else:
            account, seq, order, price, size = payload
            receivers[account].on_fill(now, seq, (order, price, size))
    wall = time.perf_counter() - start
    return {
        "commands": len(stream),
        "events": log.seq,
        "wall_s": round(wall, 4),
        "orders_per_s": round(len(stream) / wall),
    }


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


def bench_cascade_scaling(counts: tuple[int, ...]) -> dict:
    import tomllib
    from decimal import Decimal

    from exchange_sim.runner.config import load_data
    from exchange_sim.runner.simulate import build_venue

    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "configs", "scenarios")
    with open(os.path.join(root, "cascade.toml"), "rb") as handle:
        base = tomllib.load(handle, parse_float=Decimal)
    figures = {}
    for count in counts:
        data = dict(base)
        data["participants"] = [
            {**p, "count": count} if p.get("kind") == "leveraged" else p
            for p in base["participants"]
        ]
        log = EventLog(NullSink())
        simulation = build_venue(load_data(data, root), log)
        start = time.perf_counter()
        simulation.run("bench")
        wall = time.perf_counter() - start
        figures[f"{count}_leveraged_accounts"] = {
            "events": log.seq,
            "wall_s": round(wall, 3),
            "events_per_s": round(log.seq / wall),
            "liquidations": len(simulation.risk.handoffs),
            "margin_checks": simulation.risk.checks,
        }
    return figures


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke check)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--sweep", action="store_true", help="only the sweep speed-up (1 vs 2 workers, 40 runs)"
    )
    args = parser.parse_args(argv)
    if args.sweep:
        figures = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
        figures["sweep_speedup"] = bench_sweep_speedup("30s" if args.quick else "2min")
        print(json.dumps(figures, indent=2))
        return 0
    book_ops = 20_000 if args.quick else 200_000
    commands = 20_000 if args.quick else 200_000
    resting = 1_000 if args.quick else 10_000
    figures: dict = {"python": sys.version.split()[0]}
    figures["book"] = {f"{n}_resting": bench_book(n, book_ops, args.seed) for n in (1_000, 100_000)}
    stream = make_stream(commands, args.seed)
    simpy_fig = bench_gateway_simpy(stream, resting)
    heapq_fig = bench_gateway_heapq(stream, resting)
    if simpy_fig["events"] != heapq_fig["events"]:
        raise SystemExit(f"(b) and (c) did different work: {simpy_fig} vs {heapq_fig}")
    figures["gateway_simpy"] = simpy_fig
    figures["gateway_heapq"] = heapq_fig
    figures["ratio_b_over_c"] = round(simpy_fig["orders_per_s"] / heapq_fig["orders_per_s"], 3)
    long_run = "2min" if args.quick else "20min"
    figures["scenarios"] = {
        name: bench_scenario(name, long_run) for name in ("quickstart", "index_shock")
    }
    counts = (150, 1_500) if args.quick else (150, 1_500, 15_000)
    figures["cascade_scaling"] = bench_cascade_scaling(counts)
    figures["replay_redrive"] = bench_replay("october_2025_adl", "60s" if args.quick else "150s")
    adl_sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    figures["adl_step"] = bench_adl(adl_sizes)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
