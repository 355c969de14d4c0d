"""The default chain's fast path writes exactly the bytes the structlog chain renders."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from exchange_sim.events.log import EventLog, build_chain, is_default_chain
from exchange_sim.runner.event_catalog import event_types

VALUES = (
    0,
    -7,
    2**63 - 1,
    -(2**63),
    None,
    True,
    False,
    "",
    'quote " backslash \\ newline \n tab \t',
    "unicode é 漢 \u2028 \x00",
    [1, -2, [3, "x"], []],
    {"nested": [1, {"deep": None}], "k": "v"},
    ["a", "b"],
    1.5,
)


def _chain_path() -> list:
    """A chain that is not the default (a pass-through processor first): the processor path."""
    return [lambda _logger, _name, record: record, *build_chain()]


def _emit_all(log: EventLog) -> None:
    registry = event_types()
    for shift in range(len(VALUES)):
        for k, (name, event_type) in enumerate(registry.items()):
            payload = {
                field: VALUES[(shift + k + i) % len(VALUES)]
                for i, (field, _) in enumerate(event_type.fields)
            }
            log.emit(1_000 * k + shift, name, None if k % 3 else k, **payload)
    log.close(10**9)


def test_the_default_chain_is_recognised_and_a_custom_one_is_not():
    """build_chain() takes the fast path; a chain with any other processor does not."""
    assert is_default_chain(build_chain())
    assert not is_default_chain(_chain_path())
    assert EventLog(io.BytesIO())._fast
    assert not EventLog(io.BytesIO(), _chain_path())._fast


def test_fast_path_bytes_equal_the_chain_path_for_every_event_type():
    """Every declared event type, with every kind of value, renders byte-identical lines (and
    so the same run_end digest) through the fast path and through the structlog chain."""
    fast_sink, chain_sink = io.BytesIO(), io.BytesIO()
    fast, chain = EventLog(fast_sink, buffer_lines=7), EventLog(chain_sink, _chain_path(), 7)
    _emit_all(fast)
    _emit_all(chain)
    assert fast_sink.getvalue() == chain_sink.getvalue()
    assert fast_sink.getvalue().count(b"\n") == fast.seq


def test_a_custom_chain_still_runs_every_processor():
    """A custom chain's processors run on every line (the fast path is for the default only)."""
    sink = io.BytesIO()

    def stamp(_logger, _name, record):
        return {**record, "stamped": 1}

    log = EventLog(sink, [stamp, *build_chain()])
    log.emit(5, "index_price", None, price=10)
    log.flush()
    assert sink.getvalue() == (
        b'{"seq":0,"ts":5,"type":"index_price","cause":null,"price":10,"stamped":1}\n'
    )


@pytest.mark.parametrize("chain", [None, "custom"])
def test_unserialisable_payloads_are_refused_on_both_paths(chain):
    """A Decimal in a payload raises TypeError whichever path renders it."""
    log = EventLog(io.BytesIO(), _chain_path() if chain else None)
    with pytest.raises(TypeError):
        log.emit(0, "index_price", None, price=Decimal("1.5"))


def test_the_sink_gets_a_block_every_buffer_lines_lines_counting_from_the_last_flush():
    """With buffer_lines=3 the sink is written at the 3rd line, and after an explicit flush at
    the 3rd line after it (not at the 6th line overall)."""
    sink = io.BytesIO()
    log = EventLog(sink, buffer_lines=3)
    seen = []
    for k in range(3):
        log.emit(k, "index_price", None, price=k)
        seen.append(sink.getvalue().count(b"\n"))
    log.emit(3, "index_price", None, price=3)
    log.flush()
    for k in range(4, 7):
        log.emit(k, "index_price", None, price=k)
        seen.append(sink.getvalue().count(b"\n"))
    assert seen == [0, 0, 3, 4, 4, 7]
