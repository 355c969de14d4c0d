"""Runs on an inverse (coin-margined) instrument, ``xbtusd_inverse``: the invariant checker after
every event (money in XBT conserved), replay from the log alone, re-drive, and the liquidation
policies and margin modes an inverse instrument runs with."""

from __future__ import annotations

import orjson
import pytest

from exchange_sim.replay.audit import replay
from exchange_sim.replay.redrive import redrive

from .conftest import first_seq, forge, write_run

CHECKED = ("run.check=every-event", "risk.verify_with_sweep=true")

SQUEEZE = (
    *CHECKED,
    "run.duration=80s",
    'index.process.points=[{at="0s",price=50000},{at="40s",price=50000},'
    '{at="70s",price=55000},{at="80s",price=55000}]',
    "participants.crowd.long_fraction=0.2",
    "participants.crowd.deposit=3",  # 270 XBT at 100x: above the 200 XBT base risk limit
    "participants.mm.level_size=5000000",
)


@pytest.fixture(scope="module")
def inverse_run(tmp_path_factory) -> str:
    """xbtusd_inverse in full (100 s), checked after every event: longs liquidated in a fall,
    funding settled every 20 s in XBT."""
    return write_run(tmp_path_factory, "xbtusd_inverse", *CHECKED)


@pytest.fixture(scope="module")
def squeeze_run(tmp_path_factory) -> str:
    """The same market with a rise into a crowd of large shorts (above the first risk step)."""
    return write_run(tmp_path_factory, "xbtusd_inverse", *SQUEEZE)


def _events(run_dir: str, kind: str) -> list[dict]:
    with open(f"{run_dir}/events.jsonl", "rb") as handle:
        events = [orjson.loads(line) for line in handle]
    return [e for e in events if e["type"] == kind]


def test_inverse_run_liquidates_longs_and_replays_consistent(inverse_run):
    """A fall liquidates longs; books, accounts (in XBT), fund, ADL and funding recompute."""
    result = replay(inverse_run)
    assert result.status == "consistent", result.divergence or result.damage
    sides = {e["position_lots"] > 0 for e in _events(inverse_run, "liquidation_triggered")}
    assert sides == {True}
    assert _events(inverse_run, "adl") and _events(inverse_run, "funding_payment")


def test_inverse_squeeze_liquidates_shorts_and_replays_consistent(squeeze_run):
    """A rise liquidates shorts held above the first risk step; the sweep verifier finds no
    account the trigger index missed, and the log replays."""
    result = replay(squeeze_run)
    assert result.status == "consistent", result.divergence or result.damage
    sides = {e["position_lots"] > 0 for e in _events(squeeze_run, "liquidation_triggered")}
    assert sides == {False}


def test_inverse_run_redrives_identically(inverse_run, tmp_path):
    """Feeding the recorded order flow into a fresh inverse venue reproduces the log."""
    result = redrive(inverse_run, str(tmp_path / "again"))
    assert result.identical, result


def test_a_tampered_inverse_entry_value_is_divergent(inverse_run, copy_of):
    """A forged ``position.entry_notional`` (the entry value in satoshis) is found at its seq."""
    run = copy_of(inverse_run)
    seq = first_seq(run, "position", lambda e: e["position_lots"] != 0)
    forge(run, seq, "entry_notional", lambda value: value + 1)
    result = replay(run)
    assert result.status == "divergent"
    assert result.divergence.seq == seq


@pytest.mark.parametrize(
    "overrides",
    [
        ("liquidation.policy.kind=binance", 'liquidation.waterfall=["book","fund","adl"]'),
        ("liquidation.policy.kind=market",),
        ("liquidation.policy.kind=hyperliquid", "liquidation.adl.ranking=hyperliquid"),
        ("participants.crowd.margin_mode=isolated",),
    ],
    ids=["binance", "market", "hyperliquid", "isolated"],
)
def test_inverse_policies_and_isolated_margin_conserve_and_replay(tmp_path_factory, overrides):
    """Other close-out policies and isolated margin on the inverse instrument: checked after
    every event, and consistent on replay."""
    run_dir = write_run(
        tmp_path_factory, "xbtusd_inverse", *CHECKED, "run.duration=80s", *overrides
    )
    result = replay(run_dir)
    assert result.status == "consistent", result.divergence or result.damage
    assert _events(run_dir, "liquidation_triggered")
