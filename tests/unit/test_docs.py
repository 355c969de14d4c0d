"""Generated documentation and the base config stay in step with the code."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from decimal import Decimal

from exchange_sim.runner.config import SimConfig, load_data


def _check(repo_root, script):
    return subprocess.run(
        [sys.executable, os.path.join(repo_root, "tools", script), "--check"],
        capture_output=True,
        text=True,
        cwd=repo_root,
    )


def test_events_doc_documents_every_event_type_and_field(repo_root):
    """docs/events.md is exactly what the schema generates."""
    result = _check(repo_root, "gen_events_doc.py")
    assert result.returncode == 0, result.stdout


def test_base_config_is_generated_from_the_classes(repo_root):
    """configs/base.toml is exactly what the config classes generate."""
    result = _check(repo_root, "gen_base_config.py")
    assert result.returncode == 0, result.stdout


def test_base_config_loads_to_the_defaults(repo_root):
    """configs/base.toml resolves to the same config as no file at all."""
    with open(os.path.join(repo_root, "configs", "base.toml"), "rb") as handle:
        data = tomllib.load(handle, parse_float=Decimal)
    assert load_data(data).config == SimConfig()
