"""The head of a ranked ADL queue without sorting the whole queue.

An ADL step closes positions from the top of the queue until the bankrupt size is covered, so it
needs only the queue's head. :func:`ranked_head` returns exactly the first entries of
:func:`~exchange_sim.liquidation.adl.rank_by_score` (same order, same ranks, ties by the lower
``account_id``) that :func:`~exchange_sim.liquidation.apportion.allocate_ranked` can reach.

Each score ``num/den`` gets an integer key ``floor(num * 2**shift / den)`` (``+inf`` a flag above
every finite key): ``floor`` is monotone, so a higher key means a strictly higher score and only
entries with the *same* key need the exact cross-multiplied comparison. The keys go into a binary
heap of plain integer tuples (built in O(n), compared in C), and each entry taken costs O(log n):
O(n + k log n) per step for k positions closed, instead of O(n log n) Python ``__lt__`` calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from heapq import heapify, heappop
from operator import itemgetter

from exchange_sim.liquidation.adl import (
    PROFITABLE_ONLY,
    AdlCandidate,
    AdlQueueEntry,
    AdlRanker,
    AdlScore,
)
from exchange_sim.liquidation.adl_ratios import binance_ratio, bitmex_ratio, hyperliquid_ratio

KEY_SHIFT = 64
"""Bits of the integer key below the binary point; ties on the key are resolved exactly."""

_SCORE = itemgetter(4)


def heap_item(
    account_id: int, lots: int, score: AdlScore, shift: int = KEY_SHIFT
) -> tuple[int, int, int, int, AdlScore]:
    """``(-infinite, -floor(score * 2**shift), account_id, lots, score)``: smallest = first."""
    if score.den == 0:
        return (-1, 0, account_id, lots, score)
    return (0, -((score.num << shift) // score.den), account_id, lots, score)


def ranked_head(
    scored: Iterable[tuple[int, int, AdlScore]], size_lots: int, shift: int = KEY_SHIFT
) -> list[AdlQueueEntry]:
    """The prefix of ``rank_by_score(scored)`` whose sizes first reach ``size_lots`` (all of it
    when the queue is smaller), entry for entry identical. ``scored`` holds
    ``(account_id, closable_lots, score)`` with distinct account ids."""
    heap = [heap_item(account_id, lots, score, shift) for account_id, lots, score in scored]
    return _pop_head(heap, size_lots, _SCORE)


def _pop_head(heap: list, size_lots: int, score_of) -> list[AdlQueueEntry]:
    """Pop ``(flag, key, account_id, lots, payload)`` items until ``size_lots`` is covered;
    ``score_of(item)`` is the item's exact :class:`AdlScore` (made only for popped items)."""
    heapify(heap)
    head: list[AdlQueueEntry] = []
    covered = 0
    while heap and covered < size_lots:
        top = heappop(heap)
        group = [top]  # popped in account order: the heap compares the account id next
        while heap and heap[0][0] == top[0] and heap[0][1] == top[1]:
            group.append(heappop(heap))
        scored = [(item, score_of(item)) for item in group]
        if len(scored) > 1:  # exact; a stable sort, so equal scores keep account order
            scored.sort(key=itemgetter(1), reverse=True)
        for (_, _, account_id, lots, _), score in scored:
            head.append(AdlQueueEntry(account_id, lots, score, len(head) + 1))
            covered += lots
    return head


def queue_head(
    ranker: AdlRanker, candidates: Iterable[AdlCandidate], liquidated_side: int, size_lots: int
) -> list[AdlQueueEntry]:
    """What ``ranker.allocate`` needs to close ``size_lots``: the head of ``ranker.queue`` for a
    ranked queue (identical entries), the whole queue for the pro-rata rankings (every eligible
    position takes a share, so the step is O(n) there by nature)."""
    ranking = ranker.config.ranking
    if ranking in ("pro_rata", "capped_pro_rata"):
        return ranker.queue(candidates, liquidated_side)
    if ranking == "bitmex":
        ratio, arg = bitmex_ratio, ranker.money_per_tick_lot
    elif ranking == "binance":
        ratio, arg = binance_ratio, 10**ranker.money_decimals
    else:
        ratio, arg = hyperliquid_ratio, ranker.money_per_tick_lot
    profitable_only = PROFITABLE_ONLY[ranking]
    heap = []
    append = heap.append
    for c in candidates:
        size = c.size_lots
        if size * liquidated_side >= 0 or (profitable_only and c.unrealised_pnl <= 0):
            continue
        num, den = ratio(c, arg)
        if den:
            append((0, -((num << KEY_SHIFT) // den), c.account_id, size if size > 0 else -size, c))
        else:
            append((-1, 0, c.account_id, size if size > 0 else -size, c))
    return _pop_head(heap, size_lots, lambda item: AdlScore(*ratio(item[4], arg)))
