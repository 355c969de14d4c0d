"""Whole runs that reach ADL give byte-identical logs with the queue head (``adl_select``) and
with the old full sort (``tests/adl_oracle.py``) patched into the waterfall."""

from __future__ import annotations

import pytest

import exchange_sim
from exchange_sim.liquidation.adl import AdlRanker
from tests.adl_oracle import oracle_queue

CASES = {
    "binance": ("run.duration=70s",),
    "bitmex": ("run.duration=90s", "venue.preset=bitmex"),
    "hyperliquid": ("run.duration=70s", "liquidation.adl.ranking=hyperliquid"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cascade_log_identical_to_full_sort(case, monkeypatch):
    overrides = CASES[case]
    fast = exchange_sim.run("configs/scenarios/cascade.toml", overrides=overrides, keep_events=True)
    assert sum(event["type"] == "adl" for event in fast.events) >= 5

    def full_sort(ranker, candidates, side, size_lots):  # the pre-change step
        return oracle_queue(ranker, list(candidates), side)

    monkeypatch.setattr(AdlRanker, "queue_head", full_sort)
    slow = exchange_sim.run("configs/scenarios/cascade.toml", overrides=overrides)
    assert fast.digest == slow.digest
