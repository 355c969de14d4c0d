"""The ADL profile (exchange_sim.analysis.adl_profile) and tools/adl_profile.py.

Hand-made logs (written with the metrics tests' :class:`Script`, so every event has exactly the
logged fields) pin the arithmetic: the onset delay, the per-second correlation and its lags, the
order within shared seconds, the notional ratio, the leverage buckets' boundaries, the 70 % core.
A real run (the cascade scenario under the Hyperliquid preset, with a vault small enough that the
crash reaches ADL) checks the profile end to end and that the new ``adl`` fields say what the
position events and the mark say.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import tomllib
from decimal import Decimal

import pytest

from exchange_sim.analysis.adl_profile import (
    AdlProfile,
    comparison,
    lagged_correlation,
    leverage_bucket,
    profile,
    profile_run_dir,
)
from exchange_sim.analysis.metrics import scale_from_config
from exchange_sim.analysis.metrics_accounts import Accounts
from exchange_sim.core.errors import DataError
from exchange_sim.events.reader import iter_log
from tests.unit.analysis.conftest import ROOT
from tests.unit.analysis.test_metrics_script import MS, SCALE, S, Script

M = SCALE.money_per_tick_lot  # 5 minor units per tick and lot


def run_profile(script: Script) -> dict:
    return profile(iter(script.events), SCALE)


def adl_for(script: Script, ts: int, account: int, counterparty: int, size: int = 1, **kw) -> int:
    """An ADL against ``counterparty`` whose cause chain reaches that account's trigger."""
    trigger = script.trigger(ts, counterparty, 1, 100)
    return script.adl(ts, account, counterparty, size, 100, cause=trigger, **kw)


@pytest.fixture(scope="module")
def hyperliquid_runs(tmp_path_factory) -> list[str]:
    """Two seeds of configs/scenarios/cascade.toml under the Hyperliquid preset with a 20,000 USDT
    vault: the crash outgrows the vault and reaches ADL."""
    from exchange_sim import run

    config = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")
    dirs = []
    for seed in (1, 2):
        out = str(tmp_path_factory.mktemp("adlprofile") / f"hl{seed}")
        run(
            config,
            seed=seed,
            overrides=[
                "venue.preset=hyperliquid",
                "liquidation.vault.capital=20000",
                "participants.longs.leverages=[15, 20, 25, 30, 35, 40]",  # the cap is 40x
            ],
            out=out,
        )
        dirs.append(out)
    return dirs


