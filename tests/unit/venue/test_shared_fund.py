"""One insurance fund shared by several perpetuals (``perpetuals[].shared_insurance_fund``,
exchange_mechanics.md §5.1): one fund object, every engine's fills and covers move its one
balance, and the venue's money identity counts it once."""

from __future__ import annotations

import os

import pytest

import exchange_sim as es
from exchange_sim.events.log import MemoryLog
from exchange_sim.runner.simulate import build_venue

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCENARIO = os.path.join(ROOT, "configs", "scenarios", "contagion_two_markets.toml")
SMALL = (
    "run.duration=75s",
    "run.check=every-event",
    "participants.btc_longs.count=40",
    "participants.eth_longs.count=40",
)
SHARED = "perpetuals.0.shared_insurance_fund=true"
ETH_CRASH = (
    'perpetuals.0.index.process.points=[{at="0s",price=3000},{at="40s",price=3000},'
    '{at="50s",price=2550},{at="90s",price=2550}]'
)


def _run(*overrides: str):
    venue = build_venue(es.load_config(SCENARIO, (*SMALL, *overrides)), MemoryLog())
    venue.run("test")  # run.check = every-event: the money identity after every event
    return venue


@pytest.fixture(scope="module")
def separate():
    return _run()


@pytest.fixture(scope="module")
def shared():
    return _run(SHARED)


def _funds(venue):
    return [i.liquidation.fund for i in venue.perpetuals.all.values()]


def test_by_default_each_perpetual_has_its_own_fund(separate):
    """Without the option BTC and ETH keep a fund each."""
    btc_fund, eth_fund = _funds(separate)
    assert btc_fund is not eth_fund


def test_a_shared_fund_is_one_object_for_every_engine(shared):
    """With the option ETH's engine draws on the first perpetual's fund object."""
    btc_fund, eth_fund = _funds(shared)
    assert btc_fund is eth_fund


def test_eth_and_btc_liquidations_move_the_same_balance(separate, shared):
    """The shared fund ends at its seed plus BTC's change plus ETH's change of the same run with
    a fund each (the fund decides nothing here, so both runs liquidate alike): ETH's results
    land in the balance that BTC's losses drain."""
    btc_fund, eth_fund = _funds(separate)
    btc_change = btc_fund.balance - btc_fund.initial_balance
    eth_change = eth_fund.balance - eth_fund.initial_balance
    assert btc_change < 0 and eth_change != 0
    fund = _funds(shared)[0]
    assert fund.balance == fund.initial_balance + btc_change + eth_change
    assert len(fund.history) == len(btc_fund.history) + len(eth_fund.history)


def test_the_venue_money_identity_counts_a_shared_fund_once(shared):
    """Held equals put in at the end (and, by ``run.check``, after every event); the shared
    fund's seed is counted once in ``put_in``."""
    held, put_in = shared.money_identity()
    assert held == put_in
    _others_held, others_in = shared.perpetuals.money_identity()
    eth = shared.perpetuals.extra["ETHUSDT"]
    ledger = eth.ledger
    assert others_in == (
        ledger.total_deposits - ledger.total_withdrawals + ledger.collateral.desk_paid
    )


def test_eth_liquidation_losses_reduce_the_balance_btc_pays_into():
    """ETH crashes too (15 %): its liquidations lose money to its fund; with one shared fund
    those losses come out of the balance BTC's liquidations also draw on (BTC's change plus
    ETH's loss of the runs with a fund each; the identity held at every event in both)."""
    separate = _run(ETH_CRASH)
    btc_fund, eth_fund = _funds(separate)
    eth_change = eth_fund.balance - eth_fund.initial_balance
    btc_change = btc_fund.balance - btc_fund.initial_balance
    assert eth_change < 0 and btc_change != 0
    fund = _funds(_run(ETH_CRASH, SHARED))[0]
    assert fund.balance - fund.initial_balance == btc_change + eth_change < 0


def test_the_summary_says_which_fund_a_perpetual_shares(separate, shared):
    """``summary.json``'s perpetual section names the perpetual whose fund it draws on, and says
    nothing when the fund is its own."""
    assert shared.perpetuals.results()["perpetuals"]["ETHUSDT"]["insurance_fund_shared_with"] == (
        "BTCUSDT"
    )
    assert (
        "insurance_fund_shared_with" not in separate.perpetuals.results()["perpetuals"]["ETHUSDT"]
    )
