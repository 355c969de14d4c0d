"""Trigger prices of an inverse position, solved in value (pure).

An inverse position of ``Q`` lots is worth ``V(P) = Q k / P`` (a long's rounded UP, a short's
DOWN) and its equity is ``collateral + side x (entry_value - V)``: in value it is a *linear*
position of the opposite side, one "lot" worth one minor unit per unit of value, whose "price"
is ``V``. So the linear trigger solver (:class:`~exchange_sim.accounts.triggers.TriggerLevel`:
every tier model, the margin-call factor, the step model's conservative line, Bybit's entry
basis) gives the value ``X`` at which ``equity = factor x MM(V)``, and the price follows:

* a long (value side short, crossed when ``V > X``): ``V(P) = ceil(Q k / P) > X`` exactly when
  ``P < Q k / X``, so the trigger is ``ceil(Q k / X)``, crossed by a mark below it, as a linear
  long's. ``X <= 0``, or the solver's "already": ``None``, *already at every price*.
* a short (value side long, crossed when ``V < X``): ``floor(Q k / P) < X`` exactly when ``P > Q
  k / X``: the trigger is ``floor(Q k / X)``, crossed by a mark above it. ``X <= 0`` or the
  solver's "never": ``None``, *never*.

The conversion is exact, so a trigger is crossed no later than the exact condition whenever the
value trigger is (the linear solver's guarantee), and the risk monitor's exact check decides.

The step model's other crossing (a jump in MM when the value enters a higher step) happens to
an inverse *short* on a falling price: :func:`short_step_price`.
"""

from __future__ import annotations

from exchange_sim.accounts.triggers import TriggerLevel, step_up_price
from exchange_sim.core.rounding import DOWN, UP, div_round


def liquidation_price(
    level: TriggerLevel,
    side: int,
    lots: int,
    entry_value: int,
    collateral: int,
    k: int,
    current_price: int,
) -> int | None:
    """The price at which ``collateral + uPnL = factor x MM`` for ``level`` (module docstring);
    ``None``: a long already past it at every price, a short never."""
    qk = lots * k
    value_side = -side
    current_value = div_round(qk, current_price, UP if side > 0 else DOWN)
    value = level.price(value_side, 1, entry_value, collateral, 1, max(current_value, 1))
    if value is None or value <= 0:
        return None
    if side > 0:
        return div_round(qk, value, UP)
    return div_round(qk, value, DOWN)


def short_step_price(tiers, lots: int, k: int, current_price: int) -> int | None:
    """For a step risk limit: the highest price at which a short's value ``floor(Q k / P)``
    reaches the next step above its step at ``current_price`` (its MM jumps up on a fall there,
    BitMEX §2.2); ``None`` for other tier models."""
    qk = lots * k
    current_value = div_round(qk, current_price, DOWN)
    boundary = step_up_price(tiers, 1, current_value)
    if boundary is None or boundary <= 0:
        return None
    return div_round(qk, boundary, DOWN)
