"""The package's layers: the contract in setup.cfg holds, and it fails when broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINT = shutil.which("lint-imports")

pytestmark = pytest.mark.skipif(LINT is None, reason="import-linter is a test extra")


def _lint(package_parent: str) -> subprocess.CompletedProcess:
    """Run the contracts of ``setup.cfg`` on the ``exchange_sim`` found under
    ``package_parent`` (it comes first on the import path)."""
    env = {**os.environ, "PYTHONPATH": package_parent}
    return subprocess.run(
        [LINT, "--config", os.path.join(ROOT, "setup.cfg"), "--no-cache"],
        cwd=package_parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _copy_package(tmp_path) -> str:
    target = tmp_path / "tree"
    shutil.copytree(
        os.path.join(ROOT, "exchange_sim"),
        target / "exchange_sim",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return str(target)


def test_the_layers_contract_holds():
    """Every contract in setup.cfg is kept by the package as it is."""
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_a_lower_layer_importing_a_higher_one_breaks_the_contract(tmp_path):
    """The units module (core, the lowest layer) importing the CLI (the highest) is caught."""
    tree = _copy_package(tmp_path)
    units = os.path.join(tree, "exchange_sim", "core", "units.py")
    with open(units, "a", encoding="utf-8") as handle:
        handle.write("\nimport exchange_sim.cli  # noqa: E402,F401\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "exchange_sim.core.units -> exchange_sim.cli" in result.stdout


def test_a_config_module_importing_simpy_breaks_the_contract(tmp_path):
    """A config class module that pulls in simpy (through the kernel's environment) is caught."""
    tree = _copy_package(tmp_path)
    config = os.path.join(tree, "exchange_sim", "risk", "config.py")
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("\nimport exchange_sim.kernel.environment  # noqa: E402,F401\n")
    result = _lint(tree)
    assert result.returncode != 0
    assert "Config classes import without simpy BROKEN" in result.stdout


def test_config_classes_import_without_simpy():
    """Importing the root config (every section's classes) loads no simpy module."""
    code = (
        "import sys, exchange_sim.runner.config as c; c.SimConfig(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'simpy'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
