"""Event types of the run itself."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "run_start",
        "First line of every log: what produced it.",
        (
            ("schema_version", "version of this event schema (int)."),
            ("package_version", "exchange_sim version string."),
            ("seed", "root seed of every RNG stream in the run."),
            ("config_sha256", "sha256 of the resolved config (canonical JSON), hex."),
            ("scenario", "the run's name from `run.name`."),
            ("duration_ns", "configured simulated duration, ns."),
        ),
    ),
    EventType(
        "run_end",
        "Last line of every log: how many lines came before it and their digest.",
        (
            ("event_count", "number of lines before this one."),
            ("digest_sha256", "sha256 of all bytes of the log before this line, hex."),
        ),
    ),
)
