"""How an event type is declared: its name, what it means, and each payload field.

Each subsystem declares its event types next to its code (``EVENTS = (...)``); the registry in
:mod:`exchange_sim.runner.event_catalog` collects them. ``docs/events.md`` is generated from the
registry (``python tools/gen_events_doc.py``) and a test fails when the two disagree, so the
documentation cannot drift from what the simulator writes.
"""

from __future__ import annotations

import attrs

COMMON_FIELDS = (
    ("seq", "0-based position of the line in the log; unique and gap-free."),
    ("ts", "simulated time of the event, integer nanoseconds since the run's start."),
    ("type", "the event type (this table's heading)."),
    ("cause", "`seq` of the event that led to this one; `null` for exogenous events."),
)


@attrs.frozen
class EventType:
    """One event type: ``fields`` is a tuple of ``(name, description)`` pairs, in log order."""

    name: str
    doc: str
    fields: tuple[tuple[str, str], ...] = ()

    @property
    def field_names(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.fields)
