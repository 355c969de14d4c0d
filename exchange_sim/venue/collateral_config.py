"""Configuration of collateral assets: what a venue accepts besides its settlement asset, with
which haircut, valued by which price source (:mod:`exchange_sim.venue.collateral`)."""

from __future__ import annotations

import attrs

from exchange_sim.core.units import MAX_INT, RATE_SCALE

PRICE_SOURCES = ("redemption", "oracle", "book")


@attrs.frozen(kw_only=True)
class OraclePoint:
    """One published price of a scripted collateral oracle."""

    at: int = attrs.field(default=0, metadata={"unit": "duration", "min": 0, "help": "when"})
    price_ppb: int = attrs.field(
        default=RATE_SCALE,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": 10**6 * RATE_SCALE,
            "help": "settlement units per collateral unit (1.0 = at par)",
        },
    )


@attrs.frozen(kw_only=True)
class CollateralDump:
    """A market sell of collateral units into the asset's own book by an outside holder."""

    at: int = attrs.field(default=0, metadata={"unit": "duration", "min": 0, "help": "when"})
    units: int = attrs.field(
        default=1_000_000_000,
        metadata={
            "unit": "money",
            "min": 1,
            "max": MAX_INT,
            "help": "units sold (the settlement asset's decimals)",
        },
    )


@attrs.frozen(kw_only=True)
class CollateralBookConfig:
    """The asset's own thin order book against the settlement asset: a ladder of resting orders
    on both sides of ``reference_price`` (one liquidity account) and scripted sells (``dumps``)."""

    tick_ppb: int = attrs.field(
        default=100_000,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": RATE_SCALE,
            "help": "price increment, settlement units per collateral unit (0.0001)",
        },
    )
    lot_units: int = attrs.field(
        default=1_000_000,
        metadata={"unit": "money", "min": 1, "max": MAX_INT, "help": "size increment (units)"},
    )
    levels: int = attrs.field(
        default=20, metadata={"min": 1, "max": 10_000, "help": "resting levels on each side"}
    )
    level_spacing_ticks: int = attrs.field(
        default=50, metadata={"min": 1, "max": 10**9, "help": "ticks between resting levels"}
    )
    units_per_level: int = attrs.field(
        default=100_000_000_000,
        metadata={"unit": "money", "min": 1, "max": MAX_INT, "help": "units resting per level"},
    )
    dumps: tuple[CollateralDump, ...] = attrs.field(
        default=(), metadata={"help": "list of {at, units} market sells into the book"}
    )


@attrs.frozen(kw_only=True)
class CollateralConfig:
    """One accepted collateral asset (docs/mechanics.md, collateral)."""

    asset: str = attrs.field(
        default="USDE",
        metadata={"plain_name": True, "help": "the asset's name (a Deposit's asset field)"},
    )
    haircut_ppb: int = attrs.field(
        default=0,
        metadata={
            "unit": "rate",
            "min": 0,
            "max": RATE_SCALE - 1,
            "help": "share of the value not counted as margin (0.05 = 5 %)",
        },
    )
    price_source: str = attrs.field(
        default="redemption",
        metadata={
            "choices": PRICE_SOURCES,
            "help": "what values it: a fixed redemption rate (reference_price), a scripted "
            "oracle (oracle points), or the last trade of its own book",
        },
    )
    reference_price_ppb: int = attrs.field(
        default=RATE_SCALE,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": 10**6 * RATE_SCALE,
            "help": "settlement units per collateral unit: the redemption rate, the oracle's and "
            "the book's price before their first update, and the book ladder's centre",
        },
    )
    oracle: tuple[OraclePoint, ...] = attrs.field(
        default=(), metadata={"help": "list of {at, price_ppb}: the oracle's published prices"}
    )
    book: CollateralBookConfig = attrs.field(
        factory=CollateralBookConfig,
        metadata={"help": "the asset's own order book (price_source = book); always simulated"},
    )

    def __attrs_post_init__(self) -> None:
        book = self.book
        if self.reference_price_ppb % book.tick_ppb:
            raise ValueError(
                f"reference_price_ppb {self.reference_price_ppb} is not a multiple of "
                f"book.tick_ppb {book.tick_ppb}"
            )
        lowest = self.reference_price_ppb - book.levels * book.level_spacing_ticks * book.tick_ppb
        if lowest <= 0:
            raise ValueError(
                "book: levels x level_spacing_ticks x tick_ppb must stay below reference_price"
            )
        if book.units_per_level % book.lot_units:
            raise ValueError("book.units_per_level must be a multiple of book.lot_units")
        for i, dump in enumerate(book.dumps):
            if dump.units % book.lot_units:
                raise ValueError(f"book.dumps[{i}].units must be a multiple of book.lot_units")
