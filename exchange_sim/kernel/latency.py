"""Latency models: how long a message takes on one leg of one link, in integer nanoseconds.

A *link* joins a participant to a venue component (order entry, market data, margin calls); each
link has a *request* leg and a *response* leg (as in hftbacktest), each with its own model. Every
model can add **spikes**: with probability ``spike.probability`` a draw gets ``spike.extra``
added, the way a congested gateway occasionally stalls.

Samplers draw from a named RNG stream in blocks (one numpy call per ``BLOCK`` draws) and hand out
Python ints, so a draw on the hot path is a list pop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import ClassVar

import attrs
import numpy as np

BLOCK = 1024
MAX_LATENCY_NS = 2**62
"""Upper bound of every latency parameter and draw (about 146 years): a draw plus a spike, or a
time plus a draw, stays within 64-bit integers."""


@attrs.frozen(kw_only=True)
class SpikeConfig:
    probability: Decimal = attrs.field(
        default=Decimal(0),
        metadata={"unit": "decimal", "min": 0, "max": 1, "help": "chance a draw is a spike"},
    )
    extra: int = attrs.field(
        default=0,
        metadata={
            "unit": "duration",
            "min": 0,
            "max": MAX_LATENCY_NS,
            "help": "added to a spiking draw",
        },
    )


@attrs.frozen(kw_only=True)
class ConstantLatency:
    KIND: ClassVar[str] = "constant"
    value: int = attrs.field(
        default=0,
        metadata={"unit": "duration", "min": 0, "max": MAX_LATENCY_NS, "help": "latency"},
    )
    spike: SpikeConfig = attrs.field(factory=SpikeConfig, metadata={"help": "optional spikes"})


@attrs.frozen(kw_only=True)
class UniformLatency:
    KIND: ClassVar[str] = "uniform"
    low: int = attrs.field(
        default=0,
        metadata={"unit": "duration", "min": 0, "max": MAX_LATENCY_NS, "help": "minimum"},
    )
    high: int = attrs.field(
        default=0,
        metadata={"unit": "duration", "min": 0, "max": MAX_LATENCY_NS, "help": "maximum"},
    )
    spike: SpikeConfig = attrs.field(factory=SpikeConfig, metadata={"help": "optional spikes"})

    def __attrs_post_init__(self) -> None:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")


@attrs.frozen(kw_only=True)
class LognormalLatency:
    KIND: ClassVar[str] = "lognormal"
    median: int = attrs.field(
        default=1_000_000,
        metadata={"unit": "duration", "min": 1, "max": MAX_LATENCY_NS, "help": "median latency"},
    )
    sigma: Decimal = attrs.field(
        default=Decimal("0.5"),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 10,
            "help": "standard deviation of log(latency)",
        },
    )
    spike: SpikeConfig = attrs.field(factory=SpikeConfig, metadata={"help": "optional spikes"})


@attrs.frozen(kw_only=True)
class EmpiricalLatency:
    KIND: ClassVar[str] = "empirical"
    samples: tuple[int, ...] = attrs.field(
        default=(1_000_000,),
        metadata={
            "unit": "duration",
            "min": 0,
            "max": MAX_LATENCY_NS,
            "help": "observed latencies, drawn uniformly",
        },
    )
    spike: SpikeConfig = attrs.field(factory=SpikeConfig, metadata={"help": "optional spikes"})

    def __attrs_post_init__(self) -> None:
        if not self.samples:
            raise ValueError("samples must not be empty")


LatencyModel = ConstantLatency | UniformLatency | LognormalLatency | EmpiricalLatency


@attrs.frozen(kw_only=True)
class LinkLatency:
    """The two legs of a link: request (to the venue) and response (back to the participant)."""

    request: LatencyModel = attrs.field(
        factory=ConstantLatency, metadata={"help": "participant -> venue"}
    )
    response: LatencyModel = attrs.field(
        factory=ConstantLatency, metadata={"help": "venue -> participant"}
    )


def constant_link(ns: int) -> Callable[[], LinkLatency]:
    """A default factory for a link with ``ns`` on each leg (participants' config defaults)."""

    def make() -> LinkLatency:
        return LinkLatency(request=ConstantLatency(value=ns), response=ConstantLatency(value=ns))

    return make


class LatencySampler:
    """Draws latencies (int ns) for one leg from its own RNG stream."""

    __slots__ = ("_block", "_constant", "_model", "_rng")

    def __init__(self, model: LatencyModel, rng: np.random.Generator) -> None:
        self._model = model
        self._rng = rng
        self._block: list[int] = []
        spike = model.spike
        if isinstance(model, ConstantLatency) and (spike.extra == 0 or spike.probability == 0):
            self._constant: int | None = model.value
        else:
            self._constant = None

    @property
    def is_constant(self) -> bool:
        """True when every draw is the same value (no RNG is consumed)."""
        return self._constant is not None

    def draw(self) -> int:
        if self._constant is not None:
            return self._constant
        block = self._block
        if not block:
            block.extend(self._draw_block())
        return block.pop()

    def _draw_block(self) -> list[int]:
        model, rng = self._model, self._rng
        if isinstance(model, ConstantLatency):
            base = np.full(BLOCK, model.value, dtype=np.int64)
        elif isinstance(model, UniformLatency):
            base = rng.integers(model.low, model.high + 1, size=BLOCK, dtype=np.int64)
        elif isinstance(model, LognormalLatency):
            draws = rng.lognormal(math.log(model.median), float(model.sigma), size=BLOCK)
            # Capped so a far tail cannot overflow int64 (no effect below the cap).
            base = np.rint(np.minimum(draws, MAX_LATENCY_NS)).astype(np.int64)
        else:
            samples = np.asarray(model.samples, dtype=np.int64)
            base = samples[rng.integers(0, len(samples), size=BLOCK)]
        probability = float(model.spike.probability)
        if probability > 0 and model.spike.extra > 0:
            base = base + (rng.random(BLOCK) < probability) * np.int64(model.spike.extra)
        # Reversed so that pop() hands the block out in draw order.
        return base[::-1].tolist()
