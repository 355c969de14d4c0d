"""Sorted trigger levels: an update pops exactly the levels it crossed, and only those."""

from __future__ import annotations

from exchange_sim.agents.triggers import Levels


def test_falling_levels_fire_at_or_above_the_value_and_leave_the_rest():
    """Stops at 90, 95, 100: a price of 95 fires 100 and 95 (highest first); 90 stays armed."""
    levels = Levels(falling=True)
    for account_id, level in ((1, 90), (2, 95), (3, 100)):
        levels.add(level, account_id, "stop_loss")
    assert levels.crossed(95) == [(100, 3, "stop_loss"), (95, 2, "stop_loss")]
    assert levels.crossed(95) == []
    assert len(levels) == 1
    assert levels.crossed(89) == [(90, 1, "stop_loss")]


def test_rising_levels_fire_at_or_below_the_value_and_leave_the_rest():
    """Targets at 105, 110: a price of 105 fires only 105; 110 fires at 111."""
    levels = Levels(falling=False)
    levels.add(110, 1, "take_profit")
    levels.add(105, 2, "take_profit")
    assert levels.crossed(104) == []
    assert levels.crossed(105) == [(105, 2, "take_profit")]
    assert levels.crossed(111) == [(110, 1, "take_profit")]


def test_a_discarded_level_never_fires():
    """A member that exited another way has its level discarded: a crossing skips it."""
    levels = Levels(falling=True)
    key = levels.add(100, 1, "stop_loss")
    levels.add(100, 2, "stop_loss")
    levels.discard(key)
    assert levels.crossed(50) == [(100, 2, "stop_loss")]
