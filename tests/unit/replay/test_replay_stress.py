"""Replay of a run with every stress policy on: margin changes and capped ADL recompute."""

from __future__ import annotations

from exchange_sim.replay.audit import replay

from .conftest import write_run

ALL_POLICIES = (
    "run.duration=90s",
    "stress.circuit_breaker.enabled=true",
    "stress.circuit_breaker.move=0.02",
    "stress.circuit_breaker.window=10s",
    "stress.circuit_breaker.duration=10s",
    "stress.dynamic_margin.enabled=true",
    "stress.dynamic_margin.cadence=2s",
    "stress.dynamic_margin.window=20s",
    "stress.dynamic_margin.vol_threshold=0.005",
    "stress.dynamic_margin.vol_slope=50",
    "stress.liquidation_throttle.enabled=true",
    "stress.liquidation_throttle.reference_depth=20",
    "stress.liquidation_throttle.depth_band=0.002",
    "stress.mark_smoothing.kind=median",
    "stress.adl_cap.enabled=true",
    "stress.adl_cap.max_fraction=0.25",
)


def test_cascade_with_every_stress_policy_replays_consistent(tmp_path_factory):
    """The cascade with all five policies on (breaker trips, margin changes, paced starts,
    capped ADL) replays consistent: the replay installs the same scaled tiers and caps ADL."""
    result = replay(write_run(tmp_path_factory, "cascade", *ALL_POLICIES))
    assert result.status == "consistent", result.divergence or result.damage
    assert result.counts["stress_policy"] and result.counts["adl"]
