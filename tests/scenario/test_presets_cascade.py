"""Every venue preset runs the cascade with money conserved after every liquidation step."""

from __future__ import annotations

import json
import os

import pytest

PRESETS = ("binance", "bitmex", "bybit", "okx", "dydx", "hyperliquid")


@pytest.mark.parametrize("preset", PRESETS)
def test_cascade_under_each_preset_conserves_money_at_every_step(cli, repo_root, tmp_path, preset):
    """The crash liquidates accounts under each venue's rules; the money identity holds after
    every liquidation step (run.verify_money) and open interest stays balanced."""
    config = os.path.join(repo_root, "configs", "scenarios", "cascade.toml")
    out = tmp_path / preset
    status, _, err = cli(
        "run",
        config,
        "--out",
        str(out),
        "--set",
        f'venue.preset="{preset}"',
        "--set",
        "run.verify_money=true",
    )
    assert status == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["liquidations_triggered"] > 0
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
    assert summary["open_interest_balanced"]
