"""Integer units and exact conversion from the decimal values users write.

Units used everywhere in the simulator:

* time: integer **nanoseconds** (``*_ns``, ``ts``);
* price: integer **ticks** of the instrument's ``tick_size``;
* size: integer **lots** of the instrument's ``lot_size`` (in base-asset units);
* money: integer **minor units** of the settlement asset (``10**-money_decimals``);
* rates (fees, margin rates, funding rates): integer **parts per billion** (``*_ppb``).

Conversions from user input are exact: a value that is not a whole multiple of its unit raises
:class:`~exchange_sim.core.errors.UnitError` naming the config key. Floats are never accepted
(TOML floats are parsed as :class:`decimal.Decimal`).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import attrs

from exchange_sim.core.errors import UnitError

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000
NS_PER_MIN = 60 * NS_PER_S
NS_PER_HOUR = 60 * NS_PER_MIN
NS_PER_DAY = 24 * NS_PER_HOUR
RATE_SCALE = 1_000_000_000
"""One whole (100 %) in parts per billion."""

_DURATION_UNITS = {
    "ns": 1,
    "us": NS_PER_US,
    "ms": NS_PER_MS,
    "s": NS_PER_S,
    "min": NS_PER_MIN,
    "m": NS_PER_MIN,
    "h": NS_PER_HOUR,
    "d": NS_PER_DAY,
}
_DURATION_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ns|us|ms|s|min|m|h|d)\s*$")


def to_decimal(value: object, key: str) -> Decimal:
    """Read a user-written number (int, Decimal or decimal string) exactly."""
    if isinstance(value, bool | float):
        raise UnitError(key, value, "expected an exact decimal (int, or a string like '0.1')")
    if isinstance(value, int | Decimal):
        dec = Decimal(value)
    elif isinstance(value, str):
        try:
            dec = Decimal(value.strip())
        except InvalidOperation:
            raise UnitError(key, value, "not a decimal number") from None
    else:
        raise UnitError(key, value, "expected a number")
    if not dec.is_finite():
        raise UnitError(key, value, "must be finite")
    return dec


def exact_multiple(value: object, unit: Decimal, key: str, what: str) -> int:
    """Return ``value / unit`` as an int, or raise naming ``key`` if it is not a whole multiple."""
    dec = to_decimal(value, key)
    quotient = dec / unit
    if quotient != quotient.to_integral_value():
        raise UnitError(key, value, f"not a whole multiple of the {what} {unit}")
    return int(quotient)


def parse_duration_ns(value: object, key: str) -> int:
    """Parse a duration: an int (ns) or a string such as ``'500ms'``, ``'1.5s'``, ``'8h'``."""
    if isinstance(value, bool):
        raise UnitError(key, value, "expected a duration such as 500ms or an int of nanoseconds")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match is None:
            raise UnitError(
                key, value, "expected a duration such as '250us', '500ms', '1.5s', '8h'"
            )
        number, unit = match.groups()
        ns = Decimal(number) * _DURATION_UNITS[unit]
        if ns != ns.to_integral_value():
            raise UnitError(key, value, "not a whole number of nanoseconds")
        return int(ns)
    raise UnitError(key, value, "expected a duration such as 500ms or an int of nanoseconds")


def parse_rate_ppb(value: object, key: str) -> int:
    """A rate written as a decimal fraction (``'0.0004'`` = 4 bp) to parts per billion, exactly."""
    return exact_multiple(value, Decimal(1) / RATE_SCALE, key, "rate resolution")


def format_duration(ns: int) -> str:
    """The exact short form of a nanosecond duration, readable back by :func:`parse_duration_ns`."""
    for unit, size in (("h", NS_PER_HOUR), ("s", NS_PER_S), ("ms", NS_PER_MS), ("us", NS_PER_US)):
        if ns >= size and ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


@attrs.frozen
class Scale:
    """The integer grid of one instrument: tick, lot and money minor unit.

    ``money_per_tick_lot`` is the value in money minor units of one tick of price on one lot of
    size (a linear, quote-settled contract): ``notional = price_ticks * size_lots *
    money_per_tick_lot`` is then an exact integer.
    """

    tick_size: Decimal
    lot_size: Decimal
    money_decimals: int
    money_per_tick_lot: int

    @classmethod
    def build(cls, tick_size: Decimal, lot_size: Decimal, money_decimals: int, key: str) -> Scale:
        product = tick_size * lot_size * (Decimal(10) ** money_decimals)
        if product != product.to_integral_value() or product <= 0:
            raise UnitError(
                key,
                f"tick {tick_size} x lot {lot_size}",
                f"one tick on one lot must be a whole number of money minor units "
                f"(10^-{money_decimals}); raise money_decimals or coarsen tick/lot",
            )
        return cls(tick_size, lot_size, money_decimals, int(product))

    def price_ticks(self, value: object, key: str) -> int:
        """A user price (decimal) to ticks, exactly."""
        return exact_multiple(value, self.tick_size, key, "tick size")

    def size_lots(self, value: object, key: str) -> int:
        """A user size in base units (decimal) to lots, exactly."""
        return exact_multiple(value, self.lot_size, key, "lot size")

    def money_minor(self, value: object, key: str) -> int:
        """A user amount of money (decimal, settlement asset) to minor units, exactly."""
        return exact_multiple(value, Decimal(1).scaleb(-self.money_decimals), key, "money unit")

    def price_decimal(self, ticks: int) -> Decimal:
        """Ticks back to a decimal price (for reports; never used in computation)."""
        return ticks * self.tick_size

    def size_decimal(self, lots: int) -> Decimal:
        return lots * self.lot_size

    def money_decimal(self, minor: int) -> Decimal:
        return Decimal(minor).scaleb(-self.money_decimals)

    def notional(self, price_ticks: int, size_lots: int) -> int:
        """Exact notional in money minor units of ``size_lots`` at ``price_ticks``."""
        return price_ticks * size_lots * self.money_per_tick_lot
