"""Benchmark: the matching engine with its event log against NautilusTrader's L3 order book.

Both sides replay the same order stream, a 70/25/5 mix of passive limit adds, cancels and
marketable limit orders on a 1,000-order book, built once before timing:

* the **reference stream** of ``bench_lob.py`` (``initial_orders`` + ``generate_ops``, seed 7,
  100 levels per side) imported from ``--reference DIR`` (default ``<repo>/../shared/bench``);
  its ``ListBook`` is the reference book whose fills both sides must reproduce;
* when that directory is absent, an equivalent stream from this project's own seeded generator
  (:func:`own_stream`, a port of the same rules) with :class:`RefBook` as the reference book. The
  result then says ``"stream": "own"``.

What is timed: the op loop only, as the process's CPU time (``time.process_time``: on a shared
machine, wall time also counts the other jobs' turns on the CPU; both sides run in this one
thread). Setup, the pre-filled book and the per-op argument tuples are built before the clock
starts. Every contender runs once per round, in turn, for one warm-up round and ``reps`` timed
rounds; a rate is the median over rounds, a ratio the median of the per-round ratios (each round's
engine rate over the faster nautilus API's rate in that round), so both sides of a ratio are
measured under the same load.

* **engine**: for an add or marketable order, ``Order(...)`` is built and passed to
  ``MatchingEngine.submit`` (GTC limit, STP off because the reference book has none); for a
  cancel, ``MatchingEngine.cancel(now, account, order_id, None)``. Every event goes through the
  log. Three log variants: ``EventLog`` writing to an in-memory ``io.BytesIO`` (``engine_log``),
  ``EventLog`` writing to a sink that discards the bytes (``engine_null_sink``: rendering and
  hashing still run) and a no-op log whose ``emit`` only counts (``engine_noop_log``: the engine's
  own cost, the keyword arguments of each emit included).
* **nautilus** (optional extra ``bench``): an L3 ``OrderBook`` driven from Python, with a
  ``BookOrder`` (and its ``Price`` and ``Quantity``) built for every operation, as a Python user
  of the library would. An add is ``book.add``; a cancel is ``book.delete``; a marketable order
  walks the opposite side level by level from the touch (``asks(1)``/``bids(1)`` on the pyo3
  book, the whole ``asks()``/``bids()`` list on the Cython one, which has no depth argument),
  deletes each maker it fills completely, ``update``s a maker it fills partly and records each
  fill as a ``(maker, taker, price, qty)`` tuple, then ``add``s any remainder. Nautilus's own
  ``simulate_fills`` returns only ``(price, qty)`` pairs, not which resting orders fill, so it
  cannot drive an L3 book. The faster of the two APIs is the headline ``nautilus_ops_per_s``.

Fills are checked untimed: the engine's trades (maker id, taker id, price, qty, in order) must
equal the reference book's, and nautilus's too when it is installed.

Usage: ``python tools/bench_engine.py [--quick] [--reps N] [--ops N] [--reference DIR]``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import json
import random
import statistics
import sys
import time
from collections import deque
from pathlib import Path

from sortedcontainers import SortedDict

from exchange_sim.events.log import EventLog
from exchange_sim.matching import BUY, SELL, MatchingConfig, MatchingEngine, Order

REPO = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO.parent / "shared" / "bench"
N_BOOK = 1_000
WIDTH = 100
SEED = 7
# stream conventions (as in bench_lob.py): side 0 = buy, 1 = sell; op 0 = submit, 1 = cancel
S_BUY, S_SUBMIT = 0, 0
MID0 = 1_000_000


# ============================================================ the project's own stream (fallback)
class RefBook:
    """A plain price-time book (lists in a deque per level, lazy cancel): the reference fills."""

    def __init__(self) -> None:
        self.bids = SortedDict()
        self.asks = SortedDict()
        self.orders: dict[int, list] = {}

    def submit(self, oid: int, side: int, price: int, qty: int, owner: int) -> list[tuple]:
        fills: list[tuple] = []
        opp, own = (self.asks, self.bids) if side == S_BUY else (self.bids, self.asks)
        while qty and opp:
            best, level = opp.peekitem(0 if side == S_BUY else -1)
            if (best > price) if side == S_BUY else (best < price):
                break
            queue = level[2]
            while qty and queue:
                order = queue[0]
                if order[3] == 0:  # cancelled earlier
                    queue.popleft()
                    continue
                take = min(order[3], qty)
                fills.append((order[0], oid, best, take))
                qty -= take
                order[3] -= take
                level[0] -= take
                if order[3] == 0:
                    queue.popleft()
                    del self.orders[order[0]]
                    level[1] -= 1
            if level[1] == 0:
                del opp[best]
        if qty:
            order = [oid, side, price, qty, owner]
            level = own.get(price)
            if level is None:
                level = own[price] = [0, 0, deque()]
            level[2].append(order)
            level[0] += qty
            level[1] += 1
            self.orders[oid] = order
        return fills

    def cancel(self, oid: int) -> bool:
        order = self.orders.pop(oid, None)
        if order is None:
            return False
        book = self.bids if order[1] == S_BUY else self.asks
        level = book[order[2]]
        level[0] -= order[3]
        level[1] -= 1
        order[3] = 0
        if level[1] == 0:
            del book[order[2]]
        return True


def own_stream(n_book: int, n_ops: int, seed: int, width: int) -> tuple[list, list]:
    """A seeded 70/25/5 stream with the same rules as the reference one (see module docstring)."""
    rng = random.Random(seed)
    init = []
    for oid in range(n_book):
        side = oid % 2
        depth = rng.randrange(width)
        price = MID0 - 1 - depth if side == S_BUY else MID0 + 1 + depth
        init.append((oid, side, price, rng.randint(1, 100), rng.randrange(1000)))
    book = RefBook()
    for order in init:
        book.submit(*order)
    live = list(book.orders)
    pos = {oid: i for i, oid in enumerate(live)}

    def drop(oid: int) -> None:
        i = pos.pop(oid)
        last = live.pop()
        if i < len(live):
            live[i] = last
            pos[last] = i

    def track(oid: int) -> None:
        live.append(oid)
        pos[oid] = len(live) - 1

    recent: deque = deque(maxlen=2000)
    next_oid = n_book
    ops = []
    for _ in range(n_ops):
        r = rng.random()
        bb = book.bids.peekitem(-1)[0] if book.bids else MID0 - 1
        ba = book.asks.peekitem(0)[0] if book.asks else MID0 + 1
        if r < 0.70:
            side = rng.randrange(2)
            sign = -1 if side == S_BUY else 1
            touch = bb if side == S_BUY else ba
            if len(book.orders) < n_book and rng.random() < 0.5:
                price = touch + sign * rng.randrange(width)
            else:
                price = touch + sign * min(int(rng.expovariate(1 / 3.0)), 30)
                if ba - bb > 1 and rng.random() < 0.2:
                    price = touch - sign
            op = (S_SUBMIT, next_oid, side, price, rng.randint(1, 100), rng.randrange(1000))
            next_oid += 1
            book.submit(*op[1:])
            track(op[1])
            recent.append(op[1])
        elif r < 0.95:
            oid = None
            if recent and rng.random() < 0.75:
                for _ in range(4):
                    candidate = recent[rng.randrange(len(recent))]
                    if candidate in pos:
                        oid = candidate
                        break
            if oid is None:
                oid = live[rng.randrange(len(live))]
            op = (1, oid)
            book.cancel(oid)
            drop(oid)
        else:
            side = rng.randrange(2)
            opp = book.asks if side == S_BUY else book.bids
            keys = [
                opp.peekitem(i if side == S_BUY else -1 - i)[0]
                for i in range(min(rng.randint(1, 3), len(opp)))
            ]
            qty = sum(opp[p][0] for p in keys[:-1])
            qty += max(1, int(opp[keys[-1]][0] * rng.uniform(0.3, 1.0)))
            op = (S_SUBMIT, next_oid, side, keys[-1], qty, rng.randrange(1000))
            next_oid += 1
            for fill in book.submit(*op[1:]):
                if fill[0] not in book.orders:
                    drop(fill[0])
            if op[1] in book.orders:
                track(op[1])
        ops.append(op)
    return init, ops


def load_stream(n_ops: int, reference: str | None) -> tuple[list, list, type, str]:
    """(initial orders, ops, reference book class, stream name)."""
    directory = Path(reference) if reference else DEFAULT_REFERENCE
    if (directory / "bench_lob.py").is_file():
        sys.path.insert(0, str(directory))
        try:
            lob = importlib.import_module("bench_lob")
        finally:
            sys.path.remove(str(directory))
        rng = random.Random(SEED)
        init = lob.initial_orders(N_BOOK, rng, WIDTH)
        ops, _ = lob.generate_ops(init, n_ops, rng, WIDTH)
        return init, ops, lob.ListBook, f"reference bench_lob.py ({directory})"
    init, ops = own_stream(N_BOOK, n_ops, SEED, WIDTH)
    return init, ops, RefBook, "own (tools/bench_engine.py own_stream; reference dir absent)"


def reference_fills(book_cls: type, init: list, ops: list) -> list[tuple]:
    book = book_cls()
    for order in init:
        book.submit(*order)
    fills: list[tuple] = []
    for op in ops:
        if op[0] == S_SUBMIT:
            fills.extend(book.submit(*op[1:]))
        else:
            book.cancel(op[1])
    return fills


# ============================================================ engine side
class NullSink:
    """A binary sink that discards what it is given."""

    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        pass


class NoopLog:
    """A log whose ``emit``/``emit_record`` only hand out seqs: the engine without rendering."""

    __slots__ = ("seq",)

    def __init__(self) -> None:
        self.seq = 0

    def emit(self, ts, type, cause, **payload):
        seq = self.seq
        self.seq = seq + 1
        return seq

    def emit_record(self, record):
        seq = self.seq
        self.seq = seq + 1
        return seq


def engine_ops(init: list, ops: list) -> tuple[list, list]:
    """Engine-native tuples: prefill (oid, account, side, price, qty) and ops, built untimed.

    A submit is ``(oid, account, side, price, qty)``, a cancel ``(oid, account)``.
    """
    owner = {}
    prefill = []
    for oid, side, price, qty, account in init:
        prefill.append((oid, account, BUY if side == S_BUY else SELL, price, qty))
        owner[oid] = account
    out = []
    for op in ops:
        if op[0] == S_SUBMIT:
            _, oid, side, price, qty, account = op
            owner[oid] = account
            out.append((oid, account, BUY if side == S_BUY else SELL, price, qty))
        else:
            out.append((op[1], owner[op[1]]))
    return prefill, out


def make_engine(log, prefill: list) -> MatchingEngine:
    engine = MatchingEngine(log, MatchingConfig(stp="none"), market="BENCH-PERP")
    for oid, account, side, price, qty in prefill:
        engine.submit(0, Order(oid, account, side, price, qty), None)
    return engine


def run_engine(engine: MatchingEngine, ops: list) -> int:
    """The timed loop of the engine side."""
    submit = engine.submit
    cancel = engine.cancel
    now = 1
    for op in ops:
        if len(op) == 5:
            submit(now, Order(op[0], op[1], op[2], op[3], op[4]), None)
        else:
            cancel(now, op[1], op[0], None)
        now += 1
    return len(ops)


def engine_fills(prefill: list, ops: list) -> list[tuple]:
    engine = make_engine(NoopLog(), prefill)
    fills: list[tuple] = []
    engine.trade_listeners.append(
        lambda now, seq, maker, taker, price, size: fills.append(
            (maker.order_id, taker.order_id, price, size)
        )
    )
    run_engine(engine, ops)
    return fills


# ============================================================ nautilus side
def nautilus_drivers() -> dict:
    """``{api name: (setup(init) -> book, run(book, nops) -> fills)}``; empty when absent.

    Two loops, one per API, written out so that neither pays for the other's branches.
    """
    try:
        from nautilus_trader.core import nautilus_pyo3 as p
        from nautilus_trader.model.book import OrderBook
        from nautilus_trader.model.data import BookOrder
        from nautilus_trader.model.enums import BookType, OrderSide
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.objects import Price, Quantity
    except ImportError:
        return {}

    # ---- pyo3 OrderBook: add/delete/update(order, flags, sequence, ts_event); asks(depth)
    p_sides = (p.OrderSide.BUY, p.OrderSide.SELL)
    p_iid = p.InstrumentId.from_str("BENCH-PERP.SIM")
    p_order, p_price, p_qty = p.BookOrder, p.Price, p.Quantity

    def p_setup(init):
        book = p.OrderBook(p_iid, p.BookType.L3_MBO)
        for oid, side, price, qty, _owner in init:
            book.add(p_order(p_sides[side], p_price(price, 0), p_qty(qty, 0), oid), 0, 0, 0)
        return book

    def p_run(book, nops):
        """Timed: ``nops`` holds (oid, side, price) cancels, (oid, side, price, qty, marketable)."""
        fills = []
        append = fills.append
        add, delete, update = book.add, book.delete, book.update
        opposite = (book.asks, book.bids)
        ts = 1
        for op in nops:
            if len(op) == 3:
                oid, side, price = op
                delete(p_order(p_sides[side], p_price(price, 0), p_qty(0, 0), oid), 0, 0, ts)
            else:
                oid, side, price, qty, marketable = op
                if marketable:
                    levels_of = opposite[side]
                    while qty:
                        levels = levels_of(1)
                        if not levels:
                            break
                        level = levels[0]
                        level_price = round(level.price.as_double())
                        if (level_price > price) if side == S_BUY else (level_price < price):
                            break
                        for maker in level.get_orders():
                            size = round(maker.size.as_double())
                            if size <= qty:
                                qty -= size
                                append((maker.order_id, oid, level_price, size))
                                delete(maker, 0, 0, ts)
                                if not qty:
                                    break
                            else:
                                append((maker.order_id, oid, level_price, qty))
                                rest = p_qty(size - qty, 0)
                                update(
                                    p_order(maker.side, maker.price, rest, maker.order_id), 0, 0, ts
                                )
                                qty = 0
                                break
                if qty:
                    add(p_order(p_sides[side], p_price(price, 0), p_qty(qty, 0), oid), 0, 0, ts)
            ts += 1
        return fills

    # ---- Cython OrderBook: add/delete/update(order, ts_event); asks()/bids() best first
    c_sides = (OrderSide.BUY, OrderSide.SELL)
    c_iid = InstrumentId.from_str("BENCH-PERP.SIM")

    def c_setup(init):
        book = OrderBook(c_iid, BookType.L3_MBO)
        for oid, side, price, qty, _owner in init:
            book.add(BookOrder(c_sides[side], Price(price, 0), Quantity(qty, 0), oid), 0)
        return book

    def c_run(book, nops):
        """Timed: as ``p_run``, on the Cython book."""
        fills = []
        append = fills.append
        add, delete, update = book.add, book.delete, book.update
        opposite = (book.asks, book.bids)
        ts = 1
        for op in nops:
            if len(op) == 3:
                oid, side, price = op
                delete(BookOrder(c_sides[side], Price(price, 0), Quantity(0, 0), oid), ts)
            else:
                oid, side, price, qty, marketable = op
                if marketable:
                    levels_of = opposite[side]
                    while qty:
                        levels = levels_of()
                        if not levels:
                            break
                        level = levels[0]
                        level_price = round(level.price.as_double())
                        if (level_price > price) if side == S_BUY else (level_price < price):
                            break
                        for maker in level.orders():
                            size = round(maker.size.as_double())
                            if size <= qty:
                                qty -= size
                                append((maker.order_id, oid, level_price, size))
                                delete(maker, ts)
                                if not qty:
                                    break
                            else:
                                append((maker.order_id, oid, level_price, qty))
                                rest = Quantity(size - qty, 0)
                                update(BookOrder(maker.side, maker.price, rest, maker.order_id), ts)
                                qty = 0
                                break
                if qty:
                    add(BookOrder(c_sides[side], Price(price, 0), Quantity(qty, 0), oid), ts)
            ts += 1
        return fills

    return {"pyo3": (p_setup, p_run), "cython": (c_setup, c_run)}


def nautilus_ops(init: list, ops: list, marketable: set[int]) -> list[tuple]:
    """Nautilus-side tuples (untimed): a cancel carries the side and price ``delete`` needs."""
    where = {order[0]: (order[1], order[2]) for order in init}
    out = []
    for op in ops:
        if op[0] == S_SUBMIT:
            _, oid, side, price, qty, _owner = op
            where[oid] = (side, price)
            out.append((oid, side, price, qty, oid in marketable))
        else:
            out.append((op[1], *where[op[1]]))
    return out


# ============================================================ timing
def _rounds(contenders: dict, reps: int, warmup: int) -> dict[str, list[float]]:
    """Ops/s of each contender per round; every round runs each contender once, in turn.

    ``contenders`` maps a name to ``(setup, run, n_ops)``. Running them in rounds (rather than
    all reps of one, then all of the next) exposes every contender to the same machine load, so
    the per-round ratios are far steadier than ratios of separately taken medians.
    """
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for i in range(warmup + reps):
        for name, (setup, run, n_ops) in contenders.items():
            state = setup()
            gc.collect()
            start = time.process_time()
            run(state)
            seconds = time.process_time() - start
            if i >= warmup:
                rates[name].append(n_ops / seconds)
    return rates


def bench_engine(
    quick: bool = False, reference: str | None = None, reps: int = 5, n_ops: int | None = None
) -> dict:
    """Ops/s of the engine (three log variants) and of nautilus's L3 book, ratios, fills check."""
    if n_ops is None:
        n_ops = 5_000 if quick else 100_000
    if quick:
        reps, warmup = 1, 0
    else:
        reps, warmup = max(3, reps), 1
    init, ops, ref_cls, stream = load_stream(n_ops, reference)
    ref = reference_fills(ref_cls, init, ops)
    prefill, eops = engine_ops(init, ops)
    mine = engine_fills(prefill, eops)
    # A marketable order is one whose submit fills on the reference book.
    marketable = {f[1] for f in ref}
    result: dict = {
        "name": "matching engine vs NautilusTrader L3 OrderBook",
        "stream": stream,
        "book_orders": len(init),
        "ops": len(ops),
        "mix": {
            "adds": sum(1 for o in ops if o[0] == S_SUBMIT and o[1] not in marketable),
            "cancels": sum(1 for o in ops if o[0] != S_SUBMIT),
            "marketable": len(marketable),
        },
        "fills": len(ref),
        "reps": reps,
        "timer": "time.process_time around the op loop; median of reps after a warm-up round",
        "fills_identical_engine_vs_reference": mine == ref,
    }

    def engine_contender(log_factory):
        return (
            lambda: make_engine(log_factory(), prefill),
            lambda engine: run_engine(engine, eops),
            len(eops),
        )

    # For scale: the reference book itself (lists, no events, no order objects).
    def reference_setup():
        book = ref_cls()
        for order in init:
            book.submit(*order)
        return book

    def reference_run(book):
        submit, cancel = book.submit, book.cancel
        for op in ops:
            if op[0] == S_SUBMIT:
                submit(op[1], op[2], op[3], op[4], op[5])
            else:
                cancel(op[1])

    contenders = {
        "engine_log": engine_contender(lambda: EventLog(io.BytesIO())),
        "engine_null_sink": engine_contender(lambda: EventLog(NullSink())),
        "engine_noop_log": engine_contender(NoopLog),
        "reference_book": (reference_setup, reference_run, len(ops)),
    }
    ours = tuple(contenders)
    drivers = nautilus_drivers()
    if drivers:
        import nautilus_trader

        result["nautilus_version"] = nautilus_trader.__version__
        nops = nautilus_ops(init, ops, marketable)
        for api, (setup, run) in drivers.items():
            fills = run(setup(init), nops)
            result[f"fills_identical_nautilus_{api}_vs_reference"] = fills == ref
            contenders[f"nautilus_{api}"] = (
                lambda s=setup: s(init),
                lambda book, r=run: r(book, nops),
                len(nops),
            )
    else:
        result["nautilus"] = "absent: pip install -e .[bench] (nautilus_trader) to compare"
    rates = _rounds(contenders, reps, warmup)
    for name, values in rates.items():
        result[f"{name}_ops_per_s"] = round(statistics.median(values))
    if drivers:
        # The faster nautilus API of each round is the yardstick of that round.
        columns = [rates[f"nautilus_{api}"] for api in drivers]
        yardstick = [max(r) for r in zip(*columns, strict=True)]
        result["nautilus_ops_per_s"] = round(statistics.median(yardstick))
        for name in ours:
            per_round = [mine / theirs for mine, theirs in zip(rates[name], yardstick, strict=True)]
            result[f"ratio_{name}_vs_nautilus"] = round(statistics.median(per_round), 3)
            if len(per_round) > 1:
                result[f"ratio_{name}_vs_nautilus_range"] = [
                    round(min(per_round), 3),
                    round(max(per_round), 3),
                ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small rep (CI)")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--ops", type=int, default=None)
    parser.add_argument("--reference", default=None, help="directory holding bench_lob.py")
    args = parser.parse_args()
    print(json.dumps(bench_engine(args.quick, args.reference, args.reps, args.ops), indent=2))


if __name__ == "__main__":
    main()
