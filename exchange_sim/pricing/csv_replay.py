"""Reading a user's price CSV for index replay.

Format (documented in docs/config.md): a header line ``timestamp,price`` then one row per
observation. ``timestamp`` is either an integer number of nanoseconds (any epoch: times are taken
relative to the first row) or an ISO-8601 date-time (``2021-05-19T13:00:00.250Z``). ``price`` is a
decimal in quote units. Rows must be in non-decreasing time order. A multi-column file (several
perpetuals' prices, one column each) has the header ``timestamp,<name>,<name>,...``; each
perpetual reads the column it names (``column``), every row has the header's number of cells.
Any problem raises :class:`~exchange_sim.core.errors.DataError` naming ``file:line`` and the value
(including bytes that are not UTF-8, and times or prices that do not fit the log's 64-bit
integers).
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


def _price_column(path: str, lines: list[str], column: str) -> tuple[int, int]:
    """``(index of the price cell, cells a row has)`` from the header line."""
    header = [c.strip() for c in lines[0].split(",")] if lines else []
    if not column:
        if header != ["timestamp", "price"]:
            raise DataError(
                f"{path}:1", lines[0] if lines else "", "header must be 'timestamp,price'"
            )
        return 1, 2
    if not header or header[0] != "timestamp":
        raise DataError(
            f"{path}:1", lines[0] if lines else "", "header must start with 'timestamp'"
        )
    if column not in header[1:]:
        raise DataError(
            f"{path}:1", column, f"no such column (have {', '.join(header[1:]) or 'none'})"
        )
    if header.count(column) > 1:
        raise DataError(f"{path}:1", column, "column named more than once")
    return header.index(column), len(header)


def read_price_csv(
    path: str, base_dir: str, scale: Scale, snap: bool, column: str = ""
) -> list[tuple[int, int]]:
    """Parse the CSV into (t_ns relative to the first row, price_ticks) points; ``column``: the
    price column of a multi-column file ("" = the ``timestamp,price`` format)."""
    if not path:
        raise DataError("index.process.path", path, "a CSV path is required")
    full = path if os.path.isabs(path) else os.path.join(base_dir, path)
    lines = _read_lines(path, full)
    at, width = _price_column(path, lines, column)
    shape = "timestamp,price" if not column else lines[0].strip()
    points: list[tuple[int, int]] = []
    first_ts = None
    for number, line in enumerate(lines[1:], start=2):
        where = f"{path}:{number}"
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != width:
            raise DataError(where, line, f"expected {width} columns: {shape}")
        ts = _timestamp_ns(cells[0], where)
        cell = cells[at]
        try:
            price = to_decimal(cell, where)
        except UnitError as exc:
            if exc.problem == "not a decimal number":
                raise DataError(where, cell, "price is not a decimal number") from None
            raise DataError(where, cell, f"bad price: {exc.problem}") from None
        if price <= 0:
            raise DataError(where, cell, "price must be positive")
        if snap:
            # Nearest tick (half to even), exactly; never below one tick.
            ticks = max(1, round(Fraction(price) / Fraction(scale.tick_size)))
        else:
            try:
                ticks = scale.price_ticks(price, where)
            except UnitError as exc:
                raise DataError(where, cell, exc.problem) from None
        if ticks > MAX_INT:
            raise DataError(where, cell, f"price out of range (at most {MAX_INT} ticks)")
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
