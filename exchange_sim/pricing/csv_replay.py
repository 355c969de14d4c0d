"""Reading a user's price CSV for index replay.

Format (documented in docs/config.md): a header line ``timestamp,price`` then one row per
observation. ``timestamp`` is either an integer number of nanoseconds (any epoch: times are taken
relative to the first row) or an ISO-8601 date-time (``2021-05-19T13:00:00.250Z``). ``price`` is a
decimal in quote units. Rows must be in non-decreasing time order. Any problem raises
:class:`~exchange_sim.core.errors.DataError` naming ``file:line`` and the value.
"""

from __future__ import annotations

import os
from datetime import datetime
from decimal import Decimal, InvalidOperation

from exchange_sim.core.errors import DataError, UnitError
from exchange_sim.core.units import Scale


def _timestamp_ns(text: str, where: str) -> int:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DataError(where, text, "timestamp must be integer ns or ISO-8601") from None
    if moment.tzinfo is None:
        raise DataError(where, text, "ISO-8601 timestamp needs a zone (e.g. Z)")
    delta = moment - datetime.fromtimestamp(0, tz=moment.tzinfo)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def read_price_csv(path: str, base_dir: str, scale: Scale, snap: bool) -> list[tuple[int, int]]:
    """Parse the CSV into (t_ns relative to the first row, price_ticks) points."""
    full = path if os.path.isabs(path) else os.path.join(base_dir, path)
    if not path:
        raise DataError("index.process.path", path, "a CSV path is required")
    try:
        with open(full, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise DataError("index.process.path", path, f"cannot read: {exc.strerror}") from None
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
            price = Decimal(cells[1].strip())
        except InvalidOperation:
            raise DataError(where, cells[1], "price is not a decimal number") from None
        if not price.is_finite() or price <= 0:
            raise DataError(where, cells[1], "price must be positive")
        if snap:
            ticks = max(1, int((price / scale.tick_size).to_integral_value()))
        else:
            try:
                ticks = scale.price_ticks(price, where)
            except UnitError as exc:
                raise DataError(where, cells[1], exc.problem) from None
        if first_ts is None:
            first_ts = ts
        rel = ts - first_ts
        if points and rel < points[-1][0]:
            raise DataError(where, cells[0], "timestamps must not go backwards")
        points.append((rel, ticks))
    if not points:
        raise DataError(f"{path}:2", "", "no data rows")
    return points
