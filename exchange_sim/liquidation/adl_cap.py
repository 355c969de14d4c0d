"""A cap on what auto-deleveraging may close of one account in one ADL event (pure, integer).

Off by default. With ``enabled``, an ADL step walks the ranked queue (the configured ranking,
:mod:`.adl`) and closes from each account at most ``cap_lots``: ``max_fraction`` of its position
(rounded DOWN, so the cap is never exceeded) and, when ``max_notional`` is set, no more lots than
that notional at the close price (rounded DOWN). What an account cannot take goes to the next
account in the queue; what the whole queue cannot take stays with the liquidated account (its
job ends ``deleveraged`` with a position left and it is handed over again after the
liquidation engine's ``retry_interval``, each retry one more capped ADL event).

No venue documents such a cap for its ranked queue (exchange_mechanics.md §5: BitMEX, Binance,
Bybit, OKX, Hyperliquid close each ranked position fully before the next); it is a policy
experiment, in the spirit of the pro-rata cap of ``adl.ranking = "capped_pro_rata"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from exchange_sim.core.contract import InverseContract, Valuation
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.liquidation.apportion import QueueEntry


@attrs.frozen(kw_only=True)
class AdlCapConfig:
    """Per-account cap on one ADL event (off by default)."""

    enabled: bool = attrs.field(
        default=False, metadata={"help": "cap what one ADL event closes of one account"}
    )
    max_fraction: int = attrs.field(
        default=RATE_SCALE // 2,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": RATE_SCALE,
            "help": "most of an account's position one ADL event closes (rounded down to lots)",
        },
    )
    max_notional: int = attrs.field(
        default=0,
        metadata={
            "unit": "money",
            "min": 0,
            "help": "most notional (at the close price) one ADL event closes of one account; "
            "0 = no notional cap",
        },
    )


def cap_lots(
    config: AdlCapConfig, position_lots: int, price_ticks: int, money_per_tick_lot: Valuation
) -> int:
    """The most lots one ADL event may close of a position of ``position_lots`` (unsigned) at
    ``price_ticks``: the fraction cap and the notional cap, each rounded DOWN."""
    lots = div_round(position_lots * config.max_fraction, RATE_SCALE, DOWN)
    if config.max_notional:
        if isinstance(
            money_per_tick_lot, InverseContract
        ):  # inverse: lots worth max_notional in coin
            by_notional = money_per_tick_lot.lots_for_value(config.max_notional, price_ticks, DOWN)
        else:
            unit = price_ticks * money_per_tick_lot
            by_notional = div_round(config.max_notional, unit, DOWN) if unit > 0 else lots
        lots = min(lots, by_notional)
    return lots


def allocate_capped_ranked(
    config: AdlCapConfig,
    queue: Sequence[QueueEntry],
    size_lots: int,
    price_ticks: int,
    money_per_tick_lot: Valuation,
) -> list[tuple[int, int]]:
    """Walk ``queue`` in order closing at most :func:`cap_lots` of each entry until ``size_lots``
    is met (``[(account_id, lots)]``, no zero entries); the sum may fall short."""
    allocations: list[tuple[int, int]] = []
    remaining = size_lots
    for entry in queue:
        if remaining == 0:
            break
        take = min(
            remaining, cap_lots(config, entry.closable_lots, price_ticks, money_per_tick_lot)
        )
        if take > 0:
            allocations.append((entry.account_id, take))
            remaining -= take
    return allocations
