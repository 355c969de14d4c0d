"""Per-member values of a leveraged group kept in an array (the million-account budget)."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from exchange_sim.agents.leveraged import MemberValues


def test_consecutive_ids_cost_8_bytes_each():
    """Consecutive member ids store one 8-byte slot per member (a dict costs 40-100 + an int)."""
    ids = list(range(500, 100_500))
    values = list(range(100_000))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    store = MemberValues(ids, values)
    per_member = (tracemalloc.get_traced_memory()[0] - before) / len(ids)
    tracemalloc.stop()
    assert per_member < 10
    assert store[500] == 0 and store[100_499] == 99_999


@pytest.mark.parametrize("ids", ([10, 11, 12], [10, 12, 13]))
def test_reads_writes_and_refuses_non_members(ids):
    """Reads and writes by account id, consecutive or not; an id outside the group raises."""
    store = MemberValues(ids, [1, -1, 5])
    store[ids[1]] += 4
    assert [store[i] for i in ids] == [1, 3, 5]
    for outsider in (9, 14, 11 if ids[1] != 11 else 9):
        with pytest.raises(KeyError):
            store[outsider]
        with pytest.raises(KeyError):
            store[outsider] = 1
