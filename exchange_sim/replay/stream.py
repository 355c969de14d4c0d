"""Streaming an ``events.jsonl`` line by line with its structure checked (bounded memory).

Each line must be one JSON object ending in a newline whose ``seq`` is its 0-based line number;
the last line must be ``run_end`` counting the lines before it and carrying their sha256. A damaged
log raises :class:`LogDamage` naming the line, what is wrong and the last good ``seq`` (the last
line that was read whole and in order): a cut last line or a missing ``run_end`` is a truncated log
(a killed run), a ``seq`` out of order is a deleted or inserted line, anything after ``run_end`` is
appended garbage. The digest is checked at ``run_end`` (:class:`DigestMismatch`), after every
event before it was handed out, so a recomputation catches a forged line first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import orjson

from exchange_sim.core.errors import DataError

CHUNK_BYTES = 1 << 20
"""How much of the log is read at once (whole lines)."""


class LogDamage(Exception):
    """The log is not a whole, well-formed run log: ``kind`` is ``truncated``, ``seq_gap``,
    ``not_json`` or ``after_run_end``; ``last_good_seq`` the last line read whole and in order
    (``None``: none)."""

    def __init__(self, kind: str, line: int, last_good_seq: int | None, detail: str) -> None:
        self.kind = kind
        self.line = line
        self.last_good_seq = last_good_seq
        self.detail = detail
        super().__init__(f"{kind} at line {line}: {detail} (last good seq {last_good_seq})")


class DigestMismatch(Exception):
    """``run_end``'s ``event_count`` or ``digest_sha256`` differs from the lines before it."""

    def __init__(self, seq: int, field: str, recorded: object, recomputed: object) -> None:
        self.seq, self.field, self.recorded, self.recomputed = seq, field, recorded, recomputed
        super().__init__(f"seq {seq}: {field} recorded {recorded!r}, recomputed {recomputed!r}")


def _show(line: bytes) -> str:
    return line[:60].decode("utf-8", "replace").rstrip()


def iter_events(path: str) -> Iterator[dict]:
    """The events of ``path`` in order, each a dict; see the module docstring for the checks.
    A file that cannot be opened raises :class:`DataError` (bad input)."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below, after the generator ends)
    except OSError as exc:
        raise DataError(path, path, f"cannot read: {exc.strerror or exc}") from None
    hasher = hashlib.sha256()
    loads = orjson.loads
    number = 0  # lines read so far = the next line's expected seq
    ended = False
    with handle:
        while lines := handle.readlines(CHUNK_BYTES):
            for index, line in enumerate(lines):
                last_good = number - 1 if number else None
                if ended:
                    raise LogDamage(
                        "after_run_end",
                        number + 1,
                        last_good,
                        f"a line after run_end: {_show(line)!r}",
                    )
                if line[-1:] != b"\n":
                    raise LogDamage(
                        "truncated", number + 1, last_good, f"the last line is cut: {_show(line)!r}"
                    )
                try:
                    event = loads(line)
                    seq = event["seq"]
                except (orjson.JSONDecodeError, TypeError, KeyError):
                    raise LogDamage(
                        "not_json", number + 1, last_good, f"not an event: {_show(line)!r}"
                    ) from None
                if seq != number:
                    raise LogDamage(
                        "seq_gap", number + 1, last_good, f"expected seq {number}, found {seq!r}"
                    )
                if event.get("type") == "run_end":
                    ended = True
                    before = hasher.copy()
                    before.update(b"".join(lines[:index]))
                    _check_end(event, number, before.hexdigest())
                number += 1
                yield event
            hasher.update(b"".join(lines))
    if not ended:
        raise LogDamage(
            "truncated",
            number,
            number - 1 if number else None,
            "the log ends without run_end (an interrupted run)",
        )


def _check_end(event: dict, number: int, digest: str) -> None:
    if event.get("event_count") != number:
        raise DigestMismatch(number, "event_count", event.get("event_count"), number)
    if event.get("digest_sha256") != digest:
        raise DigestMismatch(number, "digest_sha256", event.get("digest_sha256"), digest)
