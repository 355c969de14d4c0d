"""configs/scenarios/latency_storm.toml, liquidity_withdrawal.toml and funding_squeeze.toml.

Each runs cut short (``run.duration``) to just past its shock, so a test takes a few seconds of
wall time; what is checked is what the scenario exists to show.
"""

from __future__ import annotations

import os
from collections import defaultdict

import pytest

import exchange_sim as es
from exchange_sim.core.units import NS_PER_S

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "configs", "scenarios")
STORM = ("latency_storm", "105s")  # the news is at 90 s
WITHDRAWAL = ("liquidity_withdrawal", "132s")  # the program sells from 90 s to 130 s
SQUEEZE = ("funding_squeeze", "190s")  # settlements at 60, 120 and 180 s


def _run(scenario: tuple[str, str], keep_events: bool = True, seed: int = 1):
    name, duration = scenario
    path = os.path.join(SCENARIOS, f"{name}.toml")
    return es.run(path, seed=seed, overrides=(f"run.duration={duration}",), keep_events=keep_events)


@pytest.fixture(scope="module")
def storm():
    return _run(STORM)


def _late_answers(events: list[dict], action: str) -> list[dict]:
    """Margin-call answers of ``action`` whose deposit or order arrived after their account's
    liquidation (the first after the margin call) was triggered."""
    answers = {
        e["seq"]: e for e in events if e["type"] == "margin_call_response" and e["action"] == action
    }
    arrived: dict[int, int] = {}
    triggered: dict[int, list[int]] = defaultdict(list)
    for e in events:
        if e["type"] in ("deposit", "order_accepted", "order_rejected") and e["cause"] in answers:
            arrived.setdefault(e["cause"], e["seq"])
        elif e["type"] == "liquidation_triggered":
            triggered[e["account_id"]].append(e["seq"])
    late = []
    for seq, answer in answers.items():
        after_call = [t for t in triggered[answer["account_id"]] if t > answer["cause"]]
        if seq in arrived and after_call and after_call[0] < arrived[seq]:
            late.append(answer)
    return late


def test_top_ups_arrive_after_the_liquidation_was_triggered(storm):
    """Some margin-call top-ups reach the venue after their account's liquidation was triggered."""
    assert _late_answers(storm.events, "top_up")


def test_margin_calls_reach_traders_after_the_trigger(storm):
    """Congested notifications: some margin calls arrive after the account was handed over."""
    events = storm.events
    triggered: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for e in events:
        if e["type"] == "liquidation_triggered":
            triggered[e["account_id"]].append((e["seq"], e["ts"]))
    late = [
        e
        for e in events
        if e["type"] == "margin_call"
        and any(seq > e["seq"] and ts < e["deliver_at"] for seq, ts in triggered[e["account_id"]])
    ]
    assert late


def test_same_seed_gives_the_same_log(storm):
    """Two runs of the latency storm with one seed write the same log (same digest)."""
    assert _run(STORM, keep_events=False).digest == storm.digest


def test_makers_withdraw_while_the_program_sells():
    """Two or more perpetual makers are out while the program sells; it logs its impact."""
    events = _run(WITHDRAWAL).events
    makers = {
        e["account_id"]: e["participant"]
        for e in events
        if e["type"] == "account_opened" and e["role"] == "adaptive_maker"
    }
    phases = {e["phase"]: e for e in events if e["type"] == "metaorder" and e["phase"] != "child"}
    start, end = phases["start"]["ts"], phases["end"]["ts"]
    state_before = {}  # each maker's state when the program starts
    withdrawn = set()  # makers out of the market at some instant of the program
    for e in events:
        if e["type"] != "maker_state" or e["account_id"] not in makers:
            continue
        name = makers[e["account_id"]]
        if e["ts"] < start:
            state_before[name] = e["state"]
        elif e["ts"] <= end and e["state"] == "withdrawn":
            withdrawn.add(name)
    withdrawn |= {name for name, state in state_before.items() if state == "withdrawn"}
    assert len(withdrawn) >= 2, withdrawn
    assert phases["end"]["filled_lots"] > 0
    assert phases["end"]["impact_ppb"] > 5_000_000  # sold at least 0.5 % below its arrival price
    assert end - start < 45 * NS_PER_S


def test_funding_payments_start_liquidations():
    """Several settlements happen and some liquidation chain starts at a funding payment."""
    summary = _run(SQUEEZE, keep_events=False).summary
    assert summary["funding_settlements"] >= 3
    assert summary["metrics"]["cascade"]["roots_by_kind"]["funding_payment"] > 0
    assert summary["metrics"]["funding"]["rate_max_ppb"] >= 1_000_000  # 0.1 % an interval
