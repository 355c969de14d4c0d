"""Liquidation and bankruptcy prices per venue rule (pure).

Units: prices in ticks, sizes in lots, money in minor units, rates in ppb, ``money_per_tick_lot``
= ``Scale.money_per_tick_lot`` (so ``notional = price_ticks * size_lots * money_per_tick_lot``).
``side`` is ``+1`` (long) or ``-1`` (short); ``size_lots`` is the absolute size. A position's
entry is its exact ``entry_notional`` (money), never a rounded average price.

Rounding (exchange's favour, :func:`~exchange_sim.core.rounding.div_round`): a long's liquidation
and bankruptcy prices round UP, a short's round DOWN. For the liquidation price this means the
trigger fires at or before the exact crossing; for the bankruptcy price, closing there leaves the
account's margin >= 0, so no insurance-fund payment is needed.

Every solver finds the root ``P*`` of ``balance + side x (P Q m - ref_notional) = MM(P Q m)``,
where ``balance`` is the margin that stays when the position's own PnL is 0 at ``ref_notional``.
With the long's result ``LP = ceil(P*)`` and the short's ``LP = floor(P*)``, the equity at ``LP``
is ``>= MM`` and at every price strictly beyond ``LP`` (below for a long, above for a short) it is
``< MM``: the risk monitor should index the trigger at ``mark <= LP`` (long) / ``mark >= LP``
(short) and then run the exact check. (For an integer equity, ``equity < ceil(MM) <=> equity <
MM``, so the check with the rounded-up MM agrees with the exact root.)

``None`` means no positive price solves the equation: for a long, the position cannot be
liquidated (or bankrupted) at any positive price; for a short, it is *already* liquidatable
(bankrupt) at every positive price. Callers must treat the two sides accordingly.
"""

from __future__ import annotations

from typing import Protocol

from exchange_sim.accounts.margin import BracketTiers, DeductionTiers
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE

LONG = 1
SHORT = -1
ALWAYS_CROSSED = 2**62
"""A long's trigger price when its maintenance rate is 100 % or more (a step risk limit far past
its base, BitMEX §2.2): the position cannot hold its maintenance margin at any price at or above
where it is, so every mark is below this price and the account is checked at once."""


def _solve(
    side: int,
    size_lots: int,
    ref_notional: int,
    balance: int,
    rate_num: int,
    deduction_num: int,
    denominator: int,
    money_per_tick_lot: int,
) -> int | None:
    """Root of ``balance + side (P Q m - ref) = (P Q m rate_num - deduction_num) / denominator``.

    Long: ``P = (D (ref - balance) - ded) / (Q m (D - rate))``, rounded UP.
    Short: ``P = (D (ref + balance) + ded) / (Q m (D + rate))``, rounded DOWN.
    """
    qm = abs(size_lots) * money_per_tick_lot
    if side > 0:
        num = denominator * (ref_notional - balance) - deduction_num
        if rate_num >= denominator:  # MM of 100 % or more: more MM than value at every price
            return ALWAYS_CROSSED if num > 0 else None
        return div_round(num, qm * (denominator - rate_num), UP) if num > 0 else None
    num = denominator * (ref_notional + balance) + deduction_num
    return div_round(num, qm * (denominator + rate_num), DOWN) if num > 0 else None


def liquidation_price(
    *,
    side: int,
    size_lots: int,
    entry_notional: int,
    margin_balance: int,
    maintenance_rate_ppb: int,
    maintenance_deduction: int,
    money_per_tick_lot: int,
) -> int | None:
    """The price at which ``margin_balance + uPnL(P) = notional(P) x MMR - deduction``, one tier.

    ``margin_balance`` excludes this position's unrealized PnL (wallet or isolated margin, plus
    other positions' PnL minus their MM in cross mode). The shared core of Binance §3.1,
    Bybit's tiered MM (§2.3) and dYdX §3.5.
    """
    return _solve(
        side,
        size_lots,
        entry_notional,
        margin_balance,
        maintenance_rate_ppb,
        maintenance_deduction * RATE_SCALE,
        RATE_SCALE,
        money_per_tick_lot,
    )


class MaintenanceLines(Protocol):
    """What the tiered solver reads of a tier model: its maintenance lines
    ``(rate_num, deduction_num)`` over a common ``denominator`` (the tiers, or a scaled view)."""

    @property
    def denominator(self) -> int: ...

    def maintenance_lines(self) -> tuple[tuple[int, int], ...]: ...


