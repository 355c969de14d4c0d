"""Resting depth around the mid over time, rebuilt from the matching engine's events.

The book is replayed by the rules of :mod:`exchange_sim.matching.rebuild` (a limit
``order_accepted`` rests at once; a ``trade`` reduces its maker and, if resting, its taker;
``order_cancelled`` / ``order_expired`` remove the order; ``order_amended`` resizes in place or
moves the order to its new level). Only the lots per price level matter here, so the replay keeps
``order_id -> [side, price, remaining]`` and per-side ``price -> lots`` dicts instead of full
:class:`~exchange_sim.matching.book.Book` queues: the same totals, at a fraction of the cost on a
log of a million lines. The book is sampled at a fixed period (the state after every event before
each sample time); each sample buckets the resting lots by distance from the mid.
"""

from __future__ import annotations

import attrs
import numpy as np
import pandas as pd

BOOK_TYPES = ("order_accepted", "trade", "order_cancelled", "order_expired", "order_amended")
_ACCEPT, _TRADE, _REMOVE, _AMEND = range(4)


@attrs.frozen
class DepthSamples:
    """Per sample time: the mid (ticks, NaN when a side is empty) and the resting levels as
    ``(distance from mid in ticks, lots)`` arrays, bids negative and asks positive."""

    times_s: np.ndarray
    mids: np.ndarray
    levels: list[tuple[np.ndarray, np.ndarray]]


def _column(frame: pd.DataFrame, name: str, default: int = 0) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), default, dtype="int64")
    return frame[name].to_numpy(dtype="float64", na_value=np.nan)


