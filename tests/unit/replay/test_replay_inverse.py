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
        ("liquidation.adl.ranking=binance",),
        ("liquidation.adl.ranking=pro_rata",),
        ("liquidation.adl.ranking=capped_pro_rata",),
        (
            "stress.circuit_breaker.enabled=true",
            "stress.circuit_breaker.move=0.02",
            "stress.circuit_breaker.window=10s",
            "stress.circuit_breaker.duration=10s",
        ),
        (
            "stress.dynamic_margin.enabled=true",
            "stress.dynamic_margin.cadence=2s",
            "stress.dynamic_margin.window=20s",
            "stress.dynamic_margin.vol_threshold=0.005",
            "stress.dynamic_margin.vol_slope=50",
        ),
        (
            "stress.liquidation_throttle.enabled=true",
            "stress.liquidation_throttle.reference_depth=200000",
            "stress.liquidation_throttle.depth_band=0.002",
        ),
        ("stress.mark_smoothing.kind=median", "stress.mark_smoothing.window=5s"),
        (
            "stress.adl_cap.enabled=true",
            "stress.adl_cap.max_fraction=0.25",
            "stress.adl_cap.max_notional=0.5",
        ),
    ],
    ids=[
        "binance",
        "market",
        "hyperliquid",
        "isolated",
        "adl-binance",
        "adl-pro-rata",
        "adl-capped-pro-rata",
        "circuit-breaker",
        "dynamic-margin",
        "throttle",
        "mark-smoothing",
        "adl-cap",
    ],
)
def test_inverse_policies_and_isolated_margin_conserve_and_replay(tmp_path_factory, overrides):
    """Other close-out policies, isolated margin, every ADL ranking and each stress policy on the
    inverse instrument: checked after every event, and consistent on replay."""
    run_dir = write_run(
        tmp_path_factory, "xbtusd_inverse", *CHECKED, "run.duration=80s", *overrides
    )
    result = replay(run_dir)
    assert result.status == "consistent", result.divergence or result.damage
    assert _events(run_dir, "liquidation_triggered")


def test_inverse_metaorder_reports_the_harmonic_average_price(tmp_path):
    """An execution agent buying 2,000,000 contracts of XBTUSD by TWAP: its ``notional_minor`` is
    the sum of its fills' values (a buy's rounded down), its ``vwap_ticks`` the harmonic average
    ``lots x k / value``, rounded up against the buyer, and its ``impact_ppb`` that average's
    distance from the arrival price."""
    from exchange_sim.core.rounding import UP, div_round
    from exchange_sim.runner.api import run

    from .conftest import SCENARIOS

    config = tmp_path / "xbt_twap.toml"
    with open(f"{SCENARIOS}/xbtusd_inverse.toml", encoding="utf-8") as handle:
        text = handle.read()
    config.write_text(
        text
        + '\n[[participants]]\nkind = "execution"\nname = "buyer"\nside = "buy"\n'
        + 'total_size = 2000000\nstart = "25s"\nstyle = "twap"\nduration = "10s"\n'
        + 'child_interval = "1s"\norder_type = "market"\ndeposit = 100\nleverage = 5\n'
    )
    out = tmp_path / "run"
    run(str(config), overrides=("run.duration=40s",), out=str(out))
    events = _events(str(out), "metaorder")
    (end,) = [e for e in events if e["phase"] == "end"]
    account = end["account_id"]
    k = 2 * 10**10
    fills = [
        e for e in _events(str(out), "position") if e["account_id"] == account and e["side"] == 1
    ]
    value = sum(e["size_lots"] * k // e["price_ticks"] for e in fills)
    lots = sum(e["size_lots"] for e in fills)
    assert lots == end["filled_lots"] > 0 and len({e["price_ticks"] for e in fills}) > 1
    assert end["notional_minor"] == value
    assert end["vwap_ticks"] == div_round(lots * k, value, UP)
    arrival = end["arrival_price_ticks"]
    exact = div_round((lots * k - value * arrival) * 10**9, value * arrival, UP)
    assert end["impact_ppb"] == exact  # the harmonic average against arrival, in ppb
    assert replay(str(out)).status == "consistent"
