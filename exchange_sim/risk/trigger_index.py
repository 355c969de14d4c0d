"""Accounts indexed by trigger price, so a mark update touches only the accounts it crosses.

Two sorted lists per trigger kind: longs trigger when ``mark < price`` (they are popped from the
top), shorts when ``mark > price`` (popped from the bottom). The trigger prices come from
:mod:`exchange_sim.accounts.triggers`, where an account is still safe *at* its trigger price and
past it one tick beyond, so the strict comparison is exact. Insert, remove and each crossed
account cost O(log n); a mark update that crosses nothing costs O(log n), never O(accounts).

A trigger of ``None`` follows the solver's convention: a long with no positive liquidation price
can never be crossed (not indexed); a short with none is already past it (reported as crossed at
the next update, via :meth:`TriggerIndex.due`).

**Layout** (memory per indexed account matters at a million accounts): an entry is one integer
``price << ID_BITS | account_id`` (prices are never negative, ids below ``2**ID_BITS``), which
sorts as the ``(price, account_id)`` pair it packs, and the same integer object is the value of
the account in its side's dict (``account_id -> entry``, per kind), so an indexed trigger costs a
dict slot, a list slot and one integer, with no tuple anywhere.
"""

from __future__ import annotations

from sortedcontainers import SortedList

LIQUIDATION = 0
MARGIN_CALL = 1
TIER_STEP = 2
"""A long under a step risk limit whose maintenance rate jumps when a *rising* price carries its
notional into the next step: indexed like a short (crossed when ``mark > price``)."""
KINDS = (LIQUIDATION, MARGIN_CALL, TIER_STEP)
ID_BITS = 40
"""Bits of the account id in a packed entry (ids are below ``2**40``)."""
_ID_MASK = (1 << ID_BITS) - 1
_DUE = -1
"""The value of a short with no trigger price (past it) in its side's dict."""


class TriggerIndex:
    __slots__ = ("_due", "_long_of", "_longs", "_short_of", "_shorts")

    def __init__(self) -> None:
        self._longs = tuple(SortedList() for _ in KINDS)
        self._shorts = tuple(SortedList() for _ in KINDS)
        self._long_of: tuple[dict[int, int], ...] = tuple({} for _ in KINDS)
        self._short_of: tuple[dict[int, int], ...] = tuple({} for _ in KINDS)
        self._due: list[tuple[int, int]] = []

    def __len__(self) -> int:
        return sum(len(d) for d in self._long_of) + sum(len(d) for d in self._short_of)

    def __contains__(self, key: tuple[int, int]) -> bool:
        account_id, kind = key
        return account_id in self._long_of[kind] or account_id in self._short_of[kind]

    def set(self, account_id: int, kind: int, side: int, price: int | None) -> None:
        """Index ``account_id``'s ``kind`` trigger (replacing any previous one)."""
        if account_id > _ID_MASK or (price is not None and price < 0):
            raise ValueError(f"account {account_id} or trigger price {price} out of range")
        self.remove(account_id, kind)
        if side > 0:
            if price is None:
                return
            entry = price << ID_BITS | account_id
            self._longs[kind].add(entry)
            self._long_of[kind][account_id] = entry
        elif price is None:
            self._due.append((account_id, kind))
            self._short_of[kind][account_id] = _DUE
        else:
            entry = price << ID_BITS | account_id
            self._shorts[kind].add(entry)
            self._short_of[kind][account_id] = entry

    def remove(self, account_id: int, kind: int) -> None:
        entry = self._long_of[kind].pop(account_id, None)
        if entry is not None:
            self._longs[kind].remove(entry)
            return
        entry = self._short_of[kind].pop(account_id, None)
        if entry is None:
            return
        if entry == _DUE:
            self._due.remove((account_id, kind))
        else:
            self._shorts[kind].remove(entry)

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
        start = longs.bisect_right(mark << ID_BITS | _ID_MASK)
        if start < len(longs):
            taken = [entry & _ID_MASK for entry in longs[start:]]
            del longs[start:]
            long_of = self._long_of[kind]
            for account in taken:
                del long_of[account]
            crossed.extend(taken)
        shorts = self._shorts[kind]
        stop = shorts.bisect_left(mark << ID_BITS)
        if stop:
            taken = [entry & _ID_MASK for entry in shorts[:stop]]
            del shorts[:stop]
            short_of = self._short_of[kind]
            for account in taken:
                del short_of[account]
            crossed.extend(taken)
        if self._due:
            remaining = []
            short_of = self._short_of[kind]
            for account, due_kind in self._due:
                if due_kind == kind:
                    crossed.append(account)
                    del short_of[account]
                else:
                    remaining.append((account, due_kind))
            self._due[:] = remaining
        crossed.sort()
        return crossed
