"""Benchmark of the order book and matching engine on a realistic operation mix.

The book is pre-filled with ``resting`` orders (about 10 per price level, sizes 1-10 lots, both
sides around a mid price). Then ``ops`` operations are applied, drawn up front from a seeded numpy
Generator: about 70 % limit adds 0-9 ticks behind the touch of their side, 25 % cancels of a
randomly chosen resting order, 5 % market orders sized to sweep 1-3 levels of the other side.
Events are written to ``EventLog(io.BytesIO())`` so the cost of rendering every event line is
included. Only the operation loop is timed (``time.perf_counter``); the loop includes the little
bookkeeping the driver needs (choosing a live order to cancel, sizing a sweep from the depth).

Usage: ``python tools/bench_book.py [--ops N] [--seed S]`` prints JSON for 1k and 100k resting.
"""

from __future__ import annotations

import argparse
import io
import json
import time

import numpy as np

from exchange_sim.events.log import EventLog
from exchange_sim.matching import BUY, SELL, MatchingConfig, MatchingEngine, Order

MID_TICKS = 1_000_000
ORDERS_PER_LEVEL = 10


def _prefill(engine: MatchingEngine, resting: int, rng: np.random.Generator, next_id) -> list[int]:
    levels_per_side = max(1, resting // (2 * ORDERS_PER_LEVEL))
    sides = rng.integers(0, 2, size=resting)
    depths = rng.integers(0, levels_per_side, size=resting)
    sizes = rng.integers(1, 11, size=resting)
    ids = []
    for i in range(resting):
        side = BUY if sides[i] else SELL
        price = MID_TICKS - 1 - int(depths[i]) if side == BUY else MID_TICKS + 1 + int(depths[i])
        order_id = next_id()
        engine.submit(0, Order(order_id, order_id % 97, side, price, int(sizes[i])), None)
        ids.append(order_id)
    return ids


def bench_book(resting: int, ops: int, seed: int) -> dict:
    """Operations per second of the mix above on a book pre-filled with ``resting`` orders."""
    rng = np.random.default_rng(seed)
    engine = MatchingEngine(EventLog(io.BytesIO()), MatchingConfig(stp="none"))
    book = engine.book
    counter = iter(range(1, 10**12))
    next_id = counter.__next__
    live = _prefill(engine, resting, rng, next_id)
    # The op stream, drawn before timing.
    kinds = np.searchsorted([0.70, 0.95], rng.random(ops), side="right").tolist()
    sides = (rng.integers(0, 2, size=ops) * 2 - 1).tolist()
    offsets = rng.integers(-3, 10, size=ops).tolist()
    sizes = rng.integers(1, 11, size=ops).tolist()
    picks = rng.random(ops).tolist()
    sweep_levels = rng.integers(1, 4, size=ops).tolist()
    accounts = rng.integers(0, 97, size=ops).tolist()
    ids = [next_id() for _ in range(ops)]
    submit, cancel = engine.submit, engine.cancel
    orders = book.orders
    log = engine.log
    events_before = log.seq
    counts = [0, 0, 0]
    start = time.perf_counter()
    for i in range(ops):
        kind = kinds[i]
        counts[kind] += 1
        side = sides[i]
        if kind == 0:  # passive limit add near the touch
            if side == BUY:
                touch = book.best_bid()
                price = (MID_TICKS - 1 if touch is None else touch) - offsets[i]
                ask = book.best_ask()
                if ask is not None and price >= ask:
                    price = ask - 1
            else:
                touch = book.best_ask()
                price = (MID_TICKS + 1 if touch is None else touch) + offsets[i]
                bid = book.best_bid()
                if bid is not None and price <= bid:
                    price = bid + 1
            submit(i, Order(ids[i], accounts[i], side, price, sizes[i]), None)
            live.append(ids[i])
        elif kind == 1:  # cancel a random resting order
            while live:
                j = int(picks[i] * len(live))
                order_id = live[j]
                live[j] = live[-1]
                live.pop()
                order = orders.get(order_id)
                if order is not None:
                    cancel(i, order.account_id, order_id, None)
                    break
        else:  # marketable order sweeping 1-3 levels of the other side
            depth = book.depth(-side, sweep_levels[i])
            size = sum(lots for _, lots in depth) or 1
            submit(i, Order(ids[i], accounts[i], side, None, size), None)
    seconds = time.perf_counter() - start
    return {
        "resting": resting,
        "ops": ops,
        "seed": seed,
        "seconds": round(seconds, 4),
        "ops_per_sec": round(ops / seconds),
        "mix": {"adds": counts[0], "cancels": counts[1], "sweeps": counts[2]},
        "events": log.seq - events_before,
        "trades": log.counts.get("trade", 0),
        "resting_after": len(orders),
        "levels_after": len(book.bids) + len(book.asks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    results = [bench_book(resting, args.ops, args.seed) for resting in (1_000, 100_000)]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
