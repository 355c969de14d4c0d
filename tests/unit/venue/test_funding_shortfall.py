"""A delayed funding payment that leaves a flat account below zero (docs/mechanics.md, funding):
written off as bad debt, unless the account's collateral assets cover the wallet."""

from __future__ import annotations

import os

import exchange_sim as es
from exchange_sim.events.log import MemoryLog
from exchange_sim.runner.simulate import build_venue

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
SCENARIO = os.path.join(ROOT, "configs", "scenarios", "collateral_depeg.toml")


def _venue():
    venue = build_venue(es.load_config(SCENARIO), MemoryLog())
    first, second = venue.group_accounts["usde_longs"][1][:2]
    return venue, venue.ledger.accounts[first], venue.ledger.accounts[second]


def _bad_debt(venue) -> int:
    assert venue.liquidation is not None
    return venue.liquidation.accounting.bad_debt_total


def test_a_flat_account_left_negative_by_funding_is_written_off():
    """No collateral: the 50 USDT the payment took beyond the wallet is bad debt."""
    venue, _with_collateral, plain = _venue()
    venue.ledger.adjust_collateral(0, plain.account_id, -50_000_000, None)
    venue.instrument._funding_shortfall(0, plain, 0, 500_000)
    assert _bad_debt(venue) == 50_000_000


def test_collateral_covering_the_wallet_keeps_it():
    """1,000 USDE (900 USDT after the haircut) backs a wallet of -50 USDT: nothing is written
    off; past what the collateral covers (-950 USDT), the whole deficit is."""
    venue, holder, _plain = _venue()
    venue.ledger.deposit(0, holder.account_id, 1_000_000_000, None, asset="USDE")
    venue.ledger.adjust_collateral(0, holder.account_id, -50_000_000, None)
    venue.instrument._funding_shortfall(0, holder, 0, 500_000)
    assert _bad_debt(venue) == 0
    venue.ledger.adjust_collateral(0, holder.account_id, -900_000_000, None)
    venue.instrument._funding_shortfall(0, holder, 0, 500_000)
    assert _bad_debt(venue) == 950_000_000
