"""Funding settlement: exact integer payments between longs and shorts, and the residue.

``payment = size_lots x price_ticks x money_per_tick_lot x rate_ppb / 10^9`` (the position's
notional times the rate, §6.1: ``PositionNotional x F``); an inverse contract's (passed as its
:class:`~exchange_sim.core.contract.InverseContract`) is its value at the price,
``size_lots x k x rate_ppb / (price_ticks x 10^9)`` in coin (§6.3, W21); longs pay shorts when
the rate is positive, shorts pay longs when it is negative, peer to peer with no exchange fee.

**Rounding, in the exchange's favour**: a payer's amount rounds ``UP`` (what a trader owes) and a
receiver's rounds ``DOWN`` (what the exchange pays out). Seen from the account, both are the floor
of its exact signed payment, so each payment is one ``div_round(..., DOWN)`` of the signed value.

**Conservation**: ``Σ payments + residue == 0`` exactly. When the positions net to zero the exact
payments sum to 0, each rounded payment is at most 1 minor unit below its exact value, so the
residue ``-Σ payments`` satisfies ``0 ≤ residue < number of positions``. The caller credits it to
the named ledger :data:`FUNDING_RESIDUE_LEDGER` (the exchange's funding residue account).

**Who pays**: only positions open at the funding timestamp (Binance §6.2: "only positions open at
the timestamp pay"). The caller passes the positions as they stand at that timestamp, including
any the exchange itself holds (insurance fund, backstop vault), so that they net to zero; a
position opened or closed a moment later neither pays nor receives for the interval.

Sources: ``reference/exchange_mechanics.md`` §6.1-§6.3, §6.6, §6.7, W21.
"""

from __future__ import annotations

from collections.abc import Iterable

from exchange_sim.core.contract import InverseContract, Valuation
from exchange_sim.core.errors import SimulationError
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE

FUNDING_RESIDUE_LEDGER = "funding_residue"
"""Name of the exchange ledger that receives the rounding residue of every funding settlement."""


def settle_rows(
    positions: Iterable[tuple[int, int]],
    price_ticks: int,
    rate_ppb: int,
    money_per_tick_lot: Valuation,
) -> tuple[list[tuple[int, int, int]], int]:
    """Like :func:`settle`, returning ``(account_id, size_lots, amount_minor)`` rows."""
    if not isinstance(money_per_tick_lot, InverseContract):
        per_lot = price_ticks * money_per_tick_lot * rate_ppb  # money minor units x 10^9 per lot
        scale = RATE_SCALE
    else:  # inverse (its InverseContract): the value at the price, Q k / P, times the rate
        per_lot, scale = money_per_tick_lot.k * rate_ppb, price_ticks * RATE_SCALE
    rows: list[tuple[int, int, int]] = []
    net_lots = 0
    total = 0
    for account_id, size_lots in positions:
        if size_lots == 0:
            continue
        net_lots += size_lots
        amount = div_round(-size_lots * per_lot, scale, DOWN)
        total += amount
        rows.append((account_id, size_lots, amount))
    if net_lots != 0:
        raise SimulationError(
            f"funding positions net to {net_lots} lots, not 0: pass every open position"
        )
    return rows, -total


def settle(
    positions: Iterable[tuple[int, int]],
    price_ticks: int,
    rate_ppb: int,
    money_per_tick_lot: Valuation,
) -> tuple[list[tuple[int, int]], int]:
    """Funding payments ``[(account_id, amount_minor)]`` and the residue for the residue ledger.

    ``positions`` are ``(account_id, size_lots)`` with longs positive and shorts negative, every
    position open at the timestamp (they must net to zero; zero sizes are skipped).
    ``amount_minor`` is signed from the account's side: negative = the account pays. Payments are
    floored from the account's side (payers round up, receivers down), so ``residue >= 0`` and
    ``Σ amount + residue == 0``.
    """
    rows, residue = settle_rows(positions, price_ticks, rate_ppb, money_per_tick_lot)
    return [(account_id, amount) for account_id, _, amount in rows], residue


def record_settlement(
    log,
    ts: int,
    cause: int | None,
    positions: Iterable[tuple[int, int]],
    price_ticks: int,
    rate_ppb: int,
    money_per_tick_lot: Valuation,
) -> tuple[list[tuple[int, int]], int]:
    """:func:`settle` and emit one ``funding_payment`` per position, then one ``funding_residue``.

    ``cause`` is normally the ``seq`` of the interval's ``funding_rate`` event. Applying the
    amounts to balances is the caller's job (the accounts module owns balances).
    """
    rows, residue = settle_rows(positions, price_ticks, rate_ppb, money_per_tick_lot)
    emit = log.emit
    for account_id, size_lots, amount in rows:
        emit(
            ts,
            "funding_payment",
            cause,
            account=account_id,
            size_lots=size_lots,
            price_ticks=price_ticks,
            rate_ppb=rate_ppb,
            amount_minor=amount,
        )
    emit(
        ts,
        "funding_residue",
        cause,
        ledger=FUNDING_RESIDUE_LEDGER,
        residue_minor=residue,
        payment_count=len(rows),
        rate_ppb=rate_ppb,
        price_ticks=price_ticks,
    )
    return [(account_id, amount) for account_id, _, amount in rows], residue
