"""Margin tier configs (pure data) and :func:`build_tiers`, which turns one into a tier model.

The models themselves are in :mod:`exchange_sim.accounts.margin`. Three kinds, chosen by the
``[margin]`` table's ``kind``: Binance-style brackets, Hyperliquid-style deductions and BitMEX
step risk limits, each either from a named preset table or written out row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

import attrs

from exchange_sim.accounts.margin import (
    BRACKET_PRESETS,
    DEDUCTION_PRESETS,
    STEP_PRESETS,
    BracketTiers,
    DeductionTiers,
    StepRiskLimit,
)
from exchange_sim.core.units import RATE_SCALE, Scale, parse_rate_ppb

MAINTENANCE_BASES = ("mark", "entry")


def _maintenance_basis_field():
    """Which notional the maintenance margin is taken on (one field, shared by the three kinds)."""
    return attrs.field(
        default="mark",
        metadata={
            "choices": MAINTENANCE_BASES,
            "help": "notional the maintenance margin is taken on: mark = the position at the mark "
            "(Binance §2.1, BitMEX §2.2, dYdX §2.5, Hyperliquid §2.6); entry = its entry value "
            "(Bybit USDT §2.3)",
        },
    )


def _trigger_rate_added_field():
    """A rate added to every tier's maintenance rate (one field, shared by the three kinds)."""
    return attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "help": "rate of notional added to every tier's maintenance rate for the liquidation "
            "trigger, liquidation price and margin-call level (OKX §2.4: MMR + liquidation fee "
            "rate; BitMEX §2.2: the exit taker fee); initial margin unchanged",
        },
    )


@attrs.frozen(kw_only=True)
class BracketRow:
    """One Binance bracket as a user writes it."""

    notional_floor: int = attrs.field(
        default=0, metadata={"unit": "money", "min": 0, "help": "bracket's lowest notional"}
    )
    notional_cap: int = attrs.field(
        default=0, metadata={"unit": "money", "min": 0, "help": "bracket's highest notional"}
    )
    max_leverage: int = attrs.field(
        default=1, metadata={"min": 1, "help": "bracket's maximum leverage (initialLeverage)"}
    )
    maintenance_rate: int = attrs.field(
        default=0, metadata={"unit": "rate", "min": 0, "help": "maintMarginRatio"}
    )
    maintenance_amount: int | None = attrs.field(
        default=None,
        metadata={"unit": "money", "help": "cum; omit to compute it from the recurrence"},
    )


def _bracket_rows(rows: Sequence[BracketRow]) -> list[tuple[int, int, int, int, int | None]]:
    return [
        (r.notional_floor, r.notional_cap, r.max_leverage, r.maintenance_rate, r.maintenance_amount)
        for r in rows
    ]


@attrs.frozen(kw_only=True)
class BracketTiersConfig:
    """Binance-style brackets: a named preset, or an explicit table that replaces it."""

    KIND: ClassVar[str] = "brackets"
    preset: str = attrs.field(
        default="binance_btcusdt_illustrative",
        metadata={"choices": tuple(BRACKET_PRESETS), "help": "table used when brackets is empty"},
    )
    brackets: tuple[BracketRow, ...] = attrs.field(
        default=(), metadata={"help": "explicit brackets, lowest first (replaces the preset)"}
    )
    maintenance_basis: str = _maintenance_basis_field()
    trigger_rate_added: int = _trigger_rate_added_field()

    def __attrs_post_init__(self) -> None:
        if self.brackets:
            BracketTiers.from_brackets(_bracket_rows(self.brackets))


@attrs.frozen(kw_only=True)
class DeductionRow:
    """One Hyperliquid margin tier as a user writes it."""

    lower_bound: int = attrs.field(
        default=0, metadata={"unit": "money", "min": 0, "help": "tier's lowest notional"}
    )
    max_leverage: int = attrs.field(default=1, metadata={"min": 1, "help": "tier's max leverage"})


@attrs.frozen(kw_only=True)
class DeductionTiersConfig:
    """Hyperliquid-style tiers (MMR = 1 / (2 x max leverage)): a preset or an explicit table."""

    KIND: ClassVar[str] = "deduction"
    preset: str = attrs.field(
        default="hyperliquid_btc",
        metadata={"choices": tuple(DEDUCTION_PRESETS), "help": "table used when tiers is empty"},
    )
    tiers: tuple[DeductionRow, ...] = attrs.field(
        default=(), metadata={"help": "explicit tiers, lowest first (replaces the preset)"}
    )
    maintenance_basis: str = _maintenance_basis_field()
    trigger_rate_added: int = _trigger_rate_added_field()

    def __attrs_post_init__(self) -> None:
        if self.tiers:
            DeductionTiers.build([(t.lower_bound, t.max_leverage) for t in self.tiers])


