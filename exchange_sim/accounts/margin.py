"""Margin tiers (pure): maintenance and initial margin of one position as a function of notional.

Units: ``notional`` is money minor units (``Scale.notional(price_ticks, size_lots)``), rates are
parts per billion, leverage is a whole multiple. Every result that a trader owes (maintenance and
initial margin) is rounded **up** with :func:`~exchange_sim.core.rounding.div_round`; a deduction
(which lowers what the trader owes) is rounded **down**. Internally the piecewise-linear models keep
their rates and deductions as exact integer numerators over one common ``denominator``, so
``maintenance_margin`` is a single exact rounding of an exact rational.

The protocol every model implements (called by the accounts ledger and the liquidation engine)::

    maintenance_margin(notional) -> int       # MM, money, rounded UP
    scaled_maintenance_margin(notional, factor_ppb) -> int  # factor x exact MM, rounded UP once
    maintenance_rate_ppb(notional) -> int     # the tier's MM rate (rounded UP if not whole ppb)
    maintenance_deduction(notional) -> int    # "cum" / deduction of the tier, rounded DOWN
    initial_margin(notional, leverage) -> int # IM, rounded UP; leverage capped at the tier's max
    max_leverage(notional) -> int
    tier_index(notional) -> int               # 0-based
    maintenance_rate_added_ppb: int           # a rate in every MM rate above (0: none)

Tier selection: a tier applies from its lower bound (inclusive) to the next tier's lower bound
(exclusive); a notional beyond the last bracket's cap stays in the last bracket. Because the
deduction models keep MM continuous, the choice at a boundary only affects the leverage cap.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

import attrs

from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE


class MarginTiers(Protocol):
    """What the ledger and the liquidation engine call; see the module docstring for units."""

    def maintenance_margin(self, notional: int) -> int: ...
    def scaled_maintenance_margin(self, notional: int, factor_ppb: int) -> int: ...
    def maintenance_rate_ppb(self, notional: int) -> int: ...
    def maintenance_deduction(self, notional: int) -> int: ...
    def initial_margin(self, notional: int, leverage: int) -> int: ...
    def max_leverage(self, notional: int) -> int: ...
    def tier_index(self, notional: int) -> int: ...

    maintenance_rate_added_ppb: int


@attrs.frozen
class _LinearTiers:
    """Continuous piecewise-linear MM: ``MM = (notional * rate_num - deduction_num) / denominator``.

    With rates non-decreasing across tiers and the deduction recurrence, MM is continuous and
    convex in notional, equal to the maximum of the tiers' lines; the liquidation-price functions
    rely on that (see :func:`maintenance_lines`).
    """

    floors: tuple[int, ...]
    max_leverages: tuple[int, ...]
    rate_nums: tuple[int, ...]
    deduction_nums: tuple[int, ...]
    denominator: int
    maintenance_rate_added_ppb: int = attrs.field(default=0, kw_only=True)
    """The rate :meth:`with_maintenance_rate_added` put into every line (0: none), ppb."""

    def tier_index(self, notional: int) -> int:
        index = bisect_right(self.floors, notional) - 1
        return index if index > 0 else 0

    def maintenance_margin(self, notional: int) -> int:
        i = self.tier_index(notional)
        return div_round(
            notional * self.rate_nums[i] - self.deduction_nums[i], self.denominator, UP
        )

    def scaled_maintenance_margin(self, notional: int, factor_ppb: int) -> int:
        """``factor x MM`` from the exact MM, rounded UP once (a margin-call level)."""
        i = self.tier_index(notional)
        return div_round(
            (notional * self.rate_nums[i] - self.deduction_nums[i]) * factor_ppb,
            self.denominator * RATE_SCALE,
            UP,
        )

    def maintenance_rate_ppb(self, notional: int) -> int:
        i = self.tier_index(notional)
        return div_round(self.rate_nums[i] * RATE_SCALE, self.denominator, UP)

    def maintenance_deduction(self, notional: int) -> int:
        return div_round(self.deduction_nums[self.tier_index(notional)], self.denominator, DOWN)

    def max_leverage(self, notional: int) -> int:
        return self.max_leverages[self.tier_index(notional)]

    def initial_margin(self, notional: int, leverage: int) -> int:
        cap = self.max_leverages[self.tier_index(notional)]
        return div_round(notional, leverage if leverage < cap else cap, UP)

    def maintenance_lines(self) -> tuple[tuple[int, int], ...]:
        """Each tier's ``(rate_num, deduction_num)`` over :attr:`denominator`, lowest tier first."""
        return tuple(zip(self.rate_nums, self.deduction_nums, strict=True))

    def with_maintenance_scaled(self, factor_ppb: int):
        """The same tiers with every maintenance rate and deduction times ``factor`` (exact:
        the factor goes into the numerators and ``RATE_SCALE`` into the denominator); initial
        margin and leverage caps unchanged. A venue raising margins under stress."""
        return attrs.evolve(
            self,
            rate_nums=tuple(r * factor_ppb for r in self.rate_nums),
            deduction_nums=tuple(d * factor_ppb for d in self.deduction_nums),
            denominator=self.denominator * RATE_SCALE,
            maintenance_rate_added_ppb=div_round(
                self.maintenance_rate_added_ppb * factor_ppb, RATE_SCALE, UP
            ),
        )

    def with_maintenance_rate_added(self, added_ppb: int):
        """The same tiers with ``added`` (a rate of notional) added to every maintenance rate,
        the deductions unchanged, so MM stays continuous and convex: ``MM' = MM + added x
        notional``. Exact (the rates become numerators over ``denominator x RATE_SCALE``);
        initial margin and leverage caps unchanged. OKX's trigger at ``MMR + liquidation fee
        rate`` (exchange_mechanics.md §2.4, §3.4), BitMEX's exit taker fee in MM (§2.2, §3.2).
        Raises ``ValueError`` when a tier's maintenance rate would reach its initial rate."""
        if added_ppb < 0:
            raise ValueError(f"the added maintenance rate must be >= 0 (got {added_ppb} ppb)")
        if added_ppb == 0:
            return self
        denominator = self.denominator
        for n, (rate, lev) in enumerate(zip(self.rate_nums, self.max_leverages, strict=True)):
            if (rate * RATE_SCALE + added_ppb * denominator) * lev >= denominator * RATE_SCALE:
                raise ValueError(
                    f"tier {n + 1}: maintenance rate plus the added {added_ppb} ppb reaches the "
                    f"initial rate 1/{lev}"
                )
        return attrs.evolve(
            self,
            rate_nums=tuple(r * RATE_SCALE + added_ppb * denominator for r in self.rate_nums),
            deduction_nums=tuple(d * RATE_SCALE for d in self.deduction_nums),
            denominator=denominator * RATE_SCALE,
            maintenance_rate_added_ppb=self.maintenance_rate_added_ppb + added_ppb,
        )


