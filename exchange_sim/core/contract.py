"""What a position is worth in the settlement asset: the contract's valuation (pure).

A **linear** (quote-settled) perpetual, BTCUSDT, is worth ``price x lots x m`` (``m`` =
``Scale.money_per_tick_lot``), exact. An **inverse** (coin-margined) perpetual, BitMEX XBTUSD,
is worth ``lots x k / price`` in the base asset (``k`` = ``Scale.inverse_k``), rounded per
:mod:`exchange_sim.accounts.inverse` (a buy's value DOWN, a sell's UP; a position at the value
of the fill that would close it).

**Value side.** Everywhere the ledger writes ``side x (value - entry)`` for a PnL, an inverse
position's value moves *against* its price: a long gains when its value (the coin its contracts
are worth) falls. So an inverse position is, in value, the opposite side of a linear one:
:meth:`InverseContract.value_side` is ``-side``, and ``PnL = value_side x (value(P) - entry)``,
the money identity's account term ``collateral - value_side x entry`` and the fund's settlement
``value_side x (value(fill) - value(bankruptcy))`` hold for both contracts with one formula.

The liquidation and bankruptcy prices of an inverse position are solved in value (the linear
solvers with one lot worth one minor unit per "tick" of value) and converted back to a price
(:mod:`exchange_sim.accounts.inverse_triggers`).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE


class LinearContract:
    """``value = price x lots x m`` (exact, the same for both sides)."""

    __slots__ = ("m",)
    inverse = False

    def __init__(self, money_per_tick_lot: int) -> None:
        self.m = money_per_tick_lot

    def fill_value(self, side: int, lots: int, price: int) -> int:
        """Value of a fill of ``lots`` at ``price`` (``side``: the fill's side)."""
        return price * lots * self.m

    def position_value(self, side: int, lots: int, price: int) -> int:
        """Value of a position of ``side`` and ``lots`` at ``price`` (its margin basis)."""
        return price * lots * self.m

    @staticmethod
    def value_side(side: int) -> int:
        return side

    def settlement_delta(self, side: int, lots: int, fill: int, bankruptcy: int) -> int:
        """What closing ``lots`` of a ``side`` position at ``fill`` leaves above closing them at
        ``bankruptcy`` (the fund's share, before fees): ``side (fill - bankruptcy) lots m``."""
        return side * (fill - bankruptcy) * lots * self.m

    def fee(self, side: int, lots: int, price: int, rate_ppb: int) -> int:
        """A fee of ``rate_ppb`` on the fill's value, rounded UP."""
        return div_round(price * lots * self.m * rate_ppb, RATE_SCALE, UP)

    def lots_for_value(self, value: int, price: int, rounding) -> int:
        """Lots worth ``value`` at ``price``, rounded by ``rounding`` (``DOWN``/``UP``)."""
        return div_round(value, price * self.m, rounding)


class InverseContract:
    """``value = lots x k / price`` in the base asset (:mod:`exchange_sim.accounts.inverse`)."""

    __slots__ = ("k",)
    inverse = True

    def __init__(self, k: int) -> None:
        self.k = k

    def fill_value(self, side: int, lots: int, price: int) -> int:
        """A buy's value rounded DOWN, a sell's UP (``inverse.fill_value``)."""
        return div_round(lots * self.k, price, DOWN if side > 0 else UP)

    def position_value(self, side: int, lots: int, price: int) -> int:
        """The value of the fill that would close it: a long's UP, a short's DOWN."""
        return div_round(lots * self.k, price, UP if side > 0 else DOWN)

    @staticmethod
    def value_side(side: int) -> int:
        return -side

    def settlement_delta(self, side: int, lots: int, fill: int, bankruptcy: int) -> int:
        """``value_side x (value(fill) - value(bankruptcy))`` of the closing fill (side
        ``-side``): a long closed above its bankruptcy price gives up fewer coins."""
        close = -side
        return -side * (
            self.fill_value(close, lots, fill) - self.fill_value(close, lots, bankruptcy)
        )

    def fee(self, side: int, lots: int, price: int, rate_ppb: int) -> int:
        """A fee of ``rate_ppb`` on the fill's (rounded) value, rounded UP."""
        return div_round(self.fill_value(side, lots, price) * rate_ppb, RATE_SCALE, UP)

    def lots_for_value(self, value: int, price: int, rounding) -> int:
        """Lots worth ``value`` at ``price``: ``value x price / k``, rounded by ``rounding``."""
        return div_round(value * price, self.k, rounding)


Contract = LinearContract | InverseContract

Valuation = int | InverseContract
"""What the functions that value positions take as ``money_per_tick_lot``: a linear contract's
money per tick-lot, or an inverse contract's :class:`InverseContract`."""


def valuation_of(money_per_tick_lot: int, inverse_k: int = 0):
    """What the functions that value positions take as ``money_per_tick_lot``: the linear
    ``int`` itself, or an inverse contract's :class:`InverseContract` (they dispatch on it)."""
    return InverseContract(inverse_k) if inverse_k else money_per_tick_lot


def lots_value(valuation, side: int, lots: int, price: int) -> int:
    """``lots`` of a ``side`` position at ``price``: ``price x lots x m``, or the inverse
    position's value (:meth:`InverseContract.position_value`)."""
    if not isinstance(valuation, InverseContract):
        return price * lots * valuation
    return valuation.position_value(side, lots, price)


def lots_for_value(valuation, value: int, price: int, rounding) -> int:
    """Lots worth ``value`` at ``price``, rounded by ``rounding``: ``value / (price x m)``, or
    an inverse contract's ``value x price / k``."""
    if not isinstance(valuation, InverseContract):
        return div_round(value, price * valuation, rounding)
    return valuation.lots_for_value(value, price, rounding)


def inverse_impact_price(
    levels: Iterable[tuple[int, int]], value_minor: int, k: int
) -> tuple[int, int] | None:
    """An inverse contract's impact price (exact rational ticks): a market order filling
    ``value_minor`` of coin against ``levels`` (``(price_ticks, lots)``, best first, each worth
    ``lots x k / price``), its average price the harmonic one, ``lots x k / value``. With whole
    levels ``(p_i, q_i)`` and ``R`` coin left at ``p``: ``lots = sum(q_i) + R p / k``, so ``avg =
    (k sum(q_i) + R p) / value``. ``None`` when the levels hold less than ``value_minor``."""
    left = Fraction(value_minor)
    whole_lots = 0
    for price, lots in levels:
        level_value = Fraction(lots * k, price)
        if level_value >= left:
            average = (k * whole_lots + left * price) / value_minor
            return average.numerator, average.denominator
        left -= level_value
        whole_lots += lots
    return None


def linear_only(valuation: Valuation) -> int:
    """A linear contract's money per tick-lot, for arithmetic an inverse contract does not run
    (the config refuses it there: the ``dydx`` policy, the backstop vault)."""
    if isinstance(valuation, InverseContract):
        raise TypeError("linear-only arithmetic reached with an inverse contract")
    return valuation
