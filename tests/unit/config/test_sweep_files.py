"""Every example study in configs/sweeps/ parses and every point resolves to a valid config."""

from __future__ import annotations

import os

import pytest

from exchange_sim.runner.sweep.spec import load_sweep, resolve_points

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
SWEEPS = os.path.join(ROOT, "configs", "sweeps")
FILES = sorted(name for name in os.listdir(SWEEPS) if name.endswith(".toml"))
STUDIES = {
    "latency_vs_cascade.toml",
    "adl_rankings.toml",
    "venue_presets.toml",
    "fund_size.toml",
    "close_out_policies.toml",
    "stress_policies.toml",
}


def test_the_example_studies_are_there():
    """configs/sweeps/ holds the example studies."""
    assert set(FILES) >= STUDIES


@pytest.mark.parametrize("name", FILES)
def test_every_point_of_a_study_resolves(name):
    """The file parses as a sweep, says in its header what it studies, how to compare it and
    what it costs, stays small (minutes on 2 cores), and every point (base, [set], the point's
    factors) resolves to a config that passes preflight."""
    path = os.path.join(SWEEPS, name)
    with open(path, encoding="utf-8") as handle:
        header = handle.read().split("[sweep]")[0]
    assert "Cost:" in header and "exchange-sim compare" in header, name
    spec = load_sweep(path)
    assert spec.name == name.removesuffix(".toml")
    points, configs, _ = resolve_points(spec)
    assert len(configs) == len(points) >= 2
    assert len(points) * spec.seeds <= 200, "keep each study to minutes on 2 cores"
