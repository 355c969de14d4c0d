"""Splitting a size to close over an ADL queue, in exact integer lots.

Three ways (exchange_mechanics.md §5):

* :func:`allocate_ranked` walks a ranked queue and closes each position in turn, fully, until the
  size is used up (BitMEX, Binance, Bybit, OKX, Hyperliquid; worked example W10);
* :func:`allocate_pro_rata` splits the size over every queue entry in proportion to its size;
* :func:`allocate_capped_pro_rata` does the same but no account closes more than a fraction
  (``cap_ppb``) of its position; what a capped account cannot take is redistributed over the
  others in proportion to their sizes ("water filling").

Pro-rata shares are exact rationals; they are turned into lots by the **largest-remainder
method**: each account first gets ``floor(share)``, then the lots still missing go one each to the
accounts with the largest fractional remainders, ties to the lower ``account_id``. The result sums
exactly to the size (or to the total available when that is smaller) and never exceeds a position.

Every function returns ``[(account_id, lots_closed), ...]`` (lots unsigned, no zero entries) in
queue order. When the queue cannot absorb the whole size, the sum is smaller and the caller owns
the remainder (bad debt).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Protocol

from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE


class QueueEntry(Protocol):
    """What an allocation reads of a queue entry (read-only, so frozen entries qualify)."""

    @property
    def account_id(self) -> int: ...

    @property
    def closable_lots(self) -> int: ...


def allocate_ranked(queue: Sequence[QueueEntry], size_lots: int) -> list[tuple[int, int]]:
    """Close queue entries in order, each up to its whole position, until ``size_lots`` is met."""
    if size_lots < 0:
        raise ValueError(f"size to close must be >= 0 (got {size_lots})")
    allocations: list[tuple[int, int]] = []
    remaining = size_lots
    for entry in queue:
        if remaining == 0:
            break
        take = entry.closable_lots if entry.closable_lots < remaining else remaining
        if take > 0:
            allocations.append((entry.account_id, take))
            remaining -= take
    return allocations


def largest_remainder(account_ids: Sequence[int], weights: Sequence[int], total: int) -> list[int]:
    """Split ``total`` (``0 <= total <= sum(weights)``) in proportion to ``weights``, in ints.

    ``floor(total * w / W)`` each, then one more lot to each of the largest remainders (ties to
    the lower account id) until the parts sum to ``total``. Every part is within one lot of its
    exact share and, because ``total <= W``, never above its weight.
    """
    weight_sum = sum(weights)
    if not 0 <= total <= weight_sum:
        raise ValueError(f"total {total} must be within 0..{weight_sum}")
    if total == 0:
        return [0] * len(weights)
    parts: list[int] = []
    remainders: list[int] = []
    for weight in weights:
        part, remainder = divmod(total * weight, weight_sum)
        parts.append(part)
        remainders.append(remainder)
    missing = total - sum(parts)
    if missing:
        order = sorted(range(len(parts)), key=lambda i: (-remainders[i], account_ids[i]))
        for i in order[:missing]:
            parts[i] += 1
    return parts


def allocate_pro_rata(queue: Sequence[QueueEntry], size_lots: int) -> list[tuple[int, int]]:
    """Split ``size_lots`` over every entry in proportion to its position size (largest remainder).

    When the entries hold no more than ``size_lots`` in all, every one is closed in full.
    """
    if size_lots < 0:
        raise ValueError(f"size to close must be >= 0 (got {size_lots})")
    weights = [entry.closable_lots for entry in queue]
    total = min(size_lots, sum(weights))
    parts = largest_remainder([entry.account_id for entry in queue], weights, total)
    return [(entry.account_id, part) for entry, part in zip(queue, parts, strict=True) if part]


def cap_lots(position_lots: int, cap_ppb: int) -> int:
    """An account's ADL cap: ``floor(position * cap_ppb / RATE_SCALE)`` lots.

    Rounded DOWN so an account is never made to close more than the stated fraction of its
    position (the cap protects the trader; the uncapped remainder goes back to the caller).
    """
    return div_round(position_lots * cap_ppb, RATE_SCALE, DOWN)


def allocate_capped_pro_rata(
    queue: Sequence[QueueEntry], size_lots: int, cap_ppb: int
) -> list[tuple[int, int]]:
    """Pro-rata with a per-account cap of ``cap_ppb`` of its position; the excess redistributed.

    Exact water filling: accounts are taken in increasing order of ``cap / size`` (ties by
    account id); while the current pro-rata share of the one at hand, ``R * w / W`` over the
    accounts not yet fixed, reaches its cap, it is fixed at the cap and removed (``R -= cap``,
    ``W -= w``). The first account below its cap ends the loop (every later one has a larger
    ``cap / size`` ratio, and removing capped accounts only raises ``R / W``); the rest share ``R``
    by largest remainder, each part ``<= ceil(share) <= cap``. If the caps together hold no more
    than the size, everyone closes exactly its cap.
    """
    if size_lots < 0:
        raise ValueError(f"size to close must be >= 0 (got {size_lots})")
    if not 0 <= cap_ppb <= RATE_SCALE:
        raise ValueError(f"cap_ppb must be within 0..{RATE_SCALE} (got {cap_ppb})")
    caps = [cap_lots(entry.closable_lots, cap_ppb) for entry in queue]
    parts = [0] * len(queue)
    if sum(caps) <= size_lots:
        parts = caps
    else:
        active = [i for i, cap in enumerate(caps) if cap > 0]
        active.sort(key=lambda i: (Fraction(caps[i], queue[i].closable_lots), queue[i].account_id))
        remaining = size_lots
        weight_sum = sum(queue[i].closable_lots for i in active)
        fixed = 0
        for i in active:
            weight = queue[i].closable_lots
            if remaining * weight < caps[i] * weight_sum:
                break
            parts[i] = caps[i]
            remaining -= caps[i]
            weight_sum -= weight
            fixed += 1
        rest = active[fixed:]
        shares = largest_remainder(
            [queue[i].account_id for i in rest], [queue[i].closable_lots for i in rest], remaining
        )
        for i, share in zip(rest, shares, strict=True):
            parts[i] = share
    return [(entry.account_id, part) for entry, part in zip(queue, parts, strict=True) if part]
