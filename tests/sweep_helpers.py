"""Small sweeps for the sweep tests: quickstart runs of two simulated seconds."""

from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICKSTART = os.path.join(ROOT, "configs", "scenarios", "quickstart.toml")


def write_sweep(
    directory, factors: str, seeds: int = 2, name: str = "tiny", extra: str = ""
) -> str:
    """A sweep file on quickstart (2 s runs) with ``factors`` (TOML text); return its path."""
    path = os.path.join(os.fspath(directory), f"{name}.toml")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(
            f'[sweep]\nname = "{name}"\nbase = "{QUICKSTART}"\nseeds = {seeds}\n{extra}\n'
            f'[set]\n"run.duration" = "2s"\n\n{factors}'
        )
    return path


FUND = """[[factors]]
key = "liquidation.insurance_fund.initial_balance"
values = [0, 1000000]
"""


def without_wall(frame):
    """A results table with its one wall-clock column left out."""
    return frame.drop(columns=["wall_s"])


def env_with_package() -> dict:
    return {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
