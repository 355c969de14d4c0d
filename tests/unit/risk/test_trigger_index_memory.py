"""The trigger index's memory per indexed account (the million-account budget)."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from exchange_sim.risk.trigger_index import LIQUIDATION, MARGIN_CALL, TriggerIndex


def test_two_triggers_cost_under_200_bytes_per_account():
    """Packed integer entries shared between the sorted list and the side's dict: an account
    with a liquidation and a margin-call trigger costs under 200 bytes (tuple entries and tuple
    keys cost about 450)."""
    n = 20_000
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    index = TriggerIndex()
    for account_id in range(1_000, 1_000 + n):
        side = 1 if account_id % 2 else -1
        index.set(account_id, LIQUIDATION, side, 40_000_000 + account_id * 7)
        index.set(account_id, MARGIN_CALL, side, 41_000_000 + account_id * 7)
    gc.collect()
    per_account = (tracemalloc.get_traced_memory()[0] - before) / n
    tracemalloc.stop()
    assert len(index) == 2 * n
    assert per_account < 200


def test_packed_entries_pop_as_pairs_would():
    """Packed entries sort as ``(price, account_id)``: ties at one price pop by account id, a
    long at exactly the mark is not crossed, a short with no price is due."""
    index = TriggerIndex()
    index.set(7, LIQUIDATION, 1, 100)
    index.set(3, LIQUIDATION, 1, 100)
    index.set(5, LIQUIDATION, 1, 99)
    index.set(9, LIQUIDATION, -1, None)
    index.set(4, LIQUIDATION, -1, 99)
    assert index.pop_crossed(99, LIQUIDATION) == [3, 7, 9]
    assert (5, LIQUIDATION) in index and (3, LIQUIDATION) not in index
    assert index.pop_crossed(98, LIQUIDATION) == [5]
    assert index.pop_crossed(100, LIQUIDATION) == [4]
    assert len(index) == 0


def test_out_of_range_id_is_refused():
    """An id that does not fit the packed entry is an error, not a silent collision."""
    with pytest.raises(ValueError):
        TriggerIndex().set(1 << 40, LIQUIDATION, 1, 5)
