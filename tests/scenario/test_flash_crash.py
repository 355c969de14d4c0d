"""configs/scenarios/flash_crash.toml: an endogenous cascade (seed 4).

Nothing is scripted but a news item at 90 s that only the informed traders see; the tests read
the run directory of the shared ``flash_crash_run`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import os

import orjson

from exchange_sim.analysis.cascade import build_tree
from exchange_sim.events.reader import read_log

NEWS_NS = 90 * 1_000_000_000


def _events(run_dir: str) -> list[dict]:
    return read_log(os.path.join(run_dir, "events.jsonl"))


def test_forced_selling_feeds_later_liquidations_through_the_mark(flash_crash_run):
    """Some liquidations trace back, through the mark, to an earlier liquidation's forced
    orders, several generations deep."""
    summary = build_tree(_events(flash_crash_run)).summary()
    assert summary["fed_through_mark"] > 0
    assert summary["deepest_generation"] >= 3


def test_the_news_starts_the_cascade(flash_crash_run):
    """The first wave of liquidations traces back to the news item (root kind ``news``), and
    nearly all liquidations (at least 95 %) happen after it; before it only a few of the most
    levered, who bought into a passing premium, go."""
    events = _events(flash_crash_run)
    summary = build_tree(events).summary()
    assert summary["roots_by_kind"]["news"] > 0
    triggered = [e["ts"] for e in events if e["type"] == "liquidation_triggered"]
    assert sum(ts > NEWS_NS for ts in triggered) >= 0.95 * len(triggered)


def test_the_perpetual_falls_further_than_the_index(flash_crash_run):
    """Forced selling prints the perpetual well below spot: its drawdown is more than one and a
    half times the index's (market_events.md section 1.1 and 1.7)."""
    with open(os.path.join(flash_crash_run, "summary.json"), "rb") as handle:
        prices = orjson.loads(handle.read())["metrics"]["prices"]
    assert prices["last_trade_drawdown_over_index"] > 1.5


def test_money_is_conserved(flash_crash_run):
    """Perpetual money and each spot market's quote and base are held exactly as put in."""
    with open(os.path.join(flash_crash_run, "summary.json"), "rb") as handle:
        summary = orjson.loads(handle.read())
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
    for spot in summary["spot_markets"].values():
        assert spot["quote_held_minor"] == spot["quote_deposited_net_minor"]
        assert spot["base_held_lots"] == spot["base_deposited_lots"]
