"""Whole runs that reach ADL give byte-identical logs with the venue's ADL step (the per-side
book and heap of ``adl_book``) and with the step as it was before both (a candidate from every
account, the full sort of ``tests/adl_oracle.py``) patched into the waterfall."""

from __future__ import annotations

import pytest

import exchange_sim
from exchange_sim.liquidation.adl_book import AdlBook
from exchange_sim.liquidation.adl_ratios import candidate_of
from tests.adl_oracle import oracle_queue

CASES = {
    "binance": ("run.duration=70s",),
    # A smaller fund: under BitMEX's fee-inclusive maintenance the default fund absorbs most losses.
    "bitmex": (
        "run.duration=90s",
        "venue.preset=bitmex",
        "liquidation.insurance_fund.initial_balance=20000",
    ),
    "hyperliquid": ("run.duration=70s", "liquidation.adl.ranking=hyperliquid"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cascade_log_identical_to_full_sort(case, monkeypatch):
    """The book's head gives the same log as the full sort over every account."""
    overrides = CASES[case]
    fast = exchange_sim.run("configs/scenarios/cascade.toml", overrides=overrides, keep_events=True)
    assert sum(event["type"] == "adl" for event in fast.events) >= 5

    def full_sort(book, side, size_lots, exclude, mark):  # the pre-change step
        ledger, accounting = book._ledger, book._accounting
        candidates = [
            candidate_of(ledger, a, mark)
            for a in ledger.accounts.values()
            if a.size_lots * side < 0 and accounting.eligible(a, exclude)
        ]
        queue = oracle_queue(book.ranker, candidates, side)
        return queue, {c.account_id: c for c in candidates}

    monkeypatch.setattr(AdlBook, "queue_head", full_sort)
    slow = exchange_sim.run("configs/scenarios/cascade.toml", overrides=overrides)
    assert fast.digest == slow.digest