@attrs.frozen
class BracketTiers(_LinearTiers):
    """Binance USDⓈ-M leverage brackets (exchange_mechanics.md §2.1, W4).

    ``MM = notional x MMR(bracket) - cum(bracket)`` with the maintenance amount ``cum`` from the
    recurrence ``cum_n = floor_n x (MMR_n - MMR_{n-1}) + cum_{n-1}``, ``cum_1 = 0``. The recurrence
    is kept exact: ``deduction_nums`` are ``cum`` in money minor units times ``RATE_SCALE``.
    """

    caps: tuple[int, ...]

    @classmethod
    def from_brackets(cls, brackets: Sequence[Sequence[int | None]]) -> BracketTiers:
        """Rows ``(notional_floor, notional_cap, max_leverage, mmr_ppb[, cum])``, money in minor
        units; ``cum`` (``None`` or absent = compute) is checked against the recurrence."""
        if not brackets:
            raise ValueError("at least one bracket is required")
        floors: list[int] = []
        caps: list[int] = []
        levs: list[int] = []
        rates: list[int] = []
        deds: list[int] = []
        for n, row in enumerate(brackets):
            floor, cap, lev, mmr = (int(v) for v in row[:4])  # type: ignore[arg-type]
            given = row[4] if len(row) > 4 else None
            expected_floor = caps[-1] if caps else 0
            if floor != expected_floor:
                raise ValueError(f"bracket {n + 1}: floor {floor} must equal {expected_floor}")
            if cap <= floor:
                raise ValueError(f"bracket {n + 1}: cap {cap} must exceed floor {floor}")
            if lev < 1:
                raise ValueError(f"bracket {n + 1}: max leverage {lev} must be >= 1")
            if not mmr >= 0 or mmr * lev >= RATE_SCALE:
                raise ValueError(
                    f"bracket {n + 1}: maintenance rate {mmr} ppb must be >= 0 and below the "
                    f"initial rate 1/{lev}"
                )
            if rates and mmr < rates[-1]:
                raise ValueError(f"bracket {n + 1}: maintenance rate must not decrease")
            ded = deds[-1] + floor * (mmr - rates[-1]) if rates else 0
            if given is not None and int(given) * RATE_SCALE != ded:
                raise ValueError(
                    f"bracket {n + 1}: maintenance amount {given} does not satisfy the recurrence "
                    f"(expected {Decimal(ded) / RATE_SCALE})"
                )
            floors.append(floor)
            caps.append(cap)
            levs.append(lev)
            rates.append(mmr)
            deds.append(ded)
        return cls(tuple(floors), tuple(levs), tuple(rates), tuple(deds), RATE_SCALE, tuple(caps))

    @property
    def max_notional(self) -> int:
        """The last bracket's cap: the largest position notional the table allows."""
        return self.caps[-1]


