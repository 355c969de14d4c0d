"""Config fields shared by the participants that can trade a spot market (pure data)."""

from __future__ import annotations

import attrs


def market_field():
    """Where a participant trades: ``""`` for the instrument, else another perpetual's symbol
    (``perpetuals[]``) or a spot market's name."""
    return attrs.field(
        default="",
        metadata={
            "help": "market traded: empty for the instrument, or another perpetual's symbol, or "
            "a spot market"
        },
    )


def base_deposit_field():
    """Base inventory a participant puts into its spot account at t = 0 (spot markets only)."""
    return attrs.field(
        default=0,
        metadata={
            "unit": "size",
            "min": 0,
            "help": "base inventory deposited into its spot account (spot markets only)",
        },
    )
