"""Event types of the price processes."""

from exchange_sim.events.types import EventType

EVENTS: tuple[EventType, ...] = (
    EventType(
        "index_price",
        "The venue received a new index (oracle) price.",
        (
            ("price", "index price, ticks."),
            ("ts_source", "when the index was sampled at its source, ns (ts - oracle latency)."),
        ),
    ),
)

EVENTS += (
    EventType(
        "mark_price",
        "The venue's mark price changed (computed in the MARK phase by the configured rule).",
        (
            ("price", "new mark price, ticks."),
            ("index_price", "index price it was computed from, ticks."),
        ),
    ),
)
