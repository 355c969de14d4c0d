"""Latency models draw integer nanoseconds from their own streams."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from exchange_sim.kernel.latency import (
    ConstantLatency,
    EmpiricalLatency,
    LatencySampler,
    LognormalLatency,
    SpikeConfig,
    UniformLatency,
)


def _draws(model, n=4000, seed=3):
    sampler = LatencySampler(model, np.random.Generator(np.random.PCG64(seed)))
    return [sampler.draw() for _ in range(n)]


def test_constant_latency_is_constant():
    """A constant model always returns its value."""
    assert set(_draws(ConstantLatency(value=2_000))) == {2_000}


def test_uniform_latency_stays_in_bounds_and_covers_them():
    """Uniform draws are ints within [low, high] and reach both ends."""
    draws = _draws(UniformLatency(low=10, high=13))
    assert set(draws) == {10, 11, 12, 13}
    assert all(type(d) is int for d in draws)


def test_lognormal_median_is_near_the_configured_median():
    """The sample median of a lognormal model is close to its median parameter."""
    draws = _draws(LognormalLatency(median=1_000_000, sigma=Decimal("0.5")), n=20_000)
    assert 950_000 < sorted(draws)[len(draws) // 2] < 1_050_000


def test_empirical_latency_draws_only_observed_values():
    """Empirical draws come from the sample list, each value appearing."""
    assert set(_draws(EmpiricalLatency(samples=(5, 50, 500)))) == {5, 50, 500}


def test_spikes_add_extra_latency_at_their_probability():
    """A spike probability of 0.25 adds the extra to about a quarter of draws."""
    model = ConstantLatency(value=100, spike=SpikeConfig(probability=Decimal("0.25"), extra=900))
    draws = _draws(model, n=20_000)
    assert set(draws) == {100, 1_000}
    assert 0.23 < draws.count(1_000) / len(draws) < 0.27


def test_same_stream_gives_same_latencies():
    """A sampler is reproducible from its stream's seed."""
    model = UniformLatency(low=0, high=10**6)
    assert _draws(model, seed=9) == _draws(model, seed=9)
    assert _draws(model, seed=9) != _draws(model, seed=10)
