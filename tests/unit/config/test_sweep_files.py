"""Every example study in configs/sweeps/ parses and every point resolves to a valid config."""

from __future__ import annotations

import copy
import itertools
import os
import tomllib
from decimal import Decimal

import pytest

from exchange_sim.runner.config import apply_override, load_data, read_toml
from exchange_sim.runner.preflight import preflight

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
SWEEPS = os.path.join(ROOT, "configs", "sweeps")
FILES = sorted(name for name in os.listdir(SWEEPS) if name.endswith(".toml"))
STUDIES = {
    "latency_vs_cascade.toml",
    "adl_rankings.toml",
    "venue_presets.toml",
    "fund_size.toml",
    "close_out_policies.toml",
}


def _points(spec: dict) -> list[dict]:
    """The grid: the cartesian product over [[factors]], zipped keys moving together."""
    axes = []
    for factor in spec["factors"]:
        keys = factor["keys"] if "keys" in factor else [factor["key"]]
        values = factor["values"] if "keys" in factor else [[v] for v in factor["values"]]
        assert all(len(v) == len(keys) for v in values), keys
        axes.append([dict(zip(keys, v, strict=True)) for v in values])
    return [{k: v for part in combo for k, v in part.items()} for combo in itertools.product(*axes)]


def test_the_five_studies_are_there():
    """configs/sweeps/ holds the five example studies."""
    assert set(FILES) >= STUDIES


@pytest.mark.parametrize("name", FILES)
def test_every_point_of_a_study_resolves(name):
    """The file parses, says in its header what it studies and what it costs, and every point
    (base, then [set], then the point's factors) is a valid config that passes preflight."""
    path = os.path.join(SWEEPS, name)
    with open(path, "rb") as handle:
        spec = tomllib.load(handle, parse_float=Decimal)
    with open(path, encoding="utf-8") as handle:
        header = handle.read().split("[sweep]")[0]
    assert "Cost:" in header and "exchange-sim compare" in header, name
    sweep = spec["sweep"]
    assert set(sweep) <= {"name", "base", "seeds", "first_seed", "keep_logs"}
    assert sweep["name"] == name.removesuffix(".toml")
    base_path = os.path.normpath(os.path.join(SWEEPS, sweep["base"]))
    base = read_toml(base_path)
    points = _points(spec)
    assert 2 <= len(points) * sweep["seeds"] <= 200, "keep each study to minutes on 2 cores"
    for point in points:
        data = copy.deepcopy(base)
        for key, value in [*spec.get("set", {}).items(), *point.items()]:
            apply_override(data, key.split("."), copy.deepcopy(value))
        preflight(load_data(data, os.path.dirname(base_path)))
