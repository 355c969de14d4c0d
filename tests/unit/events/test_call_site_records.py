"""The lines the hot call sites build as one dict display (``EventLog.emit_record``) carry every
declared field, in declaration order: a call site that drops or swaps a key fails here."""

from __future__ import annotations

import pytest

import exchange_sim
from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.core.ids import IdSource
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import PhasedEnvironment
from exchange_sim.liquidation.config import LiquidationConfig, MarketPolicyConfig
from exchange_sim.markets.config import SpotMarketConfig
from exchange_sim.venue.spot_market import SpotMarket
from tests.record_shape import misshapen
from tests.scenario.liquidation_harness import S, Venue

RUNS = {
    # spot books, the fundamental price, makers and a crowd: the spot ledger's and the
    # perpetual's lines
    "flash_crash": ("run.duration=10s",),
    # a second perpetual: its lines carry ``instrument`` (InstrumentLog.emit_record)
    "contagion_two_markets": ("run.duration=20s",),
    # margin checks and calls, liquidations (orders, fills, takeovers), the insurance fund
    "cascade": ("run.duration=70s",),
}
WRITTEN_BY_RECORD = {
    "account_opened",
    "cancel_rejected",
    "deposit",
    "fundamental_price",
    "index_price",
    "insurance_fund",
    "liquidation_fill",
    "liquidation_finished",
    "liquidation_order",
    "liquidation_started",
    "liquidation_triggered",
    "margin_call",
    "margin_check",
    "mark_price",
    "order_accepted",
    "order_cancelled",
    "order_expired",
    "order_rejected",
    "position",
    "spot_account_opened",
    "spot_deposit",
    "spot_fill",
    "takeover",
    "trade",
}


@pytest.fixture(scope="module")
def run_events() -> dict[str, list[dict]]:
    return {
        name: exchange_sim.run(
            f"configs/scenarios/{name}.toml", overrides=overrides, keep_events=True
        ).events
        for name, overrides in RUNS.items()
    }


@pytest.mark.parametrize("name", sorted(RUNS))
def test_every_line_of_a_run_has_its_declared_keys_in_order(run_events, name):
    """Every line of a short run: the common four, ``instrument`` if any, then exactly the
    declared fields of its type in declaration order."""
    assert misshapen(run_events[name]) == []


def test_the_runs_reach_every_type_written_by_record(run_events):
    """Between them the runs write every type the engine, ledgers, index, fundamental, mark,
    risk monitor and liquidation build at the call site (so the check above covers each of those
    call sites; bad debt below), and the second perpetual's lines carry ``instrument``."""
    written = {event["type"] for events in run_events.values() for event in events}
    assert written >= WRITTEN_BY_RECORD
    assert any("instrument" in e for e in run_events["contagion_two_markets"])


def test_ledger_deposits_and_withdrawals_have_their_declared_keys_in_order():
    """The perpetual ledger's account, deposit, withdrawal and rejected-withdrawal lines."""
    tiers = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
    log = MemoryLog()
    ledger = Ledger(log, 1, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    ledger.open_account(1)
    ledger.announce_accounts(0)
    ledger.deposit(1, 1, 1_000, None)
    ledger.withdraw(2, 1, 400, None)
    ledger.withdraw(3, 1, 10**9, None)
    types = [e["type"] for e in log.events]
    assert types == ["account_opened", "deposit", "withdrawal", "withdrawal_rejected"]
    assert misshapen(log.events) == []


def test_spot_ledger_lines_have_their_declared_keys_in_order():
    """The spot ledger's account, deposit, withdrawal and rejected lines."""
    log = MemoryLog()
    config = SpotMarketConfig(name="spot", maker_fee_ppb=0, taker_fee_ppb=0)
    ledger = SpotMarket(PhasedEnvironment(), log, config, 10, IdSource()).ledger
    ledger.open_account(1)
    ledger.announce_accounts(0)
    ledger.deposit(1, 1, 1_000, None)
    ledger.deposit(2, 1, 0, None)
    ledger.withdraw(3, 1, 400, None)
    ledger.withdraw(4, 1, 10**9, None)
    types = [e["type"] for e in log.events]
    assert types == [
        "spot_account_opened",
        "spot_deposit",
        "deposit_rejected",
        "spot_withdrawal",
        "withdrawal_rejected",
    ]
    assert misshapen(log.events) == []


def test_bad_debt_lines_have_their_declared_keys_in_order():
    """The liquidation's bad-debt and bad-debt-covered lines (a deficit socialised): the fund
    of 101 covers part of a 400 deficit, the rest is clawed back (as in the waterfall tests)."""
    config = LiquidationConfig(
        policy=MarketPolicyConfig(), max_retries=0, waterfall=("book", "fund", "socialise")
    )
    venue = Venue(config, fund=101)
    venue.account(10, 600)
    venue.account(11, 10_000)
    venue.pair(10, 11, 10, 1_000)
    venue.quote(1, 900, 1_000)
    venue.index_at(0, 945)
    venue.run(S)
    assert venue.events("bad_debt") and venue.events("bad_debt_covered")
    assert misshapen(venue.log.events) == []
