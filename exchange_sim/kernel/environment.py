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

A ``call_at`` is not a SimPy event: its queue entry is ``(time, phase, id, (callback, payload))``
and the environment's own :meth:`~PhasedEnvironment.step` / :meth:`~PhasedEnvironment.run` loop
(SimPy's, with one more branch) calls it directly. It takes the same place in the queue as an
event scheduled at that time and phase would (the id comes from SimPy's own counter), so the order
of everything is unchanged; it only saves building, scheduling and dispatching an event object.

A long schedule known in advance (a crowd's entry times) need not sit in the queue at once:
:meth:`~PhasedEnvironment.reserve_queue_ids` takes a block of consecutive insertion ids at the
instant the schedule would have been queued, and :meth:`~PhasedEnvironment.call_at_id` queues one
entry with its reserved id when its turn comes. Queued one at a time, in ``(time, id)`` order, no
later than the previous one runs, the entries sort exactly where queuing them all at once would
have put them, while the queue stays small (every push and pop is ``O(log queue)``).

This is the only module that touches SimPy's internals (the queue, an event's ``_value`` /
``_ok``); the rest of the package sees payloads, never SimPy events.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from heapq import heappop, heappush
from itertools import count as count_from
from typing import Any

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import URGENT, Event


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
        # SimPy types its queue for its own priorities; a phase is an int priority too.
        heappush(env._queue, (env._now + delay, phase, next(env._eid), self))  # type: ignore[misc]


class PhasedEnvironment(simpy.Environment):
    """A SimPy environment whose clock is integer nanoseconds and whose events carry a phase."""

    _now: int  # SimPy's clock, only ever an int here (ns)

    def __init__(self) -> None:
        super().__init__(initial_time=0)

    @property
    def now(self) -> int:
        """Simulated time in integer nanoseconds (SimPy's clock, only ever set to ints here)."""
        return self._now

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
        entry = (self._now + delay_ns, phase, next(self._eid), (callback, payload))
        heappush(self._queue, entry)  # type: ignore[misc]  # a call_at entry, see step

    def reserve_queue_ids(self, count: int) -> int:
        """Take ``count`` consecutive insertion ids, as ``count`` calls of ``call_at`` made now
        would, and return the first (see the module docstring)."""
        first = next(self._eid)
        self._eid = count_from(first + count)
        return first

    def call_at_id(
        self,
        time_ns: int,
        phase: int,
        queue_id: int,
        callback: Callable[[Any], None],
        payload: object = None,
    ) -> None:
        """Run ``callback(payload)`` at absolute ``time_ns`` in ``phase``, sorted by ``queue_id``
        (one taken by :meth:`reserve_queue_ids`) among same-instant, same-phase entries."""
        heappush(self._queue, (time_ns, phase, queue_id, (callback, payload)))  # type: ignore[misc]

    def run_until(self, end_ns: int) -> None:
        """Run until simulated time ``end_ns`` (exclusive of events scheduled exactly at it)."""
        self.run(until=end_ns)

    def step(self) -> None:
        """Process the next queue entry: a ``call_at`` call, or a SimPy event (as SimPy does)."""
        try:
            self._now, _, _, event = heappop(self._queue)  # type: ignore[assignment]  # ns ints
        except IndexError:
            raise EmptySchedule from None
        if type(event) is tuple:
            event[0](event[1])
        else:
            _process(self, event)

    def run(self, until: int | float | Event | None = None) -> Any:
        """SimPy's :meth:`simpy.Environment.run` (same ``until`` semantics), stepping in one loop
        here instead of one :meth:`step` call per entry."""
        if until is not None:
            if not isinstance(until, Event):
                at = until if isinstance(until, int) else float(until)
                if at <= self._now:
                    raise ValueError(
                        f"until ({at}) must be greater than the current simulation time"
                    )
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self._now)
            elif until.callbacks is None:
                return until.value
            until.callbacks.append(StopSimulation.callback)
        queue = self._queue
        try:
            while queue:
                self._now, _, _, event = heappop(queue)  # type: ignore[assignment]  # ns ints
                if type(event) is tuple:
                    event[0](event[1])
                else:
                    _process(self, event)
        except StopSimulation as exc:
            return exc.args[0]
        if until is not None:
            raise RuntimeError(
                f'No scheduled events left but "until" event was not triggered: {until}'
            )
        return None


def _process(env: PhasedEnvironment, event: Event) -> None:
    """Run a SimPy event's callbacks exactly as :meth:`simpy.Environment.step` does."""
    callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]  # as SimPy
    try:
        for callback in callbacks:
            callback(event)
    except StopSimulation:
        # Reassociate the remaining callbacks and reschedule the event, as SimPy does.
        event.callbacks = callbacks[callbacks.index(callback) + 1 :]
        env.schedule(event, -1)  # type: ignore[arg-type]  # SimPy's own urgent re-schedule
        raise
    if not event._ok and not hasattr(event, "_defused"):
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc
