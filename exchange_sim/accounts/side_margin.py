"""The maintenance rules each side of a perpetual is held to (pure).

Usually both sides are held to the venue's tiers. BitMEX adds the funding rate a position pays to
its maintenance margin: a support reply relayed in 2020 gives XBTUSD's ``maintMargin = 0.50 % +
exit taker fee + funding rate`` (exchange_mechanics.md §2.2 [3p], §3.2 [uncertain]; the poster
disputes the sign for shorts). With ``funding.rule.in_maintenance_margin`` the latest fixed
funding rate ``F`` is added to the maintenance rate of the side that pays it: ``max(F, 0)`` to
longs, ``max(-F, 0)`` to shorts, the receiving side unchanged (*assumption*: a receipt never
lowers MM). The added rate is capped so that every tier's maintenance rate stays below its
initial rate (*assumption*: the venue's caps keep it there; the cap only stops an absurd
configured rate from making a position liquidatable at entry).

:class:`SideMargin` is immutable: a change of tiers or of the funding rate builds a new one, so
its identity tells a cache (the ADL queue) that the margin rules changed. ``tiers[side]``,
``liquidation[side]`` and ``call[side]`` index with the side itself: ``1`` for longs, ``-1``
for shorts (three-element tuples whose element 0 is the venue's own tiers or level).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from exchange_sim.accounts.triggers import TriggerLevel
from exchange_sim.core.units import RATE_SCALE


def funding_added_rates_ppb(funding_rate_ppb: int) -> tuple[int, int]:
    """``(added to longs, added to shorts)``: the rate each side pays, or 0 if it receives."""
    return max(funding_rate_ppb, 0), max(-funding_rate_ppb, 0)


def with_rate_added_below_initial(tiers, added_ppb: int):
    """``tiers`` with ``added_ppb`` added to every maintenance rate, or the largest added rate that
    keeps every tier's maintenance rate below its initial rate."""
    try:
        return tiers.with_maintenance_rate_added(added_ppb)
    except ValueError:
        low, high = 0, added_ppb - 1
        while low < high:
            middle = (low + high + 1) // 2
            try:
                tiers.with_maintenance_rate_added(middle)
            except ValueError:
                high = middle - 1
            else:
                low = middle
        return tiers.with_maintenance_rate_added(low)


class SideMargin:
    """Per side: the tiers, the liquidation trigger level and the margin-call level."""

    __slots__ = ("call", "funding_rate_ppb", "liquidation", "tiers")

    def __init__(
        self, tiers, call_factor_ppb: int, on_entry: bool, funding_rate_ppb: int = 0
    ) -> None:
        self.funding_rate_ppb = funding_rate_ppb

        def rules(side_tiers) -> tuple:
            return (
                side_tiers,
                TriggerLevel(side_tiers, RATE_SCALE, on_entry),
                TriggerLevel(side_tiers, call_factor_ppb, on_entry),
            )

        venue = rules(tiers)
        long, short = (
            rules(with_rate_added_below_initial(tiers, added)) if added else venue
            for added in funding_added_rates_ppb(funding_rate_ppb)
        )
        self.tiers, self.liquidation, self.call = zip(venue, long, short, strict=True)


class MarginRules:
    """The ledger's margin-rule changes (a mixin of :class:`~exchange_sim.accounts.ledger.Ledger`):
    new tiers, and the funding term."""

    __slots__ = ()

    if TYPE_CHECKING:  # what the mixin reads of the ledger it is mixed into
        accounts: dict[int, Any]
        tiers: Any
        margin: Any  # a SideMargin
        margin_call_factor_ppb: int
        maintenance_on_entry: bool

        def refresh(self, now: int, account: Any, cause: int | None) -> None: ...

    def set_tiers(self, now: int, tiers, cause: int | None) -> None:
        """New margin tiers from now on (an intervention): every position's trigger prices are
        recomputed and the change listeners told (O(accounts), once)."""
        self.tiers = tiers
        self._set_margin(now, self.margin.funding_rate_ppb, cause)

    def set_funding_maintenance(self, now: int, funding_rate_ppb: int, cause: int) -> None:
        """The funding rate just fixed is added to the maintenance rate of the side paying it
        (BitMEX, :mod:`exchange_sim.accounts.side_margin`); when that changes either side's
        added rate, every position is re-priced and the listeners told, caused by ``cause``
        (the ``funding_rate`` event)."""
        if funding_added_rates_ppb(funding_rate_ppb) != funding_added_rates_ppb(
            self.margin.funding_rate_ppb
        ):
            self._set_margin(now, funding_rate_ppb, cause)

    def _set_margin(self, now: int, funding_rate_ppb: int, cause: int | None) -> None:
        self.margin = SideMargin(
            self.tiers, self.margin_call_factor_ppb, self.maintenance_on_entry, funding_rate_ppb
        )
        for account in self.accounts.values():
            if account.size_lots:
                self.refresh(now, account, cause)
