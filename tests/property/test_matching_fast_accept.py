"""The engine's one-line acceptance of the common valid order never disagrees with its full
validation (``_new_order_problem``): the fast path is an optimisation, not a second rule set."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.events.log import MemoryLog
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, SELL, Order

MID = 1_000


def _engine() -> MatchingEngine:
    engine = MatchingEngine(
        MemoryLog(), MatchingConfig(stp="none", min_price_ticks=1, max_price_ticks=5_000)
    )
    engine.submit(0, Order(1, 9, BUY, MID - 5, 10), None)  # a two-sided book to cross or not
    engine.submit(0, Order(2, 9, SELL, MID + 5, 10), None)
    return engine


ORDERS = st.builds(
    lambda order_id, side, price, size, tif, post_only: Order(
        order_id, 7, side, price, size, tif=tif, post_only=post_only
    ),
    order_id=st.integers(1, 6),  # 1 and 2 rest: duplicates
    side=st.sampled_from([BUY, SELL, 0, 2]),
    price=st.one_of(st.none(), st.integers(-2, 6_000), st.just(MID)),
    size=st.one_of(st.integers(-2, 20), st.just(10**19)),
    tif=st.sampled_from(["GTC", "IOC", "FOK", "XYZ"]),
    post_only=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(order=ORDERS, halted=st.booleans())
def test_submit_rejects_exactly_what_full_validation_rejects(order, halted):
    """Whatever the order, submit's rejection reason (or acceptance) is the full validation's."""
    engine = _engine()
    engine.halted = halted
    expected = "trading_halted" if halted else engine._new_order_problem(order)
    engine.submit(1, order, None)
    assert (order.reject_reason or None) == expected
