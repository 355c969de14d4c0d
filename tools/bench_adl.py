"""ADL step benchmark: rank the opposite side and allocate a bankrupt size, before and after.

``before``: ``AdlRanker.queue`` (full sort of every eligible position, exact ``__lt__``) then
``allocate``; ``after``: ``adl_select.queue_head`` (integer-keyed heap, only the head) then
``allocate``. Candidates are built before timing (both pay the same per-account build in a run).
Seconds per step, median of ``repeat`` after a warm-up; both must give the same allocation.
"""

from __future__ import annotations

import random
import statistics
import time

from exchange_sim.liquidation.adl import AdlCandidate, AdlConfig, AdlRanker
from exchange_sim.liquidation.adl_select import queue_head


def _candidates(n: int, seed: int = 7) -> list[AdlCandidate]:
    rng = random.Random(seed)
    mark, out = 9_000, []
    for account_id in range(n):
        lots = -rng.randint(1, 50)  # shorts: opposite a bankrupt long
        entry = rng.randint(8_000, 12_000)
        wallet = rng.randint(10_000, 2_000_000)
        entry_notional = -lots * entry
        pnl = lots * mark + entry_notional
        equity = wallet + pnl
        mm = -lots * mark // 200
        bankrupt = entry + wallet // -lots
        candidate = AdlCandidate(
            account_id, lots, entry_notional, mark, wallet, pnl, mm, bankrupt, equity
        )
        out.append(candidate)
    return out


def _median(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_adl(sizes=(10_000, 100_000), rankings=("bitmex", "binance", "hyperliquid"), repeat=3):
    """``{ranking: {n: {before_s, after_s, speedup}}}`` for a step closing 200 lots."""
    figures: dict = {}
    for ranking in rankings:
        ranker = AdlRanker(AdlConfig(ranking=ranking), 1, 0)
        for n in sizes:
            cands = _candidates(n)
            before = ranker.allocate(ranker.queue(cands, 1), 200)
            after = ranker.allocate(queue_head(ranker, cands, 1, 200), 200)
            assert before == after, ranking
            b = _median(lambda r=ranker, c=cands: r.allocate(r.queue(c, 1), 200), repeat)
            a = _median(lambda r=ranker, c=cands: r.allocate(queue_head(r, c, 1, 200), 200), repeat)
            figures.setdefault(ranking, {})[n] = {
                "before_s": round(b, 4),
                "after_s": round(a, 4),
                "speedup": round(b / a, 1),
            }
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(bench_adl(), indent=1))
