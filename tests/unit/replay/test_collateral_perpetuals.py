"""Collateral backing cross accounts over several perpetuals: the assets are the venue's (one set
for every ledger), the home account holds the units, and a depeg is watched, liquidated and
converted whichever market the account's positions are in; replayed and re-driven."""

from __future__ import annotations

import json
import os

import orjson
import pytest

from exchange_sim.replay.audit import replay
from exchange_sim.replay.redrive import redrive
from exchange_sim.runner.api import run

CONFIG = os.path.join(os.path.dirname(__file__), "collateral_two_markets.toml")


def _run(factory, *overrides: str) -> str:
    out = factory.mktemp("collateral-perpetuals") / "run"
    run(CONFIG, overrides=overrides, out=str(out))
    return str(out)


@pytest.fixture(scope="module")
def closed_largest_first(tmp_path_factory) -> str:
    """The default close-first rule (largest margin: the ETH position)."""
    return _run(tmp_path_factory)


@pytest.fixture(scope="module")
def closed_where_found(tmp_path_factory) -> str:
    """``risk.close_first = triggered``: the position of the market whose check found it."""
    return _run(tmp_path_factory, "risk.close_first=triggered")


@pytest.fixture(scope="module")
def home_without_position(tmp_path_factory) -> str:
    """The ETH positions are closed after 12 s (before the depeg at 25 s), so the home accounts
    hold only their USDE and wallet; the BTC crowd put in 2,000 USDT each and BTC's index fell
    6.5 % at 15-20 s, which the USDE still covered."""
    return _run(
        tmp_path_factory,
        "participants.eth_longs.holding=fixed",
        "participants.eth_longs.holding_time=12s",
        "participants.btc_longs.deposit=2000",
        'index.process.points=[{at="0s",price=50000},{at="15s",price=50000},'
        '{at="20s",price=46750},{at="40s",price=46750}]',
    )


def _events(run_dir: str) -> list[dict]:
    with open(os.path.join(run_dir, "events.jsonl"), "rb") as handle:
        return [orjson.loads(line) for line in handle]


def _first_triggers(events: list[dict]) -> dict[int, dict]:
    first: dict[int, dict] = {}
    for event in events:
        if event["type"] == "liquidation_triggered":
            first.setdefault(event["account_id"], event)
    return first


def test_a_depeg_liquidates_both_markets_positions(closed_largest_first):
    """Every account liquidated is liquidated in both perpetuals; the indexes never moved, so
    the collateral price is what the first check of each read."""
    events = _events(closed_largest_first)
    triggered = [e for e in events if e["type"] == "liquidation_triggered"]
    by_market: dict[str, set[int]] = {}
    for event in triggered:
        by_market.setdefault(event.get("instrument", "BTCUSDT"), set()).add(event["account_id"])
    assert by_market["BTCUSDT"] == by_market["ETHUSDT"] and by_market["ETHUSDT"]
    for trigger in _first_triggers(events).values():
        check = events[trigger["cause"]]
        assert events[check["cause"]]["type"] == "collateral_price"


def test_an_oracle_collateral_price_is_the_root_of_its_chains(closed_largest_first):
    """The cascade roots each account's first liquidation at the oracle's uncaused
    ``collateral_price`` (kind ``collateral_move``); the second position's is fed by the first."""
    with open(os.path.join(closed_largest_first, "summary.json")) as handle:
        cascade = json.load(handle)["metrics"]["cascade"]
    firsts = _first_triggers(_events(closed_largest_first))
    assert cascade["roots_by_kind"]["collateral_move"] == len(firsts) == cascade["roots"]
    assert cascade["fed_by_liquidations"] == len(firsts)


def test_the_collateral_is_converted_once_by_the_home_ledger(closed_where_found):
    """Each account's USDE is converted once, right after its first liquidation_triggered,
    logged by the ledger holding it (ETHUSDT, the home accounts'), even when the position
    closed first is in BTCUSDT."""
    events = _events(closed_where_found)
    firsts = _first_triggers(events)
    converted = [e for e in events if e["type"] == "collateral_converted"]
    assert sorted(e["account_id"] for e in converted) == sorted(firsts)
    for trigger in firsts.values():
        conversion = events[trigger["seq"] + 1]
        assert conversion["type"] == "collateral_converted"
        assert conversion["cause"] == trigger["seq"]
        assert conversion["instrument"] == "ETHUSDT"


def test_the_first_market_watches_its_linked_accounts_collateral(closed_where_found):
    """The USDE price reaches the BTCUSDT monitor first: it watches the linked accounts through
    their home account's collateral, so under ``triggered`` every first liquidation is in
    BTCUSDT (the ETHUSDT monitor, which would also find them, comes second)."""
    firsts = _first_triggers(_events(closed_where_found))
    assert firsts and all("instrument" not in e for e in firsts.values())


