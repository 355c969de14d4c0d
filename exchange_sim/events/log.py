"""The event log: one JSON line per state change, written through a per-run structlog chain.

Every line is ``{"seq", "ts", "type", "cause", **payload}``: ``seq`` is the 0-based line number,
``ts`` the simulated time in ns, ``type`` the event type (see
:mod:`exchange_sim.runner.event_catalog`), ``cause`` the ``seq`` of the event that led to this one
(``null`` for exogenous events).

The chain is a list of small picklable structlog processors built for *this* run only
(:func:`build_chain`); nothing is configured globally, so parallel runs cannot interfere. The
rendered lines are buffered in memory and handed to the sink in blocks; the running sha256 covers
every byte written, so the closing ``run_end`` line can carry the digest of all lines before it.
A line, once emitted, is never changed: that is what makes the record immutable.

**Fast path.** When the chain is exactly the default one (a single ``JSONRenderer`` over
``orjson.dumps`` with this module's ``default``), :meth:`EventLog.emit` calls ``orjson.dumps`` on
the record itself, with the newline appended by orjson: the bytes are the ones the chain renders
(the renderer is that very call), without the processor call per line. Any other chain runs
processor by processor, as structlog does.

**Records built at the call site.** The hot call sites (the matching engine, both ledgers, the
index, fundamental and mark prices, the risk monitor and the liquidation) pass no keywords:
each builds the whole line as one dict display with constant keys, ``{"seq": 0, "ts": now,
"type": "trade", "cause": cause, "market": ..., ...}``, and hands it to
:meth:`EventLog.emit_record`, which writes the real ``seq`` into the placeholder (same key, same
place) and goes on as :meth:`EventLog.emit` does. The bytes are the ones ``emit`` writes for the
same fields in the same order; CPython builds such a display with one instruction (up to 15
keys; a longer one adds a ``MAP_ADD`` per key), where ``emit``
parses keyword arguments into a dict and copies it into the record (a third of an
``order_accepted`` line's instructions). A log-like object handed to those call sites must have
``emit_record`` too (:class:`MemoryLog`, the replay's capture, the extra instruments'
:class:`InstrumentLog`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import orjson
import structlog

SCHEMA_VERSION = 1
Processor = Callable[[Any, str, dict], Any]
Observer = Callable[[dict], Any]


def _reject_unserialisable(value: object) -> None:
    raise TypeError(f"event payload holds a {type(value).__name__}; only ints, str, lists allowed")


def build_chain() -> list[Processor]:
    """The processor chain of one run: render the event dict to one JSON line (bytes)."""
    return [
        structlog.processors.JSONRenderer(serializer=orjson.dumps, default=_reject_unserialisable)
    ]


def is_default_chain(chain: list[Processor]) -> bool:
    """Is ``chain`` exactly :func:`build_chain`'s (one orjson renderer with our ``default``)?"""
    if len(chain) != 1 or type(chain[0]) is not structlog.processors.JSONRenderer:
        return False
    renderer = chain[0]
    return renderer._dumps is orjson.dumps and renderer._dumps_kw == {
        "default": _reject_unserialisable
    }


_dumps = orjson.dumps
_NEWLINE = orjson.OPT_APPEND_NEWLINE


class ByteSink(Protocol):
    """Where the log's bytes go: a binary file, a ``BytesIO``, or a sink that only counts."""

    def write(self, data: bytes, /) -> int: ...