def _tool():
    spec = importlib.util.spec_from_file_location(
        "adl_profile_tool", os.path.join(ROOT, "tools", "adl_profile.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- onset ---------------------------------------------------------------------------------------
def test_delay_is_first_adl_minus_first_liquidation_fill():
    """The first liquidation is the first forced fill (not the trigger before it); the delay runs
    from it to the first ADL."""
    script = Script()
    script.trigger(2500 * MS, 1, 4, 100)
    script.liq_fill(3 * S, 1, "slice", 100, 1)
    script.liq_fill(10 * S, 1, "slice", 100, 1)
    adl_for(script, 62_400 * MS, 20, 2)
    result = run_profile(script)
    assert result["first_trigger_s"] == 2.5
    assert (result["first_liquidation_s"], result["first_adl_s"]) == (3.0, 62.4)
    assert result["delay_s"] == pytest.approx(59.4, abs=1e-12)


def test_liquidations_before_the_first_adl_count_only_earlier_forced_fills():
    """Fills and takeovers logged before the first ADL count; the ADL's own twin and anything
    after it do not."""
    script = Script()
    script.liq_fill(S, 1, "slice", 100, 1)
    script.takeover(2 * S, 1, "vault", 9, 3, 100)
    adl_for(script, 2 * S, 20, 3)
    script.liq_fill(2 * S, 4, "slice", 100, 1)
    assert run_profile(script)["liquidations_before_first_adl"] == 2


def test_holder_unwinds_are_not_liquidations():
    """A fund or vault selling what it took over is not a liquidated account's fill."""
    script = Script()
    script.liq_fill(S, 1, "slice", 100, 2)
    script.liq_fill(S, 9, "vault_unwind", 100, 5)
    script.liq_fill(S, 8, "fund_unwind", 100, 5)
    result = run_profile(script)
    assert result["liquidations"] == 1
    assert result["liquidation_notional"] == 2 * 100 * M / 100  # minor units -> 2 decimals


# -- notional ratio ------------------------------------------------------------------------------
def test_adl_notional_over_liquidation_notional_counts_the_adl_twin_once_on_each_side():
    """Book fill 4 lots, takeover 2 lots, ADL 3 lots, all at 100: ADL 3 / liquidations (4 + 2 +
    the ADL's liquidated twin 3) = 1/3."""
    script = Script()
    script.liq_fill(S, 1, "slice", 100, 4)
    script.takeover(S, 2, "vault", 9, -2, 100)
    adl_for(script, S, 20, 3, size=3)
    result = run_profile(script)
    assert result["liquidations"] == 3
    assert result["adl_to_liquidation_notional"] == pytest.approx(1 / 3, rel=1e-15)


# -- per-second series ---------------------------------------------------------------------------
def _per_second_log() -> Script:
    """Seconds 10, 11, 12: liquidations 1, 1, 2 (twins included) and ADLs 0, 1, 2."""
    script = Script()
    script.liq_fill(10 * S, 1, "slice", 100, 1)
    adl_for(script, 11 * S, 20, 2)
    adl_for(script, 12 * S, 21, 3)
    adl_for(script, 12 * S + 500 * MS, 22, 4)
    return script


def test_correlation_at_lag_zero_matches_the_hand_computation():
    """L = (1, 1, 2), A = (0, 1, 2): covariance 1, variances 2/3 and 2, r = sqrt(3)/2."""
    correlation = run_profile(_per_second_log())["correlation"]
    assert correlation["lag_0"] == pytest.approx(math.sqrt(3) / 2, rel=1e-12)


def test_lags_pair_liquidations_with_adls_that_many_seconds_later():
    """Lag -1 pairs L(11, 12) = (1, 2) with A(10, 11) = (0, 1): r = 1; lag +1 pairs the constant
    L(10, 11) = (1, 1) with later ADLs: undefined."""
    correlation = run_profile(_per_second_log())["correlation"]
    assert correlation["lag_-1"] == pytest.approx(1.0, rel=1e-12)
    assert correlation["lag_1"] is None


def test_a_positive_lag_means_the_adls_come_later():
    """ADLs that copy the liquidations one second later correlate perfectly at lag +1 only."""
    liquidations, adls = {0: 1, 1: 5, 2: 2}, {1: 1, 2: 5, 3: 2}
    assert lagged_correlation(liquidations, adls, 1, 0, 3) == pytest.approx(1.0, rel=1e-12)
    assert lagged_correlation(liquidations, adls, -1, 0, 3) < 0.5


def test_quiet_seconds_count_in_every_second_series_but_not_the_active_one():
    """Second 12 has no event: the every-second series holds it as zeros, the published method
    (seconds with events) leaves it out. Every second 10..13: L = (2, 1, 0, 3), A = (0, 1, 0, 2),
    r = 10 / sqrt(220); seconds with events 10, 11, 13: L = (2, 1, 3), A = (0, 1, 2), r = 1/2."""
    script = Script()
    script.liq_fill(10 * S, 1, "slice", 100, 1)
    script.liq_fill(10 * S, 1, "slice", 100, 1)
    adl_for(script, 11 * S, 20, 2)
    script.liq_fill(13 * S, 5, "slice", 100, 1)
    adl_for(script, 13 * S, 21, 3)
    adl_for(script, 13 * S, 22, 4)
    correlation = run_profile(script)["correlation"]
    assert (correlation["seconds"], correlation["active_seconds"]) == (4, 3)
    assert correlation["lag_0"] == pytest.approx(10 / math.sqrt(220), rel=1e-12)
    assert correlation["active_lag_0"] == pytest.approx(0.5, rel=1e-12)


# -- order within shared seconds ------------------------------------------------------------------
def test_an_adl_not_traced_to_its_counterpartys_liquidation_breaks_its_second():
    """Second 1: the ADL's causes reach its counterparty's trigger. Second 2: one ADL has no
    cause; second 3: one's chain reaches another account's trigger. Causal share 1/3."""
    script = Script()
    adl_for(script, S, 20, 2)
    adl_for(script, 2 * S, 21, 3)
    script.adl(2 * S, 22, 4, 1, 100)
    other = script.trigger(3 * S, 5, 1, 100)
    script.adl(3 * S, 23, 6, 1, 100, cause=other)
    result = run_profile(script)
    assert result["shared_seconds"] == 3
    assert result["order_causal_share"] == pytest.approx(1 / 3)


def test_a_liquidation_after_an_adl_in_its_second_breaks_the_batch_order():
    """Second 1: fill, then ADL (ordered). Second 2: ADL, then a fill (interleaved). Share 1/2."""
    script = Script()
    script.liq_fill(S, 1, "slice", 100, 1)
    adl_for(script, S + 1, 20, 2)
    adl_for(script, 2 * S, 21, 3)
    script.liq_fill(2 * S + 1, 4, "slice", 100, 1)
    assert run_profile(script)["order_batch_share"] == 0.5


# -- who was deleveraged --------------------------------------------------------------------------
def test_leverage_buckets_include_their_upper_bound():
    """Notional / equity exactly 1, 3, 5, 10 fall in the lower bucket; a minor unit more does not;
    equity <= 0 is unbounded leverage."""
    cases = [
        (100, 100, "0-1x"),
        (101, 100, "1-3x"),
        (300, 100, "1-3x"),
        (301, 100, "3-5x"),
        (500, 100, "3-5x"),
        (501, 100, "5-10x"),
        (1000, 100, "5-10x"),
        (1001, 100, ">10x"),
        (1, 0, ">10x"),
        (1, -5, ">10x"),
    ]
    assert [leverage_bucket(n, e) for n, e, _ in cases] == [bucket for *_, bucket in cases]


def test_leverage_of_an_adl_is_position_notional_at_its_mark_over_equity():
    """Position 10 lots at mark 100 (5,000 minor) over equity 5,000 / 4,999 / 500: 1x, just over
    1x, 10x; the median is 1.0002x."""
    script = Script()
    for account, equity in ((20, 5000), (21, 4999), (22, 500)):
        adl_for(
            script, S, account, account + 10, position=-10, entry=6000, upnl=1000, equity=equity
        )
    deleveraged = run_profile(script)["deleveraged"]
    assert deleveraged["leverage_counts"] == {
        "0-1x": 1,
        "1-3x": 1,
        "3-5x": 0,
        "5-10x": 1,
        ">10x": 0,
    }
    assert deleveraged["leverage"]["0-1x"] == pytest.approx(1 / 3)
    assert deleveraged["median_leverage"] == pytest.approx(5000 / 4999, rel=1e-12)


def test_profitable_share_reads_the_ranked_upnl_and_the_closed_share_the_close():
    """uPnL +1, 0, -1 at ranking: one in three in profit. The deleveraged account's own position
    event (after the bankrupt side's) gives the realised PnL of the close: two of three > 0."""
    script = Script()
    for account, upnl, realised in ((20, 1, 5), (21, 0, 3), (22, -1, -2)):
        seq = adl_for(script, S, account, account + 10, position=-1, entry=500, upnl=upnl)
        script.position(S, account + 10, -1, 100, 1, position=0, entry=0, wallet=0, cause=seq)
        script.position(
            S, account, 1, 100, 1, position=0, entry=0, wallet=0, realised=realised, cause=seq
        )
    deleveraged = run_profile(script)["deleveraged"]
    assert deleveraged["profitable_share"] == pytest.approx(1 / 3)
    assert deleveraged["closed_profit_share"] == pytest.approx(2 / 3)


def test_median_upnl_fraction_is_over_entry_notional_per_adl():
    """uPnL / entry of 50/100, 10/100, 20/100 over three ADLs (equity 1,000 each): median 0.2."""
    script = Script()
    for account, upnl in ((20, 50), (21, 10), (22, 20)):
        adl_for(script, S, account, account + 10, position=-1, entry=100, upnl=upnl, equity=1000)
    assert run_profile(script)["deleveraged"]["median_upnl_fraction"] == pytest.approx(0.2)


def test_equity_over_upnl_takes_each_winning_account_at_its_first_adl():
    """Account 20 at its first ADL 400/100 (its second, 100/100, is ignored), account 21 300/100,
    account 22 has no profit and is left out: median of 4 and 3 is 3.5 over two accounts."""
    script = Script()
    adl_for(script, S, 20, 30, position=-5, entry=500, upnl=100, equity=400)
    adl_for(script, 2 * S, 20, 31, position=-4, entry=400, upnl=100, equity=100)
    adl_for(script, S, 21, 32, position=-5, entry=500, upnl=100, equity=300)
    adl_for(script, S, 22, 33, position=-5, entry=500, upnl=-10, equity=300)
    deleveraged = run_profile(script)["deleveraged"]
    assert (deleveraged["fills"], deleveraged["accounts"]) == (4, 3)
    assert deleveraged["equity_over_upnl_median"] == 3.5
    assert deleveraged["equity_over_upnl_accounts"] == 2


# -- duration -----------------------------------------------------------------------------------
def test_core_window_is_the_shortest_span_holding_seventy_percent_of_notional():
    """Fills at 0, 10, 11, 12, 50 s with notional shares 10, 30, 20, 20, 20 %: 10-12 s holds
    exactly 70 % (enough) in 2 s; the whole cascade lasts 50 s."""
    script = Script()
    for second, lots in ((0, 1), (10, 3), (11, 2), (12, 2), (50, 2)):
        script.liq_fill(second * S, 1, "slice", 100, lots)
    cascade = run_profile(script)["cascade"]
    assert cascade["first_to_last_liquidation_s"] == 50.0
    assert (cascade["core_window_start_s"], cascade["core_window_end_s"]) == (10.0, 12.0)
    assert cascade["core_window_s"] == 2.0
    assert cascade["core_window_share"] == pytest.approx(0.7)


def test_a_run_without_adl_leaves_the_adl_figures_undefined():
    """Liquidations but no ADL: delay, ratio's numerator, correlations and shares are None or 0,
    and nothing divides by zero."""
    script = Script()
    script.liq_fill(S, 1, "slice", 100, 1)
    result = run_profile(script)
    assert (result["first_adl_s"], result["delay_s"]) == (None, None)
    assert result["liquidations_before_first_adl"] is None
    assert result["correlation"]["lag_0"] is None
    assert result["order_causal_share"] is None
    assert result["adl_to_liquidation_notional"] == 0.0
    assert result["deleveraged"]["median_leverage"] is None


# -- bad input ----------------------------------------------------------------------------------
def test_a_malformed_event_is_a_data_error_naming_the_line():
    """An adl without the ranked position (a log from before it was logged) names its line."""
    script = Script()
    seq = adl_for(script, S, 20, 2)
    del script.events[seq]["equity"]
    with pytest.raises(DataError, match=r"log:2: .*'equity'.*rerun"):
        profile(iter(script.events), SCALE, "log")


def test_a_cause_that_is_not_an_earlier_event_is_refused():
    """A cause pointing forward cannot be followed."""
    collector = AdlProfile(SCALE)
    collector.add({"seq": 0, "ts": 0, "type": "index_price", "cause": None})
    with pytest.raises(ValueError, match="earlier seq"):
        collector.add({"seq": 1, "ts": 0, "type": "mark_price", "cause": 5})


# -- a real run ---------------------------------------------------------------------------------
def test_adl_events_state_the_position_the_replay_of_the_log_gives(hyperliquid_runs):
    """Each adl's position, entry, mark, uPnL and equity equal the account's state replayed from
    the position, collateral and mark events before it (metrics_accounts)."""
    for run_dir in hyperliquid_runs:
        with open(os.path.join(run_dir, "config.toml"), "rb") as handle:
            m = scale_from_config(tomllib.load(handle, parse_float=Decimal)).money_per_tick_lot
        accounts = Accounts(m)
        handlers = accounts.handlers()
        seen = 0
        for event in iter_log(os.path.join(run_dir, "events.jsonl")):
            if event["type"] == "adl":
                state = accounts.state(accounts.touch(event["account"]))
                upnl = state.unrealised(accounts.mark, m)
                collateral = state.iso if state.isolated else state.wallet
                assert (
                    event["position_lots"],
                    event["entry_notional"],
                    event["mark_price"],
                    event["unrealised_pnl"],
                    event["equity"],
                ) == (state.position, state.entry, accounts.mark, upnl, collateral + upnl)
                seen += 1
            handler = handlers.get(event["type"])
            if handler is not None:
                handler(event)
        assert seen > 0


def test_a_hyperliquid_crash_profile_is_complete_and_causally_ordered(hyperliquid_runs):
    """The real run reaches ADL after its first liquidation; every ADL traces to its
    counterparty's liquidation; the ratio is a share; buckets cover every ADL."""
    result = profile_run_dir(hyperliquid_runs[0])
    assert result["adls"] > 0
    assert result["delay_s"] > 0 and result["liquidations_before_first_adl"] > 0
    assert result["order_causal_share"] == 1.0
    assert 0 < result["adl_to_liquidation_notional"] <= 1
    assert result["correlation"]["lag_0"] is not None
    deleveraged = result["deleveraged"]
    assert sum(deleveraged["leverage_counts"].values()) == deleveraged["fills"] == result["adls"]
    assert deleveraged["profitable_share"] == 1.0  # the Hyperliquid ranking admits winners only
    cascade = result["cascade"]
    assert 0 < cascade["core_window_s"] <= cascade["first_to_last_liquidation_s"]


def test_the_profile_is_deterministic(hyperliquid_runs):
    """Reading the same log twice gives the same JSON, byte for byte."""
    first = json.dumps(profile_run_dir(hyperliquid_runs[0]), sort_keys=True)
    assert json.dumps(profile_run_dir(hyperliquid_runs[0]), sort_keys=True) == first


# -- comparison and the tool ------------------------------------------------------------------
def test_comparison_rows_carry_each_run_their_median_and_the_published_figure():
    """Two runs: each row holds both values, their median and the published value and source."""
    rows = comparison([{"delay_s": 4.0}, {"delay_s": 6.0}])
    (row,) = [r for r in rows if r["key"] == "delay_s"]
    assert (row["runs"], row["median"], row["published"]) == ([4.0, 6.0], 5.0, 61)
    assert row["source"].startswith("market_events.md §1.7")


def test_the_tool_prints_one_row_per_figure_with_a_median_for_several_runs(
    hyperliquid_runs, tmp_path, capsys
):
    """Two seeds: a median column, every published measure, and --json with both profiles."""
    out = tmp_path / "profile.json"
    assert _tool().main([*hyperliquid_runs, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "median" in printed.splitlines()[0] and "(seed 2)" in printed.splitlines()[0]
    for row in comparison([{}]):
        assert row["measure"] in printed
    document = json.loads(out.read_text())
    assert [run["run_dir"] for run in document["runs"]] == hyperliquid_runs


@pytest.mark.parametrize("problem", ["missing", "truncated"])
def test_bad_input_is_one_line_naming_the_path_and_status_2(hyperliquid_runs, tmp_path, problem):
    """A missing directory or a cut log: one line on stderr naming the path, exit 2, no
    traceback (run as a script, as a user would)."""
    target = tmp_path / "run"
    if problem == "truncated":
        target.mkdir()
        with open(os.path.join(hyperliquid_runs[0], "events.jsonl"), "rb") as handle:
            (target / "events.jsonl").write_bytes(handle.read(5000))
        with open(os.path.join(hyperliquid_runs[0], "config.toml"), "rb") as handle:
            (target / "config.toml").write_bytes(handle.read())
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tools", "adl_profile.py"), str(target)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert str(target) in line and "Traceback" not in result.stderr
