"""Index-mode margin checks agree with a full scan of every account, on a real run."""

from __future__ import annotations

import os

import orjson


def _events(out) -> list[dict]:
    return [orjson.loads(line) for line in (out / "events.jsonl").read_bytes().splitlines()]


def test_index_and_full_scan_find_the_same_accounts_at_every_mark(cli, repo_root, tmp_path):
    """With verify_with_sweep on, every mark update of a crash compares the trigger index with a
    scan of all accounts (the run fails on any difference); the crash liquidates accounts."""
    config = os.path.join(repo_root, "configs", "scenarios", "index_shock.toml")
    out = tmp_path / "run"
    status, _, err = cli("run", config, "--out", str(out), "--set", "risk.verify_with_sweep=true")
    assert status == 0, err
    events = _events(out)
    assert sum(e["type"] == "liquidation_triggered" for e in events) >= 5
    assert sum(e["type"] == "mark_price" for e in events) >= 60


def test_sweep_mode_checks_every_account_with_a_position(cli, repo_root, tmp_path):
    """Sweep mode runs a check for every account with a position at each sweep, and catches the
    same accounts the index catches (the liquidated set is identical with zero check latency)."""
    config = os.path.join(repo_root, "configs", "scenarios", "index_shock.toml")
    index_out, sweep_out = tmp_path / "index", tmp_path / "sweep"
    assert cli("run", config, "--out", str(index_out))[0] == 0
    assert cli("run", config, "--out", str(sweep_out), "--set", 'risk.mode="sweep"')[0] == 0
    index_events = _events(index_out)
    index_liquidated = {
        e["account_id"] for e in index_events if e["type"] == "liquidation_triggered"
    }
    sweep_events = _events(sweep_out)
    sweep_liquidated = {
        e["account_id"] for e in sweep_events if e["type"] == "liquidation_triggered"
    }
    assert index_liquidated and index_liquidated == sweep_liquidated
    sweep_checks = [e for e in sweep_events if e["type"] == "margin_check"]
    index_checks = [e for e in index_events if e["type"] == "margin_check"]
    assert len(sweep_checks) > 10 * len(index_checks)
