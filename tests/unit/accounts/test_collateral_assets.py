"""Accounts holding several collateral assets at once: each valued on its own, each a dimension
of the slack split with its own price trigger, all converted at liquidation in the venue's
asset order; and a run whose traders post two assets, replayed."""

from __future__ import annotations

import os
import shutil

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exchange_sim as es
from exchange_sim.accounts.account import FeeSchedule
from exchange_sim.accounts.collateral import CollateralAssets
from exchange_sim.accounts.ledger import Ledger
from exchange_sim.core.errors import ConfigError
from exchange_sim.events.log import MemoryLog
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.replay.audit import replay
from exchange_sim.replay.redrive import redrive
from exchange_sim.runner.api import run
from tests.cross_helpers import join

from .test_collateral import PAR, SCENARIO, TIERS, safe_mark

NO_FEES = FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)


def _ledger(usde_ppb: int = PAR, wbtc_ppb: int = PAR) -> Ledger:
    """USDE at a 10 % haircut, WBTC at none; mark 100; 1 % MM at 50x."""
    ledger = Ledger(MemoryLog(), 1, TIERS, NO_FEES)
    ledger.mark_price = lambda: 100
    ledger.collateral = CollateralAssets(
        {"USDE": 100_000_000, "WBTC": 0}, {"USDE": usde_ppb, "WBTC": wbtc_ppb}
    )
    return ledger


def test_equity_counts_each_asset_rounded_on_its_own():
    """1,000 USDE at par less 10 % is 900; 3 WBTC units at 0.5 are 1 (1.5 rounded down on its
    own): equity is the wallet plus 901."""
    ledger = _ledger(wbtc_ppb=500_000_000)
    account = ledger.open_account(1)
    ledger.deposit(0, 1, 50, None)
    ledger.deposit(0, 1, 1_000, None, asset="USDE")
    ledger.deposit(0, 1, 3, None, asset="WBTC")
    assert ledger.equity(account, 100) == 50 + 900 + 1


def test_a_depeg_of_the_second_asset_alone_makes_the_account_liquidatable():
    """Long 100 at 100 (MM 100) on 20 USDT, 100 USDE (90) and 100 WBTC (100): equity 210. WBTC
    at 0.05 is worth 5: equity 115... at 0.01, 1: equity 111; with USDE at 0.1 (9): 30 < MM."""
    ledger = _ledger()
    account = ledger.open_account(1)
    ledger.deposit(0, 1, 20, None)
    ledger.deposit(0, 1, 100, None, asset="USDE")
    ledger.deposit(0, 1, 100, None, asset="WBTC")
    ledger.apply_fill(0, 0, account, BUY, 100, 100, 0)
    assert not ledger.is_liquidatable(account, 100)
    ledger.collateral.price_ppb["WBTC"] = 10_000_000
    assert not ledger.is_liquidatable(account, 100)  # 20 + 90 + 1 = 111 >= 100
    ledger.collateral.price_ppb["USDE"] = 100_000_000
    assert ledger.is_liquidatable(account, 100)  # 20 + 9 + 1 = 30 < 100


def test_each_asset_has_its_own_trigger():
    """The split records one (liquidation, call) price per asset held."""
    ledger = _ledger()
    account = ledger.open_account(1)
    ledger.deposit(0, 1, 500, None, asset="USDE")
    ledger.deposit(0, 1, 500, None, asset="WBTC")
    ledger.apply_fill(0, 0, account, BUY, 100, 50, 0)
    triggers = ledger.collateral.triggers[1]
    assert list(triggers) == ["USDE", "WBTC"]
    assert all(0 < liquidation < PAR for liquidation, _ in triggers.values())


@settings(max_examples=300, deadline=None)
@given(
    wallet=st.integers(0, 2_000),
    usde=st.integers(1, 5_000),
    wbtc=st.integers(1, 5_000),
    lots=st.integers(1, 200),
    side=st.sampled_from((BUY, SELL)),
    mark_offset=st.integers(0, 30),
    usde_offset=st.integers(0, 10**8),
    wbtc_offset=st.integers(0, 10**8),
)
def test_no_liquidation_is_missed_while_no_price_crossed(
    wallet, usde, wbtc, lots, side, mark_offset, usde_offset, wbtc_offset
):
    """While the mark is on the safe side of the position's trigger and each asset's price is at
    or above its own trigger, the account is not liquidatable: the split reserves for all three."""
    ledger = _ledger()
    account = ledger.open_account(1)
    if wallet:
        ledger.deposit(0, 1, wallet, None)
    ledger.deposit(0, 1, usde, None, asset="USDE")
    ledger.deposit(0, 1, wbtc, None, asset="WBTC")
    ledger.apply_fill(0, 0, account, side, 100, lots, 0)
    if ledger.is_liquidatable(account, 100):
        return  # past maintenance at once: the monitor checks it immediately
    triggers = ledger.collateral.triggers[1]
    mark = safe_mark(side, account.liquidation_price, mark_offset)
    if mark <= 0:
        return
    ledger.collateral.price_ppb["USDE"] = triggers["USDE"][0] + usde_offset
    ledger.collateral.price_ppb["WBTC"] = triggers["WBTC"][0] + wbtc_offset
    assert not ledger.is_liquidatable(account, mark)


