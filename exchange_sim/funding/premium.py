"""Premium samples: how far the perpetual's book trades from its reference price, in ppb.

Prices are ticks. An impact price (the average fill price of a market order for the impact
notional) is generally not a whole tick, so every price argument here is either an ``int`` number
of ticks or an exact rational ``(numerator, denominator)`` of ticks (denominator > 0); nothing is
rounded until the premium itself.

**Rounding**: each premium is one :func:`~exchange_sim.core.rounding.div_round` with ``DOWN``
(floor, toward -∞), the simulator's rule for rates where no venue says otherwise. The error is
below 1 ppb (1e-7 %) per sample; it biases a rate at most 1 ppb toward "shorts pay".

Sources: ``reference/exchange_mechanics.md`` §6.1 (template), §6.2 (Binance IMN), §6.5 (OKX mid),
§6.6 (dYdX IMN, W17), §6.7 (Hyperliquid and HIP-3), §8 item 1 (which reference price).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from math import gcd

from exchange_sim.core.contract import InverseContract, Valuation, inverse_impact_price
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE, Scale
from exchange_sim.funding.config import FundingRule

Ticks = int | tuple[int, int]
"""A price in ticks: an int, or an exact rational ``(numerator, denominator)`` of ticks."""


def _fraction(price: Ticks) -> tuple[int, int]:
    if isinstance(price, int):
        return price, 1
    numerator, denominator = price
    if denominator <= 0:
        raise ValueError(f"price denominator must be > 0, got {price!r}")
    return numerator, denominator


def impact_premium_ppb(
    impact_bid: Ticks | None, impact_ask: Ticks | None, reference: Ticks, divisor: Ticks
) -> int:
    """``[max(0, ImpactBid - Ref) - max(0, Ref - ImpactAsk)] / divisor`` in ppb, floored.

    The common template of §6.1: ``Ref`` is the index (Binance now, dYdX §6.6), the mark (BitMEX
    §6.3, older Binance/Bybit) or the oracle (Hyperliquid §6.7); ``divisor`` is the index (the
    oracle for Hyperliquid). A side whose impact price is ``None`` (the book cannot fill the impact
    notional) contributes 0 [assumption: the reference does not say; a side too thin to fill the
    notional has an impact price far outside the reference, where its ``max(0, ...)`` term is 0].
    """
    ref_num, ref_den = _fraction(reference)
    div_num, div_den = _fraction(divisor)
    if div_num <= 0:
        raise ValueError(f"premium divisor must be a positive price, got {divisor!r}")
    bid_num, bid_den = _fraction(impact_bid) if impact_bid is not None else (0, 1)
    ask_num, ask_den = _fraction(impact_ask) if impact_ask is not None else (0, 1)
    # Over the common denominator bid_den * ref_den * ask_den:
    bid_excess = 0 if impact_bid is None else max(0, bid_num * ref_den - ref_num * bid_den)
    ask_shortfall = 0 if impact_ask is None else max(0, ref_num * ask_den - ask_num * ref_den)
    premium_price_num = bid_excess * ask_den - ask_shortfall * bid_den
    return div_round(
        premium_price_num * div_den * RATE_SCALE, bid_den * ref_den * ask_den * div_num, DOWN
    )


def mid_premium_ppb(bid: Ticks, ask: Ticks, reference: Ticks, divisor: Ticks | None = None) -> int:
    """``((bid + ask)/2 - reference) / divisor`` in ppb, floored (divisor: reference by default).

    OKX §6.5: best bid and ask against the index, ``(mid - Index)/Index``. Hyperliquid HIP-3
    §6.7: impact bid and ask against the oracle, ``0.5 x (impact_bid + impact_ask)/oracle - 1``,
    which is the same expression.
    """
    if divisor is None:
        divisor = reference
    bid_num, bid_den = _fraction(bid)
    ask_num, ask_den = _fraction(ask)
    ref_num, ref_den = _fraction(reference)
    div_num, div_den = _fraction(divisor)
    if div_num <= 0:
        raise ValueError(f"premium divisor must be a positive price, got {divisor!r}")
    # mid - ref over 2 * bid_den * ask_den * ref_den:
    mid_num = (bid_num * ask_den + ask_num * bid_den) * ref_den - 2 * bid_den * ask_den * ref_num
    return div_round(
        mid_num * div_den * RATE_SCALE, 2 * bid_den * ask_den * ref_den * div_num, DOWN
    )


def reference_price_ticks(
    which: str, *, index_ticks: int, mark_ticks: int | None, oracle_ticks: int | None
) -> int:
    """The price named by ``which`` (``index``, ``mark`` or ``oracle``); raise if it is missing."""
    if which == "index":
        return index_ticks
    price = mark_ticks if which == "mark" else oracle_ticks if which == "oracle" else None
    if price is None:
        raise ValueError(f"the funding rule needs the {which} price, which was not given")
    return price


def premium_for_rule_ppb(
    rule: FundingRule,
    *,
    bid: Ticks | None,
    ask: Ticks | None,
    index_ticks: int,
    mark_ticks: int | None = None,
    oracle_ticks: int | None = None,
) -> int | None:
    """One premium sample under ``rule``, or ``None`` when it cannot be taken.

    ``bid``/``ask`` are the impact prices (``impact``, ``impact_mid``) or the best bid and ask
    (``mid``). The reference is ``rule.premium_reference``; the divisor is the oracle when the
    reference is the oracle (Hyperliquid §6.7), else the index (§6.1, BitMEX's "/ Spot" §6.3).
    ``None`` (no sample) is returned for the mid formulas when a side is missing.
    """
    reference = reference_price_ticks(
        rule.premium_reference,
        index_ticks=index_ticks,
        mark_ticks=mark_ticks,
        oracle_ticks=oracle_ticks,
    )
    divisor = reference if rule.premium_reference == "oracle" else index_ticks
    if rule.premium_formula == "impact":
        return impact_premium_ppb(bid, ask, reference, divisor)
    if bid is None or ask is None:
        return None
    return mid_premium_ppb(bid, ask, reference, divisor)


def impact_notional_minor(impact_margin_minor: int, initial_margin_rate_ppb: int) -> int:
    """The impact notional ``margin / initial margin rate`` in money minor units, floored.

    Binance §6.2: ``200 USDT / IMR at max leverage`` (20x, 5 % gives 4,000 USDT). dYdX §6.6 and
    W17: ``500 USDC / IMF`` (10 % gives 5,000; 5 % gives 10,000). Rounded ``DOWN``: the notional
    is a sampling size, not money that moves, and floor keeps it within the margin's reach.
    """
    if initial_margin_rate_ppb <= 0:
        raise ValueError(f"initial margin rate must be > 0 ppb, got {initial_margin_rate_ppb}")
    return div_round(impact_margin_minor * RATE_SCALE, initial_margin_rate_ppb, DOWN)


def rule_impact_notional_minor(
    rule: FundingRule, scale: Scale, initial_margin_rate_ppb: int
) -> int:
    """:func:`impact_notional_minor` with the rule's ``impact_margin`` in the instrument's money."""
    margin_minor = scale.money_minor(rule.impact_margin, "funding.impact_margin")
    return impact_notional_minor(margin_minor, initial_margin_rate_ppb)


def impact_price_ticks(
    levels: Iterable[tuple[int, int]], impact_notional_minor: int, money_per_tick_lot: Valuation
) -> tuple[int, int] | None:
    """Average fill price (exact rational ticks) of a market order for ``impact_notional_minor``.

    ``levels`` are one side's ``(price_ticks, size_lots)``, best first. The order fills whole
    levels until the next would exceed the notional, then the fraction of that level's lots that
    completes it (§6.1: "average fill price of a market order for the impact margin notional").
    With ``L`` lots filled for notional ``N`` before the last level at price ``p``, the remainder
    ``R`` buys ``R/(p·m)`` lots, so the average price is ``IMN·p / (L·p·m + R)`` ticks (exact, no
    rounding). Returns ``None`` if the side cannot fill the notional.
    """
    if impact_notional_minor <= 0:
        raise ValueError(f"impact notional must be > 0, got {impact_notional_minor}")
    if isinstance(money_per_tick_lot, InverseContract):  # inverse: an impact value in coin
        return inverse_impact_price(levels, impact_notional_minor, money_per_tick_lot.k)
    filled_notional = 0
    filled_lots = 0
    for price, size in levels:
        level_notional = price * size * money_per_tick_lot
        if filled_notional + level_notional >= impact_notional_minor:
            remainder = impact_notional_minor - filled_notional
            numerator = impact_notional_minor * price
            denominator = filled_lots * price * money_per_tick_lot + remainder
            common = gcd(numerator, denominator)
            return numerator // common, denominator // common
        filled_notional += level_notional
        filled_lots += size
    return None


INT64_MAX = 2**63 - 1
"""The log's integers are 64-bit (what JSON readers and the frames take)."""


def price_payload(price: Ticks | None) -> list[int] | None:
    """A price as the event-log payload ``[numerator, denominator]`` (ticks), or ``None``.

    On a very fine grid the exact impact price's terms can exceed 64 bits (notional x price
    over lots x price x money per tick-lot). The payload is then the nearest fraction whose
    terms fit (:meth:`fractions.Fraction.limit_denominator`, exact integer arithmetic, so the
    replay logs the same); the premium is always computed from the exact price."""
    if price is None:
        return None
    numerator, denominator = _fraction(price)
    if -INT64_MAX <= numerator <= INT64_MAX and denominator <= INT64_MAX:
        return [numerator, denominator]
    whole = abs(numerator) // denominator + 1
    fitted = Fraction(numerator, denominator).limit_denominator(max(1, INT64_MAX // whole))
    return [fitted.numerator, fitted.denominator]


def record_premium_sample(
    log,
    ts: int,
    cause: int | None,
    *,
    bid: Ticks | None,
    ask: Ticks | None,
    reference: str,
    reference_ticks: int,
    index_ticks: int,
    premium_ppb: int,
) -> int:
    """Emit one ``premium_sample`` event; return its ``seq``."""
    return log.emit(
        ts,
        "premium_sample",
        cause,
        bid_ticks=price_payload(bid),
        ask_ticks=price_payload(ask),
        reference=reference,
        reference_ticks=reference_ticks,
        index_ticks=index_ticks,
        premium_ppb=premium_ppb,
    )
