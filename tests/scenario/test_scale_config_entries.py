"""configs/scale/million_accounts.toml: the scaling row's crowd really holds its positions."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))

import bench_scale


def test_every_leveraged_account_holds_a_position_before_the_news():
    """At 2,000 accounts, every leveraged account holds a position at the measuring instant
    (entries done, news ahead): the crowd's entries do not move the market enough to liquidate
    or strand any of them, so the scaling row measures what it says it measures."""
    venue, *_ = bench_scale._venue(2_000, observe=False)
    venue.env.run_until(bench_scale.MEASURE_AT)
    assert bench_scale._positions(venue) == (2_000, 2_000)


def test_the_backlog_observer_keeps_the_longest_backlog_and_wait():
    """The scaling row's backlog figures are the largest ``backlog`` and ``queue_wait_ns`` any
    ``liquidation_started`` line carried, not the last one's."""
    backlog = bench_scale._Backlog()
    for queued, wait in ((3, 10), (7, 5), (2, 40), (0, 0)):
        backlog({"backlog": queued, "queue_wait_ns": wait})
    assert (backlog.most, backlog.longest_wait_ns) == (7, 40)