def test_conversion_takes_every_asset_in_the_venues_order():
    """WBTC deposited first, USDE second: conversion logs USDE then WBTC (the venue's order),
    each with the wallet after it; the venue holds both and paid both values."""
    ledger = _ledger(usde_ppb=500_000_000)
    log = ledger._emit.__self__
    account = ledger.open_account(1)
    ledger.deposit(0, 1, 200, None, asset="WBTC")
    ledger.deposit(0, 1, 1_000, None, asset="USDE")
    ledger.convert_collateral(1, account, 7)
    converted = [e for e in log.events if e["type"] == "collateral_converted"]
    assert [(e["asset"], e["value"], e["wallet"], e["cause"]) for e in converted] == [
        ("USDE", 450, 450, 7),
        ("WBTC", 200, 650, 7),
    ]
    assert account.holdings is None
    assert ledger.collateral.desk_units == {"USDE": 1_000, "WBTC": 200}
    assert ledger.collateral.desk_paid == 650


# -- runs ----------------------------------------------------------------------------------------
SECOND_ASSET = """
[[collateral]]
asset = "WBETH"
haircut_ppb = 0.2
price_source = "oracle"
reference_price_ppb = 1.0
oracle = [{ at = "0s", price_ppb = 1.0 }, { at = "50s", price_ppb = 0.001 }]
"""
SMALL = (
    "run.duration=60s",
    "participants.usde_longs.count=30",
    "collateral.0.price_source=redemption",
    "participants.usde_longs.leverages=[14, 16, 18]",
    "participants.usde_longs.position_fraction=0.8",
)


@pytest.fixture(scope="module")
def two_assets(tmp_path_factory) -> str:
    """collateral_depeg with a second asset that every trader also posts (900 USDE and 1,000
    WBETH each, 14x-18x of 80 % of their deposits at par). USDE is marked to its redemption
    rate, so the index fall alone liquidates no one (WBETH still backs them); WBETH's oracle
    falls to 0.001 at 50 s, after it."""
    folder = tmp_path_factory.mktemp("two-assets")
    with open(SCENARIO, encoding="utf-8") as handle:
        text = handle.read()
    text = text.replace(
        "collateral_deposit = 900    # USDE\n",
        'collateral_deposit = 900    # USDE\ncollateral = [{ asset = "WBETH", deposit = 1000 }]\n',
    )
    head, participants = text.split("[[participants]]", 1)
    config = folder / "two_assets.toml"
    config.write_text(head + SECOND_ASSET + "\n[[participants]]" + participants)
    out = folder / "run"
    run(str(config), overrides=SMALL, out=str(out))
    return str(out)


def _events(run_dir: str) -> list[dict]:
    with open(os.path.join(run_dir, "events.jsonl"), "rb") as handle:
        return [orjson.loads(line) for line in handle]


def test_traders_post_both_assets_and_liquidations_convert_both(two_assets):
    """Each trader deposits USDE then WBETH; every liquidated account's conversion is two
    back-to-back events (USDE, then WBETH) caused by its liquidation_triggered."""
    events = _events(two_assets)
    deposits = [e for e in events if e["type"] == "collateral_deposit"]
    assert {e["asset"] for e in deposits} == {"USDE", "WBETH"}
    triggered = [e for e in events if e["type"] == "liquidation_triggered"]
    assert triggered
    for trigger in triggered:
        first, second = events[trigger["seq"] + 1], events[trigger["seq"] + 2]
        assert (first["type"], first["asset"], first["cause"]) == (
            "collateral_converted", "USDE", trigger["seq"]
        )  # fmt: skip
        assert (second["type"], second["asset"], second["cause"]) == (
            "collateral_converted", "WBETH", trigger["seq"]
        )  # fmt: skip


def test_the_second_assets_price_alone_finds_the_accounts(two_assets):
    """Every liquidation's margin check is caused by WBETH's price falling to 0.001: the monitor
    watches each asset's own trigger, not only the first asset's."""
    events = _events(two_assets)
    triggered = [e for e in events if e["type"] == "liquidation_triggered"]
    assert triggered
    for trigger in triggered:
        check = events[trigger["cause"]]
        assert check["type"] == "margin_check"
        price = events[check["cause"]]
        assert (price["type"], price["asset"], price["price_ppb"]) == (
            "collateral_price", "WBETH", 1_000_000
        )  # fmt: skip


def test_a_run_with_two_assets_replays_and_conserves_units(two_assets):
    """The replay recomputes both conversions and each asset's units identity."""
    result = replay(two_assets)
    assert result.status == "consistent", result.divergence


