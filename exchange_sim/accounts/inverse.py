"""Inverse (coin-margined) perpetuals (pure): value, PnL, cost basis, margin, liquidation and
bankruptcy prices in the ``1/P`` form. An inverse contract (BitMEX XBTUSD, Bybit BTCUSD, Binance
COIN-M; exchange_mechanics.md §3.1-§3.3) is sized in contracts of a fixed *quote* value (1 USD for
XBTUSD) and is margined and settled in the *base* asset (XBT, minor unit the satoshi). Its value
falls as the price rises: ``value = contracts x contract_value / price``, and a long's ``PnL =
contracts x contract_value x (1/entry - 1/exit)`` (§3.2).

Units: price in ticks, size in lots (contracts), money in minor units of the base asset, rates in
ppb. ``money_ticks_per_lot`` (``k``) is the value of one lot at a price of one tick: at ``P``
ticks ``Q`` lots are worth ``Q k / P`` (the inverse twin of ``Scale.money_per_tick_lot``, see
:func:`money_ticks_per_lot`). ``side`` is ``+1`` (long, or a buy) or ``-1`` (short, or a sell).

Rounding, always in the exchange's favour (:func:`~exchange_sim.core.rounding.div_round`):

* **A fill's value**: a buy's value rounds DOWN, a sell's UP. A long is opened by a buy and closed
  by a sell, so ``PnL = entry_value - exit_value`` rounds down; a short the other way round. Across
  the two sides of one trade the seller's value exceeds the buyer's by at most one minor unit,
  which is the exchange's (a ledger moving money must book it, e.g. to fees collected).
* **A position's value at a price** (mark to market, and the basis of its margin) is the value of
  the fill that would close it: a long's UP, a short's DOWN. Equity and maintenance margin are
  both functions of this one integer, so the liquidation and bankruptcy prices below are exact
  for the integer equity and MM (for a short, MM on a value up to one minor unit below the exact
  one: at most one minor unit less MM; *assumption*, traded for an exact trigger).
* **Cost basis**: the position keeps ``entry_value``, the exact sum of its opening fills' values
  (the harmonic mean is the average entry price). A reduction removes the proportional share,
  rounded so that realised PnL rounds down (DOWN for a long, UP for a short). A fill is valued
  once: when it flips the position, the opening part gets the fill's value less the closing
  part's, so each trade's residue is exactly :func:`trade_residue`.
* **Margins** round UP; **prices**: a long's liquidation and bankruptcy prices UP, a short's DOWN.

``None`` from a price function means no positive price solves it, and its meaning is the mirror
of the linear module's: a long's value grows without bound as the price falls, so a long can
always be liquidated, and ``None`` means it *already* is at every price; a short's loss is
bounded by its entry value, so ``None`` means *never*.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from exchange_sim.accounts.margin import StepRiskLimit
from exchange_sim.core.errors import UnitError
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE

LONG = 1
SHORT = -1


def money_ticks_per_lot(
    contract_value: Decimal, tick_size: Decimal, money_decimals: int, key: str
) -> int:
    """``k = contract_value x 10**money_decimals / tick_size``: the base-asset value, in minor
    units, of one lot at a price of one tick; an exact integer or a :class:`UnitError`.

    XBTUSD (1 USD contracts, tick 0.5 USD, satoshis) gives ``2 x 10**8``.
    """
    value_num, value_den = contract_value.as_integer_ratio()
    tick_num, tick_den = tick_size.as_integer_ratio()
    k, remainder = divmod(value_num * tick_den * 10**money_decimals, value_den * tick_num)
    if remainder or k <= 0:
        raise UnitError(
            key,
            f"contract value {contract_value} / tick {tick_size}",
            f"one lot at one tick must be a whole number of money minor units "
            f"(10^-{money_decimals}); raise money_decimals or change tick/contract value",
        )
    return k


def fill_value(side: int, size_lots: int, price_ticks: int, k: int) -> int:
    """Base-asset value of a fill of ``size_lots`` at ``price_ticks``: ``Q k / P``, a buy's
    rounded DOWN and a sell's UP (module docstring)."""
    return div_round(abs(size_lots) * k, price_ticks, DOWN if side > 0 else UP)


