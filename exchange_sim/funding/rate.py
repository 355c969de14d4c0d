"""The funding rate of one interval: average the premium samples, add interest through the clamp,
cap, and scale the 8 h formula to the payment interval. All rates are int ppb.

**Rounding**: every division is :func:`~exchange_sim.core.rounding.div_round` with ``DOWN``
(floor, toward -∞), the simulator's rule for rates, *except* the dYdX helpers, which follow the
venue's code (``dydxprotocol/v4-chain`` ``protocol/lib/math.go``): the mean of samples rounds
toward zero (``AvgInt32``) and the median of an even number of votes rounds half away from zero
(``Median``). dYdX rounds at ppm, we at ppb, so the two differ by < 1 ppm.

Sources: ``reference/exchange_mechanics.md`` §6.1-§6.7, §8 items 2, 3 and 7, W17, W21.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.funding.config import (
    FixedCap,
    FundingCap,
    FundingRule,
    MaintenanceMultipleCap,
    MarginSpreadCap,
    NoCap,
)

# --- averaging (§8 item 2) -------------------------------------------------------------------


def mean_premium_ppb(samples: Sequence[int]) -> int:
    """Equal-weight mean ``Σ P_i / n``, floored (Hyperliquid 5 s samples §6.7; OKX MA §6.5;
    Binance 1 h symbols §6.2)."""
    if not samples:
        raise ValueError("no premium samples to average")
    return div_round(sum(samples), len(samples), DOWN)


def linear_weighted_premium_ppb(samples: Sequence[int]) -> int:
    """``Σ i·P_i / Σ i`` with ``i = 1..n`` oldest first, floored (Bybit §6.4; Binance > 1 h §6.2).

    ``Σ i = n(n + 1)/2``; the latest sample weighs most.
    """
    n = len(samples)
    if n == 0:
        raise ValueError("no premium samples to average")
    weighted = sum(i * p for i, p in enumerate(samples, start=1))
    return div_round(weighted, n * (n + 1) // 2, DOWN)


def _toward_zero(numerator: int, denominator: int) -> int:
    return div_round(numerator, denominator, DOWN if numerator >= 0 else UP)


def padded_median_ppb(votes: Sequence[int], min_votes: int) -> int:
    """dYdX §6.6: the median of the votes after zero-padding them to at least ``min_votes``.

    An even count takes the mean of the two middle votes rounded half away from zero (dYdX
    ``lib.Median``). Missing votes count as 0 and so pull the sample toward 0.
    """
    padded = sorted([*votes, *([0] * max(0, min_votes - len(votes)))])
    n = len(padded)
    if n == 0:
        raise ValueError("no premium votes and min_votes is 0")
    if n % 2:
        return padded[n // 2]
    pair = padded[n // 2 - 1] + padded[n // 2]
    return div_round(pair, 2, UP if pair > 0 else DOWN)


def padded_mean_ppb(samples: Sequence[int], min_samples: int) -> int:
    """dYdX §6.6: the mean of the samples after zero-padding them to at least ``min_samples``,
    rounded toward zero (dYdX ``lib.AvgInt32``). Missing samples pull the premium toward 0."""
    count = max(len(samples), min_samples)
    if count == 0:
        raise ValueError("no premium samples and min_samples is 0")
    return _toward_zero(sum(samples), count)


def mean_of_padded_medians_ppb(
    votes_per_sample: Iterable[Sequence[int]], min_votes: int, min_samples: int
) -> int:
    """dYdX §6.6 end to end: per sample the padded median of its votes, then the padded mean."""
    medians = [padded_median_ppb(votes, min_votes) for votes in votes_per_sample]
    return padded_mean_ppb(medians, min_samples)


def average_premium_ppb(rule: FundingRule, samples: Sequence[int]) -> int:
    """The interval's average premium under ``rule.averaging``; ``samples`` oldest first.

    For ``median_mean`` the samples are the per-sample medians (:func:`padded_median_ppb` with
    ``rule.min_votes_per_sample``, taken at each sample), zero-padded to ``rule.min_samples``.
    """
    mode = rule.averaging
    if mode == "mean":
        return mean_premium_ppb(samples)
    if mode == "linear_weighted":
        return linear_weighted_premium_ppb(samples)
    return padded_mean_ppb(samples, rule.min_samples)


# --- formula, cap, scaling ------------------------------------------------------------------


def clamped_interest_rate_ppb(average_premium_ppb: int, interest_ppb: int, clamp_ppb: int) -> int:
    """``F = P + clamp(I - P, -d, +d)`` (§6.1). ``F = I`` exactly when ``I - d ≤ P ≤ I + d``
    (the dead zone: for I = 0.01 %, d = 0.05 %, P from -0.04 % to +0.06 %)."""
    return average_premium_ppb + min(clamp_ppb, max(-clamp_ppb, interest_ppb - average_premium_ppb))


def formula_rate_ppb(rule: FundingRule, average_premium_ppb: int) -> int:
    """The rate per ``rule.rate_period`` before cap and scaling."""
    if rule.rate_formula == "clamped_interest":
        return clamped_interest_rate_ppb(average_premium_ppb, rule.interest, rule.clamp)
    return average_premium_ppb + rule.interest


def cap_limit_ppb(
    cap: FundingCap,
    *,
    maintenance_margin_rate_ppb: int | None = None,
    initial_margin_rate_ppb: int | None = None,
) -> int | None:
    """The cap (and negated floor) in ppb, or ``None`` for no cap.

    ``MaintenanceMultipleCap``: ``k x MMR`` with MMR at max leverage (Binance §6.2).
    ``MarginSpreadCap``: ``factor x (IMF - MMF)`` (dYdX §6.6, W17). Products of two rates are
    floored (``DOWN``): the limit is at most 1 ppb tighter than exact.
    """
    if isinstance(cap, NoCap):
        return None
    if isinstance(cap, FixedCap):
        return cap.limit
    if maintenance_margin_rate_ppb is None:
        raise ValueError(f"the {cap.KIND} funding cap needs the maintenance margin rate")
    if isinstance(cap, MaintenanceMultipleCap):
        return div_round(cap.multiplier * maintenance_margin_rate_ppb, RATE_SCALE, DOWN)
    if isinstance(cap, MarginSpreadCap):
        if initial_margin_rate_ppb is None:
            raise ValueError("the margin_spread funding cap needs the initial margin rate")
        spread = initial_margin_rate_ppb - maintenance_margin_rate_ppb
        return div_round(cap.factor * spread, RATE_SCALE, DOWN)
    raise TypeError(f"unknown funding cap {cap!r}")


def scale_to_interval_ppb(rate_ppb: int, interval_ns: int, rate_period_ns: int) -> int:
    """The share of a per-``rate_period`` rate paid per ``interval``: ``F x interval/period``.

    One rule for every venue: Binance since 2025-09-18 ``F / (8/N)`` for N-hour symbols (§6.2);
    Hyperliquid hourly 1/8 of the 8 h rate (§6.7); dYdX ``R_8h x 3,600/28,800`` (§6.6).
    Floored (``DOWN``), like every rate.
    """
    return div_round(rate_ppb * interval_ns, rate_period_ns, DOWN)


def bitmex_interest_ppb(
    quote_rate_daily_ppb: int, base_rate_daily_ppb: int, intervals_per_day: int = 3
) -> int:
    """BitMEX ``I = (QuoteInterest - BaseInterest) / FundingInterval`` per 8 h, floored (§6.3, W21:
    (1.00 % - 0.25 %)/3 = 0.25 %)."""
    return div_round(quote_rate_daily_ppb - base_rate_daily_ppb, intervals_per_day, DOWN)


@attrs.frozen
class FundingRate:
    """One interval's rate and how it was reached (ppb).

    ``formula_rate_ppb`` is per ``rate_period`` before cap; ``uncapped_rate_ppb`` and ``rate_ppb``
    are per payment interval, before and after the cap; ``capped`` says the cap changed the rate.
    """

    average_premium_ppb: int
    interest_ppb: int
    formula_rate_ppb: int
    uncapped_rate_ppb: int
    rate_ppb: int
    cap_ppb: int | None
    capped: bool


def funding_rate(
    rule: FundingRule,
    samples: Sequence[int],
    *,
    maintenance_margin_rate_ppb: int | None = None,
    initial_margin_rate_ppb: int | None = None,
) -> FundingRate:
    """The rate paid at the end of one interval, from its premium samples (oldest first).

    Average (``rule.averaging``) → formula rate per ``rule.rate_period`` → cap and scaling in the
    order ``rule.cap_applies_to`` says: ``formula_rate`` caps the 8 h rate then scales it (dYdX
    §6.6); ``interval_rate`` scales then caps the rate paid (Binance §6.2, Hyperliquid §6.7).
    """
    average = average_premium_ppb(rule, samples)
    formula = formula_rate_ppb(rule, average)
    limit = cap_limit_ppb(
        rule.cap,
        maintenance_margin_rate_ppb=maintenance_margin_rate_ppb,
        initial_margin_rate_ppb=initial_margin_rate_ppb,
    )
    uncapped = scale_to_interval_ppb(formula, rule.interval, rule.rate_period)
    if limit is None:
        return FundingRate(average, rule.interest, formula, uncapped, uncapped, None, False)
    if rule.cap_applies_to == "formula_rate":
        bounded = min(limit, max(-limit, formula))
        rate = scale_to_interval_ppb(bounded, rule.interval, rule.rate_period)
        capped = bounded != formula
    else:
        rate = min(limit, max(-limit, uncapped))
        capped = rate != uncapped
    return FundingRate(average, rule.interest, formula, uncapped, rate, limit, capped)


def record_funding_rate(
    log,
    ts: int,
    cause: int | None,
    *,
    interval_start_ts: int,
    interval_end_ts: int,
    sample_count: int,
    result: FundingRate,
) -> int:
    """Emit one ``funding_rate`` event for ``result``; return its ``seq``."""
    return log.emit(
        ts,
        "funding_rate",
        cause,
        interval_start_ts=interval_start_ts,
        interval_end_ts=interval_end_ts,
        sample_count=sample_count,
        average_premium_ppb=result.average_premium_ppb,
        interest_ppb=result.interest_ppb,
        formula_rate_ppb=result.formula_rate_ppb,
        uncapped_rate_ppb=result.uncapped_rate_ppb,
        rate_ppb=result.rate_ppb,
        cap_ppb=result.cap_ppb,
        capped=int(result.capped),
    )
