"""The simulation kernel: SimPy with integer-nanosecond time and named same-instant phases.

SimPy orders its event queue by ``(time, priority, insertion id)``. We use the priority slot for
*phases*: every event that belongs to a stage of the exchange's pipeline is scheduled at that
stage's phase, so at one instant the venue's scheduled rule changes (``RULES``) take effect
first, then all ``INDEX`` work happens before all ``MATCH`` work, then ``FEED``, ``MARK``,
``MARGIN``, ``LIQUIDATE``, ``FUNDING`` and finally ``AGENT``. Within one phase,
events run in the order they were scheduled (SimPy's insertion id), which is deterministic because
everything that schedules is deterministic. SimPy's own ``URGENT`` (0, process start and
interrupts) and ``NORMAL`` (1, untagged events such as ``env.event().succeed()``) sort before every
named phase.

Time is an ``int`` of nanoseconds; all delays passed to the kernel must be ints.

Two ways to wait, both phased:

* :meth:`PhasedEnvironment.call_at` runs ``callback(payload)`` after a delay, with no process (the
  hot path: gateway messages, feed deliveries, margin checks, liquidation steps);
* :meth:`PhasedEnvironment.at` is an event a SimPy process can ``yield``.

This is the only module that touches SimPy's internals (an event's ``_value`` / ``_ok``); the
rest of the package sees payloads, never SimPy events.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

import simpy
from simpy.events import Event


class Phase(IntEnum):
    """Same-instant ordering of the exchange pipeline (lower runs first)."""

    RULES = 5
    """The venue's scheduled rule changes (interventions: halts, outages, new rates) take effect,
    before any price or order of the instant."""
    INDEX = 10
    """Index / oracle prices are published."""
    MATCH = 20
    """Commands arriving at the venue are handled; trades print."""
    FEED = 25
    """The instant's market-data snapshot is taken (after all of its matching)."""
    MARK = 30
    """Mark prices are computed from the instant's index and book."""
    MARGIN = 40
    """Margin checks run against the instant's mark."""
    LIQUIDATE = 50
    """The liquidation engine acts on accounts handed over at this or an earlier instant."""
    FUNDING = 60
    """Funding samples and settlements."""
    AGENT = 70
    """Participants observe the instant's outcome and decide (their orders leave after latency)."""


class PhasedTimeout(Event):
    """An event that fires ``delay`` ns from now in ``phase`` (a cheaper, phased ``Timeout``)."""

    def __init__(self, env: PhasedEnvironment, delay: int, phase: int, value: object = None):
        self.env = env
        self.callbacks = []
        self._value = value
        self._ok = True
        env.schedule(self, phase, delay)


class _PhasedCall(Event):
    """A scheduled ``callback(payload)``: the event carries the pair, the kernel unpacks it."""

    def __init__(
        self,
        env: PhasedEnvironment,
        delay: int,
        phase: int,
        callback: Callable[[Any], None],
        payload: object,
    ) -> None:
        self.env = env
        self.callbacks = [_run_call]
        self._value = (callback, payload)
        self._ok = True
        env.schedule(self, phase, delay)


def _run_call(event: Event) -> None:
    callback, payload = event._value
    callback(payload)


class PhasedEnvironment(simpy.Environment):
    """A SimPy environment whose clock is integer nanoseconds and whose events carry a phase."""

    def __init__(self) -> None:
        super().__init__(initial_time=0)

    def at(self, delay_ns: int, phase: int) -> PhasedTimeout:
        """An event a process can ``yield``: it fires after ``delay_ns`` in ``phase``."""
        return PhasedTimeout(self, delay_ns, phase)

    def call_at(
        self,
        delay_ns: int,
        phase: int,
        callback: Callable[[Any], None],
        payload: object = None,
    ) -> None:
        """Run ``callback(payload)`` after ``delay_ns`` in ``phase``, without a process."""
        _PhasedCall(self, delay_ns, phase, callback, payload)

    def run_until(self, end_ns: int) -> None:
        """Run until simulated time ``end_ns`` (exclusive of events scheduled exactly at it)."""
        self.run(until=end_ns)
