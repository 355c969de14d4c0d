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


def test_facts_study_impact_runs_pair_every_size_with_a_control():
    """Each seed runs the control and every size on one market; sizes span 8x; all load."""
    impact = facts_study._job_list(seeds=2)["impact"]
    for seed in (1, 2):
        sizes = [o[0].split("=")[1] for _, _, k, o in impact if k == seed]
        assert sizes == [facts_study.IMPACT_CONTROL, *map(str, facts_study.IMPACT_SIZES)]
    assert max(facts_study.IMPACT_SIZES) >= 2 * min(facts_study.IMPACT_SIZES)
    for _, scenario, _, overrides in impact:
        es.load_config(calibrate.scenario_path(scenario), overrides)  # every variant loads


def _metaorder_run(path, side: int, vwap: int, arrival: int = 1_000_000) -> None:
    path.mkdir()
    line = '{"seq":1,"ts":0,"type":"metaorder","phase":"end",' + (
        f'"side":{side},"vwap_ticks":{vwap},"arrival_price_ticks":{arrival}}}\n'
    )
    (path / "events.jsonl").write_text(line)


def test_paired_impact_nets_out_the_control_run(tmp_path):
    """Impact is VWAP minus the same seed's control VWAP; a square-root path gives delta 0.5."""
    for seed, drift in ((1, -5000), (2, 3000)):  # the market's own move differs by seed
        _metaorder_run(
            tmp_path / f"calm-impact-{facts_study.IMPACT_CONTROL}-s{seed}", 1, 1_000_000 + drift
        )
        for size in facts_study.IMPACT_SIZES:
            vwap = 1_000_000 + drift + round(1000 * size**0.5)
            _metaorder_run(tmp_path / f"calm-impact-{size}-s{seed}", 1, vwap)
    result = facts_study.paired_impact(str(tmp_path), seeds=2)
    assert result["mean_impact_by_size"][20] == pytest.approx(1000 * 20**0.5 / 1e6, rel=1e-3)
    assert result["delta"] == pytest.approx(0.5, abs=0.01)
    assert result["holds"] is True


def test_scenario_figures_rejects_a_directory_that_is_not_a_run(tmp_path, capsys):
    """A directory without a run's files is one line on stderr and exit status 2."""
    assert scenario_figures.main([str(tmp_path)]) == 2
    assert str(tmp_path) in capsys.readouterr().err


def test_scenario_figures_reads_the_first_perpetuals_prices(tmp_path):
    """In altcoin_cascade the perpetual's low and last trade are BTC's (near 50,000 USDT),
    never an ALT trade (about 2 USDT) read on BTC's grid."""
    out = str(tmp_path / "run")
    es.run(calibrate.scenario_path("altcoin_cascade"), out=out)
    result = scenario_figures.figures(out)
    assert result["perp_low"]["price"] > 40_000
    assert result["perp_last"] > 40_000