def tiered_liquidation_price(
    *,
    side: int,
    size_lots: int,
    reference_notional: int,
    balance_at_reference: int,
    tiers: BracketTiers | DeductionTiers | MaintenanceLines,
    money_per_tick_lot: int,
) -> int | None:
    """The liquidation price with the tier of the notional *at the liquidation price*.

    The venues' rule (Binance §2.1: "recompute with the bracket of the notional at the liquidation
    price", Hyperliquid §3.6) iterates until the tier is stable. Because MM is continuous, convex
    and the maximum of the tiers' lines (rates non-decreasing, deduction recurrence), every tier's
    line gives a candidate root that lies on the safe side of the true one: for a long the true
    root is the *largest* candidate, for a short the *smallest*. That is the fixed point of the
    iteration, found in one pass with no oscillation at a tier boundary.
    """
    denominator = tiers.denominator
    best: int | None = None
    for rate_num, deduction_num in tiers.maintenance_lines():
        candidate = _solve(
            side,
            size_lots,
            reference_notional,
            balance_at_reference,
            rate_num,
            deduction_num,
            denominator,
            money_per_tick_lot,
        )
        if side > 0:
            if candidate is not None and (best is None or candidate > best):
                best = candidate
        elif candidate is None:
            return None
        elif best is None or candidate < best:
            best = candidate
    return best


# --- Binance USDⓈ-M ------------------------------------------------------------------------------


def binance_liquidation_price(
    *,
    side: int,
    size_lots: int,
    entry_notional: int,
    wallet_balance: int,
    maintenance_rate_ppb: int,
    maintenance_amount: int,
    money_per_tick_lot: int,
    other_maintenance_margin: int = 0,
    other_unrealized_pnl: int = 0,
) -> int | None:
    """Binance USDⓈ-M one-way liquidation price, one bracket (exchange_mechanics.md §3.1).

    ``LP = (WB - TMM1 + UPNL1 + cum - side Q EP) / (Q MMR - side Q)`` with ``Q EP`` the exact
    entry notional. Cross: ``wallet_balance`` is the cross wallet balance and the other contracts
    enter as ``other_maintenance_margin`` (TMM1) and ``other_unrealized_pnl`` (UPNL1). Isolated:
    the isolated wallet balance and both others 0. Rounded long UP, short DOWN (W2: the doc's
    190.29 is a truncation of 190.2969; the exchange-favour rule gives 190.30).
    """
    return _solve(
        side,
        size_lots,
        entry_notional,
        wallet_balance - other_maintenance_margin + other_unrealized_pnl,
        maintenance_rate_ppb,
        maintenance_amount * RATE_SCALE,
        RATE_SCALE,
        money_per_tick_lot,
    )


def binance_liquidation_price_tiered(
    *,
    side: int,
    size_lots: int,
    entry_notional: int,
    wallet_balance: int,
    tiers: BracketTiers,
    money_per_tick_lot: int,
    other_maintenance_margin: int = 0,
    other_unrealized_pnl: int = 0,
) -> int | None:
    """:func:`binance_liquidation_price` with the bracket of the notional at the liquidation
    price (§2.1), via :func:`tiered_liquidation_price`. Isolated: pass the isolated wallet
    balance and leave the other-contract terms at 0."""
    return tiered_liquidation_price(
        side=side,
        size_lots=size_lots,
        reference_notional=entry_notional,
        balance_at_reference=wallet_balance - other_maintenance_margin + other_unrealized_pnl,
        tiers=tiers,
        money_per_tick_lot=money_per_tick_lot,
    )


# --- Bybit ---------------------------------------------------------------------------------------


def bybit_isolated_liquidation_price(
    *,
    side: int,
    size_lots: int,
    entry_notional: int,
    initial_margin: int,
    maintenance_margin: int,
    money_per_tick_lot: int,
    extra_margin: int = 0,
) -> int | None:
    """Bybit USDT isolated (exchange_mechanics.md §3.3, W7).

    Long ``LP = EP - (IM - MM)/Q - Extra/Q``; short ``LP = EP + (IM - MM)/Q + Extra/Q``, with
    IM and MM the position's (MM at the entry value, as Bybit computes it). Long UP, short DOWN.
    """
    qm = abs(size_lots) * money_per_tick_lot
    cushion = initial_margin - maintenance_margin + extra_margin
    if side > 0:
        num = entry_notional - cushion
        return div_round(num, qm, UP) if num > 0 else None
    num = entry_notional + cushion
    return div_round(num, qm, DOWN) if num > 0 else None


def bybit_inverse_bankruptcy_price(
    *, side: int, entry_price_ticks: int, leverage: int, increment_ticks: int
) -> int | None:
    """Bybit inverse isolated bankruptcy price (exchange_mechanics.md §3.3, W9).

    Inverse contracts (size in USD, margin in coin): long ``BP = EP x L / (L + 1)``, short
    ``BP = EP x L / (L - 1)``. Bybit rounds a long's BP up and a short's down to 0.5 USD; pass
    that increment in ticks (50 at a 0.01 tick). Price in and out in the same ticks; the
    simulator itself is linear-first, so this stands alone. ``None`` for a 1x short (no
    bankruptcy at any price).
    """
    if side > 0:
        return div_round(entry_price_ticks * leverage, (leverage + 1) * increment_ticks, UP) * (
            increment_ticks
        )
    if leverage <= 1:
        return None
    return div_round(entry_price_ticks * leverage, (leverage - 1) * increment_ticks, DOWN) * (
        increment_ticks
    )


