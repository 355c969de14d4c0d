"""Integer units and exact conversion from the decimal values users write.

Units used everywhere in the simulator:

* time: integer **nanoseconds** (``*_ns``, ``ts``);
* price: integer **ticks** of the instrument's ``tick_size``;
* size: integer **lots** of the instrument's ``lot_size`` (in base-asset units);
* money: integer **minor units** of the settlement asset (``10**-money_decimals``);
* rates (fees, margin rates, funding rates): integer **parts per billion** (``*_ppb``).

Conversions from user input are exact: a value that is not a whole multiple of its unit raises
:class:`~exchange_sim.core.errors.UnitError` naming the config key. Floats are never accepted
(TOML floats are parsed as :class:`decimal.Decimal`). The arithmetic is done on exact integer
ratios, never in a :mod:`decimal` context (whose 28-digit precision would round). A user decimal
may have at most :data:`MAX_SIGNIFICANT_DIGITS` significant digits and a magnitude within
``10**±MAX_DECIMAL_EXPONENT``, so every later default-context operation on it stays exact and an
absurdly long number is refused by size rather than expanded.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal, Inexact, InvalidOperation

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
MAX_INT = 2**63 - 1
"""The largest integer a config value or data point may hold: every such value may reach the
event log, whose readers expect signed 64-bit integers."""
MAX_SIGNIFICANT_DIGITS = 28
"""Significant digits a user decimal may have (trailing zeros do not count): the precision of the
default :mod:`decimal` context, so formatting and hashing a config never round it."""
MAX_DECIMAL_EXPONENT = 30
"""A non-zero user decimal must lie within ``1e-30 <= |value| < 1e31``."""

_EXACT = Context(prec=400, Emax=10**6, Emin=-(10**6), traps=[Inexact, InvalidOperation])
"""Decimal arithmetic that raises rather than round (ints to decimals for reports and dumps)."""

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
    """Read a user-written number (int, Decimal or decimal string) exactly.

    Refuses floats, non-finite values, more than :data:`MAX_SIGNIFICANT_DIGITS` significant
    digits and magnitudes beyond ``10**±MAX_DECIMAL_EXPONENT``, naming ``key``.
    """
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
    check_decimal_size(dec, value, key)
    return dec


def check_decimal_size(dec: Decimal, value: object, key: str) -> None:
    """Refuse a finite ``dec`` (written as ``value``) that is too long or too large to be sane."""
    if not dec:
        return
    digits = dec.as_tuple().digits
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    if significant > MAX_SIGNIFICANT_DIGITS:
        raise UnitError(
            key, value, f"too many significant digits (at most {MAX_SIGNIFICANT_DIGITS})"
        )
    if not -MAX_DECIMAL_EXPONENT <= dec.adjusted() <= MAX_DECIMAL_EXPONENT:
        raise UnitError(
            key,
            value,
            f"out of range (magnitude must be within 1e-{MAX_DECIMAL_EXPONENT} .. "
            f"1e{MAX_DECIMAL_EXPONENT})",
        )


def exact_multiple(value: object, unit: Decimal, key: str, what: str) -> int:
    """Return ``value / unit`` as an int, or raise naming ``key`` if it is not a whole multiple.

    Exact whatever the digits: both sides become integer ratios (``unit > 0``).
    """
    dec = to_decimal(value, key)
    num, den = dec.as_integer_ratio()
    unit_num, unit_den = unit.as_integer_ratio()
    quotient, remainder = divmod(num * unit_den, den * unit_num)
    if remainder:
        raise UnitError(key, value, f"not a whole multiple of the {what} {unit}")
    return quotient


def parse_duration_ns(value: object, key: str) -> int:
    """Parse a duration written with its unit: ``'250ns'``, ``'500ms'``, ``'1.5s'``, ``'8h'``.

    A bare number is refused, even 0: whether ``100`` meant nanoseconds, milliseconds or seconds
    is exactly the mistake a unit rules out (write ``'0s'`` for none)."""
    if isinstance(value, bool):
        raise UnitError(key, value, "expected a duration such as '500ms'")
    if isinstance(value, int):
        raise UnitError(
            key, value, f"a duration needs a unit, e.g. '{value}ms' or '{value}s' ('0s' for none)"
        )
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        if match is None:
            raise UnitError(
                key, value, "expected a duration such as '250us', '500ms', '1.5s', '8h'"
            )
        number, unit = match.groups()
        dec = Decimal(number)
        check_decimal_size(dec, value, key)
        num, den = dec.as_integer_ratio()
        ns, remainder = divmod(num * _DURATION_UNITS[unit], den)
        if remainder:
            raise UnitError(key, value, "not a whole number of nanoseconds")
        return ns
    raise UnitError(key, value, "expected a duration such as '500ms'")


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

    An inverse (coin-margined) contract has ``inverse_k`` instead (``money_per_tick_lot`` is 0):
    one lot at one tick is worth ``inverse_k`` minor units of the base asset, so ``size_lots``
    at ``price_ticks`` are worth ``size_lots * inverse_k / price_ticks``
    (:mod:`exchange_sim.core.contract`).
    """

    tick_size: Decimal
    lot_size: Decimal
    money_decimals: int
    money_per_tick_lot: int
    inverse_k: int = 0

    @classmethod
    def build(cls, tick_size: Decimal, lot_size: Decimal, money_decimals: int, key: str) -> Scale:
        tick_num, tick_den = tick_size.as_integer_ratio()
        lot_num, lot_den = lot_size.as_integer_ratio()
        product, remainder = divmod(tick_num * lot_num * 10**money_decimals, tick_den * lot_den)
        if remainder or product <= 0:
            raise UnitError(
                key,
                f"tick {tick_size} x lot {lot_size}",
                f"one tick on one lot must be a whole number of money minor units "
                f"(10^-{money_decimals}); raise money_decimals or coarsen tick/lot",
            )
        return cls(tick_size, lot_size, money_decimals, product)

    @classmethod
    def build_inverse(
        cls,
        tick_size: Decimal,
        lot_size: Decimal,
        money_decimals: int,
        contract_value: Decimal,
        key: str,
    ) -> Scale:
        """An inverse contract's grid: a lot of ``lot_size`` contracts of ``contract_value``
        (quote) each; ``inverse_k = lot_size x contract_value x 10**money_decimals /
        tick_size``, a whole number or a :class:`UnitError` naming ``key``."""
        tick_num, tick_den = tick_size.as_integer_ratio()
        lot_num, lot_den = lot_size.as_integer_ratio()
        value_num, value_den = contract_value.as_integer_ratio()
        k, remainder = divmod(
            lot_num * value_num * tick_den * 10**money_decimals, lot_den * value_den * tick_num
        )
        if remainder or k <= 0:
            raise UnitError(
                key,
                f"lot {lot_size} x contract value {contract_value} / tick {tick_size}",
                f"one lot at one tick must be worth a whole number of money minor units "
                f"(10^-{money_decimals}); raise money_decimals or change tick/lot/contract value",
            )
        return cls(tick_size, lot_size, money_decimals, 0, k)

    @classmethod
    def from_instrument_table(cls, table: dict, key: str) -> Scale:
        """The grid of a resolved config's ``[instrument]`` table (a run's ``config.toml``,
        decimals exact): :meth:`build_inverse` when ``contract = "inverse"``, else :meth:`build`
        (a table without ``contract``, written before inverse contracts, is linear). A missing
        ``tick_size``, ``lot_size``, ``money_decimals`` (or an inverse ``contract_value``) raises
        :class:`KeyError` naming it; a bad grid a :class:`UnitError` naming ``key``."""
        tick, lot = Decimal(table["tick_size"]), Decimal(table["lot_size"])
        decimals = int(table["money_decimals"])
        if table.get("contract", "linear") == "inverse":
            value = Decimal(table["contract_value"])
            return cls.build_inverse(tick, lot, decimals, value, key)
        return cls.build(tick, lot, decimals, key)

    @property
    def inverse(self) -> bool:
        """Whether the contract is inverse (coin-margined)."""
        return self.inverse_k > 0

    @property
    def valuation(self):
        """``money_per_tick_lot`` (linear), or the inverse contract's
        :class:`~exchange_sim.core.contract.InverseContract`: what the functions that value
        positions take (:func:`exchange_sim.core.contract.valuation_of`)."""
        from exchange_sim.core.contract import valuation_of

        return valuation_of(self.money_per_tick_lot, self.inverse_k)

    def contract(self):
        """The contract's valuation (:mod:`exchange_sim.core.contract`)."""
        from exchange_sim.core.contract import InverseContract, LinearContract

        if self.inverse_k:
            return InverseContract(self.inverse_k)
        return LinearContract(self.money_per_tick_lot)

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
        return _EXACT.multiply(Decimal(ticks), self.tick_size)

    def size_decimal(self, lots: int) -> Decimal:
        return _EXACT.multiply(Decimal(lots), self.lot_size)

    def money_decimal(self, minor: int) -> Decimal:
        return _EXACT.scaleb(Decimal(minor), -self.money_decimals)

    def notional(self, price_ticks: int, size_lots: int) -> int:
        """Exact notional in money minor units of ``size_lots`` at ``price_ticks``."""
        return price_ticks * size_lots * self.money_per_tick_lot
