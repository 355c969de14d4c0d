"""Notionals and open PnL of the analysis, for a linear or an inverse contract (pure, exact).

``valuation`` is :attr:`Scale.valuation <exchange_sim.core.units.Scale.valuation>`: the linear
``money_per_tick_lot`` (an ``int``) or an inverse contract's
:class:`~exchange_sim.core.contract.InverseContract`. Values come from
:func:`exchange_sim.core.contract.lots_value`, so a linear notional is ``price x lots x m``
exactly as before and an inverse one is ``lots x k / price`` in the base asset, rounded as the
ledger rounds a position's value (a long's UP, a short's DOWN).

Conventions (``docs/metrics.md``, "Inverse contracts"):

* a **position** (a liquidation at its trigger, a takeover, a deleveraged position) is worth
  its value at the price: :func:`position_notional`;
* a **fill** (a liquidation fill, a resting level of the book) is worth the value of the
  position it closes, i.e. the fill's own value: a buy's DOWN, a sell's UP
  (:func:`fill_notional`);
* **open PnL** is ``value_side x (value(P) - entry)``, the ledger's
  (``InverseLedger.unrealised_pnl``): a long's ``entry - ceil(Q k / P)``, a short's
  ``floor(Q k / P) - entry`` (:func:`open_pnl`).
"""

from __future__ import annotations

from exchange_sim.core.contract import InverseContract, lots_value


def value_side(valuation, side: int) -> int:
    """The side a position's value moves with its PnL: ``side`` (linear) or ``-side`` (inverse,
    :meth:`InverseContract.value_side`)."""
    return side if not isinstance(valuation, InverseContract) else valuation.value_side(side)


def position_notional(valuation, position_lots: int, price: int) -> int:
    """What a signed position of ``position_lots`` is worth at ``price``, minor units."""
    if position_lots >= 0:
        return lots_value(valuation, 1, position_lots, price)
    return lots_value(valuation, -1, -position_lots, price)


def fill_notional(valuation, side: int, lots: int, price: int) -> int:
    """What a fill of ``side`` (``+1`` buy, ``-1`` sell) of ``lots`` at ``price`` is worth: the
    value of the ``-side`` position it would close."""
    return lots_value(valuation, -side, lots, price)


def open_pnl(valuation, position_lots: int, entry: int, price: int) -> int:
    """Open PnL of a signed position with unsigned entry notional ``entry`` at ``price``:
    ``value_side x (value - entry)`` (0 when flat). Linear: ``position x price x m - signed
    entry``."""
    if not position_lots:
        return 0
    side = 1 if position_lots > 0 else -1
    value = lots_value(valuation, side, side * position_lots, price)
    return value_side(valuation, side) * (value - entry)