# --- dYdX v4 -------------------------------------------------------------------------------------


def dydx_liquidation_price(
    *,
    signed_size_lots: int,
    price_ticks: int,
    equity: int,
    maintenance_fraction_ppb: int,
    money_per_tick_lot: int,
    other_maintenance_requirement: int = 0,
) -> int | None:
    """dYdX v4 (exchange_mechanics.md §3.5, W13, W14).

    Isolated ``p' = (e - s p) / (|s| MMF - s)``; cross ``p' = (e - s p - MMR_o) / (|s| MMF - s)``,
    with ``e`` the equity at the current (oracle) price ``p``, ``s`` the signed size and ``MMR_o``
    the other positions' maintenance requirement. Long UP, short DOWN.
    """
    side = LONG if signed_size_lots > 0 else SHORT
    size = abs(signed_size_lots)
    return _solve(
        side,
        size,
        price_ticks * size * money_per_tick_lot,
        equity - other_maintenance_requirement,
        maintenance_fraction_ppb,
        0,
        RATE_SCALE,
        money_per_tick_lot,
    )


# --- Hyperliquid ---------------------------------------------------------------------------------


def hyperliquid_liquidation_price(
    *,
    side: int,
    size_lots: int,
    price_ticks: int,
    margin_available: int,
    max_leverage: int,
    money_per_tick_lot: int,
) -> int | None:
    """Hyperliquid (exchange_mechanics.md §3.6), one tier.

    ``liq = price - side x margin_available / Q / (1 - l x side)`` with ``l = 1 / (2 x
    max_leverage)`` (MM is half the IM at max leverage), ``price`` the current mark and
    ``margin_available = account_value - MM`` (cross) or ``isolated_margin - MM`` (isolated).
    As one fraction: ``(p Q m (2L - side) - side 2L margin_available) / (Q m (2L - side))``.
    Long UP, short DOWN.
    """
    qm = abs(size_lots) * money_per_tick_lot
    two_l = 2 * max_leverage
    den = qm * (two_l - side)
    num = price_ticks * den - side * two_l * margin_available
    if num <= 0:
        return None
    return div_round(num, den, UP if side > 0 else DOWN)


def hyperliquid_liquidation_price_tiered(
    *,
    side: int,
    size_lots: int,
    price_ticks: int,
    account_value: int,
    tiers: DeductionTiers,
    money_per_tick_lot: int,
    other_maintenance_margin: int = 0,
) -> int | None:
    """Hyperliquid with the tier at the liquidation-price notional (§3.6, §2.6).

    ``account_value`` is the equity at ``price_ticks`` available to this position (cross account
    value, or isolated margin including its PnL); ``other_maintenance_margin`` is the MM of the
    account's other positions (cross only).
    """
    return tiered_liquidation_price(
        side=side,
        size_lots=size_lots,
        reference_notional=price_ticks * abs(size_lots) * money_per_tick_lot,
        balance_at_reference=account_value - other_maintenance_margin,
        tiers=tiers,
        money_per_tick_lot=money_per_tick_lot,
    )


# --- generic -------------------------------------------------------------------------------------


def bankruptcy_price(
    side: int, size_lots: int, entry_notional: int, margin_balance: int, money_per_tick_lot: int
) -> int | None:
    """The price at which the position's margin balance is exactly 0 (§3.1-§3.5).

    ``margin_balance`` is wallet (or isolated margin) plus other PnL, excluding this position's
    unrealized PnL. Long ``(EN - MB) / (Q m)`` rounded UP, short ``(EN + MB) / (Q m)`` rounded DOWN,
    so a close at the bankruptcy price never leaves a negative balance (as dYdX rounds, §3.5).
    """
    qm = abs(size_lots) * money_per_tick_lot
    if side > 0:
        num = entry_notional - margin_balance
        return div_round(num, qm, UP) if num > 0 else None
    num = entry_notional + margin_balance
    return div_round(num, qm, DOWN) if num > 0 else None


def margin_ratio_ppb(maintenance_margin: int, margin_balance: int) -> int | None:
    """Binance's ``MarginRatio = MM / MarginBalance`` in ppb (§2.1), rounded UP (toward the
    liquidation threshold of ``RATE_SCALE`` = 100 %). ``None`` when the margin balance is <= 0
    (an unbounded ratio)."""
    if margin_balance <= 0:
        return None
    return div_round(maintenance_margin * RATE_SCALE, margin_balance, UP)


def maintenance_check(equity: int, maintenance_margin: int) -> bool:
    """True when the account passes: ``equity >= MM``. Liquidatable when ``equity < MM``
    (dYdX ``TAV < MMR``, Binance ``Collateral < MM``, §2.1, §2.5)."""
    return equity >= maintenance_margin
