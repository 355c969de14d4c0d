"""Stream a run's ``events.jsonl`` once, verifying it, and hand its rows over in batches.

The log is read a chunk of whole lines at a time (:data:`CHUNK_BYTES`), never whole. Each line's
``seq``, ``type`` and ``cause`` are read from its fixed head (every line starts with them, in the
log's compact spelling) without parsing the rest; only lines of a selected type are parsed
(orjson) and turned into a tuple of their fields in the caller's order. Each line's ``seq`` must
be its 0-based position, the last line must be a ``run_end`` counting the lines before it and
carrying their sha256 (computed as the chunks go by). Anything else raises
:class:`~exchange_sim.core.errors.DataError` naming ``file:line`` and the value.
"""

from __future__ import annotations

import hashlib
import re
from array import array
from collections.abc import Callable, Mapping
from operator import itemgetter

import orjson

from exchange_sim.core.errors import DataError

_HEAD = re.compile(rb'\{"seq":(\d+),"ts":-?\d+,"type":"(\w+)","cause":(null|\d+)')
CHUNK_BYTES = 1 << 20
"""How much of the log is read at once (whole lines)."""


def _line_error(where: str, line: bytes, problem: str) -> DataError:
    return DataError(where, line[:80].decode("utf-8", "replace").rstrip(), problem)


class _TypeState:
    """What the scanner keeps per event type: its skeleton code, line count, the row buffer
    (``None`` when the type is not selected) and a getter of its fields in the caller's order."""

    __slots__ = ("code", "count", "getter", "keys", "kind", "rows", "width")

    def __init__(self, kind: str, keys: tuple[str, ...], code: int, selected: bool) -> None:
        self.kind, self.keys, self.code, self.count = kind, keys, code, 0
        self.rows: list[tuple] | None = [] if selected else None
        self.getter, self.width = itemgetter(*keys), len(keys)


def scan(
    path: str,
    fields: Mapping[str, tuple[str, ...]],
    on_rows: Callable[[str, list[tuple]], None],
    wanted: set[str] | None = None,
    batch_rows: int = 100_000,
    skeleton: tuple[array, array] | None = None,
    optional: str | None = None,
) -> dict[str, int]:
    """Stream ``path``: for each type in ``wanted`` (default: all), call ``on_rows(type, rows)``
    with every ``batch_rows`` lines as tuples of the values of ``fields[type]`` (every key a line
    holds, in that order), in log order, then with each type's remainder once the log is
    verified; return the count of lines per type (all types, in order of first appearance). A
    type missing from ``fields`` fails. With ``skeleton = (type codes, causes)`` every line's type
    (its index in that order) and cause (-1: none) are appended there. ``optional`` names a field
    any line may carry besides its type's (a perpetual's ``instrument``): each row then ends with
    its value (``None`` where the line has none).
    """
    states: dict[bytes, _TypeState] = {}
    hasher = hashlib.sha256()
    pending: list[bytes] = []
    number = 0  # lines before the current one = its expected seq
    match, loads = _HEAD.match, orjson.loads

    def flush(state: _TypeState) -> None:
        if state.rows:
            on_rows(state.kind, state.rows)
            state.rows = []

    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below; errors must name the path)
    except OSError as exc:
        raise DataError(path, path, f"cannot read: {exc.strerror}") from None
    with handle:
        while lines := handle.readlines(CHUNK_BYTES):
            hasher.update(b"".join(pending))
            pending = lines
            for line in lines:
                head = match(line)
                if head is None:
                    record, name, cause = _slow_head(line, f"{path}:{number + 1}")
                    seq = record["seq"]
                else:
                    record, seq, name = None, int(head[1]), head[2]
                if seq != number:
                    raise _line_error(f"{path}:{number + 1}", line, f"expected seq {number}")
                state = states.get(name)
                if state is None:
                    state = states[name] = _new_type(
                        name, path, number, line, fields, wanted, states
                    )
                state.count += 1
                if skeleton is not None:
                    skeleton[0].append(state.code)
                    if head is not None:
                        cause = -1 if head[3] == b"null" else int(head[3])
                    skeleton[1].append(cause)
                rows = state.rows
                if rows is not None:
                    try:
                        if record is None:
                            record = loads(line)
                        row = state.getter(record)
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        raise _bad_fields(line, f"{path}:{number + 1}", state) from None
                    width = state.width
                    if optional is not None:
                        value = record.get(optional)
                        row = (*row, value)
                        width += value is not None
                    rows.append(row)
                    if len(record) != width:
                        raise _bad_fields(line, f"{path}:{number + 1}", state)
                    if len(rows) >= batch_rows:
                        flush(state)
                number += 1
    if number == 0:
        raise DataError(path, 0, "the log is empty")
    _check_end(f"{path}:{number}", pending, number, hasher)
    for state in states.values():
        flush(state)
    return {state.kind: state.count for state in states.values()}


def _slow_head(line: bytes, where: str) -> tuple[dict, bytes, int]:
    """(record, type, cause or -1) of a line not in the log's own compact spelling."""
    record = _parse(line, where)
    seq, cause = record.get("seq"), record.get("cause")
    if type(seq) is not int or not (cause is None or type(cause) is int):
        raise _line_error(where, line, "seq and cause must be integers")
    return record, str(record.get("type")).encode(), -1 if cause is None else cause


def _new_type(name, path, number, line, fields, wanted, states) -> _TypeState:
    """Register an event type on its first line; one ``fields`` lacks is refused."""
    kind = name.decode()
    if kind not in fields:
        where = f"{path}:{number + 1}"
        raise _line_error(where, line, f"event type {kind!r} is not in the unit table")
    return _TypeState(kind, fields[kind], len(states), wanted is None or kind in wanted)


def _parse(line: bytes, where: str) -> dict:
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise _line_error(where, line, "not a JSON object") from None
    if not isinstance(record, dict):
        raise _line_error(where, line, "not a JSON object")
    return record


def _bad_fields(line: bytes, where: str, state: _TypeState) -> DataError:
    """Why a selected line could not be read into its type's columns."""
    record = _parse(line, where)
    odd = sorted(set(record) ^ set(state.keys))
    return _line_error(where, line, f"fields {odd} differ from the unit table's")


def _check_end(where: str, pending: list[bytes], number: int, hasher) -> None:
    """The last line must be a complete ``run_end`` counting and hashing every line before it."""
    line = pending[-1]
    if not line.endswith(b"\n"):
        raise DataError(where, len(line), "log is truncated (no final newline)")
    record = _parse(line, where)
    if record.get("type") != "run_end":
        raise DataError(where, record.get("type"), "the last line must be run_end (log incomplete)")
    if record.get("event_count") != number - 1:
        raise DataError(where, record.get("event_count"), f"event_count should be {number - 1}")
    hasher.update(b"".join(pending[:-1]))
    if record.get("digest_sha256") != hasher.hexdigest():
        raise DataError(where, record.get("digest_sha256"), "digest mismatch (log altered)")
