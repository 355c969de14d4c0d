"""The metrics of a venue with several perpetuals (``summary.json`` ``venue`` and each
perpetual's ``metrics``): each account counted once across the markets it trades with one
wallet, every distinct insurance fund once, and a shared fund reported where it lives."""

from __future__ import annotations

import os

import orjson
import pytest

import exchange_sim as es
from exchange_sim.analysis.metrics_venue import from_run_dir
from exchange_sim.events.log import MemoryLog
from exchange_sim.runner.simulate import build_venue, observe_run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ALTCOIN = os.path.join(ROOT, "configs", "scenarios", "altcoin_cascade.toml")
UNIFIED = os.path.join(ROOT, "configs", "scenarios", "unified_account_depeg.toml")


@pytest.fixture(scope="module")
def in_run():
    """altcoin_cascade run in memory with the run's own observers: the venue (its ledgers at
    the end) and the venue metrics. ALT in lots of 10 ALT: its money per tick-lot (1,000 minor
    units) is not BTC's (100), so a figure valued on the wrong grid shows."""
    loaded = es.load_config(ALTCOIN, ("perpetuals.ALTUSDT.lot_size=10",))
    log = MemoryLog()
    _metrics, _tree, venue_metrics = observe_run(loaded, log)
    venue = build_venue(loaded, log)
    venue.run("test")
    assert venue_metrics is not None
    return venue, venue_metrics.results()


def test_venue_traders_hold_what_the_ledgers_hold(in_run):
    """The leveraged accounts' venue ``net_result + deposits - withdrawals`` is what the ledgers
    hold for them at the end: each account's one wallet, plus its isolated buckets and its open
    PnL in every perpetual at that perpetual's mark."""
    venue, (_first, _more, section) = in_run
    ledgers = [p.ledger for p in venue.perpetuals.all.values()]
    held = 0
    for account_id, account in ledgers[0].accounts.items():
        if account.role != "leveraged":
            continue
        held += account.wallet
        for ledger in ledgers:
            own = ledger.accounts.get(account_id)
            if own is not None:
                held += own.isolated_margin + ledger.unrealised_pnl(own, ledger.mark_price())
    traders = section["traders"]
    total = traders["net_result_minor"] + traders["deposits_minor"] - traders["withdrawals_minor"]
    assert traders["accounts"] == 100 and total == held


def test_a_shared_wallet_counts_once_in_the_venue_and_in_no_market(in_run):
    """Every leveraged account trades BTC and ALT from one wallet: the venue counts 100 accounts
    with both markets' deposits (200,000 USDT); each market's section leaves them out of its
    wallet-based figures (null: none is its own) and says how many it left out."""
    _venue, (first, more, section) = in_run
    assert section["traders"]["shared_wallet_accounts"] == 100
    assert section["traders"]["deposits_minor"] == 200_000 * 10**6
    for metrics in (first, more["ALTUSDT"]):
        traders = metrics["traders"]
        assert traders["shared_wallet_accounts"] == 100
        assert traders["net_result_minor"] is traders["deposits_minor"] is None
        assert traders["lost_money"] is None
        assert traders["realised_pnl_minor"] != 0  # this market's own PnL is still counted


def test_venue_sums_each_perpetuals_liquidations_and_funds(in_run):
    """Liquidations and notional are the two markets' sums; both funds count (each its own)."""
    _venue, (first, more, section) = in_run
    alt = more["ALTUSDT"]
    assert (
        section["liquidations"]["count"]
        == first["liquidations"]["count"] + alt["liquidations"]["count"]
    )
    assert section["liquidations"]["notional_minor"] == (
        first["liquidations"]["notional_minor"] + alt["liquidations"]["notional_minor"]
    )
    funds = section["insurance_funds"]
    assert funds["funds"] == 2
    assert funds["end_minor"] == (
        first["insurance_fund"]["end_minor"] + alt["insurance_fund"]["end_minor"]
    )


