"""ADL step benchmark: rank the opposite side and allocate a bankrupt size, before and after.

``before``: ``AdlRanker.queue`` (full sort of every eligible position, exact ``__lt__``) then
``allocate``; ``after``: ``adl_select.queue_head`` (integer-keyed heap, only the head) then
``allocate``. Candidates are built before timing (both pay the same per-account build in a run).
Seconds per step, median of ``repeat`` after a warm-up; both must give the same allocation.

:func:`bench_adl_book`: a step of the waterfall as it is now (``AdlBook``: per-side position sets
kept on ledger changes, a heap kept between steps at one mark) against the step before it (a
candidate from every account, then ``queue_head``), at 10k, 100k and 1M ranked positions:
``scan_s`` the old step, ``after_mark_change_s`` the book's step at a new mark (its O(n) rebuild),
``same_mark_s`` its step at the mark of the previous step after that step's closes and
``changed`` other positions changed (O((changed + k) log n)).
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


class _Ledger:
    """What the ADL step reads of a ledger: accounts, tiers, the change listeners, valuation."""

    def __init__(self, n: int, seed: int = 7) -> None:
        from exchange_sim.accounts.account import Account

        rng = random.Random(seed)
        self.tiers = object()
        self.change_listeners: list = []
        self.accounts = {}
        for account_id in range(1, n + 1):
            lots = rng.randint(1, 50)
            account = Account(account_id, size_lots=-lots, wallet=rng.randint(10_000, 2_000_000))
            account.entry_notional = lots * rng.randint(8_000, 12_000)
            account.bankruptcy_price = account.entry_notional // lots + account.wallet // lots
            self.accounts[account_id] = account

    def unrealised_pnl(self, a, price):
        signed = a.entry_notional if a.size_lots >= 0 else -a.entry_notional
        return a.size_lots * price - signed

    def maintenance_margin(self, a, price):
        return abs(a.size_lots) * price // 200

    def equity(self, a, price):
        return a.collateral + self.unrealised_pnl(a, price)

    def changed(self, account) -> None:
        for listener in self.change_listeners:
            listener(0, account, 0)


class _Accounting:
    venue_accounts = frozenset()
    busy = frozenset()

    @staticmethod
    def eligible(account, exclude):
        return account.size_lots != 0 and account.account_id != exclude


def bench_adl_book(
    sizes=(10_000, 100_000, 1_000_000), ranking="binance", lots=200, changed=10, repeat=3
):
    """``{n: {scan_s, after_mark_change_s, same_mark_s}}``: seconds per ADL step closing ``lots``
    (median of ``repeat``); every step's allocation is checked against the old step's."""
    return {n: _book_figures(n, ranking, lots, changed, repeat) for n in sizes}


def _book_figures(n: int, ranking: str, lots: int, changed: int, repeat: int) -> dict:
    from exchange_sim.liquidation.adl_book import AdlBook
    from exchange_sim.liquidation.adl_ratios import candidate_of

    ledger, accounting = _Ledger(n), _Accounting()
    ranker = AdlRanker(AdlConfig(ranking=ranking), 1, 0)
    book = AdlBook(ledger, accounting, ranker)
    rng = random.Random(n)
    marks = iter(range(9_000, 8_000, -1))
    scan, rebuild, same = [], [], []

    def old_step(mark):
        candidates = [
            candidate_of(ledger, a, mark)
            for a in ledger.accounts.values()
            if a.size_lots < 0 and accounting.eligible(a, 0)
        ]
        return ranker.allocate(queue_head(ranker, candidates, 1, lots), lots)

    def book_step(mark):
        head, _ = book.queue_head(1, lots, 0, mark)
        return ranker.allocate(head, lots)

    def close(allocation):
        for account_id, closed in allocation:
            account = ledger.accounts[account_id]
            keep = -account.size_lots - closed
            account.entry_notional = account.entry_notional * keep // -account.size_lots
            account.size_lots = -keep
            ledger.changed(account)
        for account_id in rng.sample(range(1, n + 1), changed):
            account = ledger.accounts[account_id]
            if account.size_lots:
                account.wallet += rng.randint(1, 1_000)
                ledger.changed(account)

    for _ in range(repeat + 1):
        mark = next(marks)
        t0 = time.perf_counter()
        expected = old_step(mark)
        t1 = time.perf_counter()
        got = book_step(mark)
        t2 = time.perf_counter()
        assert got == expected
        close(got)
        expected = old_step(mark)
        t3 = time.perf_counter()
        got = book_step(mark)
        t4 = time.perf_counter()
        assert got == expected
        close(got)
        scan.append(t1 - t0)
        rebuild.append(t2 - t1)
        same.append(t4 - t3)
    return {
        "scan_s": round(statistics.median(scan[1:]), 5),
        "after_mark_change_s": round(statistics.median(rebuild[1:]), 5),
        "same_mark_s": round(statistics.median(same[1:]), 6),
    }


if __name__ == "__main__":
    import json
    import sys

    if "--book" in sys.argv:
        print(json.dumps(bench_adl_book(), indent=1))
    else:
        print(json.dumps(bench_adl(), indent=1))
