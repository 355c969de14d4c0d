"""The risk monitor on an inverse (coin-margined) instrument: trigger prices solved in value,
their mirrored ``None``, and the step re-check of a short on a falling price.

Grid (:data:`tests.unit.risk.harness.INVERSE`): ``k = 10**8``, so 100 lots at 10,000 ticks are
worth 1,000,000 minor units of coin; one bracket of 1 % maintenance unless a test says otherwise.
"""

from __future__ import annotations

from tests.unit.risk.harness import INVERSE, MS, Venue

ACCOUNT = 10


def test_inverse_long_liquidation_price_is_solved_in_value():
    """A long of 100 at 10,000 (entry value 1,000,000) with 20,000 of margin: ``20,000 +
    1,000,000 - V >= ceil(1 % V)`` holds up to ``V = 1,009,900``, i.e. down to the price
    ``ceil(10**10 / 1,009,900) = 9,902`` and not one tick below."""
    venue = Venue(instrument=INVERSE)
    account = venue.long(ACCOUNT, 100, 10_000, 20_000)
    assert account.entry_notional == 1_000_000
    assert account.liquidation_price == 9_902
    ledger = venue.ledger
    assert not ledger.is_liquidatable(account, 9_902)
    assert ledger.is_liquidatable(account, 9_901)


def test_inverse_long_is_caught_at_the_first_mark_below_its_liquidation_price():
    """With no check latency the falling mark liquidates the long at 9,901, the first tick
    below its liquidation price of 9,902."""
    venue = Venue(instrument=INVERSE)
    venue.long(ACCOUNT, 100, 10_000, 20_000)
    venue.falling(10_000, 1, 10 * MS, 200, 9_850)
    venue.run(3_000 * MS)
    (triggered,) = venue.events("liquidation_triggered")
    assert triggered["mark_price"] == 9_901


def test_inverse_short_liquidation_price_rises_with_the_price():
    """A short of 100 sold at 10,000 (entry value 1,000,000) with 20,000 of margin: ``20,000 -
    1,000,000 + V >= ceil(1 % V)`` holds down to ``V = 989,899`` (``980,000 / 0.99`` rounded
    up), i.e. up to ``floor(10**10 / 989,899) = 10,102``; liquidatable one tick above."""
    venue = Venue(instrument=INVERSE)
    account = venue.short(ACCOUNT, 100, 10_000, 20_000)
    assert account.liquidation_price == 10_102
    assert not venue.ledger.is_liquidatable(account, 10_102)
    assert venue.ledger.is_liquidatable(account, 10_103)


def test_inverse_long_past_maintenance_at_every_price_is_checked_at_once():
    """A long whose margin plus entry value is negative (a loss taken outside trading) has no
    liquidation price: for an inverse long that means *already* at every price, and the monitor
    checks it at the first mark even though the mark never moves."""
    venue = Venue(instrument=INVERSE)
    account = venue.long(ACCOUNT, 100, 10_000, 20_000)
    venue.ledger.adjust_collateral(0, ACCOUNT, -1_100_000, None)
    assert account.liquidation_price is None
    venue.schedule([(0, 10_000), (100 * MS, 10_000)])
    venue.run(200 * MS)
    (triggered,) = venue.events("liquidation_triggered")
    assert triggered["mark_price"] == 10_000


def test_inverse_short_that_can_never_be_liquidated_is_never_checked():
    """A short backed by more than its entry value has no liquidation price (its loss in coin is
    bounded by the entry value): *never*, so the monitor does not check it however high the mark
    goes."""
    venue = Venue(instrument=INVERSE)
    account = venue.short(ACCOUNT, 100, 10_000, 2_000_000)
    assert account.liquidation_price is None
    venue.schedule([(i * 10 * MS, 10_000 + 10_000 * i) for i in range(20)])
    venue.run(300 * MS)
    assert venue.events("margin_check") == []
    assert venue.events("liquidation_triggered") == []


STEPS = {
    "kind": "step",
    "base_risk_limit": 1_000_000,
    "step": 500_000,
    "base_maintenance_rate": "0.01",
    "base_initial_rate": "0.02",
}


def test_step_tier_short_is_caught_when_a_fall_lifts_its_value_into_the_next_step():
    """BitMEX step limits on an inverse contract: a short's value *rises* as the price falls, and
    across a step the whole position takes the higher rate. Short 100 sold at 10,100 (entry
    value 990,100) with 10,000 of margin: safe at 10,100 (equity 9,999 >= MM 9,901); at 10,000
    the value is 1,000,000, the rate 2 %: equity 19,900 < MM 20,000. The monitor re-checks it at
    its step price (10,000) and liquidates it on the way *down*."""
    venue = Venue(margin=STEPS, instrument=INVERSE)
    account = venue.short(ACCOUNT, 100, 10_100, 10_000)
    assert account.tier_step_price == 10_000
    assert not venue.ledger.is_liquidatable(account, 10_050)
    venue.schedule([(0, 10_100), (100 * MS, 10_050), (200 * MS, 10_000)])
    venue.run(1_000 * MS)
    (triggered,) = venue.events("liquidation_triggered")
    assert (triggered["ts"], triggered["mark_price"]) == (200 * MS, 10_000)
