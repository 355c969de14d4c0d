"""Accounts indexed by trigger price, so a mark update touches only the accounts it crosses.

Two sorted lists per trigger kind: longs trigger when ``mark < price`` (they are popped from the
top), shorts when ``mark > price`` (popped from the bottom). The trigger prices come from
:mod:`exchange_sim.accounts.triggers`, where an account is still safe *at* its trigger price and
past it one tick beyond, so the strict comparison is exact. Insert, remove and each crossed
account cost O(log n); a mark update that crosses nothing costs O(log n), never O(accounts).

A trigger of ``None`` follows the solver's convention: a long with no positive liquidation price
can never be crossed (not indexed); a short with none is already past it (reported as crossed at
the next update, via :meth:`TriggerIndex.due`).
"""

from __future__ import annotations

from sortedcontainers import SortedList

LIQUIDATION = 0
MARGIN_CALL = 1
TIER_STEP = 2
"""A long under a step risk limit whose maintenance rate jumps when a *rising* price carries its
notional into the next step: indexed like a short (crossed when ``mark > price``)."""
KINDS = (LIQUIDATION, MARGIN_CALL, TIER_STEP)


class TriggerIndex:
    __slots__ = ("_due", "_entries", "_longs", "_shorts")

    def __init__(self) -> None:
        self._longs = tuple(SortedList() for _ in KINDS)
        self._shorts = tuple(SortedList() for _ in KINDS)
        self._entries: dict[tuple[int, int], tuple[int, int | None]] = {}
        self._due: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: tuple[int, int]) -> bool:
        return key in self._entries

    def set(self, account_id: int, kind: int, side: int, price: int | None) -> None:
        """Index ``account_id``'s ``kind`` trigger (replacing any previous one)."""
        self.remove(account_id, kind)
        if side > 0:
            if price is None:
                return
            self._longs[kind].add((price, account_id))
        elif price is None:
            self._due.append((account_id, kind))
        else:
            self._shorts[kind].add((price, account_id))
        self._entries[(account_id, kind)] = (side, price)

    def remove(self, account_id: int, kind: int) -> None:
        entry = self._entries.pop((account_id, kind), None)
        if entry is None:
            return
        side, price = entry
        if price is None:
            self._due.remove((account_id, kind))
        elif side > 0:
            self._longs[kind].remove((price, account_id))
        else:
            self._shorts[kind].remove((price, account_id))

    def remove_account(self, account_id: int) -> None:
        for kind in KINDS:
            self.remove(account_id, kind)

    def is_crossed(self, side: int, price: int | None, mark: int) -> bool:
        """Whether a trigger at ``price`` for ``side`` is crossed by ``mark``."""
        if price is None:
            return side < 0
        return mark < price if side > 0 else mark > price

    def pop_crossed(self, mark: int, kind: int) -> list[int]:
        """Remove and return the accounts whose ``kind`` trigger ``mark`` crosses (sorted by id)."""
        crossed: list[int] = []
        longs = self._longs[kind]
        start = longs.bisect_right((mark, 1 << 62))
        if start < len(longs):
            crossed.extend(account for _, account in longs[start:])
            del longs[start:]
        shorts = self._shorts[kind]
        stop = shorts.bisect_left((mark, -1))
        if stop:
            crossed.extend(account for _, account in shorts[:stop])
            del shorts[:stop]
        if self._due:
            remaining = []
            for account, due_kind in self._due:
                if due_kind == kind:
                    crossed.append(account)
                else:
                    remaining.append((account, due_kind))
            self._due[:] = remaining
        entries = self._entries
        for account in crossed:
            del entries[(account, kind)]
        crossed.sort()
        return crossed
