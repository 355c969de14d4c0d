"""Sorted trigger levels: a value update touches only the members whose level it crossed.

A group of thousands of traders keeps its members' stop-loss and take-profit prices (or the signal
thresholds at which they act) in :class:`Levels`: one sorted list of ``(level, account_id, tag)``
keys. An update of the observed value pops exactly the keys it crossed, in O(log n + crossed);
nobody else is looked at. ``falling`` levels fire when the value is at or below them (a long's
stop, a short's take-profit), rising ones when it is at or above them.
"""

from __future__ import annotations

from sortedcontainers import SortedList

Key = tuple
"""``(level, account_id, tag)``: what :meth:`Levels.add` returns and :meth:`Levels.crossed` pops."""


class Levels:
    """Trigger keys sorted by level; :meth:`crossed` removes and returns those a value crossed."""

    __slots__ = ("_keys", "falling")

    def __init__(self, falling: bool) -> None:
        self.falling = falling
        self._keys = SortedList()

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, level: int, account_id: int, tag: int | str = 0) -> Key:
        key = (level, account_id, tag)
        self._keys.add(key)
        return key

    def discard(self, key: Key | None) -> None:
        if key is not None:
            self._keys.discard(key)

    def crossed(self, value: int) -> list[Key]:
        """Remove and return the keys ``value`` reached: falling levels ``>= value`` (highest
        first), rising levels ``<= value`` (lowest first)."""
        keys = self._keys
        if not keys:
            return []
        if self.falling:
            if keys[-1][0] < value:
                return []
            start = keys.bisect_left((value,))
            hits = list(reversed(keys[start:]))
            del keys[start:]
        else:
            if keys[0][0] > value:
                return []
            end = keys.bisect_left((value + 1,))
            hits = list(keys[:end])
            del keys[:end]
        return hits
