"""Replay of real runs: every shipped scenario, and runs cut past their crash, is consistent."""

from __future__ import annotations

import glob
import os

import pytest

from exchange_sim.replay.audit import replay

from .conftest import SCENARIOS, write_run

ALL = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(SCENARIOS, "*.toml")))
NAMES = ALL


def assert_consistent(run_dir: str) -> dict:
    result = replay(run_dir)
    assert result.status == "consistent", result.divergence or result.damage
    return result.counts


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_scenario_replays_consistent(name, tmp_path_factory):
    """A short run (8 s) of each shipped scenario replays consistent: books, accounts, summary."""
    counts = assert_consistent(write_run(tmp_path_factory, name, "run.duration=8s"))
    assert counts["run_end"] == 1 and counts["order_accepted"]


def test_cascade_past_its_crash_replays_consistent(cascade_run):
    """The full cascade run (fund takeovers, bad debt, ADL) replays consistent."""
    counts = assert_consistent(cascade_run)
    assert counts["takeover"] and counts["adl"] and counts["insurance_fund"]


def test_vault_run_replays_consistent(vault_run):
    """The vault's takeovers, unwinds and sweeps recompute (cash, PnL, positions)."""
    counts = assert_consistent(vault_run)
    assert counts["vault"] and counts["takeover"]


def test_funding_settlement_replays_consistent(funding_run):
    """Funding rates and every payment recompute from the rebuilt positions."""
    counts = assert_consistent(funding_run)
    assert counts["funding_payment"] and counts["funding_rate"]


def test_flash_crash_in_full_replays_consistent(flash_crash_run):
    """The whole flash crash (the suite's shared run): fund takeovers and their unwinds."""
    counts = assert_consistent(flash_crash_run)
    assert counts["takeover"] and counts["liquidation_fill"]


def test_other_policies_replay_consistent(policy_run):
    """Each close-out policy, margin mode, clawback stage and ADL allocation replays
    consistent (each rule's recomputation is exercised)."""
    assert_consistent(policy_run)
