"""Reading a run's ``events.jsonl`` back, verified, without holding it in memory.

A log is accepted only if every line is a JSON object whose ``seq`` is its 0-based line number,
the last line is ``run_end``, its ``event_count`` is the number of lines before it and its
``digest_sha256`` is the sha256 of every byte before it. Anything else raises
:class:`~exchange_sim.core.errors.DataError` naming ``file:line`` and the value.
:func:`iter_log` streams (the events before a bad line are yielded first); :func:`read_log`
returns the whole list, for small logs and tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import orjson

from exchange_sim.core.errors import DataError


def iter_log(path: str) -> Iterator[dict]:
    """The events of ``events.jsonl``, one line at a time, verified as they stream: each line a
    JSON object whose ``seq`` is its 0-based line number, the last one ``run_end`` with the right
    ``event_count`` and ``digest_sha256``. A bad log raises :class:`DataError` naming
    ``file:line`` (after the events before it were yielded)."""
    digest = hashlib.sha256()
    last: dict | None = None
    number = 0
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, after the generator ends)
    except OSError as exc:
        raise DataError(path, path, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        for line in handle:
            number += 1
            where = f"{path}:{number}"
            if not line.endswith(b"\n"):
                raise DataError(where, line[:80].decode("utf-8", "replace"), "truncated line")
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise DataError(
                    where, line[:80].decode("utf-8", "replace"), "not a JSON object"
                ) from None
            if not isinstance(event, dict) or event.get("seq") != number - 1:
                raise DataError(
                    where, line[:80].decode("utf-8", "replace"), f"expected seq {number - 1}"
                )
            if event.get("type") == "run_end":
                if event.get("event_count") != number - 1:
                    raise DataError(
                        where, event.get("event_count"), f"event_count should be {number - 1}"
                    )
                if event.get("digest_sha256") != digest.hexdigest():
                    raise DataError(where, event.get("digest_sha256"), "digest mismatch")
            else:
                digest.update(line)
            last = event
            yield event
    if last is None or last.get("type") != "run_end":
        raise DataError(
            f"{path}:{number}",
            None if last is None else last.get("type"),
            "the last line must be run_end (log incomplete)",
        )


def read_log(path: str) -> list[dict]:
    """Every event of a verified log, as a list indexed by ``seq``."""
    return list(iter_log(path))