def trade_residue(size_lots: int, price_ticks: int, k: int) -> int:
    """What one trade leaves the exchange: the seller's value less the buyer's, 0 or 1 minor
    unit (``ceil - floor`` of ``Q k / P``). A ledger books it (as the linear ledger's funding
    residue) so that money is conserved exactly."""
    qk = abs(size_lots) * k
    return div_round(qk, price_ticks, UP) - div_round(qk, price_ticks, DOWN)


def position_value(side: int, size_lots: int, price_ticks: int, k: int) -> int:
    """The position's value at a price: the value of the fill that would close it (a long's
    rounded UP, a short's DOWN). Margin is taken on it."""
    return fill_value(-side, size_lots, price_ticks, k)


def unrealized_pnl(side: int, size_lots: int, entry_value: int, price_ticks: int, k: int) -> int:
    """``Q c (1/EP - 1/P)`` for a long, the negative for a short (exchange_mechanics.md §3.2):
    ``side x (entry_value - position_value)``, rounded down for the trader."""
    return side * (entry_value - position_value(side, size_lots, price_ticks, k))


@attrs.frozen
class InversePosition:
    """A signed size and its cost basis ``entry_value`` (base-asset minor units, the sum of the
    opening fills' values); the average entry price is their harmonic mean."""

    size_lots: int = 0
    entry_value: int = 0

    @property
    def signed_entry_value(self) -> int:
        """``side x entry_value``: the position's part of its account's value at any common
        price. A long is worth ``entry_value - V(P)`` and a short ``V(P) - entry_value``; with
        equal long and short open interest the exact ``V(P)`` terms cancel, so ``Σ (collateral
        + signed_entry_value)`` plus the trade residues is conserved (the inverse twin of the
        linear ledger's ``Σ (wallet + isolated_margin - signed_entry_notional)``)."""
        return self.entry_value if self.size_lots >= 0 else -self.entry_value

    def average_entry_price(self, k: int) -> int | None:
        """``|Q| k / entry_value`` in ticks (a long's rounded UP, a short's DOWN: the worse
        side for the holder); ``None`` when flat."""
        if not self.size_lots:
            return None
        return div_round(
            abs(self.size_lots) * k, self.entry_value, UP if self.size_lots > 0 else DOWN
        )

    def apply_fill(self, signed_lots: int, price_ticks: int, k: int) -> tuple[InversePosition, int]:
        """The position after a fill of ``signed_lots`` (buy > 0) at ``price_ticks``, and the
        realised PnL of the part that closed (0 if none).

        The fill is valued once (:func:`fill_value`); a flip's closing part is valued as its own
        fill and the opening part gets the rest, so the account's ``collateral +
        signed_entry_value`` moves by exactly the fill's value however the fill splits."""
        size, basis = self.size_lots, self.entry_value
        if signed_lots == 0:
            return self, 0
        fill_side = 1 if signed_lots > 0 else -1
        total = fill_value(fill_side, signed_lots, price_ticks, k)
        if size == 0 or (size > 0) == (fill_side > 0):
            return InversePosition(size + signed_lots, basis + total), 0
        held = abs(size)
        closed = min(abs(signed_lots), held)
        if closed == held:
            removed = basis
        else:
            removed = div_round(basis * closed, held, DOWN if size > 0 else UP)
        exit_value = (
            total if closed == abs(signed_lots) else fill_value(fill_side, closed, price_ticks, k)
        )
        pnl = -fill_side * (removed - exit_value)
        opened = total - exit_value
        return InversePosition(size + signed_lots, basis - removed + opened), pnl