@attrs.frozen(kw_only=True)
class StepRiskLimitConfig:
    """BitMEX-style step risk limits; each field left out is taken from the preset."""

    KIND: ClassVar[str] = "step"
    preset: str = attrs.field(
        default="bitmex_xbtusd_2020",
        metadata={"choices": tuple(STEP_PRESETS), "help": "values for the fields left out"},
    )
    base_risk_limit: int | None = attrs.field(
        default=None, metadata={"unit": "money", "min": 1, "help": "notional of the base tier"}
    )
    step: int | None = attrs.field(
        default=None, metadata={"unit": "money", "min": 1, "help": "notional of each step"}
    )
    base_maintenance_rate: int | None = attrs.field(
        default=None, metadata={"unit": "rate", "min": 1, "help": "MM rate of the base tier"}
    )
    base_initial_rate: int | None = attrs.field(
        default=None, metadata={"unit": "rate", "min": 1, "help": "IM rate of the base tier"}
    )
    maintenance_basis: str = _maintenance_basis_field()
    trigger_rate_added: int = _trigger_rate_added_field()

    def __attrs_post_init__(self) -> None:
        """Check the rates at load (the preset's for fields left out): ``0 < MM < IM <= 1``.

        The money fields need the instrument scale and are checked (``>= 1``) by the loader.
        """
        preset = STEP_PRESETS.get(self.preset)
        if preset is None:
            raise ValueError(f"preset must be one of {', '.join(STEP_PRESETS)}")
        key = f"margin.preset[{self.preset}]"
        mm = self.base_maintenance_rate
        im = self.base_initial_rate
        mm = parse_rate_ppb(preset[2], key) if mm is None else mm
        im = parse_rate_ppb(preset[3], key) if im is None else im
        if mm <= 0 or im > RATE_SCALE:
            raise ValueError(
                f"need 0 < base_maintenance_rate and base_initial_rate <= 1 "
                f"(got {_rate_text(mm)} and {_rate_text(im)})"
            )
        if mm >= im:
            raise ValueError(
                f"base_maintenance_rate {_rate_text(mm)} must be below "
                f"base_initial_rate {_rate_text(im)}"
            )


def _rate_text(ppb: int) -> str:
    """A ppb rate as the decimal fraction a user writes (``5_000_000`` -> ``0.005``)."""
    return format(Decimal(ppb).scaleb(-9).normalize(), "f")


MarginTiersConfig = BracketTiersConfig | DeductionTiersConfig | StepRiskLimitConfig


def build_tiers(
    config: MarginTiersConfig, scale: Scale
) -> BracketTiers | DeductionTiers | StepRiskLimit:
    """The tier model of ``config``; presets (decimal, settlement asset) converted with ``scale``,
    with ``trigger_rate_added`` in every maintenance rate (none when it is 0: the same model).

    Explicit tables are validated when the config is built (the loader reports a ``ValueError``
    with the key path); a step config, and an added rate that would lift a tier's maintenance
    rate to its initial rate, are validated here, raising ``ValueError``.
    """
    tiers = _base_tiers(config, scale)
    if config.trigger_rate_added:
        return tiers.with_maintenance_rate_added(config.trigger_rate_added)
    return tiers


def _base_tiers(
    config: MarginTiersConfig, scale: Scale
) -> BracketTiers | DeductionTiers | StepRiskLimit:
    key = f"margin.preset[{config.preset}]"

    def money(value: str) -> int:
        return scale.money_minor(value, key)

    if isinstance(config, BracketTiersConfig):
        rows = _bracket_rows(config.brackets) or [
            (money(f), money(c), lev, parse_rate_ppb(mmr, key), money(cum))
            for f, c, lev, mmr, cum in BRACKET_PRESETS[config.preset]
        ]
        return BracketTiers.from_brackets(rows)
    if isinstance(config, DeductionTiersConfig):
        pairs = [(t.lower_bound, t.max_leverage) for t in config.tiers] or [
            (money(b), lev) for b, lev in DEDUCTION_PRESETS[config.preset]
        ]
        return DeductionTiers.build(pairs)
    base, step, mm, im = STEP_PRESETS[config.preset]
    return StepRiskLimit.build(
        money(base) if config.base_risk_limit is None else config.base_risk_limit,
        money(step) if config.step is None else config.step,
        parse_rate_ppb(mm, key)
        if config.base_maintenance_rate is None
        else config.base_maintenance_rate,
        parse_rate_ppb(im, key) if config.base_initial_rate is None else config.base_initial_rate,
    )