def test_money_and_units_are_conserved_venue_wide(closed_largest_first):
    """The venue paid for the collateral once (one set of assets for both ledgers), and the
    units the venue took equal the units deposited."""
    with open(os.path.join(closed_largest_first, "summary.json")) as handle:
        summary = json.load(handle)
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
    usde = summary["collateral"]["USDE"]
    assert usde["units_taken_by_venue"] + usde["units_held_by_accounts"] == usde["units_deposited"]
    assert summary["collateral_paid_by_venue_minor"] > 0


def test_collateral_of_a_home_account_without_a_position_backs_the_linked_one(
    home_without_position,
):
    """The depeg is found through the linked BTC positions alone (the home ledger records no
    position, yet the split of the BTC ledger keeps the USDE triggers): each account is
    liquidated in BTCUSDT once, by a check the USDE price caused, and its USDE converted by the
    ETHUSDT ledger that holds it."""
    events = _events(home_without_position)
    triggered = [e for e in events if e["type"] == "liquidation_triggered"]
    assert triggered and all("instrument" not in e for e in triggered)
    for trigger in triggered:
        check = events[trigger["cause"]]
        assert (events[check["cause"]]["type"], events[check["cause"]]["asset"]) == (
            "collateral_price", "USDE"
        )  # fmt: skip
        conversion = events[trigger["seq"] + 1]
        assert (conversion["type"], conversion["instrument"]) == (
            "collateral_converted", "ETHUSDT"
        )  # fmt: skip


def test_a_wallet_the_home_collateral_covers_may_go_negative_in_either_market(tmp_path):
    """No depeg, home positions closed after 5 s, 1 USDT deposits: the shared wallet goes below
    zero on fees while the home account's USDE covers it. Every step's invariants hold (the
    linked ledger counts the home's collateral) and no linked order is refused for margin the
    collateral provides."""
    out = str(tmp_path / "run")
    run(
        CONFIG,
        overrides=(
            'collateral.0.oracle=[{at="0s", price_ppb=1.0}]',
            "participants.eth_longs.deposit=1",
            "participants.btc_longs.deposit=1",
            "participants.eth_longs.holding=fixed",
            "participants.eth_longs.holding_time=5s",
            'run.check="every-event"',
        ),
        out=out,
    )
    events = _events(out)
    assert any(e["type"] == "position" and e["wallet"] < 0 for e in events)
    assert not any(e.get("reason") == "insufficient_margin" for e in events)


@pytest.mark.parametrize(
    "fixture", ["closed_largest_first", "closed_where_found", "home_without_position"]
)
def test_runs_replay_consistent_and_redrive_identical(fixture, request, tmp_path):
    """The replay rebuilds the shared assets and each conversion; re-driving gives the log."""
    run_dir = request.getfixturevalue(fixture)
    assert replay(run_dir).status == "consistent"
    result = redrive(run_dir, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"


def test_a_linked_groups_collateral_joins_the_home_accounts(tmp_path):
    """USDE posted through the BTCUSDT accounts (the ``accounts_of`` group) is the home
    account's: its units after are the home's 3,000 plus 500, and the one conversion takes all
    3,500; the run replays consistent."""
    out = str(tmp_path / "run")
    run(
        CONFIG,
        overrides=(
            "participants.btc_longs.collateral_asset=USDE",
            "participants.btc_longs.collateral_deposit=500",
        ),
        out=out,
    )
    events = _events(out)
    linked_deposits = [
        e for e in events if e["type"] == "collateral_deposit" and "instrument" not in e
    ]
    assert linked_deposits and all(e["collateral_units"] == 3_500_000_000 for e in linked_deposits)
    converted = [e for e in events if e["type"] == "collateral_converted"]
    assert converted and all(e["units"] == 3_500_000_000 for e in converted)
    assert replay(out).status == "consistent"


SCENARIO = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))),
    "configs",
    "scenarios",
    "unified_account_depeg.toml",
)


def test_the_unified_account_scenario_liquidates_both_markets_unless_marked_at_redemption(
    tmp_path,
):
    """unified_account_depeg: marked to USDE's book and WBETH's feed, accounts are liquidated
    in BTCUSDT and ETHUSDT alike; marked at the redemption rate, the same market liquidates
    no one."""
    marked = str(tmp_path / "marked")
    run(SCENARIO, out=marked)
    triggered = [e for e in _events(marked) if e["type"] == "liquidation_triggered"]
    btc = {e["account_id"] for e in triggered if "instrument" not in e}
    eth = {e["account_id"] for e in triggered if e.get("instrument") == "ETHUSDT"}
    assert btc and btc == eth
    redeemed = str(tmp_path / "redeemed")
    run(
        SCENARIO,
        overrides=(
            "collateral.0.price_source=redemption",
            "collateral.1.price_source=redemption",
        ),
        out=redeemed,
    )
    assert not any(e["type"] == "liquidation_triggered" for e in _events(redeemed))
