"""The ADL queue kept between steps: per side, the positions ADL may close, ranked at a mark.

An ADL step needs the head of the opposite side's queue (:mod:`.adl_select`). Building it from
every account at every step costs O(accounts) per step; :class:`AdlBook` instead keeps, for each
side, the set of accounts holding a position on it (updated on every ledger change, never by a
scan) and a binary heap of exact integer keys (``adl_select``'s keys) valid at one mark.

* **Same mark as the side's last step**: only the positions that changed since (a fill, a
  deposit, a funding payment, an earlier ADL close; the ledger's change listener records them)
  are keyed again and pushed, O(log n) each; their old entries stay in the heap and are dropped
  when they surface (each heap entry remembers nothing but its key: the account's current entry
  is the one in ``_current``, or the one built at the last rebuild when absent there).
* **The mark moved** (or the keys' precision no longer suffices, or more than a quarter of the
  side changed, or stale entries outnumber live ones): the side is keyed again from its set and
  heapified, O(n) for the n positions on that side (not the accounts without one).
* **Taking the head**: entries are popped until the bankrupt size is covered, O(log n) each;
  entries of accounts the step may not touch (in the liquidation pipeline) are put back after.

So a step at an unchanged mark costs O((d + k + b) log n) for d positions changed since the last
step, k positions closed and b positions skipped (busy); a step after a mark change costs O(n)
keys plus that. No order valid across marks exists for the ranked formulas (the order itself
changes with the mark; ``tests/unit/test_adl_select.py::test_order_depends_on_mark``), so the
O(n) rebuild after a mark move is the price of exactness. The head is entry for entry the one
the full sort (``AdlRanker.queue``, the test oracle) gives: same keys as ``adl_select``, the same
candidates (:func:`~.adl_ratios.candidate_of`), ties by account id.
"""

from __future__ import annotations

from heapq import heapify, heappop, heappush

from exchange_sim.liquidation.adl import PROFITABLE_ONLY, AdlQueueEntry, AdlRanker, AdlScore
from exchange_sim.liquidation.adl_ratios import (
    AdlCandidate,
    RatioFn,
    binance_ratio,
    bitmex_ratio,
    candidate_of,
    hyperliquid_ratio,
)
from exchange_sim.liquidation.adl_select import exact_shift

_ABSENT = object()


class _Side:
    """One side's positions and, once a step has asked, their heap at ``mark``."""

    __slots__ = ("current", "den_bits", "dirty", "heap", "margin", "mark", "members", "shift")

    def __init__(self) -> None:
        self.members: set[int] = set()
        self.dirty: set[int] = set()
        self.heap: list | None = None
        self.current: dict[int, tuple | None] = {}
        self.mark: int | None = None
        self.margin = None
        self.shift = 0
        self.den_bits = 0

    def invalidate(self) -> None:
        self.heap = None
        self.current = {}
        self.dirty = set()


