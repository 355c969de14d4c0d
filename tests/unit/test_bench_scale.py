"""tools/bench_scale.py: the million-account benchmark's sizes and its memory budget."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))

import bench_scale


@pytest.mark.parametrize("accounts", (10_000, 1_000_000))
def test_every_size_holds_the_same_money(accounts):
    """Counts, deposits and the engine's throughput scale together: the crowd holds the same
    money at every size and the engine starts accounts / 20 a second."""
    values = dict(item.split("=") for item in bench_scale.overrides(accounts))
    longs = int(values["participants.longs.count"])
    shorts = int(values["participants.shorts.count"])
    assert longs + shorts == accounts
    assert longs * float(values["participants.longs.deposit"]) == pytest.approx(200_000)
    assert shorts * float(values["participants.shorts.deposit"]) == pytest.approx(3_200_000)
    assert int(values["liquidation.throughput"]) == accounts // 20


def test_a_leveraged_account_with_a_position_costs_under_1_kb():
    """Everything one more leveraged account holding a position adds to a venue (account,
    ledger, trigger index, ADL sets, risk monitor, its slot on the group's gateway link, group
    state) is under 1 KB."""
    assert bench_scale.traced_per_position(3_000, observe=False) < 1024


def test_the_row_counts_the_leveraged_accounts_holding_a_position():
    """_positions counts the leveraged accounts and those of them holding a position: none
    before the entries, every one once each has opened its position (no other role counted)."""
    venue, *_ = bench_scale._venue(200, start=False)
    assert bench_scale._positions(venue) == (0, 200)
    assert bench_scale._open_positions(venue) == 200
    assert bench_scale._positions(venue) == (200, 200)


def test_with_the_runs_log_observers_it_costs_at_most_1000_bytes():
    """With the run's log observers attached as es.run attaches them (the in-run metrics, the
    cascade tree), one more leveraged account holding a position costs at most 1,000 bytes:
    the observers keep columns and per-event codes, not an object per account."""
    assert bench_scale.traced_per_position(3_000) <= 1000
