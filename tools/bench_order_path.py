"""The order path against the reference loop's ceiling, and the event log's writer against orjson.

    python tools/bench_order_path.py [--quick] [--reference DIR] [--reps N] [--ops N]

**Order path.** The reference loop (``--reference``, default ``<repo>/../shared/bench``) builds
an op stream (a 1,000-order book, 70 % adds, 25 % cancels, 5 % marketable orders), gives it
exponential arrival gaps and deals it round-robin to 100 traders; its *ceiling* row replays it on
a ``heapq`` loop with a list book and raw ``orjson`` lines to a buffered file. This benchmark
takes that very stream (the reference's own ``bench_e2e.build_world``) and replays it through a
:class:`~exchange_sim.venue.venue.Venue` assembled from a config, as a run builds it: its
``PhasedEnvironment``, gateway, matching engine and ledger, the engine's pre-trade check as the
venue installs it (the liquidation engine's order guard around the ledger's check), 100 trader
accounts each connected over a link with a constant 1 ms request latency (the same for every
link, so the venue sees the stream in the reference's order), the event log written to a real
buffered file. Each trader wakes by ``call_at`` at its ops' times (as the project's participants
do; one queue entry per wake-up, as in the ceiling), builds the command and calls
``Gateway.send``; a cancel goes out on the account that placed the order (the venue only cancels
an owner's order; the reference book does not check). Self-trade prevention is off (the reference
has none) and every account holds ample margin, so the project does the reference's work: the
same adds, cancels and fills (checked: its trades equal the reference stream's fills) and the
same lines per op. The traders have no report handlers (like the reference's traders, they never
read a response). Rows:

* ``project``: the order path: the engine's trades and order outcomes go to the gateway only;
* ``project_process_traders``: the same with each trader a SimPy process (``yield env.at``);
* ``project_full_venue``: every listener a run wires (ledger fills and positions, risk monitor,
  feed, mark service, liquidation desk) and the venue's index, mark and risk processes started;
  the ledger adds two ``position`` lines per trade.

The reference's ceiling runs in the same process, on the same world, through its own code
(``bench_e2e.run_heapq``). ``bench_e2e`` reads ``sys.argv`` and creates its scratch directory at
import: both are set for the import (``argv`` = ``[reps, n_ops]``, ``BENCH_OUT`` = a scratch
directory of ours). The rows and the ceiling run in rounds, one of each per round, timed the way
the reference's ``harness.measure`` times (``gc.collect()``, then ``perf_counter`` around the
call; its timing loop restated here so that the rows can interleave) and also by CPU time; the
ratios are the medians of the per-round ratios, by wall and by CPU time. Without the reference
directory (a clean clone) the ceiling row says so and the project rows replay a stream of the same
shape built by :func:`_fallback_world` (no ratio).

**Writer.** ``EventLog.emit`` and ``EventLog.emit_record`` against the reference's raw line (a
dict literal, ``orjson.dumps`` with the newline option, ``write`` to a buffered file), per line,
on the same values, each side called as its producer calls it: a realistic mix recorded from a
30 s run of the shipped ``quickstart`` scenario (orders, trades, cancels, positions, accounts,
deposits, index and mark prices ...), side by side in one process, median of alternating
repetitions.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import json
import os
import statistics
import sys
import tempfile
import time

import orjson

from exchange_sim.events.log import EventLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.kernel.latency import ConstantLatency
from exchange_sim.matching.orders import GTC, Order
from exchange_sim.runner.config import load_data
from exchange_sim.venue.messages import CancelOrder, SubmitOrder
from exchange_sim.venue.venue import Venue

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_REFERENCE = os.path.join(REPO, "..", "shared", "bench")
N_TRADERS = 100
LATENCY_NS = 1_000_000
SUBMIT = 0
AGENT = int(Phase.AGENT)
REFERENCE_PRICE = 1_000_000  # the reference stream's mid, in ticks
DEPOSIT = 10**18  # minor units: no order of the stream is ever short of margin


# -- the reference ----------------------------------------------------------------------------
def load_reference(directory: str, reps: int, n_ops: int, scratch: str):
    """Import the reference's ``bench_e2e`` (and through it ``bench_lob`` and ``harness``) from
    ``directory``, with the ``argv`` and ``BENCH_OUT`` it reads at import; ``None`` if absent."""
    if not os.path.isfile(os.path.join(directory, "bench_e2e.py")):
        return None
    directory = os.path.abspath(directory)
    saved_argv, saved_out = sys.argv, os.environ.get("BENCH_OUT")
    sys.path.insert(0, directory)
    sys.argv = [os.path.join(directory, "bench_e2e.py"), str(reps), str(n_ops)]
    os.environ["BENCH_OUT"] = scratch
    try:
        for name in ("bench_e2e", "bench_lob", "harness"):
            sys.modules.pop(name, None)
        return importlib.import_module("bench_e2e")
    finally:
        sys.argv = saved_argv
        if saved_out is None:
            os.environ.pop("BENCH_OUT", None)
        else:
            os.environ["BENCH_OUT"] = saved_out
        sys.path.remove(directory)


def _fallback_world(n_ops: int):
    """Without the reference: a stream of the same shape (1,000 resting orders, 70 % adds near
    the touch, 25 % cancels of live orders, 5 % marketable orders one level deep), dealt the same
    way. Seeded; for CI smoke runs only (no ratio is computed from it)."""
    import random

    rng = random.Random(7)
    init, live = [], []
    for oid in range(1_000):
        side = oid % 2
        d = rng.randrange(100)
        price = REFERENCE_PRICE - 1 - d if side == 0 else REFERENCE_PRICE + 1 + d
        init.append((oid, side, price, rng.randint(1, 100), rng.randrange(1000)))
        live.append(oid)
    ops, next_oid, t, timed = [], 1_000, 0.0, []
    for _ in range(n_ops):
        r = rng.random()
        if r < 0.25 and live:
            ops.append((1, live.pop(rng.randrange(len(live)))))
            continue
        side = rng.randrange(2)
        if r < 0.95:
            d = 1 + min(int(rng.expovariate(1 / 3.0)), 30)
            price = REFERENCE_PRICE - d if side == 0 else REFERENCE_PRICE + d
            live.append(next_oid)
        else:
            price = REFERENCE_PRICE + 100 if side == 0 else REFERENCE_PRICE - 100
        ops.append((SUBMIT, next_oid, side, price, rng.randint(1, 100), rng.randrange(1000)))
        next_oid += 1
    for op in ops:
        t += rng.expovariate(1000.0)
        timed.append((t, op))
    return init, [timed[k::N_TRADERS] for k in range(N_TRADERS)], {"fills_total": None}


# -- the project side -------------------------------------------------------------------------
class Trader:
    """A participant that only sends (no report handlers, like the reference's traders): at each
    of its ops' times it builds the command and sends it through the gateway. It wakes the way
    the project's participants do, by ``call_at`` (one queue entry per wake-up, as in the
    reference's ceiling); :meth:`process` is the same trader as a SimPy process instead."""

    __slots__ = ("account_id", "env", "i", "ops", "owner", "send", "times")

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.i = 0

    def prepare(self, env, send, owner: dict[int, int], timed_ops) -> None:
        self.env, self.send, self.owner = env, send, owner
        self.times = [int(t * 1e9) for t, _ in timed_ops]  # the reference's seconds, in ns
        self.ops = [op for _, op in timed_ops]

    def start(self) -> None:
        if self.ops:
            self.env.call_at(self.times[0] - self.env.now, AGENT, self.wake)

    def _send(self, op) -> None:
        if op[0] == SUBMIT:
            self.send(
                self.account_id, SubmitOrder(op[1], 1 if op[2] == 0 else -1, op[3], op[4]), None
            )
        else:
            self.send(self.owner[op[1]], CancelOrder(op[1]), None)

    def wake(self, _payload) -> None:
        i = self.i
        self._send(self.ops[i])
        i += 1
        self.i = i
        if i < len(self.ops):
            self.env.call_at(self.times[i] - self.env.now, AGENT, self.wake)

    def process(self):
        env = self.env
        at = env.at
        for t, op in zip(self.times, self.ops, strict=True):
            yield at(t - env.now, AGENT)
            self._send(op)


def _config(duration_ns: int):
    return load_data(
        {
            "run": {"name": "bench_order_path", "duration": f"{duration_ns}ns"},
            "matching": {"stp": "none"},
            "index": {"process": {"kind": "scripted", "points": [{"at": "0s", "price": 100_000}]}},
            "participants": [],
        }
    )


def _side(side: int) -> int:
    return 1 if side == 0 else -1  # reference BUY = 0, SELL = 1


class ProjectRun:
    """One replay of the world through a freshly assembled venue (built untimed by ``__init__``,
    timed by :meth:`run`)."""

    def __init__(self, world, path: str, full: bool, processes: bool = False) -> None:
        init, per_trader, _ = world
        self.path = path
        self.per_trader = per_trader
        last = max((ops[-1][0] for ops in per_trader if ops), default=0.0)
        self.end_ns = int(last * 1e9) + 10 * LATENCY_NS
        self.handle = open(path, "wb")  # noqa: SIM115 (closed by run)
        self.log = EventLog(self.handle)
        self.traders: list[Trader] = []
        self.owner: dict[int, int] = {}  # order id -> account that placed it
        self.venue = Venue(_config(self.end_ns + 1), self.log, self._populate)
        venue = self.venue
        venue.log.start("bench", 1, "0" * 64)
        engine = venue.engine
        if full:
            venue.start()
        else:  # the order path alone: fills reach the gateway (reports), not the ledger
            engine.trade_listeners[:] = [venue.gateway.on_trade]
            engine.order_listeners[:] = [venue.gateway.on_order_event]
        for oid, side, price, qty, owner in init:
            account = 1 + owner % N_TRADERS
            self.owner[oid] = account
            engine.submit(0, Order(oid, account, _side(side), price, qty, tif=GTC), None)
        for k, ops in enumerate(per_trader):
            for _, op in ops:
                if op[0] == SUBMIT:
                    self.owner[op[1]] = 1 + k
        for trader, timed_ops in zip(self.traders, per_trader, strict=True):
            trader.prepare(venue.env, venue.gateway.send, self.owner, timed_ops)
        self.processes = processes
        self.lines_before = self.log.seq
        self.trades_before = self.log.counts.get("trade", 0)

    def _populate(self, venue) -> list:
        link = ConstantLatency(value=LATENCY_NS)
        for k in range(N_TRADERS):
            account = venue.ids.next("account")
            venue.ledger.open_account(account, False, 100, "bench", "bench")
            venue.ledger.deposit(0, account, DEPOSIT, None)
            trader = Trader(account)
            venue.gateway.connect(
                trader, venue.sampler(link, f"bench/{k}/req"), venue.sampler(link, f"bench/{k}/rsp")
            )
            self.traders.append(trader)
        return []

    def run(self) -> int:
        env = self.venue.env
        for trader in self.traders:
            if self.processes:
                env.process(trader.process())
            else:
                trader.start()
        env.run_until(self.end_ns)
        self.log.flush()
        self.handle.close()
        return sum(len(ops) for ops in self.per_trader)

    def run_engine_only(self, pre_trade: bool) -> int:
        """The split: the same ops straight into the matching engine in their global time order
        (no kernel, links, gateway or messages), with or without the pre-trade check."""
        engine = self.venue.engine
        if not pre_trade:
            engine.pre_trade_check = None
        submit, cancel, owner = engine.submit, engine.cancel, self.owner
        flat = self.flat
        for now, account, op in flat:
            if op[0] == SUBMIT:
                side = 1 if op[2] == 0 else -1
                submit(now, Order(op[1], account, side, op[3], op[4], tif=GTC, ts_sent=now), None)
            else:
                cancel(now, owner[op[1]], op[1], None)
        self.log.flush()
        self.handle.close()
        return len(flat)

    def prepare_engine_only(self) -> None:
        """The ops of all traders in global time order (set-up of :meth:`run_engine_only`)."""
        flat = [
            (t, trader.account_id, op)
            for trader in self.traders
            for t, op in zip(trader.times, trader.ops, strict=True)
        ]
        self.flat = sorted(flat, key=lambda entry: entry[0])

    def lines(self) -> int:
        return self.log.seq - self.lines_before

    def trades(self) -> int:
        return self.log.counts.get("trade", 0) - self.trades_before


# -- the writer -------------------------------------------------------------------------------
def record_payloads(duration: str) -> list[tuple[int, str, int | None, dict]]:
    """(ts, type, cause, payload) of every event of a short quickstart run, in order."""
    from exchange_sim.runner.api import load_config
    from exchange_sim.runner.simulate import build_venue

    recorded: list = []

    class Recorder(EventLog):
        __slots__ = ()

        def emit_record(self, record):  # emit comes here too
            fields = dict(record)
            del fields["seq"], fields["ts"], fields["type"], fields["cause"]
            recorded.append((record["ts"], record["type"], record["cause"], fields))
            return super().emit_record(record)

    path = os.path.join(REPO, "configs", "scenarios", "quickstart.toml")
    loaded = load_config(path, (f'run.duration="{duration}"',))
    log = Recorder(open(os.devnull, "wb"))  # noqa: SIM115
    build_venue(loaded, log).run("bench")
    return recorded


def _callers(events) -> tuple[list, list, list]:
    """Per event, a call as its producer writes it, on each side: ``emit(ts, type, cause,
    key=value, ...)`` (keywords, as the less frequent call sites call it), ``emit_record({"seq":
    0, "ts": ts, "type": type, "cause": cause, "key": value, ...})`` (the whole line as one dict
    display, as the engine, ledger, index and mark call it) and the reference's raw line
    ``write(dumps({"seq": seq, "ts": ts, "type": type, "cause": cause, "key": value, ...},
    option=OPT_APPEND_NEWLINE))`` (a dict literal, as the reference loop writes). One function of
    each kind per event shape (type and keys), generated; all read the values from one tuple."""
    shapes: dict[tuple, tuple] = {}
    emits, records, raws = [], [], []
    for ts, type_, cause, payload in events:
        shape = (type_, tuple(payload))
        if shape not in shapes:
            keys = shape[1]
            kw = "".join(f", {k}=v[{i}]" for i, k in enumerate(keys))
            items = "".join(f", {k!r}: v[{i}]" for i, k in enumerate(keys))
            source = (
                f"def emit_(e, ts, c, v):\n    e(ts, {type_!r}, c{kw})\n"
                f"def record_(e, ts, c, v):\n"
                f"    e({{'seq': 0, 'ts': ts, 'type': {type_!r}, 'cause': c{items}}})\n"
                f"def raw_(w, seq, ts, c, v):\n"
                f"    w(dumps({{'seq': seq, 'ts': ts, 'type': {type_!r}, 'cause': c{items}}},"
                f" option=NL))\n"
            )
            space = {"dumps": orjson.dumps, "NL": orjson.OPT_APPEND_NEWLINE}
            exec(compile(source, f"<writer shape {type_}>", "exec"), space)
            shapes[shape] = (space["emit_"], space["record_"], space["raw_"])
        emit_, record_, raw_ = shapes[shape]
        values = tuple(payload.values())
        emits.append((emit_, ts, cause, values))
        records.append((record_, ts, cause, values))
        raws.append((raw_, ts, cause, values))
    return emits, records, raws


def bench_writer(events, path: str, reps: int) -> dict:
    """Time per line of ``EventLog.emit`` and of ``EventLog.emit_record`` (to a buffered file:
    render, buffer, digest, write) and of the reference's raw line (a dict literal,
    ``orjson.dumps``, ``write``) on the same values, each called as its producer calls it
    (:func:`_callers`). The three alternate, one each per repetition (the first not counted);
    a ratio is the median of the per-repetition ratios, by wall and by CPU time."""
    emits, records, raws = _callers(events)

    def timed(body) -> tuple[float, float]:
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        body()
        return time.perf_counter() - start, time.process_time() - start_cpu

    def raw() -> tuple[float, float]:
        with open(path, "wb") as handle:
            write = handle.write

            def body() -> None:
                for seq, (fn, ts, cause, values) in enumerate(raws):
                    fn(write, seq, ts, cause, values)
                handle.flush()

            return timed(body)

    def emit(calls: list, record: bool) -> tuple[float, float]:
        with open(path, "wb") as handle:
            log = EventLog(handle)
            e = log.emit_record if record else log.emit

            def body() -> None:
                for fn, ts, cause, values in calls:
                    fn(e, ts, cause, values)
                log.flush()
                handle.flush()

            return timed(body)

    def written() -> bytes:
        with open(path, "rb") as handle:
            return handle.read()

    raw_times, emit_times, record_times = [], [], []
    same = True
    for i in range(reps + 1):
        r = raw()
        raw_bytes = written()
        m = emit(emits, False)
        same = same and written() == raw_bytes
        d = emit(records, True)
        same = same and written() == raw_bytes
        if i:
            raw_times.append(r)
            emit_times.append(m)
            record_times.append(d)
    n = len(events)
    types: dict[str, int] = {}
    for _, t, _, _ in events:
        types[t] = types.get(t, 0) + 1

    def ratio(clock: int, times: list | None = None) -> float:
        mine = emit_times if times is None else times
        paired = [m[clock] / r[clock] for m, r in zip(mine, raw_times, strict=True)]
        return round(statistics.median(paired), 3)

    return {
        "lines": n,
        "reps": reps,
        "event_types": len(types),
        "top_types": dict(sorted(types.items(), key=lambda kv: -kv[1])[:6]),
        "emit_ns_per_line": round(statistics.median(m[0] for m in emit_times) / n * 1e9),
        "orjson_ns_per_line": round(statistics.median(r[0] for r in raw_times) / n * 1e9),
        "emit_cpu_ns_per_line": round(statistics.median(m[1] for m in emit_times) / n * 1e9),
        "orjson_cpu_ns_per_line": round(statistics.median(r[1] for r in raw_times) / n * 1e9),
        "emit_record_ns_per_line": round(statistics.median(m[0] for m in record_times) / n * 1e9),
        "emit_record_cpu_ns_per_line": round(
            statistics.median(m[1] for m in record_times) / n * 1e9
        ),
        "ratio_emit_over_orjson": ratio(0),
        "ratio_emit_over_orjson_cpu": ratio(1),
        "ratio_emit_record_over_orjson": ratio(0, record_times),
        "ratio_emit_record_over_orjson_cpu": ratio(1, record_times),
        "bytes_identical": same,
    }


# -- both ---------------------------------------------------------------------------------------
def bench_order_path(quick: bool = False, reference: str | None = None, **sizes) -> dict:
    """Order path (project and the reference's ceiling, side by side) and writer figures."""
    reps = sizes.get("reps") or (1 if quick else 5)
    n_ops = sizes.get("n_ops") or (5_000 if quick else 50_000)
    warmup = 0 if quick else 1
    directory = reference if reference is not None else DEFAULT_REFERENCE
    scratch = tempfile.mkdtemp(prefix="bench-order-path-")
    figures: dict = {"python": sys.version.split()[0], "ops": n_ops, "reps": reps}
    try:
        e2e = load_reference(directory, reps, n_ops, scratch)
        if e2e is not None:
            world = e2e.build_world()
        else:
            world = _fallback_world(n_ops)
        project_path = os.path.join(scratch, "project.jsonl")
        expected = world[2]["fills_total"]
        # Rounds: each runs the order path, the full venue and the reference's ceiling
        # (``bench_e2e.run_heapq``, its own code) once, in turn, so that the machine's load drifts
        # over all three alike; the first `warmup` rounds are not counted. Each run is timed as
        # the reference's harness times it (gc.collect, then perf_counter around the call) and
        # also by CPU time (process_time), which other work on a shared machine disturbs far
        # less. Ratios are taken per round, then their median.
        rows = (
            "project",
            "project_process_traders",
            "project_full_venue",
            "split_engine_and_pre_trade",
            "split_engine_alone",
        )
        names = (*rows, "ceiling") if e2e is not None else rows
        wall: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        runs: dict[str, ProjectRun] = {}
        for i in range(warmup + reps):
            for name in names:
                if name == "ceiling":
                    call = functools.partial(e2e.run_heapq, world, True)
                else:
                    runs[name] = run = ProjectRun(
                        world,
                        project_path,
                        full=name == "project_full_venue",
                        processes=name == "project_process_traders",
                    )
                    if name.startswith("split_"):
                        run.prepare_engine_only()
                        call = functools.partial(run.run_engine_only, name.endswith("pre_trade"))
                    else:
                        call = run.run
                gc.collect()
                start, start_cpu = time.perf_counter(), time.process_time()
                ops = call()
                wall_s = time.perf_counter() - start
                cpu_s = time.process_time() - start_cpu
                if i >= warmup:
                    wall[name].append(ops / wall_s)
                    cpu[name].append(ops / cpu_s)
        expected = world[2]["fills_total"]
        for row in rows:
            done = runs[row]
            if expected is not None and done.trades() != expected:
                raise SystemExit(f"{row} traded {done.trades()} fills, reference {expected}")
            figures[row] = {
                "op_per_s": round(statistics.median(wall[row])),
                "op_per_cpu_s": round(statistics.median(cpu[row])),
                "op_per_s_all": [round(r) for r in wall[row]],
                "lines_per_op": round(done.lines() / n_ops, 3),
                "trades": done.trades(),
            }
        if e2e is None:
            figures["ceiling"] = {"absent": f"no reference loop at {os.path.abspath(directory)}"}
        else:
            figures["ceiling"] = {
                "reference": os.path.abspath(directory),
                "op_per_s": round(statistics.median(wall["ceiling"])),
                "op_per_cpu_s": round(statistics.median(cpu["ceiling"])),
                "op_per_s_all": [round(r) for r in wall["ceiling"]],
                "lines_per_op": round(e2e.count_lines() / n_ops, 3),
            }
            for row in rows:
                for clock, rates in (("", wall), ("_cpu", cpu)):
                    paired = [p / c for p, c in zip(rates[row], rates["ceiling"], strict=True)]
                    figures[f"ratio_{row}_over_ceiling{clock}"] = round(
                        statistics.median(paired), 3
                    )
        events = record_payloads("5s" if quick else "30s") * (1 if quick else 10)
        figures["writer"] = bench_writer(
            events, os.path.join(scratch, "writer.jsonl"), reps if quick else max(reps, 9)
        )
    finally:
        for name in os.listdir(scratch):
            os.remove(os.path.join(scratch, name))
        os.rmdir(scratch)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small repetition (CI)")
    parser.add_argument("--reference", default=None, help="the reference loop's directory")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--ops", type=int, default=None)
    args = parser.parse_args(argv)
    figures = bench_order_path(args.quick, args.reference, reps=args.reps, n_ops=args.ops)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
