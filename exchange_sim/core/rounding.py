"""The single rounding rule of the simulator.

Every division that produces an integer amount (money in minor units, a price in ticks, a size in
lots) goes through :func:`div_round`. The rule is: **round in the exchange's favour**. A trader's
payment to the exchange, a fee, a maintenance margin, or a loss is rounded *up* (toward
``+inf`` in the payer's debt); an amount the exchange pays out is rounded *down*. Callers say which
of the two they are computing with :data:`UP` or :data:`DOWN`; the residue (the difference from the
exact rational result) always lands on the exchange's side of the ledger, so money conservation
stays an exact integer equality with the residue accounted in fees, the insurance fund or the
funding residue account, as each caller documents.

``div_round`` is exact for any Python ints (no floats are involved anywhere).
"""

from __future__ import annotations

UP = 1
"""Round toward +infinity: use for amounts owed *to* the exchange (fees, margins, losses)."""
DOWN = -1
"""Round toward -infinity: use for amounts paid *by* the exchange (payouts, gains)."""


def div_round(numerator: int, denominator: int, direction: int) -> int:
    """Divide two integers and round per the exchange-favour rule.

    ``direction`` is :data:`UP` (ceil) or :data:`DOWN` (floor). ``denominator`` must be positive.
    """
    if direction == UP:
        return -((-numerator) // denominator)
    return numerator // denominator


def residue(numerator: int, denominator: int, direction: int) -> int:
    """The amount, in ``1/denominator`` units, by which :func:`div_round` moved the result.

    ``div_round(n, d, r) * d - n``: non-negative for ``UP``, non-positive for ``DOWN``.
    """
    return div_round(numerator, denominator, direction) * denominator - numerator


def quantize_price(price: float, tick_size: float) -> int:
    """Snap an exogenous, real-valued price (a stochastic model's output) to the tick grid.

    The only float-to-int crossing in the simulator. Rounds to the nearest tick (half to even) and
    never returns less than one tick. This is not money: it decides where an external price lands
    on the grid, before any account is touched.
    """
    ticks = round(price / tick_size)
    return ticks if ticks >= 1 else 1
