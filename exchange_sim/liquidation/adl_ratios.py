"""The ADL rankings' scores as exact integer ratios ``(num, den)``, ``den > 0``; ``(1, 0)`` is
+infinity. :mod:`~exchange_sim.liquidation.adl` documents each ranking and wraps these in
:class:`~exchange_sim.liquidation.adl.AdlScore`; :mod:`~exchange_sim.liquidation.adl_select`
keys its heap on them directly (no score object per candidate)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from exchange_sim.core.contract import InverseContract, Valuation

INFINITE = (1, 0)
ZERO = (0, 1)


@attrs.define
class AdlCandidate:
    """One opposite position offered to the ADL queue; the caller fills it at the current mark.

    ``size_lots`` is signed (long > 0); ``entry_notional`` is the exact sum of
    ``price_ticks * lots * money_per_tick_lot`` of the opening fills (unsigned). Money fields are
    minor units: ``unrealised_pnl`` of this position at ``mark_price_ticks``, the account's
    ``wallet_balance``, the position's ``maintenance_margin`` and the ``account_value`` (equity)
    that backs it.
    """

    account_id: int
    size_lots: int
    entry_notional: int
    mark_price_ticks: int
    wallet_balance: int
    unrealised_pnl: int
    maintenance_margin: int
    bankruptcy_price_ticks: int
    account_value: int


RatioFn = Callable[[AdlCandidate, Any], tuple[int, int]]
"""A ranking's exact score as a fraction ``(numerator, denominator)``, given the candidate
and the ranking's money unit (a valuation, or one money unit for ``binance``)."""


def candidate_of(ledger, account, mark_price_ticks: int) -> AdlCandidate:
    """``account``'s position as an ADL candidate valued at ``mark_price_ticks`` (the one place
    the venue's waterfall and the replay's recomputation build candidates)."""
    return AdlCandidate(
        account.account_id,
        account.size_lots,
        account.entry_notional,
        mark_price_ticks,
        account.collateral,
        ledger.unrealised_pnl(account, mark_price_ticks),
        ledger.maintenance_margin(account, mark_price_ticks),
        account.bankruptcy_price or 0,
        ledger.equity(account, mark_price_ticks),
    )


def _ratio(num: int, den: int) -> tuple[int, int]:
    return (-num, -den) if den < 0 else (num, den)


def bitmex_ratio(candidate: AdlCandidate, money_per_tick_lot: Valuation) -> tuple[int, int]:
    """BitMEX: ``PnL% * EffLev`` if ``PnL% > 0``, else ``PnL% / EffLev``."""
    size = candidate.size_lots
    sign = 1 if size > 0 else -1
    if isinstance(money_per_tick_lot, InverseContract):
        return _inverse_bitmex_ratio(candidate, money_per_tick_lot)
    mark_value = size * candidate.mark_price_ticks * money_per_tick_lot
    entry_value = sign * candidate.entry_notional
    bankrupt_value = size * candidate.bankruptcy_price_ticks * money_per_tick_lot
    pnl = mark_value - entry_value  # PnL% = pnl / |E|
    cushion = mark_value - bankrupt_value  # EffLev = |M| / cushion
    if cushion <= 0:
        return INFINITE if pnl > 0 else ZERO
    if pnl > 0:
        return _ratio(pnl * abs(mark_value), candidate.entry_notional * cushion)
    return _ratio(pnl * cushion, candidate.entry_notional * abs(mark_value))


def _inverse_bitmex_ratio(candidate: AdlCandidate, contract) -> tuple[int, int]:
    """BitMEX's ranking on its inverse contracts, in coin: ``PnL% = uPnL / entry value`` and
    ``EffLev = value at mark / (uPnL at mark - uPnL at bankruptcy)``. No bankruptcy price
    (``0``): a long is bankrupt at every price (no cushion), a short never (its value there is
    0)."""
    size = candidate.size_lots
    side = 1 if size > 0 else -1
    lots = abs(size)
    mark_value = contract.position_value(side, lots, candidate.mark_price_ticks)
    pnl = candidate.unrealised_pnl
    bankrupt = candidate.bankruptcy_price_ticks
    if bankrupt:
        cushion = -side * (mark_value - contract.position_value(side, lots, bankrupt))
    else:
        cushion = 0 if side > 0 else mark_value
    if cushion <= 0:
        return INFINITE if pnl > 0 else ZERO
    if pnl > 0:
        return _ratio(pnl * mark_value, candidate.entry_notional * cushion)
    return _ratio(pnl * cushion, candidate.entry_notional * mark_value)


def binance_ratio(candidate: AdlCandidate, one_money_unit: int) -> tuple[int, int]:
    """Binance LeveragePnl: ``max(0, UPnL) / max(1, WB) * MM / (WB + UPnL)``."""
    profit = candidate.unrealised_pnl if candidate.unrealised_pnl > 0 else 0
    equity = candidate.wallet_balance + candidate.unrealised_pnl
    if profit == 0 or equity <= 0:
        return ZERO
    wallet = max(one_money_unit, candidate.wallet_balance)
    return _ratio(profit * candidate.maintenance_margin, wallet * equity)


def hyperliquid_ratio(candidate: AdlCandidate, money_per_tick_lot: Valuation) -> tuple[int, int]:
    """Hyperliquid: ``M^2 / (E * AV)`` for a long, ``E / AV`` for a short; ``AV <= 0``: +inf.

    On an inverse contract (values in coin) the price ratio ``mark / entry`` is ``E / M``, so the
    forms swap: ``E / AV`` for a long, ``M^2 / (E * AV)`` for a short."""
    if candidate.account_value <= 0:
        return INFINITE
    size = candidate.size_lots
    if isinstance(money_per_tick_lot, InverseContract):
        mark_notional = money_per_tick_lot.position_value(
            1 if size > 0 else -1, abs(size), candidate.mark_price_ticks
        )
        size = -size  # in value, an inverse long is a linear short
    else:
        mark_notional = abs(size) * candidate.mark_price_ticks * money_per_tick_lot
    if size > 0:
        return _ratio(
            mark_notional * mark_notional, candidate.entry_notional * candidate.account_value
        )
    return _ratio(candidate.entry_notional, candidate.account_value)