def _merged(frames: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """The book events of every type as parallel arrays, in ``seq`` order."""
    parts = []
    for kind, op in (
        ("order_accepted", _ACCEPT),
        ("trade", _TRADE),
        ("order_cancelled", _REMOVE),
        ("order_expired", _REMOVE),
        ("order_amended", _AMEND),
    ):
        frame = frames[kind]
        trade = kind == "trade"
        parts.append(
            {
                "seq": frame["seq"].to_numpy(),
                "ts": frame["ts"].to_numpy(),
                "op": np.full(len(frame), op, dtype="int8"),
                "a": frame["maker_order_id" if trade else "order_id"].to_numpy(),
                "b": _column(frame, "taker_order_id" if trade else "side"),
                "price": _column(frame, "price_ticks"),
                "lots": _column(frame, "remaining_lots" if op == _AMEND else "size_lots"),
                "kept": _column(frame, "priority_kept"),
            }
        )
    merged = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    order = np.argsort(merged["seq"], kind="stable")
    return {key: value[order] for key, value in merged.items()}


def sample_depth(frames: dict[str, pd.DataFrame], period_ns: int, end_ns: int) -> DepthSamples:
    """Replay the book and sample it every ``period_ns`` up to ``end_ns`` (see module doc)."""
    ev = _merged(frames)
    ts, ops, ids_a = ev["ts"].tolist(), ev["op"].tolist(), ev["a"].tolist()
    ids_b, prices, lots, kept = (ev[k].tolist() for k in ("b", "price", "lots", "kept"))
    orders: dict[int, list] = {}
    books: dict[int, dict[float, int]] = {1: {}, -1: {}}
    times, mids, levels = [], [], []
    next_sample = period_ns
    count = len(ts)

    def take(order: list, size: int) -> None:
        level = books[order[0]]
        left = level[order[1]] - size
        if left:
            level[order[1]] = left
        else:
            del level[order[1]]
        order[2] -= size

    def sample() -> None:
        bids, asks = books[1], books[-1]
        prices_b, prices_a = np.fromiter(bids, float), np.fromiter(asks, float)
        mid = (prices_b.max() + prices_a.min()) / 2 if len(bids) and len(asks) else np.nan
        times.append(next_sample / 1e9)
        mids.append(mid)
        dist = np.concatenate((prices_b, prices_a)) - mid
        size = np.fromiter((*bids.values(), *asks.values()), float, len(bids) + len(asks))
        levels.append((dist, size))

    for k in range(count):
        while ts[k] >= next_sample and next_sample <= end_ns:
            sample()
            next_sample += period_ns
        op = ops[k]
        if op == _ACCEPT:
            price = prices[k]
            if price == price:  # not NaN: a limit order (market orders never rest)
                side = int(ids_b[k])
                orders[ids_a[k]] = [side, price, lots[k]]
                books[side][price] = books[side].get(price, 0) + lots[k]
        elif op == _TRADE:
            for order_id in (ids_a[k], ids_b[k]):
                order = orders.get(order_id)
                if order is not None:
                    take(order, lots[k])
                    if not order[2]:
                        del orders[order_id]
        elif op == _REMOVE:
            order = orders.pop(ids_a[k], None)
            if order is not None and order[2]:
                take(order, order[2])
        else:
            order = orders.get(ids_a[k])
            if order is not None:
                take(order, order[2])
                if not kept[k]:
                    order[1] = prices[k]
                order[2] = lots[k]
                books[order[0]][order[1]] = books[order[0]].get(order[1], 0) + lots[k]
    while next_sample <= end_ns:
        sample()
        next_sample += period_ns
    return DepthSamples(np.array(times), np.array(mids), levels)


def final_levels(frames: dict[str, pd.DataFrame]) -> dict[int, dict[int, int]]:
    """``side -> {price_ticks: lots}`` of the book the events leave behind (for checking the
    replay against :func:`exchange_sim.matching.rebuild.rebuild_book`)."""
    end = int(max((frames[k]["ts"].max() for k in BOOK_TYPES if len(frames[k])), default=0))
    samples = sample_depth(frames, end + 1, end + 1)
    dist, size = samples.levels[-1]
    mid = samples.mids[-1]
    result: dict[int, dict[int, int]] = {1: {}, -1: {}}
    for d, s in zip(dist.tolist(), size.tolist(), strict=True):
        side = 1 if d < 0 else -1
        result[side][round(d + mid)] = int(s)
    return result


def _nice(ticks: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... ticks that is >= ``ticks``."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= ticks:
                return step * factor
        step *= 10


def _reach(dist: np.ndarray, size: np.ndarray, coverage: float) -> float:
    """Distance from the mid within which ``coverage`` of one sample's resting lots lie."""
    order = np.argsort(np.abs(dist))
    cumulative = np.cumsum(size[order])
    return float(np.abs(dist[order][np.searchsorted(cumulative, coverage * cumulative[-1])]))


def bucket(samples: DepthSamples, per_side: int = 15, coverage: float = 0.95):
    """Bucket the samples: returns ``(edges in ticks, lots[bucket, sample])``. The half-range is
    the median over samples of the distance holding ``coverage`` of that sample's resting lots, so
    it follows the book's usual scale and a few far orders for a few seconds (a liquidation limit
    resting at a bankruptcy price) do not flatten the picture; the bucket is a round number of
    ticks (1, 2, 5, 10, ...). Depth beyond the range is added to the outermost bucket of its
    side, so it stays visible."""
    reaches = [
        _reach(dist, size, coverage)
        for dist, size in samples.levels
        if len(dist) and np.isfinite(dist).all() and size.sum() > 0
    ]
    if not reaches:
        return None
    width = _nice(max(1, int(np.ceil(float(np.median(reaches)) / per_side))))
    edges = np.arange(-per_side, per_side + 1) * width
    limit = per_side * width - 0.5
    grid = np.zeros((2 * per_side, len(samples.levels)))
    for column, (dist, size) in enumerate(samples.levels):
        inside = np.isfinite(dist)
        clipped = np.clip(dist[inside], -limit, limit)
        grid[:, column] = np.histogram(clipped, bins=edges, weights=size[inside])[0]
    return edges, grid
