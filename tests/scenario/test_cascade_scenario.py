"""configs/scenarios/cascade.toml: a liquidation cascade that emerges from an index crash.

150 leveraged traders (90 % long, 15x to 50x) open in the first 20 s; the index falls 8 % from
t = 40 s to 70 s. The scenario is run once per module through the CLI (small fund as written, and
with a large fund through ``--set``) and the tests read the run directories: ``events.jsonl``,
``summary.json`` and the resolved ``config.toml``.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal

import orjson
import pytest

from exchange_sim.analysis.cascade import build_tree
from exchange_sim.cli import EXIT_OK, main
from tests.conftest import ROOT

SCENARIO = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")
LARGE_FUND_SCENARIO = os.path.join(ROOT, "configs", "scenarios", "cascade_large_fund.toml")
LARGE_FUND = "10000000"  # USDT, as in cascade_large_fund.toml
NS_PER_S = 1_000_000_000
CRASH_START_NS = 40 * NS_PER_S
MIN_LIQUIDATED_ACCOUNTS = 50


class Run:
    """One finished run directory: its events (with an index by ``seq``), summary and config."""

    def __init__(self, directory: str) -> None:
        with open(os.path.join(directory, "events.jsonl"), "rb") as handle:
            self.events = [orjson.loads(line) for line in handle]
        with open(os.path.join(directory, "summary.json"), "rb") as handle:
            self.summary = orjson.loads(handle.read())
        with open(os.path.join(directory, "config.toml"), "rb") as handle:
            self.config = tomllib.load(handle, parse_float=Decimal)
        self.by_seq = {event["seq"]: event for event in self.events}

    def of(self, event_type: str) -> list[dict]:
        return [event for event in self.events if event["type"] == event_type]

    def cause_of(self, event: dict) -> dict | None:
        cause = event["cause"]
        return None if cause is None else self.by_seq[cause]


def _run(directory: str, *overrides: str) -> Run:
    """Run the scenario through the CLI entry point (what the ``cli`` fixture calls; called
    directly here so that one run serves the whole module)."""
    args = ["run", SCENARIO, "--out", directory]
    for override in overrides:
        args += ["--set", override]
    assert main(args) == EXIT_OK
    return Run(directory)


@pytest.fixture(scope="module")
def cascade(tmp_path_factory) -> Run:
    return _run(str(tmp_path_factory.mktemp("cascade") / "run"))


@pytest.fixture(scope="module")
def cascade_large_fund(tmp_path_factory) -> Run:
    return _run(
        str(tmp_path_factory.mktemp("cascade_large_fund") / "run"),
        f"liquidation.insurance_fund.initial_balance={LARGE_FUND}",
    )


def _fund_seed_minor(run: Run) -> int:
    config = run.config
    balance = config["liquidation"]["insurance_fund"]["initial_balance"]
    return int(Decimal(balance) * 10 ** config["instrument"]["money_decimals"])


def test_many_accounts_are_liquidated(cascade):
    """The crash liquidates a crowd, not a few: at least 50 distinct accounts are triggered."""
    accounts = {event["account_id"] for event in cascade.of("liquidation_triggered")}
    assert len(accounts) >= MIN_LIQUIDATED_ACCOUNTS
    assert cascade.summary["liquidations_triggered"] >= MIN_LIQUIDATED_ACCOUNTS


def test_no_liquidation_before_the_crash(cascade):
    """Liquidations are not scripted: none is triggered before the index starts to fall."""
    triggered = cascade.of("liquidation_triggered")
    assert triggered
    assert min(event["ts"] for event in triggered) > CRASH_START_NS


def test_the_scripted_index_move_triggers_every_liquidation(cascade):
    """With the index a scripted path and Binance's rules, every liquidation traces back to the
    index move (root kind ``index_move``) and none to an earlier liquidation: the mark names the
    input that moved it, and here that is the index every time (the shortfall of a scripted
    index that the endogenous flash_crash scenario exists to fix)."""
    summary = build_tree(cascade.events).summary()
    assert summary["liquidations"] >= MIN_LIQUIDATED_ACCOUNTS
    assert summary["roots_by_kind"]["index_move"] == summary["liquidations"]
    assert summary["fed_by_liquidations"] == 0


def test_engine_throughput_builds_a_backlog(cascade):
    """Hand-offs arrive faster than the engine's 10 accounts a second: some account waits in the
    queue longer than the 200 ms processing latency, with others queued behind it."""
    started = cascade.of("liquidation_started")
    processing_latency_ns = 200_000_000
    assert max(event["queue_wait_ns"] for event in started) > processing_latency_ns
    assert max(event["backlog"] for event in started) > 0


def test_insurance_fund_falls_below_its_seed(cascade):
    """The small fund is drawn down: its balance is below the seed at some point."""
    balances = [event["balance"] for event in cascade.of("insurance_fund")]
    assert balances
    assert min(balances) < _fund_seed_minor(cascade)


def test_small_fund_waterfall_reaches_adl(cascade):
    """What the book and the small fund cannot take is auto-deleveraged, against accounts on the
    other side of liquidated positions."""
    assert cascade.of("adl")
    liquidated = {event["account_id"] for event in cascade.of("liquidation_triggered")}
    position: dict[int, int] = {}  # account -> position_lots before the current event
    for event in cascade.events:
        if event["type"] == "position":
            position[event["account_id"]] = event["position_lots"]
        elif event["type"] == "adl":
            assert event["counterparty"] in liquidated
            assert position[event["account"]] * position[event["counterparty"]] < 0


def test_large_fund_absorbs_the_crash_without_adl(cascade_large_fund):
    """With a 10,000,000 USDT fund the same crash takes positions over and deleverages nobody."""
    assert cascade_large_fund.of("liquidation_triggered")
    assert cascade_large_fund.of("takeover")
    assert cascade_large_fund.of("adl") == []


@pytest.mark.parametrize("fixture", ["cascade", "cascade_large_fund"])
def test_money_is_conserved(fixture, request):
    """summary.json: every minor unit held (accounts, fees, fund, less bad debt) equals what was
    deposited plus the fund's seed, and long and short open interest are equal."""
    summary = request.getfixturevalue(fixture).summary
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
    assert summary["open_interest_balanced"] is True


def test_large_fund_scenario_differs_only_by_the_fund():
    """cascade_large_fund.toml is cascade.toml with the fund the large-fund test sets (and its
    own run name), so its run is the one checked above."""

    def read(path: str) -> dict:
        with open(path, "rb") as handle:
            return tomllib.load(handle, parse_float=Decimal)

    small, large = read(SCENARIO), read(LARGE_FUND_SCENARIO)
    assert large["liquidation"]["insurance_fund"]["initial_balance"] == Decimal(LARGE_FUND)
    assert large["run"].pop("name") != small["run"].pop("name")
    del large["liquidation"]["insurance_fund"], small["liquidation"]["insurance_fund"]
    assert large == small
