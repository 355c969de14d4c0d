"""A run reading a data file (CSV index replay) keeps a copy and hashes its contents."""

from __future__ import annotations

import os
import shutil

from exchange_sim.runner.api import load_config, run

from .conftest import SCENARIOS

CONFIG = os.path.join(SCENARIOS, "index_replay.toml")


def test_saved_config_reproduces_the_run_from_anywhere(tmp_path, monkeypatch):
    """The run directory holds the CSV and a config.toml pointing at it: moved elsewhere and
    run from another directory, the saved config gives the same log byte for byte."""
    first = run(CONFIG, overrides=["run.duration=10s"], out=str(tmp_path / "first"))
    assert os.path.isfile(os.path.join(first.directory, "data", "sample_index.csv"))
    moved = shutil.move(first.directory, str(tmp_path / "elsewhere" / "moved"))
    monkeypatch.chdir(tmp_path)
    again = run(os.path.join(moved, "config.toml"), out=str(tmp_path / "again"))
    with (
        open(os.path.join(moved, "events.jsonl"), "rb") as a,
        open(os.path.join(again.directory, "events.jsonl"), "rb") as b,
    ):
        assert a.read() == b.read()


def test_config_hash_follows_the_file_contents(tmp_path):
    """The same CSV at another path hashes the same; one changed price changes the hash."""
    source = os.path.join(os.path.dirname(CONFIG), "..", "data", "sample_index.csv")
    copy = tmp_path / "copy.csv"
    shutil.copyfile(source, copy)
    original = load_config(CONFIG).sha256()
    assert load_config(CONFIG, [f'index.process.path="{copy}"']).sha256() == original
    lines = copy.read_text().splitlines()
    last = lines[-1].split(",")
    lines[-1] = f"{last[0]},{float(last[1]) + 1}"
    copy.write_text("\n".join(lines) + "\n")
    assert load_config(CONFIG, [f'index.process.path="{copy}"']).sha256() != original
