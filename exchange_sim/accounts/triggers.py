"""Trigger prices for the risk monitor: where an account's equity falls to ``factor x MM``.

``factor = 1`` gives the liquidation price; a factor above 1 (say 1.5) gives the margin-call
price, which a falling long reaches first. Built on
:func:`~exchange_sim.accounts.liquidation_price.tiered_liquidation_price`, whose rounding puts the
trigger on the exchange's side: the trigger is crossed no later than the exact condition, and the
risk monitor's exact check decides.

Continuous tiers (Binance brackets, Hyperliquid deductions) are exact: their lines are scaled by
the factor. BitMEX's step model has no deduction and jumps at each step, so its trigger is
*conservative*: one line at the highest rate the position can reach between the current price and
the trigger (the current tier for a long, found by iterating tiers upward for a short).

With the maintenance margin on the *entry value* (``margin.maintenance_basis = "entry"``, Bybit
USDT §2.3) MM does not move with the price, and the trigger is Bybit's own formula (§3.3, W7),
:func:`~exchange_sim.accounts.liquidation_price.bybit_isolated_liquidation_price`, with the
position's whole margin as ``IM + extra`` and ``factor x MM`` (rounded up once, as the ledger's
margin-call level) as ``MM``.
"""

from __future__ import annotations

import attrs

from exchange_sim.accounts.liquidation_price import (
    bybit_isolated_liquidation_price,
    tiered_liquidation_price,
)
from exchange_sim.accounts.margin import StepRiskLimit
from exchange_sim.core.units import RATE_SCALE


@attrs.frozen
class _Lines:
    """A tier-model view with explicit lines ``(rate_num, deduction_num) / denominator``."""

    lines: tuple[tuple[int, int], ...]
    denominator: int

    def maintenance_lines(self) -> tuple[tuple[int, int], ...]:
        return self.lines


def _scaled(tiers, factor_ppb: int) -> _Lines:
    return _Lines(
        tuple((r * factor_ppb, d * factor_ppb) for r, d in tiers.maintenance_lines()),
        tiers.denominator * RATE_SCALE,
    )


class TriggerLevel:
    """The ``factor x MM`` trigger of one tier model; the scaled tier lines are built once (the
    ledger keeps one per factor and prices every fill with it). ``on_entry``: MM is taken on the
    entry value rather than the notional at the price."""

    __slots__ = ("_lines", "factor_ppb", "on_entry", "tiers")

    def __init__(self, tiers, factor_ppb: int, on_entry: bool = False) -> None:
        self.tiers = tiers
        self.factor_ppb = factor_ppb
        self.on_entry = on_entry
        self._lines = (
            None if on_entry or isinstance(tiers, StepRiskLimit) else _scaled(tiers, factor_ppb)
        )

    def price(
        self,
        side: int,
        size_lots: int,
        entry_notional: int,
        balance: int,
        money_per_tick_lot: int,
        current_price: int,
    ) -> int | None:
        """Price (ticks) at which ``balance + uPnL = factor x MM``; ``None`` as in the solver.

        For a long, ``None`` means never (no positive price); for a short, already past it.
        """
        if self.on_entry:
            return bybit_isolated_liquidation_price(
                side=side,
                size_lots=size_lots,
                entry_notional=entry_notional,
                initial_margin=balance,
                maintenance_margin=self.tiers.scaled_maintenance_margin(
                    entry_notional, self.factor_ppb
                ),
                money_per_tick_lot=money_per_tick_lot,
            )
        if self._lines is not None:
            return tiered_liquidation_price(
                side=side,
                size_lots=size_lots,
                reference_notional=entry_notional,
                balance_at_reference=balance,
                tiers=self._lines,
                money_per_tick_lot=money_per_tick_lot,
            )
        tiers, factor_ppb = self.tiers, self.factor_ppb
        qm = abs(size_lots) * money_per_tick_lot
        tier = tiers.tier_index(current_price * qm)
        for _ in range(64):
            rate = tiers.step_maintenance_rate_ppb(tier)
            price = tiered_liquidation_price(
                side=side,
                size_lots=size_lots,
                reference_notional=entry_notional,
                balance_at_reference=balance,
                tiers=_Lines(((rate * factor_ppb, 0),), RATE_SCALE * RATE_SCALE),
                money_per_tick_lot=money_per_tick_lot,
            )
            if side > 0 or price is None:
                return price
            reached = tiers.tier_index(price * qm)
            if reached <= tier:
                return price
            tier = reached
        return price


def step_up_price(tiers, qm: int, current_price: int) -> int | None:
    """For a step risk limit: the lowest price (ticks) at which a position of ``qm`` money per
    tick enters the next step above its tier at ``current_price``; ``None`` for other tier
    models (their MM is continuous, so a long can only become liquidatable on a fall).

    A long's MM jumps up when a *rising* price carries its notional across a step, so the risk
    monitor re-checks it there (BitMEX §2.2: the whole position takes the stepped rate)."""
    if not isinstance(tiers, StepRiskLimit) or qm <= 0:
        return None
    tier = tiers.tier_index(current_price * qm)
    boundary = tiers.base_risk_limit + tier * tiers.step
    return -((-boundary) // qm)