def test_a_shared_fund_is_reported_once_where_it_lives(tmp_path):
    """With ``shared_insurance_fund`` ALT's section names the fund it shares instead of a fund
    of its own that never moved, and the venue counts one fund: the first's."""
    out = str(tmp_path / "run")
    es.run(ALTCOIN, overrides=("perpetuals.ALTUSDT.shared_insurance_fund=true",), out=out)
    with open(os.path.join(out, "summary.json"), "rb") as handle:
        summary = orjson.loads(handle.read())
    alt = summary["perpetuals"]["ALTUSDT"]["metrics"]
    assert alt["insurance_fund"] == {"shared_with": "BTCUSDT"}
    funds = summary["venue"]["insurance_funds"]
    assert funds["funds"] == 1
    assert funds["end_minor"] == summary["metrics"]["insurance_fund"]["end_minor"]


def test_the_venue_section_is_read_again_from_the_run_directory(tmp_path):
    """``from_run_dir`` gives the summary's venue section from the log alone."""
    out = str(tmp_path / "run")
    es.run(ALTCOIN, out=out)
    with open(os.path.join(out, "summary.json"), "rb") as handle:
        summary = orjson.loads(handle.read())
    _first, _more, venue = from_run_dir(out)
    assert venue == summary["venue"]


def test_the_closing_summary_states_the_whole_venue(in_run):
    """The terminal's closing summary of a run with several perpetuals has a whole-venue line:
    both markets' liquidations, both funds, and how many traders lost money across both."""
    from exchange_sim.runner.terminal import summary_lines

    _venue, (first, more, section) = in_run
    summary = {
        "scenario": "altcoin_cascade",
        "seed": 1,
        "sim_time_s": 120,
        "wall_time_s": 1.0,
        "event_count": 1,
        "events_per_second": 1.0,
        "settlement_asset": "USDT",
        "money_held_minor": 0,
        "money_deposited_net_minor": 0,
        "metrics": first,
        "venue": section,
    }
    line = next(x for x in summary_lines(None, summary) if x.startswith("whole venue:"))
    count = first["liquidations"]["count"] + more["ALTUSDT"]["liquidations"]["count"]
    assert f"liquidations {count}," in line
    assert "insurance funds 1,000,000.00 USDT ->" in line
    traders = section["traders"]
    assert f"leveraged traders: {traders['lost_money']} of 100 lost money" in line


def test_a_depeg_marked_to_the_book_costs_the_traders_more_than_the_redemption_rate(tmp_path):
    """unified_account_depeg: with USDE and WBETH marked to their thin book and feed, the
    traders' whole-venue net result is lower than with both at their redemption rate (their
    collateral is marked at the price the venue uses, and what it took from them is gone)."""
    results = {}
    for name, overrides in (
        ("book", ()),
        ("redemption", ("collateral.0.price_source=redemption",
                        "collateral.1.price_source=redemption")),
    ):  # fmt: skip
        out = str(tmp_path / name)
        es.run(UNIFIED, overrides=overrides, out=out)
        with open(os.path.join(out, "summary.json"), "rb") as handle:
            results[name] = orjson.loads(handle.read())["venue"]["traders"]
    assert results["book"]["net_result_minor"] < results["redemption"]["net_result_minor"]
    assert results["book"]["collateral_result_minor"] < 0
    assert results["redemption"]["collateral_result_minor"] == 0


def test_every_market_values_collateral_at_the_venues_price(tmp_path):
    """unified_account_depeg with the ETH crowd on accounts of its own, depositing USDE: the
    collateral prices the venue logs (no instrument) reach ETH's metrics too, so the two
    markets' collateral results add up to the venue's."""
    out = str(tmp_path / "split")
    overrides = (
        'participants.unified_eth.accounts_of=""',
        "participants.unified_eth.collateral_asset=USDE",
        "participants.unified_eth.collateral_deposit=1000",
    )
    es.run(UNIFIED, overrides=overrides, out=out)
    with open(os.path.join(out, "summary.json"), "rb") as handle:
        summary = orjson.loads(handle.read())
    btc = summary["metrics"]["roles"]["leveraged"]["collateral_result_minor"]
    eth = summary["perpetuals"]["ETHUSDT"]["metrics"]["roles"]["leveraged"]
    venue = summary["venue"]["roles"]["leveraged"]["collateral_result_minor"]
    assert eth["collateral_result_minor"] < 0
    assert btc + eth["collateral_result_minor"] == venue
