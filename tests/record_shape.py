"""What every logged line must look like, key by key: for the call sites that build their lines
as one dict display (``EventLog.emit_record``), where a dropped or swapped key would otherwise
only show in a scenario's digest."""

from __future__ import annotations

from exchange_sim.events.types import COMMON_FIELDS
from exchange_sim.runner.event_catalog import event_types

COMMON = [name for name, _ in COMMON_FIELDS]


def expected_keys(record: dict) -> list[str]:
    """The line's keys in log order: the common four, ``instrument`` (an additional perpetual's
    events), then every field declared for its type, in declaration order."""
    declared = [name for name, _ in event_types()[record["type"]].fields]
    return COMMON + (["instrument"] if "instrument" in record else []) + declared


def misshapen(events) -> list[tuple[str, list[str]]]:
    """``(type, keys)`` of the first line of each type whose keys are not
    :func:`expected_keys` (missing, extra or out of order)."""
    found: dict[str, list[str]] = {}
    for record in events:
        if record["type"] not in found and list(record) != expected_keys(record):
            found[record["type"]] = list(record)
    return sorted(found.items())
