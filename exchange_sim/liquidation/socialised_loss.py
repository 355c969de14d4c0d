"""Socialised loss: clawing an uncovered deficit back from profitable accounts, pro rata to profit.

OKX's older "Societal Clawback" (exchange_mechanics.md §5.5): the period's deficit is paid first
by the insurance fund; what the fund cannot pay is charged to accounts with net profit, in
proportion to their profit, with

    rate = max(0, deficit - fund) / sum(profit)        (capped at 1)
    charge_i = ceil(profit_i * rate)

(the clone's ``(system losses + insurance fund) / total net profit`` read with losses positive, as
§5.5 suggests). A charge is what a trader owes, so it is rounded **UP**
(:func:`~exchange_sim.core.rounding.div_round` ``UP``); each charge is still at most the profit
(``profit * rate <= profit`` and ``profit`` is an integer). The exact accounting identity is

    sum(charges) - residue == amount_to_socialise

where ``residue >= 0`` is the excess the round-ups collected (fewer minor units than there are
payers), which the caller books to its residue ledger (e.g. the insurance fund), and
``residue < 0`` means the profits were too small to cover the amount: ``-residue`` stays as bad
debt. Only accounts with profit > 0 pay; charges are listed by account id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from exchange_sim.core.rounding import UP, div_round


@attrs.frozen
class Clawback:
    """The outcome of one clawback, money in minor units.

    ``fund_used``: what the insurance fund pays (``min(fund, deficit)``; the caller calls
    ``InsuranceFund.cover`` with it). ``amount``: what is left to socialise. ``rate_num/rate_den``:
    the exact rate (``amount / total profit``, or ``1/1`` when capped; ``0/1`` with no payers).
    ``charges``: ``[(account_id, amount), ...]``. ``residue``: ``sum(charges) - amount``.
    """

    fund_used: int
    amount: int
    rate_num: int
    rate_den: int
    charges: list[tuple[int, int]]
    residue: int

    @property
    def collected(self) -> int:
        return self.amount + self.residue

    @property
    def uncollected(self) -> int:
        """Bad debt the profits could not cover (0 unless the rate was capped at 1)."""
        return -self.residue if self.residue < 0 else 0


def clawback(deficit: int, fund_balance: int, profits: Iterable[tuple[int, int]]) -> Clawback:
    """Share ``max(0, deficit - fund_balance)`` over ``profits`` = ``[(account_id, profit), ...]``.

    Accounts with profit <= 0 are ignored. Integer exact; see the module doc for rounding.
    """
    if deficit < 0 or fund_balance < 0:
        raise ValueError(f"deficit ({deficit}) and fund balance ({fund_balance}) must be >= 0")
    fund_used = deficit if deficit <= fund_balance else fund_balance
    amount = deficit - fund_used
    payers = sorted((account, profit) for account, profit in profits if profit > 0)
    total_profit = sum(profit for _, profit in payers)
    if amount == 0 or total_profit == 0:
        return Clawback(fund_used, amount, 0, 1, [], -amount)
    if amount >= total_profit:
        charges = payers
        rate_num, rate_den = 1, 1
    else:
        rate_num, rate_den = amount, total_profit
        charges = [
            (account, div_round(profit * amount, total_profit, UP)) for account, profit in payers
        ]
    residue = sum(charge for _, charge in charges) - amount
    return Clawback(fund_used, amount, rate_num, rate_den, charges, residue)


def emit_clawback(log: Any, ts: int, cause: int | None, result: Clawback) -> list[int]:
    """Write one ``socialised_loss`` event per charge; return their ``seq``s."""
    return [
        log.emit(
            ts,
            "socialised_loss",
            cause,
            account=account,
            amount=charge,
            rate_num=result.rate_num,
            rate_den=result.rate_den,
        )
        for account, charge in result.charges
    ]
