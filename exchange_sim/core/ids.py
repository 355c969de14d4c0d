"""Run-owned id generators.

Ids are small ints issued in order by an :class:`IdSource` that belongs to one run, so two runs in
one process (or one after the other) issue identical ids. There are no class-level counters.
"""

from __future__ import annotations


class IdSource:
    """Sequential ids per kind (``"order"``, ``"account"``, ...), each starting at 1."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def next(self, kind: str) -> int:
        value = self._next.get(kind, 1)
        self._next[kind] = value + 1
        return value

    def counter(self, kind: str):
        """A zero-argument callable issuing the next id of ``kind`` (for hot paths)."""

        def issue() -> int:
            return self.next(kind)

        return issue