def funding_payment(side: int, size_lots: int, price_ticks: int, k: int, rate_ppb: int) -> int:
    """What the position pays at a funding settlement (negative: receives), in base-asset minor
    units: ``value at mark x F`` (§6.3, W21), longs pay when ``F > 0``. One rounding of the
    exact ``Q k F / P``: a payment UP, a receipt DOWN."""
    owed = side * rate_ppb
    if owed >= 0:
        return div_round(abs(size_lots) * k * owed, price_ticks * RATE_SCALE, UP)
    return -div_round(abs(size_lots) * k * -owed, price_ticks * RATE_SCALE, DOWN)


# --- margin ---------------------------------------------------------------------------------------


@attrs.frozen
class InverseMaintenance:
    """Maintenance margin on the position's base-asset value: ``MM = value x (rate + extra)``,
    rounded UP. ``rate`` is flat (``base_rate_ppb``, e.g. Bybit's old inverse 0.5 %, §2.3) or the
    BitMEX step risk limit's (``step``, limits in base-asset minor units, §2.2; the whole position
    at the stepped rate). ``extra_rate_ppb`` adds BitMEX's exit taker fee and funding terms
    (:meth:`bitmex`)."""

    base_rate_ppb: int = 0
    extra_rate_ppb: int = 0
    step: StepRiskLimit | None = None

    def __attrs_post_init__(self) -> None:
        top = self.base_rate_ppb if self.step is None else self.step.base_mm_ppb
        if top < 0 or self.extra_rate_ppb < 0 or top + self.extra_rate_ppb >= RATE_SCALE:
            raise ValueError("maintenance rates must be >= 0 and below 100 %")

    @classmethod
    def bitmex(
        cls, step: StepRiskLimit, taker_fee_ppb: int, funding_rate_ppb: int, side: int
    ) -> InverseMaintenance:
        """BitMEX XBTUSD as a BitMEX reply relays it (§2.2, §3.2, *uncertain*): ``MM% = step
        rate + exit taker fee + funding rate``. The funding term counts only when the position
        pays it (``side x F > 0``); a receipt does not lower MM (*assumption*: the source's
        poster disputes the sign for shorts)."""
        funding = side * funding_rate_ppb
        return cls(extra_rate_ppb=taker_fee_ppb + (funding if funding > 0 else 0), step=step)

    def tier_index(self, value: int) -> int:
        return 0 if self.step is None else self.step.tier_index(value)

    def rate_ppb(self, tier: int) -> int:
        """The total MM rate of ``tier`` (step or flat, plus extra)."""
        base = self.base_rate_ppb if self.step is None else self.step.base_mm_ppb * (1 + tier)
        return base + self.extra_rate_ppb

    def tier_floor(self, tier: int) -> int:
        """The lowest value of ``tier`` (inclusive)."""
        if tier == 0 or self.step is None:
            return 0
        return self.step.base_risk_limit + (tier - 1) * self.step.step

    def tier_cap(self, tier: int) -> int | None:
        """The value where ``tier`` ends (exclusive); ``None``: unbounded."""
        if self.step is None:
            return None
        return self.step.base_risk_limit + tier * self.step.step

    def margin(self, value: int) -> int:
        """MM of a position worth ``value`` (base-asset minor units), rounded UP."""
        return div_round(value * self.rate_ppb(self.tier_index(value)), RATE_SCALE, UP)


def initial_margin(
    value: int, leverage: int, step: StepRiskLimit | None = None, taker_fee_ppb: int = 0
) -> int:
    """IM of a position worth ``value``: ``value / leverage`` (with a step risk limit, at least
    ``value x IM%``, §2.2), plus BitMEX's entry and exit taker fee ``2 x fee x value`` (§3.2,
    *uncertain*), one rounding UP per branch, the larger taken."""
    fees = 2 * taker_fee_ppb
    by_leverage = div_round(value * (RATE_SCALE + fees * leverage), leverage * RATE_SCALE, UP)
    if step is None:
        return by_leverage
    by_rate = div_round(value * (step.initial_rate_ppb(value) + fees), RATE_SCALE, UP)
    return by_leverage if by_leverage > by_rate else by_rate


# --- liquidation and bankruptcy prices ------------------------------------------------------------


