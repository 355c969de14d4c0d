"""The CLI: exit codes, messages, and the run directory."""

from __future__ import annotations

import json
import os


def test_run_writes_events_summary_and_resolved_config(cli, tmp_path):
    """A run creates events.jsonl, summary.json and config.toml in its directory."""
    out = tmp_path / "run"
    status, stdout, _ = cli("run", "--out", str(out), "--set", "run.duration=5s")
    assert status == 0
    assert sorted(os.listdir(out)) == ["config.toml", "events.jsonl", "summary.json"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["events_by_type"]["index_price"] == 5
    assert "events/s" in stdout


def test_seed_flag_is_recorded_in_config_and_log(cli, tmp_path):
    """--seed overrides run.seed and the resolved config shows it."""
    out = tmp_path / "run"
    assert cli("run", "--seed", "42", "--out", str(out), "--set", "run.duration=1s")[0] == 0
    assert "seed = 42" in (out / "config.toml").read_text()
    first = json.loads((out / "events.jsonl").read_text().splitlines()[0])
    assert first["seed"] == 42


def test_unknown_key_exits_2_with_one_line_and_no_directory(cli, tmp_path):
    """Bad input: status 2, a one-line message naming the key, nothing written."""
    out = tmp_path / "run"
    status, _, err = cli("run", "--out", str(out), "--set", "index.cadance=1s")
    assert status == 2
    assert err.strip().count("\n") == 0
    assert "index.cadance: unknown key" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert os.listdir(tmp_path) == []


def test_bad_toml_file_exits_2(cli, tmp_path):
    """A file that is not TOML is bad input."""
    path = tmp_path / "bad.toml"
    path.write_text("[run\nname=")
    status, _, err = cli("validate", str(path))
    assert status == 2
    assert "not valid TOML" in err


def test_missing_config_file_exits_2(cli, tmp_path):
    """A config path that does not exist is named in the message."""
    status, _, err = cli("run", str(tmp_path / "nope.toml"))
    assert status == 2
    assert "nope.toml: config file not found" in err


def test_existing_out_directory_is_refused(cli, tmp_path):
    """A run never writes into an existing directory."""
    status, _, err = cli("run", "--out", str(tmp_path), "--set", "run.duration=1s")
    assert status == 2
    assert "already exists" in err


def test_validate_reports_ok_without_writing(cli, tmp_path, monkeypatch):
    """validate checks a config and creates nothing."""
    monkeypatch.chdir(tmp_path)
    status, out, _ = cli("validate", "--set", "run.seed=3")
    assert status == 0
    assert out.startswith("config ok")
    assert os.listdir(tmp_path) == []


def test_default_out_is_a_fresh_directory_under_runs(cli, tmp_path, monkeypatch):
    """Without --out, each run gets a new directory under runs/."""
    monkeypatch.chdir(tmp_path)
    assert cli("run", "--set", "run.duration=1s")[0] == 0
    assert cli("run", "--set", "run.duration=1s")[0] == 0
    assert sorted(os.listdir(tmp_path / "runs")) == ["run-s1-1", "run-s1-2"]


def test_bad_csv_line_exits_2_naming_file_and_line(cli, tmp_path):
    """A malformed CSV row is reported as file:line with the value; no run directory is left."""
    csv = tmp_path / "prices.csv"
    csv.write_text("timestamp,price\n0,100.0\n1000,abc\n")
    config = tmp_path / "c.toml"
    config.write_text('[index.process]\nkind = "csv"\npath = "prices.csv"\n')
    out = tmp_path / "run"
    status, _, err = cli("run", str(config), "--out", str(out))
    assert status == 2
    assert "prices.csv:3: price is not a decimal number (got 'abc')" in err
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_internal_failure_leaves_a_failed_directory(cli, tmp_path, monkeypatch):
    """A crash mid-run exits 1 and renames the run to <dir>.failed with error.txt, never <dir>."""
    from exchange_sim.venue import venue as run_module

    def boom(self, package_version, progress=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(run_module.Venue, "run", boom)
    out = tmp_path / "run"
    status, _, err = cli("run", "--out", str(out))
    assert status == 1
    assert "internal error" in err
    assert not out.exists()
    assert "RuntimeError: boom" in (tmp_path / "run.failed" / "error.txt").read_text()


def test_summary_event_count_matches_the_logs_run_end(cli, tmp_path):
    """summary.json's event_count is run_end's (lines before it); log_lines counts every line."""
    out = tmp_path / "run"
    assert cli("run", "--out", str(out), "--set", "run.duration=2s")[0] == 0
    lines = (out / "events.jsonl").read_text().splitlines()
    run_end = json.loads(lines[-1])
    summary = json.loads((out / "summary.json").read_text())
    assert run_end["type"] == "run_end"
    assert summary["event_count"] == run_end["event_count"] == len(lines) - 1
    assert summary["log_lines"] == len(lines)


def test_output_piped_into_a_closed_reader_ends_quietly(tmp_path):
    """`exchange-sim run ... | head -1`: a reader that goes away gives no traceback, exit 0."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange_sim.cli", "run", "--out", str(tmp_path / "run"),
         "--set", "run.duration=2s"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait() == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_report_and_export_commands_write_beside_the_run(cli, tmp_path, repo_root):
    """``report`` writes report/report.html and ``export`` one Parquet file per event type; a
    missing run directory is bad input (exit 2, one line)."""
    config = os.path.join(repo_root, "configs", "scenarios", "cascade.toml")
    out = tmp_path / "run"
    assert cli("run", config, "--set", "run.duration=50s", "--out", str(out))[0] == 0
    status, _, _ = cli("report", str(out))
    assert status == 0 and (out / "report" / "report.html").exists()
    status, _, _ = cli("export", str(out), "--format", "parquet")
    assert status == 0 and (out / "parquet" / "trade.parquet").exists()
    status, _, err = cli("report", str(tmp_path / "missing"))
    assert status == 2 and err.count("\n") == 1


def _leaky_ledger(monkeypatch, extra: int) -> None:
    """A broken ledger: it counts ``extra`` minor units more than its accounts hold (money made
    from nothing), so the run's money identity cannot hold."""
    from exchange_sim.accounts.ledger import Ledger

    honest = Ledger.money_in_accounts

    def leaky(self):
        return honest(self) + extra

    monkeypatch.setattr(Ledger, "money_in_accounts", leaky)


def test_run_whose_money_is_not_conserved_fails_naming_the_amounts(monkeypatch):
    """With the invariant checker off the run still refuses to finish when money is not
    conserved: SimulationError "money not conserved at <t> ns: held H, put in P" with H = P + 7
    (the leak)."""
    import re

    import pytest

    import exchange_sim as es

    _leaky_ledger(monkeypatch, 7)
    with pytest.raises(es.SimulationError, match="money not conserved at") as caught:
        es.run({}, overrides=["run.duration=1s", "run.check=off"])
    held, put_in = map(int, re.search(r"held (-?\d+), put in (-?\d+)", str(caught.value)).groups())
    assert held == put_in + 7


def test_cli_run_whose_money_is_not_conserved_exits_1_and_leaves_a_failed_directory(
    cli, tmp_path, monkeypatch
):
    """The same leak through the CLI: status 1, one line on stderr naming the amounts and no
    traceback; the run directory becomes <dir>.failed with error.txt, never <dir>."""
    _leaky_ledger(monkeypatch, 7)
    out = tmp_path / "run"
    status, _, err = cli(
        "run", "--out", str(out), "--set", "run.duration=1s", "--set", "run.check=off"
    )
    assert status == 1
    assert err.strip().count("\n") == 0
    assert "internal error" in err and "money not conserved" in err
    assert "Traceback" not in err
    assert not out.exists()
    error = (tmp_path / "run.failed" / "error.txt").read_text()
    assert "SimulationError" in error and "money not conserved" in error
    assert "put in" in error
