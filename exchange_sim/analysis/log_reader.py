"""Read and verify a run's ``events.jsonl``.

A log is accepted only if every line is a JSON object whose ``seq`` is its 0-based line number,
the last line is ``run_end``, its ``event_count`` is the number of lines before it and its
``digest_sha256`` is the sha256 of every byte before it. Anything else raises
:class:`~exchange_sim.core.errors.DataError` naming ``file:line`` and the value.
"""

from __future__ import annotations

import hashlib

import orjson

from exchange_sim.core.errors import DataError


def read_log(path: str) -> list[dict]:
    """The events of a verified log, indexed by ``seq``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise DataError(path, path, f"cannot read: {exc.strerror}") from None
    if not data.endswith(b"\n"):
        raise DataError(path, len(data), "log is truncated (no final newline)")
    lines = data[:-1].split(b"\n")
    events: list[dict] = []
    for number, line in enumerate(lines, start=1):
        where = f"{path}:{number}"
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise DataError(
                where, line[:80].decode("utf-8", "replace"), "not a JSON object"
            ) from None
        if not isinstance(record, dict) or record.get("seq") != number - 1:
            raise DataError(
                where, line[:80].decode("utf-8", "replace"), f"expected seq {number - 1}"
            )
        events.append(record)
    last = events[-1]
    where = f"{path}:{len(lines)}"
    if last.get("type") != "run_end":
        raise DataError(where, last.get("type"), "the last line must be run_end (log incomplete)")
    if last.get("event_count") != len(events) - 1:
        raise DataError(where, last.get("event_count"), f"event_count should be {len(events) - 1}")
    body = data[: len(data) - len(lines[-1]) - 1]
    digest = hashlib.sha256(body).hexdigest()
    if last.get("digest_sha256") != digest:
        raise DataError(
            where, last.get("digest_sha256"), f"digest mismatch (lines hash to {digest})"
        )
    return events