@attrs.frozen
class DeductionTiers(_LinearTiers):
    """Hyperliquid margin tiers (exchange_mechanics.md §2.6).

    Each tier has a lower bound and a max leverage ``L``; ``MMR = 1 / (2 L)`` (half the initial
    margin at max leverage); ``deduction_0 = 0``, ``deduction_n = deduction_{n-1} + lower_bound_n x
    (MMR_n - MMR_{n-1})``; ``MM = notional x MMR - deduction``. ``1/(2L)`` is rarely a whole number
    of ppb (3x gives 16.67 %), so rates are exact fractions over ``denominator = 2 x lcm(L_i)``.
    """

    @classmethod
    def build(cls, tiers: Sequence[tuple[int, int]]) -> DeductionTiers:
        """Rows ``(lower_bound, max_leverage)``, lower bound in money minor units, first 0."""
        if not tiers:
            raise ValueError("at least one tier is required")
        bounds = [int(t[0]) for t in tiers]
        levs = [int(t[1]) for t in tiers]
        if bounds[0] != 0:
            raise ValueError(f"the first tier's lower bound must be 0 (got {bounds[0]})")
        for n in range(1, len(tiers)):
            if bounds[n] <= bounds[n - 1]:
                raise ValueError(f"tier {n + 1}: lower bounds must increase")
            if levs[n] > levs[n - 1]:
                raise ValueError(f"tier {n + 1}: max leverage must not increase")
        if min(levs) < 1:
            raise ValueError("max leverage must be >= 1")
        denominator = 2 * math.lcm(*levs)
        rates = [denominator // (2 * lev) for lev in levs]
        deds = [0]
        for n in range(1, len(tiers)):
            deds.append(deds[-1] + bounds[n] * (rates[n] - rates[n - 1]))
        return cls(tuple(bounds), tuple(levs), tuple(rates), tuple(deds), denominator)


@attrs.frozen
class StepRiskLimit:
    """BitMEX risk limits, the step model (exchange_mechanics.md §2.2).

    Below ``base_risk_limit`` the base rates apply; each ``step`` of notional above it (a partial
    step counts as one) adds one step: ``MM% = base_mm x (1 + steps)``,
    ``IM% = base_im + steps x base_mm``. The *whole* position takes the stepped rate: there is no
    deduction, so MM jumps at each step boundary. ``initial_margin`` is
    ``max(notional / leverage, notional x IM%)`` (BitMEX caps leverage at ``1 / IM%``, which is
    not always a whole number); ``max_leverage`` is ``1 / IM%`` rounded down.
    """

    base_risk_limit: int
    step: int
    base_mm_ppb: int
    base_im_ppb: int
    maintenance_rate_added_ppb: int = 0
    """Added to every step's maintenance rate (:meth:`with_maintenance_rate_added`), ppb."""

    @classmethod
    def build(
        cls, base_risk_limit: int, step: int, base_mm_ppb: int, base_im_ppb: int
    ) -> StepRiskLimit:
        if base_risk_limit <= 0 or step <= 0:
            raise ValueError("base risk limit and step must be positive")
        if not 0 < base_mm_ppb < base_im_ppb <= RATE_SCALE:
            raise ValueError("need 0 < base maintenance rate < base initial rate <= 1")
        return cls(base_risk_limit, step, base_mm_ppb, base_im_ppb)

    def tier_index(self, notional: int) -> int:
        if notional < self.base_risk_limit:
            return 0
        return div_round(notional - self.base_risk_limit, self.step, DOWN) + 1

    def maintenance_rate_ppb(self, notional: int) -> int:
        return self.base_mm_ppb * (1 + self.tier_index(notional)) + self.maintenance_rate_added_ppb

    def step_maintenance_rate_ppb(self, tier: int) -> int:
        """MM rate of step ``tier``: ``base_mm x (1 + tier)`` plus any added rate."""
        return self.base_mm_ppb * (1 + tier) + self.maintenance_rate_added_ppb

    def initial_rate_ppb(self, notional: int) -> int:
        return self.base_im_ppb + self.tier_index(notional) * self.base_mm_ppb

    def maintenance_margin(self, notional: int) -> int:
        return div_round(notional * self.maintenance_rate_ppb(notional), RATE_SCALE, UP)

    def scaled_maintenance_margin(self, notional: int, factor_ppb: int) -> int:
        """``factor x MM`` from the exact MM, rounded UP once (a margin-call level)."""
        rate = self.maintenance_rate_ppb(notional)
        return div_round(notional * rate * factor_ppb, RATE_SCALE * RATE_SCALE, UP)

    def maintenance_deduction(self, notional: int) -> int:
        return 0

    def with_maintenance_scaled(self, factor_ppb: int) -> StepRiskLimit:
        """The base maintenance rate (and any added rate) times ``factor`` (rounded UP: a rate
        the trader owes)."""
        rate = div_round(self.base_mm_ppb * factor_ppb, RATE_SCALE, UP)
        added = div_round(self.maintenance_rate_added_ppb * factor_ppb, RATE_SCALE, UP)
        return attrs.evolve(self, base_mm_ppb=max(rate, 1), maintenance_rate_added_ppb=added)

    def with_maintenance_rate_added(self, added_ppb: int) -> StepRiskLimit:
        """``added`` (a rate of notional) added to every step's maintenance rate; the IM rates
        unchanged (BitMEX §2.2, §3.2: MM includes the exit taker fee). Raises ``ValueError`` when
        the base maintenance rate plus ``added`` reaches the base initial rate (then every step
        would: both rise by ``base_mm`` per step)."""
        if added_ppb < 0:
            raise ValueError(f"the added maintenance rate must be >= 0 (got {added_ppb} ppb)")
        if added_ppb == 0:
            return self
        added = self.maintenance_rate_added_ppb + added_ppb
        if self.base_mm_ppb + added >= self.base_im_ppb:
            raise ValueError(
                f"base maintenance rate {self.base_mm_ppb} ppb plus the added {added} ppb reaches "
                f"the base initial rate {self.base_im_ppb} ppb"
            )
        return attrs.evolve(self, maintenance_rate_added_ppb=added)

    def max_leverage(self, notional: int) -> int:
        return max(1, div_round(RATE_SCALE, self.initial_rate_ppb(notional), DOWN))

    def initial_margin(self, notional: int, leverage: int) -> int:
        by_leverage = div_round(notional, leverage, UP)
        by_rate = div_round(notional * self.initial_rate_ppb(notional), RATE_SCALE, UP)
        return by_leverage if by_leverage > by_rate else by_rate


def binance_maintenance_amount(
    floor: int, mmr_ppb: int, prev_mmr_ppb: int, prev_amount: int
) -> int:
    """One step of Binance's maintenance-amount recurrence (§2.1, W4), in money minor units.

    ``cum_n = floor_n x (MMR_n - MMR_{n-1}) + cum_{n-1}``; a fractional minor unit is rounded
    DOWN (a deduction lowers what the trader owes). Works for USDⓈ-M (USDT) and COIN-M (coin).
    """
    return div_round(floor * (mmr_ppb - prev_mmr_ppb), RATE_SCALE, DOWN) + prev_amount


# --- named default tables (decimal, in units of the settlement asset) --------------------------

BINANCE_BTCUSDT_ILLUSTRATIVE: tuple[tuple[str, str, int, str, str], ...] = (
    ("0", "50000", 125, "0.004", "0"),
    ("50000", "600000", 100, "0.005", "50"),
    ("600000", "3000000", 75, "0.0065", "950"),
    ("3000000", "12000000", 50, "0.01", "11450"),
    ("12000000", "70000000", 25, "0.02", "131450"),
    ("70000000", "100000000", 20, "0.025", "481450"),
    ("100000000", "230000000", 10, "0.05", "2981450"),
)
"""(floor, cap, max leverage, MMR, cum): the illustrative BTCUSDT table quoted in §2.1 [3p]. Its
cum values satisfy the recurrence; the max leverages (about ``1 / (2 MMR)``) are not in the source
and were chosen here."""

HYPERLIQUID_BTC: tuple[tuple[str, int], ...] = (("0", 40), ("150000000", 20))
"""(lower bound, max leverage): Hyperliquid mainnet BTC, §2.6 [doc]."""
HYPERLIQUID_ETH: tuple[tuple[str, int], ...] = (("0", 25), ("100000000", 15))
"""(lower bound, max leverage): Hyperliquid mainnet ETH, §2.6 [doc]."""

BITMEX_XBTUSD_2020: tuple[str, str, str, str] = ("200", "100", "0.004", "0.01")
"""(base risk limit, step, base MM rate, base IM rate): BitMEX XBTUSD 2020, §2.2 [doc-copy]. The
limits are in XBT there; here they are read in the settlement asset of the simulated contract."""

BRACKET_PRESETS = {"binance_btcusdt_illustrative": BINANCE_BTCUSDT_ILLUSTRATIVE}
DEDUCTION_PRESETS = {"hyperliquid_btc": HYPERLIQUID_BTC, "hyperliquid_eth": HYPERLIQUID_ETH}
STEP_PRESETS = {"bitmex_xbtusd_2020": BITMEX_XBTUSD_2020}