def _long_max_value(budget: int, maintenance: InverseMaintenance) -> int:
    """The largest value ``V`` with ``budget - V >= MM(V)``; ``budget`` = margin + entry value.

    ``budget - V - MM(V)`` falls as ``V`` grows (MM never falls with value), so the tiers are
    walked upward until the tier's own root lies inside it or below it (a step's jump in MM)."""
    tier = 0
    while True:
        rate = maintenance.rate_ppb(tier)
        root = div_round(RATE_SCALE * budget, RATE_SCALE + rate, DOWN)
        floor, cap = maintenance.tier_floor(tier), maintenance.tier_cap(tier)
        if root < floor:
            return floor - 1
        if cap is None or root < cap:
            return root
        tier += 1


def _short_min_value(deficit: int, maintenance: InverseMaintenance, value_ref: int | None) -> int:
    """The smallest ``V`` with ``V - deficit >= MM(V)`` for every value from it up to
    ``value_ref``; ``deficit`` = entry value - margin. Within a tier the condition is monotone;
    a step's MM jumps up with value, so the tiers are walked down from the reference's (at most
    its step count: with BitMEX's rates, MM reaches 100 % within ``1 / base MM`` steps, and a
    step at 100 % or more is refused as beyond any risk-limit table)."""
    if maintenance.step is None:
        return div_round(RATE_SCALE * deficit, RATE_SCALE - maintenance.rate_ppb(0), UP)
    if value_ref is None:
        raise ValueError("a short under a step risk limit needs its reference price")
    tier, top = maintenance.tier_index(value_ref), value_ref
    while True:
        rate = maintenance.rate_ppb(tier)
        if rate >= RATE_SCALE:
            raise ValueError(f"maintenance rate reaches 100 % in step {tier}: beyond the table")
        root = div_round(RATE_SCALE * deficit, RATE_SCALE - rate, UP)
        if root > top:
            return top + 1
        floor = maintenance.tier_floor(tier)
        if root > floor or tier == 0:
            return root
        tier, top = tier - 1, floor - 1


def liquidation_price(
    *,
    side: int,
    size_lots: int,
    entry_value: int,
    margin_balance: int,
    k: int,
    maintenance: InverseMaintenance,
    reference_price_ticks: int | None = None,
) -> int | None:
    """The isolated liquidation price: where ``margin + uPnL(P) = MM(value at P)`` (§3.2, §3.3).

    With ``V(P)`` the position's value (:func:`position_value`): long ``margin + entry - V >=
    MM(V)`` holds for ``V <= V_max`` and ``LP = ceil(Q k / V_max)``: the equity covers MM at ``LP``
    and not one tick below. Short ``margin - entry + V >= MM(V)`` for ``V >= V_min`` and ``LP =
    floor(Q k / V_min)``, covered at ``LP`` and not one tick above. In closed form, one tier of
    rate ``r``: long ``LP = (1 + r) Q k / (margin + entry)``, short ``LP = (1 - r) Q k / (entry -
    margin)``.

    A short under a step risk limit: a rising price *lowers* its value and so may drop it into a
    lower step (less MM), so the equity-MM gap is not monotone; the result is the first crossing
    above ``reference_price_ticks`` (the current mark; required then), found by walking the steps
    down and stepping over any price beyond a crossing that is safe again. A short already below
    MM at the reference gets a price below it. (A *falling* price can raise a short into a higher
    step: see :func:`short_step_up_price`.) ``None``: see the module docstring.
    """
    qk = abs(size_lots) * k
    if side > 0:
        v_max = _long_max_value(margin_balance + entry_value, maintenance)
        return div_round(qk, v_max, UP) if v_max >= 1 else None
    value_ref = None
    if reference_price_ticks is not None:
        value_ref = position_value(SHORT, size_lots, reference_price_ticks, k)
    while True:
        v_min = _short_min_value(entry_value - margin_balance, maintenance, value_ref)
        if v_min < 1:
            return None
        price = div_round(qk, v_min, DOWN)
        beyond = position_value(SHORT, size_lots, price + 1, k)
        if maintenance.step is None or margin_balance - entry_value + beyond < maintenance.margin(
            beyond
        ):
            return price
        value_ref = beyond


