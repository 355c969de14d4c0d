"""The SimPy shell's own cost: one command stream through the gateway on SimPy and on bare heapq.

``gateway_simpy``: orders per second through the SimPy shell: a driver process sends each command
through the gateway (request latency, FIFO link), the engine matches it in the MATCH phase, every
outcome is rendered to the event log, and acks and fills travel back over the response leg.
``gateway_heapq``: the same command stream, latencies, engine, event log and responses on a bare
``heapq`` event loop. Both use the project's own engine and log, so their ratio measures only the
SimPy shell; the order path against an independent reference loop is ``bench_order_path``.
"""

from __future__ import annotations

import heapq
import time

import numpy as np

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
