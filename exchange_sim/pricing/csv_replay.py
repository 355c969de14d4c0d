"""Reading a user's price CSV for index replay.

Format (documented in docs/config.md): a header line ``timestamp,price`` then one row per
observation. ``timestamp`` is either an integer number of nanoseconds (any epoch: times are taken
relative to the first row) or an ISO-8601 date-time (``2021-05-19T13:00:00.250Z``). ``price`` is a
decimal in quote units. Rows must be in non-decreasing time order. Any problem raises
:class:`~exchange_sim.core.errors.DataError` naming ``file:line`` and the value (including bytes
that are not UTF-8, and times or prices that do not fit the log's 64-bit integers).
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from fractions import Fraction

from exchange_sim.core.errors import DataError, UnitError
from exchange_sim.core.units import MAX_INT, Scale, to_decimal

_INTEGER_RE = re.compile(r"-?[0-9]+")


def _timestamp_ns(text: str, where: str) -> int:
    text = text.strip()
    if _INTEGER_RE.fullmatch(text):
        # Bounded before int() so a thousand-digit row cannot hit int()'s digit limit.
        if len(text.lstrip("-")) > 19 or abs(int(text)) > MAX_INT:
            raise DataError(where, text, f"timestamp out of range (at most {MAX_INT} ns)")
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DataError(where, text, "timestamp must be integer ns or ISO-8601") from None
    if moment.tzinfo is None:
        raise DataError(where, text, "ISO-8601 timestamp needs a zone (e.g. Z)")
    delta = moment - datetime.fromtimestamp(0, tz=moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _read_lines(path: str, full: str) -> list[str]:
    """The file's lines (``\n``, ``\r\n`` or ``\r`` ends; a UTF-8 BOM is skipped)."""
    try:
        with open(full, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise DataError("index.process.path", path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.end]
        raise DataError(f"{path}:{line}", bad, "not UTF-8 text") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_price_csv(path: str, base_dir: str, scale: Scale, snap: bool) -> list[tuple[int, int]]:
    """Parse the CSV into (t_ns relative to the first row, price_ticks) points."""
    if not path:
        raise DataError("index.process.path", path, "a CSV path is required")
    full = path if os.path.isabs(path) else os.path.join(base_dir, path)
    lines = _read_lines(path, full)
    if not lines or [c.strip() for c in lines[0].split(",")] != ["timestamp", "price"]:
        raise DataError(f"{path}:1", lines[0] if lines else "", "header must be 'timestamp,price'")
    points: list[tuple[int, int]] = []
    first_ts = None
    for number, line in enumerate(lines[1:], start=2):
        where = f"{path}:{number}"
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != 2:
            raise DataError(where, line, "expected 2 columns: timestamp,price")
        ts = _timestamp_ns(cells[0], where)
        try:
            price = to_decimal(cells[1], where)
        except UnitError as exc:
            if exc.problem == "not a decimal number":
                raise DataError(where, cells[1], "price is not a decimal number") from None
            raise DataError(where, cells[1], f"bad price: {exc.problem}") from None
        if price <= 0:
            raise DataError(where, cells[1], "price must be positive")
        if snap:
            # Nearest tick (half to even), exactly; never below one tick.
            ticks = max(1, round(Fraction(price) / Fraction(scale.tick_size)))
        else:
            try:
                ticks = scale.price_ticks(price, where)
            except UnitError as exc:
                raise DataError(where, cells[1], exc.problem) from None
        if ticks > MAX_INT:
            raise DataError(where, cells[1], f"price out of range (at most {MAX_INT} ticks)")
        if first_ts is None:
            first_ts = ts
        rel = ts - first_ts
        if points and rel < points[-1][0]:
            raise DataError(where, cells[0], "timestamps must not go backwards")
        if rel > MAX_INT:
            raise DataError(where, cells[0], f"more than {MAX_INT} ns after the first row")
        points.append((rel, ticks))
    if not points:
        raise DataError(f"{path}:2", "", "no data rows")
    return points
