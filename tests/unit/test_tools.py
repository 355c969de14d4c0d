"""The measuring tools in tools/: the variants they build and their bad-input handling."""

from __future__ import annotations

import os
import sys

import pytest

import exchange_sim as es

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import calibrate  # noqa: E402
import facts_study  # noqa: E402
import scenario_figures  # noqa: E402


@pytest.fixture(scope="module")
def flash_crash():
    return es.load_config(calibrate.scenario_path("flash_crash"))


def _participant(loaded, name: str) -> dict:
    return next(p for p in loaded.to_data()["participants"] if p.get("name") == name)


def test_depth_variant_scales_every_maker_size(flash_crash):
    """10x depth: a maker's quoted sizes, inventory unit and withdrawal inventory x10, flow /10."""
    deeper = es.load_config(flash_crash, calibrate.depth_overrides(flash_crash, 10))
    before, after = _participant(flash_crash, "perp-deep"), _participant(deeper, "perp-deep")
    assert [10 * v for v in before["level_sizes"]] == pytest.approx(after["level_sizes"])
    assert after["skew_unit"] == pytest.approx(10 * before["skew_unit"])
    assert after["withdraw_inventory"] == pytest.approx(10 * before["withdraw_inventory"])
    spot_before, spot_after = (
        _participant(flash_crash, "spot-mm-a"),
        _participant(deeper, "spot-mm-a"),
    )
    assert spot_after["flow_weight"] == pytest.approx(spot_before["flow_weight"] / 10)


def test_depth_variant_leaves_traders_alone(flash_crash):
    """The depth variant changes makers only: the leveraged crowd is the same."""
    deeper = es.load_config(flash_crash, calibrate.depth_overrides(flash_crash, 10))
    assert _participant(deeper, "longs") == _participant(flash_crash, "longs")


def test_leverage_variant_divides_and_floors_at_one(flash_crash):
    """Leverage / 5 is floored, and never below 1x."""
    lower = es.load_config(flash_crash, calibrate.leverage_overrides(flash_crash, 5))
    assert _participant(lower, "longs")["leverages"] == [
        max(1, v // 5) for v in _participant(flash_crash, "longs")["leverages"]
    ]
    assert _participant(lower, "shorts")["leverages"] == [1, 1, 1]


def test_facts_study_impact_runs_share_one_market():
    """The impact runs differ only by the metaorder's size: one seed, sizes spanning 8x."""
    impact = facts_study._job_list(seeds=2)["impact"]
    assert {seed for _, _, seed, _ in impact} == {1}
    sizes = [int(o[0].split("=")[1]) for _, _, _, o in impact]
    assert max(sizes) >= 2 * min(sizes)
    for _, scenario, _, overrides in impact:
        es.load_config(calibrate.scenario_path(scenario), overrides)  # every variant loads


def test_scenario_figures_rejects_a_directory_that_is_not_a_run(tmp_path, capsys):
    """A directory without a run's files is one line on stderr and exit status 2."""
    assert scenario_figures.main([str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err
