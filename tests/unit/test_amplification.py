"""Amplification as a counterfactual: the run again without forced closures, same seed."""

from __future__ import annotations

import os

import orjson
import pytest

import exchange_sim as es
from exchange_sim.core.errors import InputError
from exchange_sim.runner.counterfactual import amplification

CASCADE = ("run.duration=80s", "run.amplification=true")


def _scenario(repo_root: str, name: str) -> str:
    return os.path.join(repo_root, "configs", "scenarios", f"{name}.toml")


def _summary(index: float, mark: float, last: float, accounts: int = 0) -> dict:
    def series(fraction: float) -> dict:
        return {"max_drawdown": {"fraction": fraction}}

    return {
        "log_digest_sha256": "d",
        "liquidations_triggered": 3,
        "accounts_past_maintenance_left": accounts,
        "metrics": {
            "prices": {"index": series(index), "mark": series(mark), "last_trade": series(last)},
            "cascade": {"deepest_generation": 2},
        },
    }


def test_ratio_is_drawdown_with_over_without():
    """perp = last traded price, mark, index: each drawdown with forced closures over the
    baseline's; the baseline's left accounts are reported."""
    result = amplification(_summary(0.04, 0.06, 0.09), _summary(0.04, 0.03, 0.03, accounts=7))
    assert result["perp"] == {"drawdown": 0.09, "baseline_drawdown": 0.03, "ratio": 3.0}
    assert result["mark"]["ratio"] == 2.0
    assert result["index"]["ratio"] == 1.0
    assert result["baseline_accounts_past_maintenance"] == 7
    assert (result["liquidations"], result["deepest_generation"]) == (3, 2)


def test_each_other_perpetual_has_its_own_ratios():
    """With several perpetuals each other perpetual's drawdowns are compared with its own
    baseline's (``perpetuals.<symbol>``), not the first's."""
    run, baseline = _summary(0.04, 0.06, 0.09), _summary(0.04, 0.03, 0.03)
    run["perpetuals"] = {"ALTUSDT": {"metrics": _summary(0.02, 0.10, 0.12)["metrics"]}}
    baseline["perpetuals"] = {"ALTUSDT": {"metrics": _summary(0.02, 0.05, 0.03)["metrics"]}}
    alt = amplification(run, baseline)["perpetuals"]["ALTUSDT"]
    assert alt["perp"] == {"drawdown": 0.12, "baseline_drawdown": 0.03, "ratio": 4.0}
    assert alt["mark"]["ratio"] == 2.0 and alt["index"]["ratio"] == 1.0


def test_ratio_is_none_when_the_baseline_never_fell():
    """A baseline drawdown of 0 gives no ratio (not a division by zero)."""
    result = amplification(_summary(0.01, 0.01, 0.01), _summary(0.0, 0.0, 0.0))
    assert result["perp"]["ratio"] is None


def test_amplification_needs_forced_closures_in_the_run(repo_root):
    """A run whose own forced closures are off has no counterfactual: rejected before running,
    naming the key."""
    with pytest.raises(InputError) as caught:
        es.run(
            _scenario(repo_root, "quickstart"),
            overrides=["run.amplification=true", "risk.forced_closures=false"],
        )
    assert "run.amplification" in str(caught.value)


def test_run_directory_holds_the_baseline_and_the_summary_compares_them(tmp_path, repo_root):
    """The baseline is written to ``baseline/`` (forced closures off, amplification off, same
    seed); the run's summary compares the two drawdowns, and the in-memory API gives the same."""
    path = _scenario(repo_root, "cascade")
    on_disk = es.run(path, seed=3, overrides=CASCADE, out=tmp_path / "r")
    baseline_dir = tmp_path / "r" / "baseline"
    assert sorted(os.listdir(baseline_dir)) == ["config.toml", "events.jsonl", "summary.json"]
    baseline = orjson.loads((baseline_dir / "summary.json").read_bytes())
    assert baseline["seed"] == 3 and "amplification" not in baseline
    assert baseline["liquidations_triggered"] == 0
    config = (baseline_dir / "config.toml").read_text()
    assert "forced_closures = false" in config and "amplification = false" in config
    amp = on_disk.summary["amplification"]
    assert amp["baseline_log_digest_sha256"] == baseline["log_digest_sha256"]
    assert amp["baseline_accounts_past_maintenance"] == baseline["accounts_past_maintenance_left"]
    assert amp["baseline_accounts_past_maintenance"] > 0
    last = baseline["metrics"]["prices"]["last_trade"]["max_drawdown"]["fraction"]
    assert amp["perp"]["baseline_drawdown"] == last
    in_memory = es.run(path, seed=3, overrides=CASCADE)
    assert in_memory.summary["amplification"] == amp


def test_without_liquidations_the_baseline_repeats_the_run(repo_root):
    """Common random numbers: when no account reaches maintenance the baseline is the same
    market, so every drawdown ratio is exactly 1 and the event counts agree."""
    result = es.run(
        _scenario(repo_root, "quickstart"),
        overrides=["run.duration=20s", "run.amplification=true"],
    )
    amp = result.summary["amplification"]
    assert result.summary["liquidations_triggered"] == 0
    assert [amp[name]["ratio"] for name in ("perp", "mark", "index")] == [1.0, 1.0, 1.0]
