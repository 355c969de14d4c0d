"""Traders' decision events are declared, registered and have a documented root kind."""

from __future__ import annotations

from exchange_sim.agents import trader_event_types
from exchange_sim.events.roots import TRADER_DECISION_TYPES, root_kind_of
from exchange_sim.runner.event_catalog import event_types


def test_every_trader_decision_type_is_registered_and_rooted_as_a_trader_decision():
    """Each type of agents/trader_event_types.py is in the catalog, and an uncaused one (a
    trader's own timer) is a root of kind trader_decision, not of the venue's timer."""
    names = tuple(event.name for event in trader_event_types.EVENTS)
    assert names == TRADER_DECISION_TYPES
    registry = event_types()
    for name in names:
        assert name in registry
        assert root_kind_of(name) == "trader_decision"