def test_redrive_reproduces_a_run_with_two_assets(two_assets, tmp_path):
    """Both assets' deposits are fed again: the log byte for byte."""
    result = redrive(two_assets, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"


def test_a_missing_second_conversion_is_divergent(two_assets, tmp_path):
    """Dropping a liquidation's WBETH conversion (the log resealed) is found by the replay."""
    from tests.unit.analysis.conftest import reseal

    run_dir = shutil.copytree(two_assets, str(tmp_path / "run"))
    path = os.path.join(run_dir, "events.jsonl")
    with open(path, "rb") as handle:
        lines = handle.readlines()
    seq = next(
        i
        for i, line in enumerate(lines)
        if b'"collateral_converted"' in line and b'"WBETH"' in line
    )
    body = [orjson.loads(line) for line in lines[:seq] + lines[seq + 1 :]]
    for new_seq, event in enumerate(body[:-1]):  # renumber: causes past the gap shift by one
        event["seq"] = new_seq
        if event["cause"] is not None and event["cause"] > seq:
            event["cause"] -= 1
    reseal(path, [orjson.dumps(e) + b"\n" for e in body])
    assert replay(run_dir).status != "consistent"


def test_an_asset_listed_twice_is_refused():
    """A group's collateral list naming its collateral_asset again names the key."""
    with pytest.raises(ConfigError) as caught:
        es.load_config(
            SCENARIO, ('participants.usde_longs.collateral=[{asset="USDE", deposit=1}]',)
        )
    assert "participants[2].collateral[0].asset" in str(caught.value)


# -- a home account whose collateral backs a position in another perpetual ------------------------
def _two_ledgers():
    """A home account in one ledger holding 1,000 USDE and no position; its linked account in a
    second ledger is long 100 at 100. One set of assets for both (the venue shares it)."""
    assets = CollateralAssets({"USDE": 100_000_000}, {"USDE": PAR})
    home_ledger, other_ledger = _ledger(), _ledger()
    home_ledger.collateral = other_ledger.collateral = assets
    home, linked = join(home_ledger, other_ledger)
    home_ledger.deposit(0, 1, 20, None)
    home_ledger.deposit(0, 1, 1_000, None, asset="USDE")
    other_ledger.apply_fill(0, 0, linked, BUY, 100, 100, 0)
    return home_ledger, other_ledger, home, linked, assets


def test_the_linked_ledger_records_the_home_accounts_collateral_triggers():
    """Re-pricing the linked position writes the USDE trigger the split gave it: the home ledger,
    with no position, never solves one."""
    _, other_ledger, _, linked, assets = _two_ledgers()
    assets.triggers.clear()
    other_ledger.refresh_prices(linked)
    liquidation, _ = assets.triggers[1]["USDE"]
    assert 0 < liquidation < PAR


def test_a_home_ledger_without_the_position_keeps_the_triggers():
    """The home ledger re-pricing its flat account does not drop the triggers the linked
    position still needs; once no position is left anywhere, it does."""
    home_ledger, other_ledger, home, linked, assets = _two_ledgers()
    other_ledger.refresh_prices(linked)
    home_ledger.refresh_prices(home)
    assert "USDE" in assets.triggers[1]
    other_ledger.apply_fill(1, 1, linked, SELL, 100, 100, 0)
    home_ledger.refresh_prices(home)
    assert 1 not in assets.triggers


def test_a_linked_account_counts_its_home_accounts_collateral_for_orders():
    """The linked position's ledger values the home account's USDE for new orders, as the
    home ledger does: 20 of wallet plus 900 of USDE less the 500 the long 100 (at 20x) uses
    leaves 420, so 30 more lots (150) pass and 100 more (500) do not; on the wallet alone
    neither would."""
    from exchange_sim.matching.orders import Order

    _home_ledger, other_ledger, _home, linked, _assets = _two_ledgers()
    assert other_ledger.collateral_value(linked) == 900
    assert other_ledger.pre_trade_check(0, Order(2, 1, BUY, 100, 30, tif="GTC")) is None
    refused = other_ledger.pre_trade_check(0, Order(3, 1, BUY, 100, 100, tif="GTC"))
    assert refused == "insufficient_margin"


@pytest.mark.parametrize(
    "config",
    [
        SCENARIO,
        SCENARIO.replace("collateral_depeg", "unified_account_depeg"),
        os.path.join(
            os.path.dirname(os.path.dirname(__file__)), "replay", "collateral_two_markets.toml"
        ),
    ],
    ids=["collateral_depeg", "unified_account_depeg", "collateral_two_markets"],
)
def test_the_trigger_index_agrees_with_a_full_scan_at_every_mark(config, tmp_path):
    """With ``risk.verify_with_sweep`` every mark update compares the accounts the index finds
    with a scan of all of them: an account checked safe is re-split before it is re-armed, so
    its collateral triggers are never stale (they were, for single-market accounts, until a
    later change)."""
    out = str(tmp_path / "run")
    run(config, overrides=("risk.verify_with_sweep=true",), out=out)
    assert os.path.isfile(os.path.join(out, "summary.json"))
