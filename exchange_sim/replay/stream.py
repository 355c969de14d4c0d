"""Reading an ``events.jsonl`` a chunk of whole lines at a time (bounded memory), with orjson.

:class:`LogReader` yields each chunk's events as a list of dicts; the caller checks each event's
``seq`` against its line number and calls :meth:`LogReader.check_end` at ``run_end``. What is
wrong with a damaged log is raised as :class:`LogDamage` naming the line, the kind of damage and
the last good ``seq`` (the last line read whole and in order): a cut last line or a missing
``run_end`` is a truncated log (a killed run), a ``seq`` out of order a deleted or inserted line, a
line after ``run_end`` appended garbage. ``run_end``'s count and digest are checked when it is
reached (:class:`DigestMismatch`), after every event before it was checked by recomputation, so a
forged line with a recomputed digest is caught by the recomputation first.
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


def show(line: bytes) -> str:
    return line[:60].decode("utf-8", "replace").rstrip()


def damage(kind: str, number: int, detail: str) -> LogDamage:
    """Damage at the line with 0-based index ``number`` (the lines before it were good)."""
    return LogDamage(kind, number + 1, number - 1 if number else None, detail)


class LogReader:
    """Streams ``path`` (see the module docstring). ``lines_before`` counts the lines of the
    chunks already handed out."""

    __slots__ = ("_hasher", "_lines", "lines_before", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._hasher = hashlib.sha256()
        self._lines: list[bytes] = []
        self.lines_before = 0

    def chunks(self) -> Iterator[list[dict]]:
        """Each chunk's events; a file that cannot be opened raises :class:`DataError`."""
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 (closed below, after the generator ends)
        except OSError as exc:
            raise DataError(self.path, self.path, f"cannot read: {exc.strerror or exc}") from None
        loads = orjson.loads
        with handle:
            while lines := handle.readlines(CHUNK_BYTES):
                if lines[-1][-1:] != b"\n":
                    # Only the file's last line can lack its newline: hand out what comes before.
                    number = self.lines_before + len(lines) - 1
                    cut = damage("truncated", number, f"the last line is cut: {show(lines[-1])!r}")
                    lines.pop()
                else:
                    cut = None
                try:
                    events = list(map(loads, lines))
                except orjson.JSONDecodeError:
                    events = self._parse_until_bad(lines)
                self._lines = lines
                yield events
                if cut is not None:
                    raise cut
                self._hasher.update(b"".join(lines))
                self.lines_before += len(lines)

    def _parse_until_bad(self, lines: list[bytes]) -> list[dict]:
        """The events before the first line that is not JSON, then that line as damage (raised
        by the caller when it reaches the marker)."""
        events: list = []
        for index, line in enumerate(lines):
            try:
                events.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                number = self.lines_before + index
                events.append(damage("not_json", number, f"not an event: {show(line)!r}"))
                break
        return events

    def check_end(self, event: dict, index: int) -> None:
        """``run_end`` at position ``index`` of the current chunk: its count and digest."""
        number = self.lines_before + index
        if event.get("event_count") != number:
            raise DigestMismatch(number, "event_count", event.get("event_count"), number)
        hasher = self._hasher.copy()
        hasher.update(b"".join(self._lines[:index]))
        digest = hasher.hexdigest()
        if event.get("digest_sha256") != digest:
            raise DigestMismatch(number, "digest_sha256", event.get("digest_sha256"), digest)
