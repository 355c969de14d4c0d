"""Shared fixtures."""

from __future__ import annotations

import os

import pytest

from exchange_sim.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process; return (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


@pytest.fixture
def repo_root() -> str:
    return ROOT


@pytest.fixture(scope="session")
def flash_crash_run(tmp_path_factory) -> str:
    """A run directory of configs/scenarios/flash_crash.toml (seed 4): an endogenous cascade
    whose liquidations feed later ones through the mark, several generations deep."""
    out = tmp_path_factory.mktemp("flash") / "run"
    config = os.path.join(ROOT, "configs", "scenarios", "flash_crash.toml")
    assert main(["run", config, "--seed", "4", "--quiet", "--out", str(out)]) == 0
    return str(out)


# CI runs Hypothesis derandomized (the same examples on every run, no example database), so a
# red build is reproducible; locally, examples vary from run to run and find new cases.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, database=None)
# A longer fuzzing budget on demand: `python -m pytest tests/property --hypothesis-profile=long`
# (tests/property/test_fuzz_runs.py scales its budgets by max_examples / 100: 10x here).
_hypothesis_settings.register_profile("long", max_examples=1000, deadline=None)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
