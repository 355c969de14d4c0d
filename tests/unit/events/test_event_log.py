"""The event log: JSON lines, gap-free seq, causes, digest and schema."""

from __future__ import annotations

import hashlib
import io

import orjson
import pytest

from exchange_sim.events.log import EventLog
from exchange_sim.runner.event_catalog import event_types, validate_record


def _log(buffer_lines=3):
    sink = io.BytesIO()
    return EventLog(sink, buffer_lines=buffer_lines), sink


def test_lines_start_with_seq_ts_type_cause_then_payload():
    """Each line is one JSON object whose first keys are seq, ts, type, cause."""
    log, sink = _log()
    log.emit(5, "index_price", None, price=10, ts_source=4)
    log.flush()
    line = sink.getvalue().splitlines()[0]
    assert line == b'{"seq":0,"ts":5,"type":"index_price","cause":null,"price":10,"ts_source":4}'


def test_emit_returns_gap_free_seq_for_causal_chains():
    """emit returns the seq of the line it wrote, counting from 0 without gaps."""
    log, sink = _log()
    first = log.emit(0, "a", None)
    second = log.emit(1, "b", first)
    log.flush()
    records = [orjson.loads(line) for line in sink.getvalue().splitlines()]
    assert [first, second] == [0, 1]
    assert records[1]["cause"] == 0


def test_run_end_carries_count_and_digest_of_all_previous_bytes():
    """The last line's digest is sha256 of every byte before it, across buffer flushes."""
    log, sink = _log(buffer_lines=2)
    log.start("0.0", 1, "abc")
    for i in range(7):
        log.emit(i, "index_price", None, price=i + 1, ts_source=i)
    digest = log.close(99)
    data = sink.getvalue()
    body, last = data.rstrip(b"\n").rsplit(b"\n", 1)
    record = orjson.loads(last)
    assert record["type"] == "run_end"
    assert record["event_count"] == 8
    assert record["digest_sha256"] == digest == hashlib.sha256(body + b"\n").hexdigest()


def test_non_integer_payload_is_refused():
    """A float or Decimal can never reach the log."""
    from decimal import Decimal

    log, _ = _log(buffer_lines=1)
    with pytest.raises(TypeError):
        log.emit(0, "x", None, price=Decimal("1.5"))


def test_writes_are_buffered():
    """Nothing reaches the sink until the buffer fills or is flushed."""
    log, sink = _log(buffer_lines=100)
    log.emit(0, "a", None)
    assert sink.getvalue() == b""
    log.flush()
    assert sink.getvalue().count(b"\n") == 1


def test_schema_check_flags_undeclared_fields():
    """validate_record reports fields a type does not declare."""
    registry = event_types()
    good = {"seq": 0, "ts": 0, "type": "index_price", "cause": None, "price": 1, "ts_source": 0}
    assert validate_record(good, registry) is None
    assert "undeclared fields" in validate_record({**good, "colour": 1}, registry)
    assert "undeclared event type" in validate_record({**good, "type": "nope"}, registry)


def _observed_log():
    log = EventLog(io.BytesIO())
    seen: list[tuple[str, str]] = []
    log.observe(lambda e: seen.append(("trades", e["type"])), ("trade",))
    log.observe(lambda e: seen.append(("every", e["type"])))
    log.observe(lambda e: seen.append(("orders", e["type"])), ("order_accepted", "trade"))
    return log, seen


def test_observers_are_reached_by_their_own_types_and_every_event_by_the_rest():
    """An observer named for types gets exactly the events of those types, one without types gets
    every event; each event reaches its observers in the order they were registered."""
    log, seen = _observed_log()
    for kind in ("trade", "position", "order_accepted", "run_end"):
        log.emit(0, kind, None)
    assert seen == [
        ("trades", "trade"),
        ("every", "trade"),
        ("orders", "trade"),
        ("every", "position"),
        ("every", "order_accepted"),
        ("orders", "order_accepted"),
        ("every", "run_end"),
    ]


def test_an_unobserved_observer_is_reached_no_more():
    """unobserve with the types it was registered with removes exactly that registration."""
    log, seen = _observed_log()
    log.unobserve(log.observers_of("position")[0])  # the one of every event
    log.emit(0, "trade", None)
    log.emit(0, "position", None)
    assert seen == [("trades", "trade"), ("orders", "trade")]