def short_step_up_price(
    size_lots: int, k: int, maintenance: InverseMaintenance, price_ticks: int
) -> int | None:
    """The highest price at which a short's value reaches the next step above its step at
    ``price_ticks`` (its MM jumps up on a *falling* price there); ``None`` without steps."""
    if maintenance.step is None:
        return None
    value = position_value(SHORT, size_lots, price_ticks, k)
    cap = maintenance.tier_cap(maintenance.tier_index(value))
    return div_round(abs(size_lots) * k, cap, DOWN) if cap else None


def bankruptcy_price(
    *,
    side: int,
    size_lots: int,
    entry_value: int,
    margin_balance: int,
    k: int,
    increment_ticks: int = 1,
) -> int | None:
    """The price at which the position's margin is exactly used up (§3.2, §3.3), on a grid of
    ``increment_ticks`` (Bybit: 0.5 USD, W9).

    Long: the lowest grid price with ``V(P) <= margin + entry``, ``ceil(Q k / ((margin + entry)
    x inc)) x inc`` (for Bybit's isolated ``margin = entry / L`` this is ``EP x L / (L + 1)``
    rounded up). Short: the highest with ``V(P) >= entry - margin``, rounded down (``EP x L / (L
    - 1)``). Closing there leaves equity >= 0. A short's 0: bankrupt at every grid price.
    """
    qk = abs(size_lots) * k
    if side > 0:
        budget = margin_balance + entry_value
        return div_round(qk, budget * increment_ticks, UP) * increment_ticks if budget > 0 else None
    deficit = entry_value - margin_balance
    return div_round(qk, deficit * increment_ticks, DOWN) * increment_ticks if deficit > 0 else None


def bybit_isolated_liquidation_price(
    *,
    side: int,
    size_lots: int,
    entry_value: int,
    initial_margin: int,
    maintenance_margin: int,
    k: int,
    extra_margin: int = 0,
) -> int | None:
    """Bybit inverse isolated (exchange_mechanics.md §3.3, 2024-09 version): long ``LP = Qty /
    [PV + (IM - MM)]``, short ``LP = Qty / [PV - (IM - MM)]`` with ``PV = Qty / EP`` the entry
    value and MM taken on it (``PV x MMR - deduction``, fixed). Extra margin adds to ``IM``.
    Long UP, short DOWN; the 2026 fee terms are not modelled."""
    qk = abs(size_lots) * k
    cushion = initial_margin + extra_margin - maintenance_margin
    if side > 0:
        value = entry_value + cushion
        return div_round(qk, value, UP) if value > 0 else None
    value = entry_value - cushion
    return div_round(qk, value, DOWN) if value > 0 else None


def bitmex_liquidation_price(
    *,
    side: int,
    entry_price_ticks: int,
    leverage: int,
    taker_fee_ppb: int,
    maintenance_rate_ppb: int,
    funding_rate_ppb: int,
) -> int:
    """BitMEX XBTUSD isolated, as a BitMEX support reply relayed it (§3.2, *uncertain*):
    ``initMargin = 1/L + 2 x taker fee``, ``maintMargin = MMR + taker fee + funding rate``; long
    ``LP = EP / (1 + initMargin - maintMargin)``, short ``LP = EP / (1 - initMargin +
    maintMargin)``. The funding rate enters with its sign on both sides, as relayed (the poster
    disputes this for shorts). Exact in ppb and ``L``; long UP, short DOWN."""
    s, lev = RATE_SCALE, leverage
    cushion = s + lev * (taker_fee_ppb - maintenance_rate_ppb - funding_rate_ppb)
    if side > 0:
        return div_round(entry_price_ticks * s * lev, s * lev + cushion, UP)
    return div_round(entry_price_ticks * s * lev, s * lev - cushion, DOWN)
