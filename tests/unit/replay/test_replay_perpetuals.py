"""Replay of runs with several perpetuals: events routed by ``instrument``, linked accounts over
one wallet, cross equity and MM, the venue-wide money identity and summary.json's
``perpetuals`` section."""

from __future__ import annotations

import json
import os

import orjson
import pytest

from exchange_sim.replay import perpetuals as replay_perpetuals
from exchange_sim.replay.audit import replay
from exchange_sim.replay.redrive import redrive

from .conftest import first_seq, forge, read_lines, write_lines, write_run

SMALL = (
    "participants.btc_longs.count=20",
    "participants.eth_longs.count=20",
    "run.duration=70s",
)


@pytest.fixture(scope="module")
def contagion_run(tmp_path_factory) -> str:
    """The contagion scenario, 20 + 20 linked accounts, 70 s: liquidations in both markets."""
    return write_run(tmp_path_factory, "contagion_two_markets", *SMALL)


def _divergence(run_dir: str):
    result = replay(run_dir)
    assert result.status == "divergent", result.status
    return result.divergence


def test_contagion_run_replays_consistent(contagion_run):
    """Both perpetuals' books, accounts, funds and the summary recompute from the log."""
    result = replay(contagion_run)
    assert result.status == "consistent", result.divergence or result.damage
    extra = result.state.perpetuals.extra["ETHUSDT"]
    assert extra.trades and extra.liquidations_triggered and result.state.liquidations_triggered


def test_eth_events_rebuild_the_eth_state(contagion_run):
    """ETHUSDT's events are applied to its own state: its book and positions, not the first's."""
    st = replay(contagion_run).state
    eth = st.perpetuals.extra["ETHUSDT"]
    assert eth.book.best_bid() is not None and eth.book.best_bid() < 40_000
    assert st.book.best_bid() > 400_000
    assert eth.ledger.open_interest_lots()[0] > 0


def test_linked_accounts_share_the_home_wallet(contagion_run):
    """An ETH account of the btc_longs group is a view of its BTC account's wallet."""
    st = replay(contagion_run).state
    eth = st.perpetuals.extra["ETHUSDT"]
    linked = [a for a in eth.ledger.accounts.values() if a.owner == "eth_longs"]
    assert linked
    for account in linked:
        assert account.home is st.ledger.accounts[account.account_id]


def test_a_tampered_eth_position_is_divergent(contagion_run, copy_of):
    """A forged ETHUSDT ``position`` line (its wallet) is reported at its seq."""
    run = copy_of(contagion_run)
    seq = first_seq(run, "position", lambda e: e.get("instrument") == "ETHUSDT")
    forge(run, seq, "position_lots", lambda lots: lots + 1)
    found = _divergence(run)
    assert found.seq == seq and found.field == "position_lots"


def test_a_tampered_linked_wallet_is_divergent(contagion_run, copy_of):
    """An ETH fill of a linked account logs the home account's wallet: a forged one diverges."""
    run = copy_of(contagion_run)

    def linked_fill(event):
        return (
            event.get("instrument") == "ETHUSDT"
            and event["account_id"] < 100
            and (event["wallet"] != 0)
        )

    seq = first_seq(run, "position", linked_fill)
    forge(run, seq, "wallet", lambda wallet: wallet + 1)
    found = _divergence(run)
    assert found.seq == seq and found.field == "wallet"


def test_cross_equity_is_checked_at_a_margin_check(contagion_run, copy_of):
    """A margin check's equity is the account's over both markets: one unit off diverges."""
    run = copy_of(contagion_run)
    seq = first_seq(run, "margin_check")
    forge(run, seq, "equity", lambda equity: equity - 1)
    found = _divergence(run)
    assert found.seq == seq and found.field == "equity"


def test_a_trigger_in_the_wrong_market_is_divergent(contagion_run, copy_of):
    """The liquidation starts in the market of the position closed first: a trigger moved to
    the other perpetual is found."""
    run = copy_of(contagion_run)
    index = first_seq(run, "liquidation_triggered", lambda e: e.get("instrument") == "ETHUSDT")
    lines = read_lines(run)
    event = orjson.loads(lines[index])
    del event["instrument"]
    lines[index] = orjson.dumps(event) + b"\n"
    write_lines(run, lines)
    found = _divergence(run)
    assert found.seq == index and found.field == "instrument"


def test_eth_summary_figures_are_compared(contagion_run, copy_of):
    """summary.json's ``perpetuals.ETHUSDT`` figures are recomputed: a changed fee total is
    reported."""
    run = copy_of(contagion_run)
    path = os.path.join(run, "summary.json")
    with open(path) as handle:
        summary = json.load(handle)
    summary["perpetuals"]["ETHUSDT"]["fees_collected_minor"] += 1
    with open(path, "w") as handle:
        json.dump(summary, handle)
    found = _divergence(run)
    assert found.field == "summary.perpetuals.ETHUSDT.fees_collected_minor"


