"""Auto-deleveraging (ADL): who is closed against a bankrupt position, in what order, at what price.

All scores are exact rationals (:class:`AdlScore`, compared by cross-multiplication); no floats.
A queue is the list of eligible opposite positions sorted by score, highest first, **ties broken
by the lower ``account_id``** (deterministic, so replays agree). Rankings
(exchange_mechanics.md §5, disagreements listed in §8 item 5):

``bitmex`` (BitMEX, §5.2)
    ``PnL% * EffLev`` if ``PnL% > 0`` else ``PnL% / EffLev``, with ``PnL% = (M - E)/|E|`` and
    ``EffLev = |M| / (M - B)``; ``M``, ``E``, ``B`` are the position's signed values at mark,
    entry and bankruptcy price (negative for a short). The simulator's contracts are linear, so a
    value is ``size * price * money_per_tick_lot`` (BitMEX's inverse contracts use ``1/price``;
    the formula is the same). ``M - B <= 0`` (at or past bankruptcy) is read as infinite
    leverage: ``+inf`` when profitable, ``0`` (the limit of ``PnL% / EffLev``) otherwise.
    **Ranks every opposite position**, losers at the tail: the formula defines their score and
    BitMEX's queue indicator (W10) covers every position.
``binance`` (Binance "LeveragePnl", §5.3)
    ``max(0, UPnL) / max(1, WB) * MM / (WB + UPnL)`` (the margin ratio is 0 when
    ``WB + UPnL <= 0``). The ``1`` of ``max(1, WB)`` is one unit of the settlement asset,
    ``10**money_decimals`` minor units. Profitable positions only.
``hyperliquid`` (Hyperliquid, §5.7)
    ``(mark / entry) * (notional / account_value)``, notional at mark. The venue does not say how
    a short is signed [uncertain]; we use ``entry / mark`` for shorts, so the price factor rises
    with a short's profit as ``mark / entry`` does with a long's. With exact values this is
    ``M^2 / (E * AV)`` for a long and ``E / AV`` for a short (``M``, ``E`` unsigned notionals at
    mark and entry; the account value also grows with profit, so the leverage factor falls).
    ``AV <= 0`` is ``+inf``. Profitable positions only.
``pro_rata``
    Every profitable opposite position closes a share of the size in proportion to its size
    (queue order: account id; score: the size).
``capped_pro_rata``
    As ``pro_rata`` but no account closes more than ``cap_ppb`` of its position; the excess is
    redistributed over the others (``apportion.allocate_capped_pro_rata``).

Close price (§5, §8 item 6): ``bankruptcy`` price of the liquidated order (BitMEX, Binance, Bybit,
dYdX) or ``mark`` (OKX in normal conditions, Hyperliquid's "previous mark"). Trigger (§5.1):
``fund_exhausted`` (BitMEX: the fund is depleted or cannot cover the loss) or ``fund_drawdown``
(OKX, WOO X: as ``fund_exhausted``, or the fund fell ``drawdown_ppb`` from its peak within
``drawdown_window``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from math import gcd
from typing import Any

import attrs

from exchange_sim.core.contract import Valuation
from exchange_sim.core.units import NS_PER_HOUR, RATE_SCALE
from exchange_sim.liquidation.adl_ratios import (
    AdlCandidate,
    binance_ratio,
    bitmex_ratio,
    hyperliquid_ratio,
)
from exchange_sim.liquidation.apportion import (
    allocate_capped_pro_rata,
    allocate_pro_rata,
    allocate_ranked,
)
from exchange_sim.liquidation.insurance_fund import InsuranceFund

RANKINGS = ("bitmex", "binance", "hyperliquid", "pro_rata", "capped_pro_rata")
CLOSE_PRICES = ("bankruptcy", "mark")
TRIGGERS = ("fund_exhausted", "fund_drawdown")
PROFITABLE_ONLY = {
    "bitmex": False,
    "binance": True,
    "hyperliquid": True,
    "pro_rata": True,
    "capped_pro_rata": True,
}
"""Whether a ranking admits only positions with ``unrealised_pnl > 0`` (see the module doc)."""


@attrs.frozen(order=False, eq=False)
class AdlScore:
    """An exact rational ``num / den`` with ``den > 0``; ``1/0`` stands for +infinity.

    Compared by cross-multiplication (``a/b < c/d  <=>  a*d < c*b`` for ``b, d >= 0``), which also
    orders ``1/0`` above every finite score and equal to itself.
    """

    num: int
    den: int

    def __lt__(self, other: AdlScore) -> bool:
        return self.num * other.den < other.num * self.den

    def __le__(self, other: AdlScore) -> bool:
        return self.num * other.den <= other.num * self.den

    def __gt__(self, other: AdlScore) -> bool:
        return self.num * other.den > other.num * self.den

    def __ge__(self, other: AdlScore) -> bool:
        return self.num * other.den >= other.num * self.den

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AdlScore):
            return NotImplemented
        return self.num * other.den == other.num * self.den

    def __hash__(self) -> int:
        return hash(self.reduced())

    def reduced(self) -> tuple[int, int]:
        divisor = gcd(self.num, self.den) or 1
        return self.num // divisor, self.den // divisor

    def __str__(self) -> str:
        num, den = self.reduced()
        return f"{num}/{den}"


INFINITE_SCORE = AdlScore(1, 0)
ZERO_SCORE = AdlScore(0, 1)


def bitmex_score(candidate: AdlCandidate, money_per_tick_lot: Valuation) -> AdlScore:
    """BitMEX ranking (§5.2): ``PnL% * EffLev`` if ``PnL% > 0``, else ``PnL% / EffLev``."""
    return AdlScore(*bitmex_ratio(candidate, money_per_tick_lot))


def binance_score(candidate: AdlCandidate, one_money_unit: int) -> AdlScore:
    """Binance LeveragePnl (§5.3): ``PnlPercent * MarginRatio``.

    ``PnlPercent = max(0, UPnL) / max(one_money_unit, WB)``; ``MarginRatio = MM / (WB + UPnL)``
    if ``WB + UPnL > 0`` else 0. ``one_money_unit = 10**money_decimals`` (1 USDT, say).
    """
    return AdlScore(*binance_ratio(candidate, one_money_unit))


def hyperliquid_score(candidate: AdlCandidate, money_per_tick_lot: Valuation) -> AdlScore:
    """Hyperliquid (§5.7): ``(mark/entry) * (notional/account_value)``; shorts use entry/mark."""
    return AdlScore(*hyperliquid_ratio(candidate, money_per_tick_lot))


def size_score(candidate: AdlCandidate) -> AdlScore:
    """Pro-rata rankings: the position size in lots (informational; allocation ignores order)."""
    return AdlScore(abs(candidate.size_lots), 1)


@attrs.frozen
class AdlQueueEntry:
    """One place in an ADL queue: ``closable_lots`` is the unsigned position size; 1-based rank."""

    account_id: int
    closable_lots: int
    score: AdlScore
    rank: int


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


def queue_percentiles(queue: Sequence[AdlQueueEntry]) -> list[int]:
    """BitMEX-style queue indicator, percent in 20 % steps, one per entry.

    ``20 * ceil(5 * cumulative_lots / total_lots)`` with the cumulative size up to and including
    the entry: the reading of W10 (§9) that reproduces its 20, 40, 60, 80, 80, 100 % [computed].
    """
    total = sum(entry.closable_lots for entry in queue)
    percentiles: list[int] = []
    cumulative = 0
    for entry in queue:
        cumulative += entry.closable_lots
        percentiles.append(20 * -((-5 * cumulative) // total))
    return percentiles


@attrs.frozen(kw_only=True)
class AdlConfig:
    ranking: str = attrs.field(
        default="bitmex", metadata={"choices": RANKINGS, "help": "who is deleveraged first"}
    )
    close_price: str = attrs.field(
        default="bankruptcy",
        metadata={
            "choices": CLOSE_PRICES,
            "help": "price ADL closes at: liquidated order's bankruptcy price, or mark",
        },
    )
    trigger: str = attrs.field(
        default="fund_exhausted",
        metadata={"choices": TRIGGERS, "help": "fund_exhausted, or also on a fund drawdown"},
    )
    drawdown_ppb: int = attrs.field(
        default=300_000_000,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": RATE_SCALE,
            "help": "fund_drawdown: fall from the window's peak that triggers ADL",
        },
    )
    drawdown_window: int = attrs.field(
        default=8 * NS_PER_HOUR,
        metadata={"unit": "duration", "min": 1, "help": "fund_drawdown: window (OKX 8h)"},
    )
    cap_ppb: int = attrs.field(
        default=RATE_SCALE,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": RATE_SCALE,
            "help": "capped_pro_rata: most of its position one account closes",
        },
    )

    def __attrs_post_init__(self) -> None:
        for name, choices in (
            ("ranking", RANKINGS),
            ("close_price", CLOSE_PRICES),
            ("trigger", TRIGGERS),
        ):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}")


@attrs.define
class AdlRanker:
    """ADL for one instrument: a config plus the instrument's money grid."""

    config: AdlConfig
    money_per_tick_lot: Valuation
    money_decimals: int

    def score(self, candidate: AdlCandidate) -> AdlScore:
        ranking = self.config.ranking
        if ranking == "bitmex":
            return bitmex_score(candidate, self.money_per_tick_lot)
        if ranking == "binance":
            return binance_score(candidate, 10**self.money_decimals)
        if ranking == "hyperliquid":
            return hyperliquid_score(candidate, self.money_per_tick_lot)
        return size_score(candidate)

    def queue(
        self, candidates: Iterable[AdlCandidate], liquidated_side: int
    ) -> list[AdlQueueEntry]:
        """The ranked queue of positions opposite ``liquidated_side`` (+1: a long went bankrupt)."""
        ranking = self.config.ranking
        chosen = eligible(candidates, liquidated_side, PROFITABLE_ONLY[ranking])
        if ranking in ("pro_rata", "capped_pro_rata"):
            chosen.sort(key=lambda c: c.account_id)
            return [
                AdlQueueEntry(c.account_id, abs(c.size_lots), size_score(c), rank)
                for rank, c in enumerate(chosen, start=1)
            ]
        return rank_by_score((c.account_id, abs(c.size_lots), self.score(c)) for c in chosen)

    def queue_head(
        self, candidates: Iterable[AdlCandidate], liquidated_side: int, size_lots: int
    ) -> list[AdlQueueEntry]:
        """The part of :meth:`queue` that :meth:`allocate` needs to close ``size_lots``, entry for
        entry identical (:func:`~exchange_sim.liquidation.adl_select.queue_head`)."""
        from exchange_sim.liquidation.adl_select import queue_head  # it builds on this module

        return queue_head(self, candidates, liquidated_side, size_lots)

    def allocate(self, queue: Sequence[AdlQueueEntry], size_lots: int) -> list[tuple[int, int]]:
        """``[(account_id, lots_closed), ...]`` summing to ``min(size_lots, queue total)``."""
        ranking = self.config.ranking
        if ranking == "pro_rata":
            return allocate_pro_rata(queue, size_lots)
        if ranking == "capped_pro_rata":
            return allocate_capped_pro_rata(queue, size_lots, self.config.cap_ppb)
        return allocate_ranked(queue, size_lots)

    def close_price_ticks(self, bankruptcy_price_ticks: int, mark_price_ticks: int) -> int:
        """The price ADL closes at: the liquidated order's bankruptcy price, or mark."""
        if self.config.close_price == "mark":
            return mark_price_ticks
        return bankruptcy_price_ticks

    def triggered(self, fund: InsuranceFund, now: int, required: int = 0) -> bool:
        """ADL is due: the fund is exhausted (or cannot pay ``required``), or, with the
        ``fund_drawdown`` trigger, it fell ``drawdown_ppb`` from its peak within the window."""
        if fund.exhausted(required):
            return True
        config = self.config
        return config.trigger == "fund_drawdown" and fund.drawdown_exceeded(
            now, config.drawdown_window, config.drawdown_ppb
        )


def emit_adl(
    log: Any,
    ts: int,
    cause: int | None,
    counterparty: int,
    queue: Sequence[AdlQueueEntry],
    allocations: Sequence[tuple[int, int]],
    price_ticks: int,
    candidates: Mapping[int, AdlCandidate],
) -> list[int]:
    """Write one ``adl`` event per allocation; return their ``seq``s.

    ``candidates`` (account id -> the :class:`AdlCandidate` it was ranked as) gives each event the
    deleveraged position as the ranking saw it, before the close: signed size, entry notional,
    mark, unrealised PnL and the account value behind it."""
    by_account = {entry.account_id: entry for entry in queue}
    seqs = []
    for account_id, lots in allocations:
        entry = by_account[account_id]
        candidate = candidates[account_id]
        seqs.append(
            log.emit(
                ts,
                "adl",
                cause,
                account=account_id,
                counterparty=counterparty,
                size=lots,
                price=price_ticks,
                rank=entry.rank,
                score=str(entry.score),
                position_lots=candidate.size_lots,
                entry_notional=candidate.entry_notional,
                mark_price=candidate.mark_price_ticks,
                unrealised_pnl=candidate.unrealised_pnl,
                equity=candidate.account_value,
            )
        )
    return seqs
