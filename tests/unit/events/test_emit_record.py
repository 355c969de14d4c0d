"""``EventLog.emit_record`` (the whole line built at the call site) writes what ``emit`` writes."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from exchange_sim.events.log import EventLog, MemoryLog
from exchange_sim.replay.state import Capture
from exchange_sim.runner.event_catalog import event_types
from exchange_sim.venue.instrument import InstrumentLog
from tests.unit.events.test_log_fast_path import VALUES, _chain_path


def _calls() -> list[tuple[int, str, int | None, dict]]:
    """``(ts, type, cause, fields)``: every declared event type with every kind of value."""
    calls = []
    for shift in range(len(VALUES)):
        for k, (name, event_type) in enumerate(event_types().items()):
            fields = {
                field: VALUES[(shift + k + i) % len(VALUES)]
                for i, (field, _) in enumerate(event_type.fields)
            }
            calls.append((1_000 * k + shift, name, None if k % 3 else k, fields))
    return calls


def _record(ts: int, type: str, cause: int | None, fields: dict) -> dict:
    """The line as a call site builds it: placeholder seq, ts, type, cause, then the fields."""
    return {"seq": 0, "ts": ts, "type": type, "cause": cause, **fields}


def _write(log, by_record: bool) -> None:
    for ts, type, cause, fields in _calls():
        if by_record:
            log.emit_record(_record(ts, type, cause, fields))
        else:
            log.emit(ts, type, cause, **fields)


@pytest.mark.parametrize("chain", ["default", "custom"])
def test_every_event_type_renders_the_same_bytes_counts_and_digest_both_ways(chain):
    """Every declared event type, with every kind of value, through emit_record and through
    emit: the same bytes (so the same run_end digest, across flushes of 7 lines) and the same
    per-type counts, on the fast path and on a custom chain."""
    sinks, logs = [], []
    for by_record in (False, True):
        sink = io.BytesIO()
        log = EventLog(sink, _chain_path() if chain == "custom" else None, buffer_lines=7)
        _write(log, by_record)
        log.close(10**9)
        sinks.append(sink.getvalue())
        logs.append(log)
    assert sinks[0] == sinks[1]
    assert sinks[0].count(b"\n") == logs[0].seq == logs[1].seq
    assert logs[0].counts == logs[1].counts


def test_observers_receive_the_same_records_both_ways():
    """An observer of every type and one of a single type see, through emit_record, records
    equal to emit's, key for key and in the same order, with the real seq."""
    seen: dict[bool, list] = {False: [], True: []}
    for by_record in (False, True):
        log = EventLog(io.BytesIO())
        log.observe(lambda r, b=by_record: seen[b].append(("every", list(r.items()))))
        log.observe(lambda r, b=by_record: seen[b].append(("trade", list(r.items()))), ["trade"])
        _write(log, by_record)
    assert seen[True] == seen[False]
    assert any(kind == "trade" for kind, _ in seen[True])


def test_the_seq_placeholder_is_overwritten_in_place():
    """Whatever the placeholder holds, the line starts with the event's own seq, and
    emit_record returns it, following emit's seqs without a gap."""
    sink = io.BytesIO()
    log = EventLog(sink)
    assert log.emit(1, "index_price", None, price=1, ts_source=1) == 0
    assert log.emit_record(_record(2, "index_price", 0, {"price": 2, "ts_source": 2})) == 1
    placeholder = {"seq": 99, "ts": 3, "type": "index_price", "cause": 1, "price": 3}
    assert log.emit_record(placeholder) == 2
    log.flush()
    assert sink.getvalue().splitlines()[1:] == [
        b'{"seq":1,"ts":2,"type":"index_price","cause":0,"price":2,"ts_source":2}',
        b'{"seq":2,"ts":3,"type":"index_price","cause":1,"price":3}',
    ]


def test_an_unserialisable_value_is_refused_through_emit_record():
    """A Decimal in a call site's record raises TypeError, as it does through emit."""
    log = EventLog(io.BytesIO())
    with pytest.raises(TypeError):
        log.emit_record(_record(0, "index_price", None, {"price": Decimal("1.5")}))


def test_an_instrument_log_puts_instrument_right_after_cause_both_ways():
    """An additional perpetual's log writes ``instrument`` right after ``cause`` through
    emit_record, as through emit: the same bytes."""
    sinks = []
    for by_record in (False, True):
        sink = io.BytesIO()
        log = InstrumentLog(EventLog(sink), "ETHUSDT")
        _write(log, by_record)
        log.flush()
        sinks.append(sink.getvalue())
    assert sinks[0] == sinks[1]
    assert sinks[1].startswith(b'{"seq":0,"ts":0,"type":"run_start","cause":0,"instrument":')


def test_a_memory_log_keeps_the_same_events_both_ways():
    """MemoryLog keeps, through emit_record, events equal to emit's (keys in the same order)."""
    kept = []
    for by_record in (False, True):
        log = MemoryLog()
        _write(log, by_record)
        kept.append([list(event.items()) for event in log.events])
    assert kept[0] == kept[1]


def test_the_replay_capture_keeps_the_same_payloads_both_ways():
    """The replay's Capture keeps ``(type, fields)`` without the common four, both ways."""
    kept = []
    for by_record in (False, True):
        capture = Capture()
        _write(capture, by_record)
        kept.append([(t, list(p.items())) for t, p in capture.take()])
    assert kept[0] == kept[1]


def test_emit_record_hands_the_sink_a_block_every_buffer_lines_lines():
    """With buffer_lines=3, lines written through emit_record reach the sink at the 3rd and the
    6th line, as through emit (the digest covers them block by block)."""
    sink = io.BytesIO()
    log = EventLog(sink, buffer_lines=3)
    seen = []
    for k in range(6):
        log.emit_record(_record(k, "index_price", None, {"price": k}))
        seen.append(sink.getvalue().count(b"\n"))
    assert seen == [0, 0, 3, 3, 3, 6]
