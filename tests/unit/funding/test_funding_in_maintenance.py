"""Runs with BitMEX's funding term in maintenance margin (``funding.rule.in_maintenance_margin``).

The BitMEX preset on the quickstart crowd at 60x-100x, with a 20 s funding interval whose rate is
0.3 % (interest 0.3 % per interval, clamp and cap widened so nothing cuts it). Longs pay, so from
the ``funding_rate`` event on their maintenance rate is 0.3 % higher: the thinnest are liquidated
by the term, their causal chains rooted at that event. Without the term the payment alone (the
same 0.3 %) leaves them above maintenance.
"""

from __future__ import annotations

import json
import os

import orjson
import pytest

from exchange_sim.accounts.ledger import Ledger
from exchange_sim.replay.audit import replay
from exchange_sim.runner.api import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
SHORT_FUNDING = (
    "venue.preset=bitmex",
    "run.duration=30s",
    "funding.rule.interval=20s",
    "funding.rule.rate_period=20s",
    "funding.rule.sampling=1s",
    "funding.rule.interest=0.003",
    "funding.rule.clamp=0.01",
    "funding.rule.cap.limit=0.01",
    "participants.leveraged.leverages=[100, 80, 60]",
)


def _run(factory, in_maintenance: bool) -> str:
    out = factory.mktemp("funding-mm") / "run"
    config = os.path.join(ROOT, "configs", "scenarios", "quickstart.toml")
    flag = f"funding.rule.in_maintenance_margin={str(in_maintenance).lower()}"
    run(config, overrides=(*SHORT_FUNDING, flag), out=str(out))
    return str(out)


@pytest.fixture(scope="module")
def with_term(tmp_path_factory) -> str:
    return _run(tmp_path_factory, True)


def _events(run_dir: str) -> list[dict]:
    with open(os.path.join(run_dir, "events.jsonl"), "rb") as handle:
        return [orjson.loads(line) for line in handle]


def _summary(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "summary.json")) as handle:
        return json.load(handle)


def test_the_bitmex_preset_adds_funding_to_maintenance():
    """The preset's funding rule has the term on (§2.2, §3.2)."""
    from exchange_sim.funding.config import BINANCE, BITMEX

    assert BITMEX.in_maintenance_margin and not BINANCE.in_maintenance_margin


def test_the_term_liquidates_longs_from_the_funding_rate_event(with_term):
    """Every liquidation's chain is rooted at the positive ``funding_rate`` event; each is a
    long, found at the funding timestamp."""
    events = _events(with_term)
    rate = next(e for e in events if e["type"] == "funding_rate")
    assert rate["rate_ppb"] == 3_000_000
    triggered = [e for e in events if e["type"] == "liquidation_triggered"]
    assert triggered and all(e["position_lots"] > 0 for e in triggered)
    cascade = _summary(with_term)["metrics"]["cascade"]
    assert cascade["roots_by_kind"]["funding_rate"] == len(triggered)
    for event in triggered:
        cause = event["cause"]
        while events[cause]["type"] != "funding_rate":
            cause = events[cause]["cause"]
        assert cause == rate["seq"]


def test_without_the_term_the_payment_alone_liquidates_no_one(tmp_path_factory):
    """The same run without the term: the same rate is paid, and no one is liquidated."""
    off = _run(tmp_path_factory, False)
    events = _events(off)
    assert any(e["type"] == "funding_payment" for e in events)
    assert not any(e["type"] == "liquidation_triggered" for e in events)


def test_a_run_with_the_term_replays_consistent(with_term):
    """The replay applies the term at the ``funding_rate`` event: the same triggers recompute."""
    assert replay(with_term).status == "consistent"


def test_a_replay_that_ignores_the_term_diverges(with_term, monkeypatch):
    """Without the term in the replay's ledger, the first liquidation has no cause to be."""
    monkeypatch.setattr(Ledger, "set_funding_maintenance", lambda *args: None)
    result = replay(with_term)
    assert result.status == "divergent"
