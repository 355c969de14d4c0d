"""The matching engine's fills equal a plain reference book's on random order streams.

The reference is a deliberately naive price-time book (a dict of price -> list of
``[order_id, remaining]`` in arrival order, best price found by ``min``/``max`` each time), written
independently of :mod:`exchange_sim.matching.book`. Streams mix GTC limit orders (passive or
crossing), cancels of live and of unknown orders, from a few accounts, with self-trade prevention
off (the reference book has none). The engine is also the one benchmarked against NautilusTrader
(``tools/bench_engine.py``), which checks the same equality on its fixed stream.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.events.log import MemoryLog
from exchange_sim.matching import BUY, SELL, MatchingConfig, MatchingEngine, Order


class ReferenceBook:
    """Naive price-time priority book: fills as (maker id, taker id, price, lots), in order."""

    def __init__(self) -> None:
        self.sides: dict[int, dict[int, list[list[int]]]] = {BUY: {}, SELL: {}}
        self.where: dict[int, tuple[int, int]] = {}

    def submit(self, order_id: int, side: int, price: int, lots: int) -> list[tuple]:
        fills = []
        opposite = self.sides[-side]
        while lots and opposite:
            best = min(opposite) if side == BUY else max(opposite)
            if (best > price) if side == BUY else (best < price):
                break
            queue = opposite[best]
            while lots and queue:
                maker = queue[0]
                take = min(maker[1], lots)
                fills.append((maker[0], order_id, best, take))
                maker[1] -= take
                lots -= take
                if maker[1] == 0:
                    queue.pop(0)
                    del self.where[maker[0]]
            if not queue:
                del opposite[best]
        if lots:
            self.sides[side].setdefault(price, []).append([order_id, lots])
            self.where[order_id] = (side, price)
        return fills

    def cancel(self, order_id: int) -> None:
        side, price = self.where.pop(order_id)
        queue = self.sides[side][price]
        queue[:] = [entry for entry in queue if entry[0] != order_id]
        if not queue:
            del self.sides[side][price]


OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("limit"), st.integers(1, 3), st.sampled_from((BUY, SELL)), st.integers(95, 105)
        ).flatmap(lambda t: st.tuples(st.just(t), st.integers(1, 20))),
        st.tuples(st.just("cancel"), st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_engine_fills_equal_the_reference_books(ops):
    """Every trade (maker id, taker id, price, lots), in order, is the reference book's fill."""
    engine = MatchingEngine(MemoryLog(), MatchingConfig(stp="none"))
    got: list[tuple] = []
    engine.trade_listeners.append(
        lambda now, seq, maker, taker, price, lots: got.append(
            (maker.order_id, taker.order_id, price, lots)
        )
    )
    reference = ReferenceBook()
    expected: list[tuple] = []
    owner: dict[int, int] = {}
    issued: list[int] = []
    for now, op in enumerate(ops):
        if op[0] == "cancel":
            if not issued:
                continue
            order_id = issued[op[1] % len(issued)]
            engine.cancel(now, owner[order_id], order_id, None)
            if order_id in reference.where:
                reference.cancel(order_id)
        else:
            (_, account, side, price), lots = op
            order_id = len(issued)
            issued.append(order_id)
            owner[order_id] = account
            engine.submit(now, Order(order_id, account, side, price, lots), None)
            expected.extend(reference.submit(order_id, side, price, lots))
    assert got == expected
    assert set(engine.book.orders) == set(reference.where)