def test_money_identity_is_venue_wide(contagion_run):
    """The identity holds over both perpetuals (a linked wallet counted once), not per ledger."""
    st = replay(contagion_run).state
    held, put_in = st.perpetuals.money_identity()
    assert held == put_in
    first_held, first_in = st.money_identity()
    assert (first_held, first_in) != (held, put_in)


def test_an_unknown_instrument_is_divergent(contagion_run, copy_of):
    """An event naming a perpetual the config does not have is reported."""
    run = copy_of(contagion_run)
    seq = first_seq(run, "trade", lambda e: e.get("instrument") == "ETHUSDT")
    forge(run, seq, "instrument", lambda _: "DOGEUSDT")
    found = _divergence(run)
    assert found.seq == seq and found.field == "instrument"


@pytest.mark.parametrize(
    "overrides",
    [
        ("risk.close_first=largest_loss",),
        ("risk.close_first=triggered",),
        (
            "participants.btc_longs.margin_mode=isolated",
            "participants.eth_longs.margin_mode=isolated",
        ),
        ("venue.preset=hyperliquid",),
        ("funding.rule.interval=15s", "funding.rule.rate_period=15s"),
    ],
)
def test_variants_replay_consistent(overrides, tmp_path_factory):
    """Other close-first rules, isolated linked accounts, a vault and funding settlements."""
    run = write_run(tmp_path_factory, "contagion_two_markets", *SMALL, *overrides)
    result = replay(run)
    assert result.status == "consistent", result.divergence or result.damage


def test_a_safe_check_resplits_the_account_everywhere(contagion_run, monkeypatch):
    """Without re-splitting a cross account in every ledger after a safe check or the end of
    its liquidation, a later logged trigger or bankruptcy price is not reproduced."""
    monkeypatch.setattr(replay_perpetuals.Perpetuals, "_refresh", lambda *a: None)
    assert replay(contagion_run).status == "divergent"


def test_a_change_in_one_market_resplits_the_other(contagion_run):
    """Money into a cross account in the first perpetual moves its ETHUSDT liquidation price
    at once (the venue re-splits the account in every other ledger)."""
    seq = first_seq(contagion_run, "liquidation_triggered")
    st = replay(contagion_run, until=seq - 1).state
    eth = st.perpetuals.extra["ETHUSDT"]
    account = next(
        a
        for a in eth.ledger.accounts.values()
        if a.owner == "eth_longs" and a.size_lots and st.ledger.accounts[a.account_id].size_lots
    )
    before = account.liquidation_price
    st.ledger.deposit(st.ts, account.account_id, 10**9, None, st.ts, "top_up")
    assert account.liquidation_price < before


def test_until_prints_every_perpetual(contagion_run):
    """``replay --until`` prints the other perpetuals' touch, mark and fund too, and the
    venue's money."""
    from exchange_sim.replay.view import state_lines

    seq = first_seq(contagion_run, "liquidation_triggered")
    lines = state_lines(replay(contagion_run, until=seq).state)
    assert any(line.startswith("perpetual ETHUSDT: best bid") for line in lines)
    held = next(line for line in lines if line.startswith("money: held"))
    assert held.split()[2].rstrip(",") == held.split()[5]


# -- re-drive --------------------------------------------------------------------------------


