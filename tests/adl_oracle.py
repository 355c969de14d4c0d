"""Test oracle: the ADL queue as it was built before ``adl_select`` (score objects for every
eligible position, one full sort). Kept verbatim so the fast head can be checked against it."""

from __future__ import annotations

from collections.abc import Iterable

from exchange_sim.liquidation.adl import (
    PROFITABLE_ONLY,
    AdlCandidate,
    AdlQueueEntry,
    AdlRanker,
    AdlScore,
)

INFINITE_SCORE = AdlScore(1, 0)
ZERO_SCORE = AdlScore(0, 1)


def _score(num: int, den: int) -> AdlScore:
    return AdlScore(-num, -den) if den < 0 else AdlScore(num, den)


def bitmex_score(candidate: AdlCandidate, money_per_tick_lot: int) -> AdlScore:
    """BitMEX ranking (§5.2): ``PnL% * EffLev`` if ``PnL% > 0``, else ``PnL% / EffLev``."""
    size = candidate.size_lots
    sign = 1 if size > 0 else -1
    mark_value = size * candidate.mark_price_ticks * money_per_tick_lot
    entry_value = sign * candidate.entry_notional
    bankrupt_value = size * candidate.bankruptcy_price_ticks * money_per_tick_lot
    pnl = mark_value - entry_value  # PnL% = pnl / |E|
    cushion = mark_value - bankrupt_value  # EffLev = |M| / cushion
    if cushion <= 0:
        return INFINITE_SCORE if pnl > 0 else ZERO_SCORE
    if pnl > 0:
        return _score(pnl * abs(mark_value), candidate.entry_notional * cushion)
    return _score(pnl * cushion, candidate.entry_notional * abs(mark_value))


def binance_score(candidate: AdlCandidate, one_money_unit: int) -> AdlScore:
    """Binance LeveragePnl (§5.3): ``PnlPercent * MarginRatio``.

    ``PnlPercent = max(0, UPnL) / max(one_money_unit, WB)``; ``MarginRatio = MM / (WB + UPnL)``
    if ``WB + UPnL > 0`` else 0. ``one_money_unit = 10**money_decimals`` (1 USDT, say).
    """
    profit = candidate.unrealised_pnl if candidate.unrealised_pnl > 0 else 0
    equity = candidate.wallet_balance + candidate.unrealised_pnl
    if profit == 0 or equity <= 0:
        return ZERO_SCORE
    wallet = max(one_money_unit, candidate.wallet_balance)
    return _score(profit * candidate.maintenance_margin, wallet * equity)


def hyperliquid_score(candidate: AdlCandidate, money_per_tick_lot: int) -> AdlScore:
    """Hyperliquid (§5.7): ``(mark/entry) * (notional/account_value)``; shorts use entry/mark."""
    if candidate.account_value <= 0:
        return INFINITE_SCORE
    size = candidate.size_lots
    mark_notional = abs(size) * candidate.mark_price_ticks * money_per_tick_lot
    if size > 0:
        return _score(
            mark_notional * mark_notional, candidate.entry_notional * candidate.account_value
        )
    return _score(candidate.entry_notional, candidate.account_value)


def size_score(candidate: AdlCandidate) -> AdlScore:
    """Pro-rata rankings: the position size in lots (informational; allocation ignores order)."""
    return AdlScore(abs(candidate.size_lots), 1)


def eligible(
    candidates: Iterable[AdlCandidate], liquidated_side: int, profitable_only: bool
) -> list[AdlCandidate]:
    """Positions opposite to the liquidated one (``liquidated_side`` +1 long, -1 short)."""
    return [
        c
        for c in candidates
        if c.size_lots * liquidated_side < 0 and (not profitable_only or c.unrealised_pnl > 0)
    ]


def rank_by_score(scored: Iterable[tuple[int, int, AdlScore]]) -> list[AdlQueueEntry]:
    """A queue from ``(account_id, closable_lots, score)``: highest score first, ties by account."""
    items = sorted(scored, key=lambda item: item[0])
    items.sort(key=lambda item: item[2], reverse=True)  # stable: equal scores keep account order
    return [
        AdlQueueEntry(account_id, lots, score, rank)
        for rank, (account_id, lots, score) in enumerate(items, start=1)
    ]


def oracle_queue(
    ranker: AdlRanker, candidates: Iterable[AdlCandidate], liquidated_side: int
) -> list[AdlQueueEntry]:
    """``AdlRanker.queue`` before the change."""
    ranking = ranker.config.ranking
    chosen = eligible(candidates, liquidated_side, PROFITABLE_ONLY[ranking])
    if ranking in ("pro_rata", "capped_pro_rata"):
        chosen.sort(key=lambda c: c.account_id)
        return [
            AdlQueueEntry(c.account_id, abs(c.size_lots), size_score(c), rank)
            for rank, c in enumerate(chosen, start=1)
        ]
    if ranking == "bitmex":
        score = lambda c: bitmex_score(c, ranker.money_per_tick_lot)  # noqa: E731
    elif ranking == "binance":
        score = lambda c: binance_score(c, 10**ranker.money_decimals)  # noqa: E731
    else:
        score = lambda c: hyperliquid_score(c, ranker.money_per_tick_lot)  # noqa: E731
    return rank_by_score((c.account_id, abs(c.size_lots), score(c)) for c in chosen)
