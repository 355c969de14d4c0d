"""A flat account left below zero by its own close is settled by the venue, and the replay
recomputes the settlement (the fixture's header says what the run holds)."""

from __future__ import annotations

import os

import orjson

from exchange_sim.replay.audit import replay
from exchange_sim.runner.api import run

HERE = os.path.dirname(os.path.abspath(__file__))


def test_a_close_past_bankruptcy_is_covered_and_replays(tmp_path):
    """The run passes the invariant checker after every event (no flat account is left below
    zero), the fund's cover is caused by a trader's own fill (a ``position`` of a ``trade``), and
    the log replays consistent."""
    out = str(tmp_path / "run")
    run(os.path.join(HERE, "trade_shortfall.toml"), overrides=("run.check=every-event",), out=out)
    with open(os.path.join(out, "events.jsonl"), "rb") as handle:
        events = [orjson.loads(line) for line in handle]
    by_seq = {e["seq"]: e for e in events}
    covers = [
        e
        for e in events
        if e["type"] == "insurance_fund"
        and e["reason"] == "cover"
        and by_seq[e["cause"]]["type"] == "position"
        and by_seq[by_seq[e["cause"]]["cause"]]["type"] == "trade"
    ]
    assert covers
    assert replay(out).status == "consistent"