class EventLog:
    """Writes events to a binary sink; returns each event's ``seq`` so callers can chain causes."""

    __slots__ = (
        "_buffer",
        "_buffer_limit",
        "_chain",
        "_closed",
        "_digest",
        "_every",
        "_fast",
        "_flush_at",
        "_observed",
        "_observers_of",
        "_render",
        "_sink",
        "counts",
        "seq",
    )

    def __init__(
        self, sink: ByteSink, chain: list[Processor] | None = None, buffer_lines: int = 1024
    ) -> None:
        self._sink = sink
        self._chain = chain if chain is not None else build_chain()
        self._render = self._chain[-1]
        self._fast = is_default_chain(self._chain)
        self._buffer = bytearray()
        """Rendered lines, each ending in a newline, appended in place (one growing block: lines
        kept as separate objects until the flush cost several times the rendering)."""
        self._buffer_limit = buffer_lines
        self._flush_at = buffer_lines - 1
        """The seq of the line that fills the buffer (``buffer_lines`` lines after a flush)."""
        self._digest = hashlib.sha256()
        self._closed = False
        self.seq = 0
        self.counts: dict[str, int] = {}
        self._observed: list[tuple[Observer, frozenset[str] | None]] = []
        """Every :meth:`observe` call still in force, in order."""
        self._every: tuple[Observer, ...] = ()
        """The observers of every event type (those of a type without its own entry)."""
        self._observers_of: dict[str, tuple[Observer, ...]] = {}
        """Per event type named by some observer: the observers it reaches, in registration
        order. Rebuilt by :meth:`observe` / :meth:`unobserve`, never per event."""

    def observe(self, observer: Observer, types: Iterable[str] | None = None) -> None:
        """Call ``observer`` with each event's dict as it is written, before the line is rendered
        (in-run analysis: metrics, the cascade tree); it must not change it. ``types``: only
        events of these types reach it (``None``: every event)."""
        self._observed.append((observer, None if types is None else frozenset(types)))
        self._build_observer_table()

    def unobserve(self, observer: Observer, types: Iterable[str] | None = None) -> None:
        """Undo the :meth:`observe` call made with this observer and these ``types``."""
        key = (observer, None if types is None else frozenset(types))
        self._observed.remove(key)
        self._build_observer_table()

    def _build_observer_table(self) -> None:
        observed = self._observed
        self._every = tuple(fn for fn, types in observed if types is None)
        named = {kind for _, types in observed if types is not None for kind in types}
        self._observers_of = {
            kind: tuple(fn for fn, types in observed if types is None or kind in types)
            for kind in named
        }

    def observers_of(self, type: str) -> tuple[Observer, ...]:
        """The observers an event of ``type`` reaches, in the order they are called."""
        return self._observers_of.get(type, self._every)

    def emit(self, ts: int, type: str, cause: int | None, **payload: Any) -> int:
        """Record one event at simulated time ``ts`` (ns) and return its ``seq`` (the record is
        built here and written by :meth:`emit_record`: one write path)."""
        return self.emit_record({"seq": 0, "ts": ts, "type": type, "cause": cause, **payload})

    def emit_record(self, record: dict[str, Any]) -> int:
        """Record one event given as its whole line, built at the call site in log order:
        ``{"seq": 0, "ts": ts, "type": type, "cause": cause, **fields}``; return its ``seq``.

        ``record["seq"]`` is a placeholder, overwritten in place with the event's ``seq``; the
        line's bytes, the observers' view of it, the counts and the digest are those of
        ``emit(ts, type, cause, **fields)``. The dict becomes the log's: the caller must not
        keep or reuse it."""
        seq = self.seq
        self.seq = seq + 1
        record["seq"] = seq
        type = record["type"]
        observers = self._observers_of.get(type, self._every)
        if observers:
            for observer in observers:
                observer(record)
        if self._fast:
            self._buffer += _dumps(record, _reject_unserialisable, _NEWLINE)
        else:
            self._render_chain(type, record)
        if seq >= self._flush_at:
            self.flush()
        counts = self.counts
        try:
            counts[type] += 1
        except KeyError:
            counts[type] = 1
        return seq

    def _render_chain(self, type: str, record: dict[str, Any]) -> None:
        """Render ``record`` through a custom chain, processor by processor (the slow path)."""
        rendered: Any = record
        for processor in self._chain:
            rendered = processor(None, type, rendered)
        self._buffer += rendered
        self._buffer += b"\n"

    def flush(self) -> None:
        self._flush_at = self.seq + self._buffer_limit - 1
        if self._buffer:
            block = bytes(self._buffer)
            self._buffer.clear()
            self._digest.update(block)
            self._sink.write(block)

    def start(self, package_version: str, seed: int, config_sha256: str, **extra: Any) -> int:
        """The first line: schema version, package version, seed and the resolved config's hash."""
        return self.emit(
            0,
            "run_start",
            None,
            schema_version=SCHEMA_VERSION,
            package_version=package_version,
            seed=seed,
            config_sha256=config_sha256,
            **extra,
        )

    def close(self, ts: int) -> str:
        """Write the last line (event count, sha256 of all lines before it); return the digest."""
        if self._closed:
            raise RuntimeError("event log already closed")
        self.flush()
        digest = self._digest.hexdigest()
        count = self.seq
        self.emit(ts, "run_end", None, event_count=count, digest_sha256=digest)
        self.flush()
        self._closed = True
        return digest


class MemoryLog(EventLog):
    """An :class:`EventLog` that also keeps every event as a dict: for tests and tools."""

    __slots__ = ("events",)

    def __init__(self) -> None:
        import io

        super().__init__(io.BytesIO())
        self.events: list[dict] = []

    def emit_record(self, record: dict[str, Any]) -> int:  # emit comes here too
        seq = super().emit_record(record)
        self.events.append(dict(record))
        return seq

    def of_type(self, type: str) -> list[dict]:
        return [e for e in self.events if e["type"] == type]
