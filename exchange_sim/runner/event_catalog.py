"""The registry of every event type the simulator writes (collected from each subsystem)."""

from __future__ import annotations

from exchange_sim.accounts import event_types as account_events
from exchange_sim.agents import event_types as agent_events
from exchange_sim.agents import trader_event_types as trader_events
from exchange_sim.events import run_events
from exchange_sim.events.types import COMMON_FIELDS, EventType
from exchange_sim.funding import event_types as funding_events
from exchange_sim.liquidation import event_types as liquidation_events
from exchange_sim.markets import event_types as market_events
from exchange_sim.matching import event_types as matching_events
from exchange_sim.pricing import event_types as pricing_events
from exchange_sim.risk import event_types as risk_events
from exchange_sim.venue import event_types as venue_events

_MODULES = (
    run_events,
    pricing_events,
    matching_events,
    account_events,
    risk_events,
    funding_events,
    liquidation_events,
    market_events,
    venue_events,
    agent_events,
    trader_events,
)


def event_types() -> dict[str, EventType]:
    """Every declared event type by name, in declaration order; names must be unique."""
    registry: dict[str, EventType] = {}
    for module in _MODULES:
        for event_type in module.EVENTS:
            if event_type.name in registry:
                raise ValueError(f"event type {event_type.name!r} declared twice")
            registry[event_type.name] = event_type
    return registry


def validate_record(record: dict, registry: dict[str, EventType]) -> str | None:
    """Why ``record`` does not match the schema, or ``None`` when it does."""
    for name, _ in COMMON_FIELDS:
        if name not in record:
            return f"missing common field {name!r}"
    event_type = registry.get(record["type"])
    if event_type is None:
        return f"undeclared event type {record['type']!r}"
    extra = set(record) - {name for name, _ in COMMON_FIELDS} - event_type.field_names
    if extra:
        return f"{record['type']}: undeclared fields {sorted(extra)}"
    missing = event_type.field_names - set(record)
    if missing:
        return f"{record['type']}: missing fields {sorted(missing)}"
    return None