def test_redrive_reproduces_a_run_with_several_perpetuals(contagion_run, tmp_path):
    """The recorded flow, each command routed to its perpetual's gateway and the linked
    accounts opened as the venue opens them, gives the original log byte for byte."""
    result = redrive(contagion_run, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"


@pytest.fixture(scope="module")
def home_later_run(tmp_path_factory) -> str:
    """The contagion scenario with the roles swapped: the ETHUSDT group holds the accounts and
    the BTCUSDT group trades them (``accounts_of``), so the first perpetual's ledger announces
    the linked accounts before their home accounts are announced."""
    from exchange_sim.runner.api import run

    from .conftest import SCENARIOS

    with open(os.path.join(SCENARIOS, "contagion_two_markets.toml")) as handle:
        text = handle.read()
    btc_at = text.index('[[participants]]\nkind = "leveraged"\nname = "btc_longs"')
    eth_at = text.index('[[participants]]\nkind = "leveraged"\nname = "eth_longs"')
    eth = text[eth_at:].replace('accounts_of = "btc_longs"', "")
    btc = text[btc_at:eth_at].replace(
        'name = "btc_longs"\n', 'name = "btc_longs"\naccounts_of = "eth_longs"\n'
    )
    directory = tmp_path_factory.mktemp("home-later")
    path = directory / "swapped.toml"
    path.write_text(text[:btc_at] + eth + "\n" + btc)
    out = directory / "run"
    run(str(path), overrides=SMALL, out=str(out))
    return str(out)


def test_linked_accounts_announced_before_their_home_replay(home_later_run):
    """A linked account announced before its home account is joined to it when it comes."""
    result = replay(home_later_run)
    assert result.status == "consistent", result.divergence or result.damage
    st = result.state
    linked = [a for a in st.ledger.accounts.values() if a.owner == "btc_longs"]
    eth = st.perpetuals.extra["ETHUSDT"]
    assert linked and all(a.home is eth.ledger.accounts[a.account_id] for a in linked)


def test_linked_accounts_announced_before_their_home_redrive(home_later_run, tmp_path):
    """Re-drive opens such accounts in their place in their ledger: the log is reproduced."""
    result = redrive(home_later_run, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"


def test_a_counterfactual_of_several_perpetuals_replays(contagion_run, tmp_path):
    """A re-drive under another close-first rule conserves money and replays consistent."""
    result = redrive(contagion_run, str(tmp_path / "cf"), ("risk.close_first=triggered",))
    assert result.summary["money_held_minor"] == result.summary["money_deposited_net_minor"]
    assert replay(result.directory).status == "consistent"


# -- frames and the report -------------------------------------------------------------------


def test_frames_carry_the_instrument(contagion_run):
    """With several perpetuals every frame ends with ``instrument``: null for the first
    perpetual, the symbol for another; every line is loaded."""
    from exchange_sim.analysis.frames import load_run

    run = load_run(contagion_run)
    trades = run["trade"]
    assert trades.columns[-1] == "instrument"
    assert set(trades.instrument.dropna()) == {"ETHUSDT"}
    assert trades.instrument.isna().any()
    assert len(run["position"]) == run.counts["position"]
    assert run["adl"].columns[-1] == "instrument"  # an empty frame too


def test_single_perpetual_frames_have_no_instrument(cascade_run):
    """A run with one perpetual keeps its columns: no ``instrument``."""
    from exchange_sim.analysis.frames import load_run

    assert "instrument" not in load_run(cascade_run, ("trade",))["trade"].columns


def test_an_instrument_in_a_single_perpetual_log_is_refused(cascade_run, copy_of):
    """``instrument`` is read only where the config has several perpetuals: elsewhere a line
    carrying it differs from the unit table."""
    from exchange_sim.analysis.frames import load_run
    from exchange_sim.core.errors import DataError

    run = copy_of(cascade_run)
    lines = read_lines(run)
    seq = first_seq(run, "trade")
    event = orjson.loads(lines[seq])
    event["instrument"] = "ETHUSDT"
    lines[seq] = orjson.dumps(event) + b"\n"
    write_lines(run, lines)
    with pytest.raises(DataError, match="unit table"):
        load_run(run, ("trade",))


def test_a_perpetual_line_lacking_a_field_is_refused(contagion_run, copy_of):
    """An ETHUSDT line is checked against its type's fields like any other."""
    from exchange_sim.analysis.frames import load_run
    from exchange_sim.core.errors import DataError

    run = copy_of(contagion_run)
    seq = first_seq(run, "trade", lambda e: e.get("instrument") == "ETHUSDT")
    lines = read_lines(run)
    event = orjson.loads(lines[seq])
    del event["maker_tag"]
    lines[seq] = orjson.dumps(event) + b"\n"
    write_lines(run, lines)
    with pytest.raises(DataError):
        load_run(run, ("trade",))


def test_report_figures_are_the_first_perpetuals(contagion_run):
    """The report's frames hold only the first perpetual's events (null ``instrument``)."""
    from exchange_sim.analysis.frames import load_run
    from exchange_sim.analysis.report import ReportData

    data = ReportData(load_run(contagion_run, with_skeleton=True))
    assert len(data["trade"]) == len(data.run["trade"].query("instrument.isna()"))
    assert len(data["liquidation_triggered"]) < data.summary["liquidations_triggered"]


def test_report_has_a_line_per_perpetual(contagion_run, tmp_path):
    """The report is written, with a table of each perpetual's key figures: ETHUSDT's from
    summary.json's ``perpetuals`` section, its metrics' liquidations included."""
    import shutil

    from exchange_sim.analysis.report import write_report

    run = shutil.copytree(contagion_run, str(tmp_path / "run"))
    with open(write_report(run), encoding="utf-8") as handle:
        html = handle.read()
    with open(os.path.join(run, "summary.json")) as handle:
        eth = json.load(handle)["perpetuals"]["ETHUSDT"]
    assert "<th>BTCUSDT</th><th>ETHUSDT</th>" in html.replace("\n", "")
    row = html[html.index("<td>liquidations</td>") :].split("</tr>")[0]
    cells = row.split('<td class="num">')
    assert cells[2].startswith(f"{eth['metrics']['liquidations']['count']:,}<")
    fund = html[html.index("<td>insurance fund (end)</td>") :].split("</tr>")[0]
    assert f"{eth['insurance_fund_minor'] / 10**6:,.0f} USDT" in fund


def test_export_carries_the_instrument(contagion_run, tmp_path):
    """The Parquet export of a run with several perpetuals has the ``instrument`` column."""
    import pyarrow.parquet as pq

    from exchange_sim.analysis.export import export_run

    paths = export_run(contagion_run, str(tmp_path / "pq"))
    trade = next(p for p in paths if p.endswith("trade.parquet"))
    assert pq.read_schema(trade).names[-1] == "instrument"


SHARED_FUND = "perpetuals.0.shared_insurance_fund=true"
ETH_CRASH = (
    'perpetuals.0.index.process.points=[{at="0s",price=3000},{at="40s",price=3000},'
    '{at="50s",price=2550},{at="90s",price=2550}]'
)


@pytest.fixture(scope="module")
def shared_fund_run(tmp_path_factory) -> str:
    """The contagion scenario with ETHUSDT drawing on BTCUSDT's insurance fund, ETH flat."""
    return write_run(tmp_path_factory, "contagion_two_markets", *SMALL, SHARED_FUND)


def _eth_fund_movements(run_dir: str) -> list[dict]:
    """The shared fund's movements (logged without ``instrument``) caused by an ETH event."""
    events = [orjson.loads(line) for line in read_lines(run_dir)]
    return [
        e
        for e in events
        if e["type"] == "insurance_fund"
        and "instrument" not in e
        and events[e["cause"]].get("instrument") == "ETHUSDT"
    ]


def test_a_shared_fund_run_replays_consistent(shared_fund_run):
    """ETH's liquidations move the first perpetual's fund: each movement is recomputed by the
    ETH engine that caused it and both perpetuals end holding the one balance."""
    assert _eth_fund_movements(shared_fund_run)
    result = replay(shared_fund_run)
    assert result.status == "consistent", result.divergence or result.damage
    eth = result.state.perpetuals.extra["ETHUSDT"]
    assert eth.fund_balance == result.state.fund_balance


def test_a_shared_fund_run_with_an_eth_crash_replays_consistent(tmp_path_factory):
    """ETH crashes 15 %: its takeover losses and covers are paid from the shared fund."""
    run = write_run(tmp_path_factory, "contagion_two_markets", *SMALL, SHARED_FUND, ETH_CRASH)
    assert any(e["delta"] < 0 for e in _eth_fund_movements(run))
    result = replay(run)
    assert result.status == "consistent", result.divergence or result.damage


def test_the_money_identity_counts_a_shared_fund_once(shared_fund_run):
    """Held equals put in over the venue with the shared fund counted once; summing every
    perpetual's own identity would count its balance and seed twice."""
    st = replay(shared_fund_run).state
    held, put_in = st.perpetuals.money_identity()
    assert held == put_in
    twice_held = sum(one.money_identity()[0] for one in st.perpetuals.all.values())
    assert twice_held == held + st.fund_balance


def test_a_tampered_shared_fund_balance_is_divergent(shared_fund_run, copy_of):
    """A forged balance on a shared-fund line caused by ETH is reported at its seq."""
    run = copy_of(shared_fund_run)
    seq = _eth_fund_movements(run)[0]["seq"]
    forge(run, seq, "balance", lambda balance: balance + 1)
    found = _divergence(run)
    assert found.seq == seq and found.field == "balance"


def test_the_summary_names_the_fund_a_perpetual_shares(shared_fund_run, copy_of):
    """summary.json's ``insurance_fund_shared_with`` is recomputed: a removed one is reported."""
    run = copy_of(shared_fund_run)
    path = os.path.join(run, "summary.json")
    with open(path) as handle:
        summary = json.load(handle)
    del summary["perpetuals"]["ETHUSDT"]["insurance_fund_shared_with"]
    with open(path, "w") as handle:
        json.dump(summary, handle)
    found = _divergence(run)
    assert found.field == "summary.perpetuals.ETHUSDT.insurance_fund_shared_with"


def test_a_sharers_own_fund_seed_is_not_counted(tmp_path_factory):
    """ETH's own ``insurance_fund.initial_balance`` seeds no fund when it shares BTC's: the
    replay starts ETH at the shared fund's seed and the identity still holds."""
    run = write_run(
        tmp_path_factory,
        "contagion_two_markets",
        *SMALL,
        SHARED_FUND,
        "perpetuals.0.liquidation.insurance_fund.initial_balance=1000",
    )
    result = replay(run)
    assert result.status == "consistent", result.divergence or result.damage