class AdlBook:
    """Per side, the accounts holding a position, and the ranked heap of the last step's mark.

    ``ledger.change_listeners`` must call :meth:`on_change` on every account change (the book
    registers itself); ``accounting`` gives eligibility (``venue_accounts``, ``busy``)."""

    REBUILD_SHARE = 4
    """Rebuild rather than update when more than ``1/REBUILD_SHARE`` of the side changed."""
    STALE_SLACK = 64
    """Rebuild when the heap holds more than twice the side's positions plus this."""

    __slots__ = ("_accounting", "_arg", "_ledger", "_profitable_only", "_ratio", "_sides", "ranker")

    def __init__(self, ledger, accounting, ranker: AdlRanker) -> None:
        self._ledger = ledger
        self._accounting = accounting
        self.ranker = ranker
        ranking = ranker.config.ranking
        self._profitable_only = PROFITABLE_ONLY[ranking]
        self._ratio: RatioFn | None
        if ranking == "bitmex":
            self._ratio, self._arg = bitmex_ratio, ranker.money_per_tick_lot
        elif ranking == "binance":
            self._ratio, self._arg = binance_ratio, 10**ranker.money_decimals
        elif ranking == "hyperliquid":
            self._ratio, self._arg = hyperliquid_ratio, ranker.money_per_tick_lot
        else:
            self._ratio, self._arg = None, 0
        self._sides = {1: _Side(), -1: _Side()}
        for account in ledger.accounts.values():
            if account.size_lots:
                self._sides[1 if account.size_lots > 0 else -1].members.add(account.account_id)
        ledger.change_listeners.append(self.on_change)

    def on_change(self, now: int, account, seq: int) -> None:
        """Ledger listener: keep the side sets and note the change for the side's heap."""
        account_id = account.account_id
        size = account.size_lots
        for sign, side in self._sides.items():
            was = account_id in side.members
            held = size * sign > 0
            if held and not was:
                side.members.add(account_id)
            elif was and not held:
                side.members.discard(account_id)
            if side.heap is not None and (was or held):
                side.dirty.add(account_id)

    def members(self, side: int) -> set[int]:
        """Accounts holding a position on ``side`` (+1 long, -1 short)."""
        return self._sides[side].members

    # -- the step ------------------------------------------------------------------------------
    def candidates(self, liquidated_side: int, exclude: int, mark: int) -> list[AdlCandidate]:
        """Every eligible opposite position as a candidate at ``mark``, by account id (what the
        pro-rata rankings allocate over: O(n) by nature)."""
        ledger, accounting = self._ledger, self._accounting
        accounts = ledger.accounts
        out = []
        for account_id in sorted(self._sides[-liquidated_side].members):
            account = accounts[account_id]
            if accounting.eligible(account, exclude):
                out.append(candidate_of(ledger, account, mark))
        return out

    def queue_head(
        self, liquidated_side: int, size_lots: int, exclude: int, mark: int
    ) -> tuple[list[AdlQueueEntry], dict[int, AdlCandidate]]:
        """The head of the opposite side's queue at ``mark`` that ``ranker.allocate`` needs to
        close ``size_lots`` (identical to ``ranker.queue_head`` over every account), and the
        candidates of its entries (valued at ``mark`` before any close)."""
        if self._ratio is None:
            every = self.candidates(liquidated_side, exclude, mark)
            queue = self.ranker.queue(every, liquidated_side)
            return queue, {c.account_id: c for c in every}
        side = self._sides[-liquidated_side]
        self._prepare(side, mark)
        heap, current = side.heap, side.current
        assert heap is not None  # _prepare built it
        accounting = self._accounting
        busy = accounting.busy
        accounts = self._ledger.accounts
        ledger = self._ledger
        head: list[AdlQueueEntry] = []
        taken: list[tuple] = []
        skipped: list[tuple] = []
        candidates: dict[int, AdlCandidate] = {}
        covered = 0
        while heap and covered < size_lots:
            item = heappop(heap)
            account_id = item[2]
            live = current.get(account_id, _ABSENT)
            if live is not _ABSENT and live is not item:
                continue  # superseded by a later entry, or the position left the side
            if account_id == exclude or account_id in busy:
                skipped.append(item)
                continue
            candidates[account_id] = candidate_of(ledger, accounts[account_id], mark)
            head.append(
                AdlQueueEntry(account_id, item[3], AdlScore(item[4], item[5]), len(head) + 1)
            )
            taken.append(item)
            covered += item[3]
        for item in skipped:
            heappush(heap, item)
        for item in taken:
            heappush(heap, item)  # still valid until the close changes the account
        return head, candidates

    def _keyed(self, account, mark: int) -> tuple[int, int, int] | None:
        """``(num, den, lots)`` of the account's score at ``mark``, or ``None`` if not ranked."""
        candidate = candidate_of(self._ledger, account, mark)
        if self._profitable_only and candidate.unrealised_pnl <= 0:
            return None
        ratio = self._ratio
        assert ratio is not None  # only a ranked (heap) ranking keys positions
        num, den = ratio(candidate, self._arg)
        size = account.size_lots
        return num, den, size if size > 0 else -size

    def _prepare(self, side: _Side, mark: int) -> None:
        """Make ``side.heap`` the side's queue at ``mark``: apply the changes since its last step,
        or rebuild it."""
        margin = self._ledger.margin  # rebuilt when tiers or the funding term change
        if (
            side.heap is None
            or side.mark != mark
            or side.margin is not margin
            or self.REBUILD_SHARE * len(side.dirty) > len(side.members)
            or len(side.heap) > 2 * len(side.members) + self.STALE_SLACK
        ):
            self._rebuild(side, mark)
            return
        accounts = self._ledger.accounts
        venue = self._accounting.venue_accounts
        sign = 1 if side is self._sides[1] else -1
        current, heap, shift = side.current, side.heap, side.shift
        updates = []
        for account_id in sorted(side.dirty):
            account = accounts[account_id]
            keyed = None
            if account.size_lots * sign > 0 and account_id not in venue:
                keyed = self._keyed(account, mark)
            if keyed is not None and keyed[1].bit_length() > side.den_bits:
                self._rebuild(side, mark)  # the new denominator needs a longer shift
                return
            updates.append((account_id, keyed))
        side.dirty = set()
        for account_id, keyed in updates:
            if keyed is None:
                current[account_id] = None
                continue
            num, den, lots = keyed
            item = (
                (0, -((num << shift) // den), account_id, lots, num, den)
                if den
                else (-1, 0, account_id, lots, num, den)
            )
            current[account_id] = item
            heappush(heap, item)

    def _rebuild(self, side: _Side, mark: int) -> None:
        accounts = self._ledger.accounts
        venue = self._accounting.venue_accounts
        keyed_of = self._keyed
        rows = []
        max_den = 1
        for account_id in side.members:
            if account_id in venue:
                continue
            keyed = keyed_of(accounts[account_id], mark)
            if keyed is None:
                continue
            if keyed[1] > max_den:
                max_den = keyed[1]
            rows.append((account_id, keyed))
        # Room for denominators up to 2**8 times the largest now, so a step at the same mark
        # rarely has to rebuild for precision.
        den_bits = max_den.bit_length() + 8
        shift = exact_shift((1 << den_bits) - 1)
        heap = [
            (0, -((num << shift) // den), account_id, lots, num, den)
            if den
            else (-1, 0, account_id, lots, num, den)
            for account_id, (num, den, lots) in rows
        ]
        heapify(heap)
        side.heap = heap
        side.current = {}
        side.dirty = set()
        side.mark = mark
        side.margin = self._ledger.margin
        side.shift = shift
        side.den_bits = den_bits
