"""The public Python API: load a config from anything a user has, run it, get results back."""

from __future__ import annotations

import os

import orjson
import pytest

import exchange_sim as es

SHORT = ("run.duration=5s",)


def _scenario(repo_root: str, name: str = "cascade") -> str:
    return os.path.join(repo_root, "configs", "scenarios", f"{name}.toml")


def test_api_reproduces_the_cli_log(cli, tmp_path, repo_root):
    """For the same config and seed, the in-memory events equal the CLI's log line for line,
    and a run directory written by the API is byte-identical to the CLI's."""
    path = _scenario(repo_root)
    status, _, _ = cli(
        "run", path, "--seed", "4", "--set", "run.duration=30s", "--out", str(tmp_path / "c")
    )
    assert status == 0
    cli_bytes = (tmp_path / "c" / "events.jsonl").read_bytes()
    result = es.run(path, seed=4, overrides=["run.duration=30s"], keep_events=True)
    assert result.directory is None
    assert result.events == [orjson.loads(line) for line in cli_bytes.splitlines()]
    assert result.digest == result.events[-1]["digest_sha256"]
    on_disk = es.run(path, seed=4, overrides=["run.duration=30s"], out=tmp_path / "a")
    assert (tmp_path / "a" / "events.jsonl").read_bytes() == cli_bytes
    assert on_disk.summary["log_digest_sha256"] == result.digest


def test_a_run_without_out_writes_nothing(tmp_path, monkeypatch, repo_root):
    """With no ``out`` the run touches no file: the working directory stays empty."""
    monkeypatch.chdir(tmp_path)
    result = es.run(_scenario(repo_root, "quickstart"), overrides=SHORT)
    assert result.events is None and result.directory is None
    assert result.summary["event_count"] > 0
    assert os.listdir(tmp_path) == []


def test_path_toml_text_and_dict_load_the_same_config(repo_root):
    """A path, its TOML text and the parsed dict resolve to the same config hash."""
    import tomllib
    from decimal import Decimal

    path = _scenario(repo_root)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    data = tomllib.loads(text, parse_float=Decimal)
    hashes = {es.load_config(source).sha256() for source in (path, text, data)}
    assert len(hashes) == 1


def test_overrides_and_seed_are_applied():
    """``overrides`` set keys as ``--set`` does; ``seed`` sets ``run.seed``."""
    loaded = es.load_config({}, ["run.duration=2s", 'run.name="tiny"'])
    assert loaded.config.run.duration == 2_000_000_000
    result = es.run(loaded, seed=9)
    assert (result.summary["scenario"], result.summary["seed"]) == ("tiny", 9)


def test_overrides_on_a_loaded_config_are_reapplied_to_its_data():
    """Overriding a loaded config changes only the key overridden."""
    base = es.load_config({}, ["run.duration=2s"])
    changed = es.load_config(base, ["run.seed=5"])
    assert changed.config.run.seed == 5
    assert changed.config.run.duration == base.config.run.duration


def test_a_dict_given_is_not_mutated_by_overrides():
    """The caller's dict is copied before overrides are applied."""
    data = {"run": {"duration": "2s"}}
    es.load_config(data, ["run.duration=3s", 'risk.mode="sweep"'])
    assert data == {"run": {"duration": "2s"}}


def test_bad_input_raises_an_input_error_naming_the_key():
    """An unknown key is an InputError naming the dotted key, before anything runs."""
    with pytest.raises(es.InputError, match=r"run\.durration"):
        es.run({"run": {"durration": "2s"}})


def test_the_public_names_are_exported():
    """Every name in ``exchange_sim.__all__`` resolves (loaded on first use)."""
    for name in es.__all__:
        assert getattr(es, name) is not None
    assert callable(es.run) and callable(es.load_config)
