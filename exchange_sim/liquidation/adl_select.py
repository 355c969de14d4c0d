"""The head of a ranked ADL queue without sorting the whole queue.

An ADL step closes positions from the top of the queue until the bankrupt size is covered, so it
needs only the queue's head. :func:`ranked_head` returns exactly the first entries of
:func:`~exchange_sim.liquidation.adl.rank_by_score` (same order, same ranks, ties by the lower
``account_id``) that :func:`~exchange_sim.liquidation.apportion.allocate_ranked` can reach.

Each score ``num/den`` gets an integer key ``floor(num * 2**shift / den)`` (``+inf`` a flag above
every finite key) with ``shift`` chosen per step from the largest denominator so that the key is
exact: different scores get different keys, equal scores equal keys (:func:`exact_shift`), and the
account id that follows in the tuple breaks ties as the full sort does. The keys go into a binary
heap of plain integer tuples (built in O(n), compared in C) and each entry taken costs O(log n):
O(n + k log n) per step for k positions closed, instead of O(n log n) Python ``__lt__`` calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from heapq import heapify, heappop
from operator import itemgetter
from typing import Any

from exchange_sim.liquidation.adl import (
    PROFITABLE_ONLY,
    AdlCandidate,
    AdlQueueEntry,
    AdlRanker,
    AdlScore,
)
from exchange_sim.liquidation.adl_ratios import (
    RatioFn,
    binance_ratio,
    bitmex_ratio,
    hyperliquid_ratio,
)


def exact_shift(max_den: int) -> int:
    """Bits below the binary point that make ``floor(score * 2**shift)`` an exact key for every
    score with a denominator up to ``max_den``: two different ratios differ by at least
    ``1 / max_den**2 > 2**-shift``, so their floors differ; equal ratios have equal floors."""
    return 2 * max_den.bit_length()


def _heap(items: list, shift: int) -> list:
    """``(num, den, account_id, lots, payload)`` -> heap items, smallest = first in the queue:
    ``(-1, 0, ...)`` for +infinity (all equal), else ``(0, -floor(num * 2**shift / den), ...)``."""
    return [
        (0, -((num << shift) // den), account_id, lots, payload)
        if den
        else (-1, 0, account_id, lots, payload)
        for num, den, account_id, lots, payload in items
    ]


def ranked_head(scored: Iterable[tuple[int, int, AdlScore]], size_lots: int) -> list[AdlQueueEntry]:
    """The prefix of ``rank_by_score(scored)`` whose sizes first reach ``size_lots`` (all of it
    when the queue is smaller), entry for entry identical. ``scored`` holds
    ``(account_id, closable_lots, score)`` with distinct account ids."""
    items = [(s.num, s.den, account_id, lots, s) for account_id, lots, s in scored]
    shift = exact_shift(max((item[1] for item in items), default=1))
    return _pop_head(_heap(items, shift), size_lots, itemgetter(4))


def _pop_head(heap: list, size_lots: int, score_of) -> list[AdlQueueEntry]:
    """Pop ``(flag, key, account_id, lots, payload)`` items until ``size_lots`` is covered; the
    keys are exact, so equal keys are equal scores and the heap's next field, the account id,
    breaks the tie. ``score_of(item)`` is its :class:`AdlScore` (made only for popped items)."""
    heapify(heap)
    head: list[AdlQueueEntry] = []
    covered = 0
    while heap and covered < size_lots:
        item = heappop(heap)
        head.append(AdlQueueEntry(item[2], item[3], score_of(item), len(head) + 1))
        covered += item[3]
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
    ratio: RatioFn
    arg: Any  # the ranking's money unit (RatioFn)
    if ranking == "bitmex":
        ratio, arg = bitmex_ratio, ranker.money_per_tick_lot
    elif ranking == "binance":
        ratio, arg = binance_ratio, 10**ranker.money_decimals
    else:
        ratio, arg = hyperliquid_ratio, ranker.money_per_tick_lot
    profitable_only = PROFITABLE_ONLY[ranking]
    items: list[tuple] = []
    append = items.append
    max_den = 1
    for c in candidates:
        size = c.size_lots
        if size * liquidated_side >= 0 or (profitable_only and c.unrealised_pnl <= 0):
            continue
        num, den = ratio(c, arg)
        if den > max_den:
            max_den = den
        append((num, den, c.account_id, size if size > 0 else -size, c))
    heap = _heap(items, exact_shift(max_den))
    return _pop_head(heap, size_lots, lambda item: AdlScore(*ratio(item[4], arg)))
