"""``exchange-sim redrive``: the recorded order flow through a fresh venue without participants."""

from __future__ import annotations

import os

import orjson

from exchange_sim.replay.audit import replay
from exchange_sim.replay.redrive import redrive

from .conftest import read_lines


def test_redrive_without_overrides_reproduces_the_log(cascade_run, tmp_path):
    """No overrides: the new log is the original byte for byte after the header line."""
    result = redrive(cascade_run, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"
    assert read_lines(result.directory)[1:] == read_lines(cascade_run)[1:]


def test_redrive_reproduces_spot_markets_and_decisions(vault_run, tmp_path):
    """The Hyperliquid cascade (vault takeovers and unwinds) re-drives identically."""
    result = redrive(vault_run, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"


def test_redrive_reproduces_other_policies(policy_run, tmp_path):
    """Every close-out policy (the desk's own resting orders and their cancels included),
    margin mode and waterfall re-drives identically."""
    result = redrive(policy_run, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"


def test_counterfactual_conserves_money_and_replays(cascade_run, tmp_path):
    """Another ADL ranking: a new run directory that conserves money and replays consistent;
    config.toml and redrive.json say it is a re-drive of the run, with its override."""
    out = str(tmp_path / "bitmex")
    result = redrive(cascade_run, out, ("liquidation.adl.ranking=bitmex",))
    summary = result.summary
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
    with open(os.path.join(out, "config.toml"), encoding="utf-8") as handle:
        text = handle.read()
    assert f"# re-drive of {os.path.abspath(cascade_run)}" in text
    assert "liquidation.adl.ranking=bitmex" in text and 'ranking = "bitmex"' in text
    with open(os.path.join(out, "redrive.json"), "rb") as handle:
        record = orjson.loads(handle.read())
    assert record["overrides"] == ["liquidation.adl.ranking=bitmex"]
    assert replay(out).status == "consistent"


def test_redrive_cli_reports_identical_and_refuses_input_overrides(cli, cascade_run, tmp_path):
    """The CLI prints 'identical' (exit 0); overriding the recorded inputs (participants, seed)
    is refused in one line (exit 2) and writes nothing."""
    status, out, err = cli("redrive", cascade_run, "--out", str(tmp_path / "a"))
    assert status == 0, err
    assert out.startswith("identical: ")
    target = tmp_path / "b"
    status, _, err = cli("redrive", cascade_run, "--out", str(target), "--set", "run.seed=9")
    assert status == 2 and "run.seed" in err and err.count("\n") == 1
    assert not target.exists()


def test_redrive_of_a_cut_log_is_bad_input(cli, cascade_run, tmp_path):
    """A log cut short cannot be re-driven: one line naming the log, exit 2, nothing written."""
    import shutil

    from .conftest import write_lines

    run_dir = shutil.copytree(cascade_run, str(tmp_path / "cut"))
    lines = read_lines(run_dir)
    write_lines(run_dir, [*lines[:900], lines[900][:20]], redigest=False)
    target = tmp_path / "again"
    status, _, err = cli("redrive", run_dir, "--out", str(target))
    assert status == 2 and "events.jsonl" in err and err.count("\n") == 1, err
    assert not target.exists() and not os.path.exists(str(target) + ".failed")
    assert [p for p in os.listdir(tmp_path) if p.startswith(".")] == []


def test_preset_override_replaces_the_saved_rules(cascade_run, tmp_path):
    """--set venue.preset=hyperliquid on a Binance run: the saved config's Binance rules give
    way to Hyperliquid's (a vault takes positions over), the fund keeps its size, money is
    conserved."""
    result = redrive(cascade_run, str(tmp_path / "hl"), ("venue.preset=hyperliquid",))
    summary = result.summary
    assert summary["events_by_type"].get("vault") and not summary["events_by_type"].get("adl")
    assert summary["insurance_fund_minor"] == 50_000 * 10**6
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
