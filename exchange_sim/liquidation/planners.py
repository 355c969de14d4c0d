"""Pure close-out planners: order sizes and prices of each liquidation policy, from ledger maths.

Units: prices ticks, sizes lots, money minor units, rates ppb; ``money_per_tick_lot`` is
``Scale.money_per_tick_lot`` (``m`` in formulas). ``side`` is the *position's* side (+1 long, -1
short); the closing order trades ``-side``. Nothing here touches the book or the log: the engine
calls these with the account as the ledger holds it and sends what they return.

Rounding (exchange's favour, :func:`~exchange_sim.core.rounding.div_round`): fees round UP; a
size that must restore compliance is searched exactly on the ledger's own arithmetic (so the
account *is* compliant at the returned size if the fill comes at the assumed price); a share of a
position to send rounds UP (at least one lot); dYdX's fillable price rounds toward the oracle (a
long's UP, a short's DOWN) so the order is never more aggressive than the formula allows.
"""

from __future__ import annotations

from exchange_sim.core.contract import InverseContract, Valuation
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE


def lots_value(price_ticks: int, lots: int, money_per_tick_lot, side: int = 1) -> int:
    """What ``lots`` of a ``side`` position are worth at ``price_ticks``: ``price x lots x m``,
    or an inverse contract's (``money_per_tick_lot`` is then its
    :class:`~exchange_sim.core.contract.InverseContract`) ``lots x k / price``."""
    if not isinstance(money_per_tick_lot, InverseContract):
        return price_ticks * lots * money_per_tick_lot
    return money_per_tick_lot.position_value(side, lots, price_ticks)


def fee_amount(price_ticks: int, lots: int, money_per_tick_lot, rate_ppb: int) -> int:
    """``price x lots x m x rate``, rounded UP (a fee is owed by the trader); an inverse
    contract's fee is on the value rounded UP (a long's)."""
    return div_round(lots_value(price_ticks, lots, money_per_tick_lot) * rate_ppb, RATE_SCALE, UP)


def share_lots(held_lots: int, fraction_ppb: int) -> int:
    """``ceil(held x fraction)``, at least 1 and at most ``held`` (a slice to send)."""
    lots = div_round(held_lots * fraction_ppb, RATE_SCALE, UP)
    return min(held_lots, max(1, lots))


def close_state(
    account, lots: int, price_ticks: int, fee: int, money_per_tick_lot: Valuation
) -> tuple[int, int, int]:
    """``(collateral, size_lots, entry_notional)`` after closing ``lots`` at ``price_ticks``.

    Mirrors :meth:`Ledger.apply_fill` exactly for a reducing fill: the basis removed rounds
    against the trader; cross collateral is the wallet less the fee; isolated collateral is the
    bucket after its proportional release (the fee is charged to the wallet, not the bucket).
    """
    size = account.size_lots
    held = size if size > 0 else -size
    entry = account.entry_notional
    inverse = isinstance(money_per_tick_lot, InverseContract)
    if lots >= held:
        lots, removed = held, entry
    else:
        removed = div_round(
            entry * lots,
            held,
            (UP if size > 0 else DOWN) if not inverse else (DOWN if size > 0 else UP),
        )
    if isinstance(money_per_tick_lot, InverseContract):
        # the closing fill's value (a sell's UP, a buy's DOWN); a long gains as it falls
        exit_value = money_per_tick_lot.fill_value(-1 if size > 0 else 1, lots, price_ticks)
        realised = removed - exit_value if size > 0 else exit_value - removed
    else:
        exit_notional = price_ticks * lots * money_per_tick_lot
        realised = exit_notional - removed if size > 0 else removed - exit_notional
    new_size = size - lots if size > 0 else size + lots
    if account.isolated:
        bucket = account.isolated_margin + realised
        if new_size == 0:
            released = bucket if bucket > 0 else 0
        else:
            released = div_round(bucket * lots, held, DOWN) if bucket > 0 else 0
        return bucket - released, new_size, entry - removed
    return account.wallet + realised - fee, new_size, entry - removed


def compliant_after_close(
    account,
    lots: int,
    price_ticks: int,
    mark_ticks: int,
    fee_ppb: int,
    tiers,
    money_per_tick_lot: Valuation,
    on_entry: bool = False,
) -> bool:
    """Whether the account passes maintenance at ``mark`` after closing ``lots`` at ``price``.

    ``equity >= MM`` on what is left (Binance §4.1 step 4: "margin-compliant after the order,
    realized losses and the liquidation fee"); a flat account passes. ``on_entry``: MM on the
    remaining entry value, as the ledger takes it under ``maintenance_basis = "entry"``.
    """
    fee = fee_amount(price_ticks, lots, money_per_tick_lot, fee_ppb)
    collateral, size, entry = close_state(account, lots, price_ticks, fee, money_per_tick_lot)
    if size == 0:
        return True
    held = size if size > 0 else -size
    side = 1 if size > 0 else -1
    value = lots_value(mark_ticks, held, money_per_tick_lot, side)
    if not isinstance(money_per_tick_lot, InverseContract):
        equity = collateral + side * value - side * entry
    else:  # inverse: a long gains as its value falls
        equity = collateral - side * value + side * entry
    return equity >= tiers.maintenance_margin(entry if on_entry else value)


def _first_true(lo: int, hi: int, predicate) -> int:
    """Smallest ``x`` in ``[lo, hi]`` with ``predicate(x)``, given ``predicate(hi)`` is true and
    the predicate is monotone (false then true) on the range."""
    while lo < hi:
        mid = (lo + hi) // 2
        if predicate(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def reduction_lots(
    account,
    mark_ticks: int,
    fill_price_ticks: int,
    fee_ppb: int,
    tiers,
    money_per_tick_lot: Valuation,
    on_entry: bool = False,
) -> int:
    """Binance §4.1 step 3: the lots one IOC must close to make the account compliant again.

    The smallest ``X`` in ``[1, Q]`` with :func:`compliant_after_close` at ``fill_price_ticks``
    (usually the mark), fees at ``fee_ppb`` (taker + liquidation fee) included. Returns ``Q``
    (the whole position) when no partial close is compliant, which is the usual case when the
    fee rate exceeds the maintenance rate (§4.1: small accounts "are already bankrupt when first
    entering liquidation").

    Exact search: the remaining notional ``(Q - X) x mark x m`` crosses the tier boundaries at
    known ``X``; between two boundaries equity and MM are both linear in ``X`` (up to the one-unit
    roundings), so each region is decided by its two ends and, when it rises, a binary search.
    The answer is re-checked on the ledger's arithmetic, so it is compliant, and minimal up to
    those roundings. With ``on_entry`` (MM on the entry value) the regions still follow the mark
    notional, so the answer is compliant but may close more than the minimum.
    """
    held = abs(account.size_lots)

    def ok(x: int) -> bool:
        return compliant_after_close(
            account, x, fill_price_ticks, mark_ticks, fee_ppb, tiers, money_per_tick_lot, on_entry
        )

    x = 1
    side = 1 if account.size_lots > 0 else -1
    while x < held:
        tier = tiers.tier_index(lots_value(mark_ticks, held - x, money_per_tick_lot, side))
        end = _last_in_tier(x, held - 1, tier, held, mark_ticks, money_per_tick_lot, tiers, side)
        if ok(x):
            return x
        if ok(end):
            found = _first_true(x, end, ok)
            while not ok(found):  # rounding noise: step to the next compliant size
                found += 1
            return found
        x = end + 1
    return held


def _last_in_tier(
    lo: int, hi: int, tier: int, held: int, mark: int, money_per_tick_lot, tiers, side: int = 1
) -> int:
    """Largest ``x`` in ``[lo, hi]`` whose remaining notional is still in ``tier`` (the tier of
    the remaining notional never rises as ``x`` grows)."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if tiers.tier_index(lots_value(mark, held - mid, money_per_tick_lot, side)) == tier:
            lo = mid
        else:
            hi = mid - 1
    return lo


def tier_reduction_lots(
    account, mark_ticks: int, tiers, money_per_tick_lot: Valuation, on_entry: bool = False
) -> int | None:
    """BitMEX §4.2 (c) / Bybit §4.3 (c): the lots a FillOrKill must close so the position value
    falls into the next lower risk tier; ``None`` in the lowest tier (straight to takeover).

    The position value is the one the tier is taken on: the notional at the mark, or with
    ``on_entry`` (Bybit USDT §2.3, ``PositionValue = size x EntryPrice``) the entry value, whose
    remainder after closing ``x`` lots is rounded as :meth:`Ledger.apply_fill` removes it.
    """
    size = account.size_lots
    held = abs(size)
    entry = account.entry_notional
    side = 1 if size > 0 else -1
    if on_entry:
        inverse = isinstance(money_per_tick_lot, InverseContract)
        removal = (UP if size > 0 else DOWN) if not inverse else (DOWN if size > 0 else UP)

        def value(x: int) -> int:
            if x >= held:
                return 0
            return entry - div_round(entry * x, held, removal)
    else:

        def value(x: int) -> int:
            return lots_value(mark_ticks, held - x, money_per_tick_lot, side)

    tier = tiers.tier_index(value(0))
    if tier == 0:
        return None
    return _first_true(1, held, lambda x: tiers.tier_index(value(x)) < tier)


def bankruptcy_limit(side: int, bankruptcy_price_ticks: int | None) -> int | None:
    """A closing order's limit at the bankruptcy price (never fills beyond it), or ``None``
    (market) when the position has no positive bankruptcy price."""
    if bankruptcy_price_ticks is None or bankruptcy_price_ticks < 1:
        return None
    return bankruptcy_price_ticks


# --- dYdX v4 (§4.5) --------------------------------------------------------------------------


def dydx_fillable_price(
    side: int,
    size_lots: int,
    oracle_ticks: int,
    position_mm: int,
    total_net_collateral: int,
    total_mm: int,
    bankruptcy_adjustment_ppb: int,
    spread_to_mm_ppb: int,
    money_per_tick_lot: int,
) -> int:
    """dYdX fillable price (§4.5 step 4): ``(PNNV - ABR x SMMR x PMMR) / PS``.

    ``ABR = clamp(BA x (1 - TNC/TMMR), 0, 1)``, ``PNNV = side x Q x oracle x m``, ``PS = side x
    Q``: a long is sold at ``oracle - ABR x SMMR x PMMR / (Q m)``, a short bought at ``oracle +
    ...`` (the signed formula flips by itself). Exact rational, rounded toward the oracle.
    """
    abr_num = bankruptcy_adjustment_ppb * (total_mm - total_net_collateral)
    abr_den = total_mm * RATE_SCALE
    if abr_num < 0:
        abr_num = 0
    elif abr_num > abr_den:
        abr_num = abr_den
    den = size_lots * money_per_tick_lot * abr_den * RATE_SCALE
    offset = abr_num * spread_to_mm_ppb * position_mm
    base = oracle_ticks * den
    if side > 0:
        price = div_round(base - offset, den, UP)
    else:
        price = div_round(base + offset, den, DOWN)
    return price if price >= 1 else 1


def dydx_slice_lots(
    held_lots: int,
    mark_ticks: int,
    limit_ticks: int,
    bankruptcy_price_ticks: int | None,
    side: int,
    money_per_tick_lot: int,
    config,
    fund_balance: int,
) -> int:
    """Lots of one dYdX liquidation round (§4.5 step 3 and the per-block limits).

    ``max(ceil(Q x portion), ceil(min_notional / price))`` capped by the position, by
    ``max_notional_per_interval`` (at the mark) and, when the limit price is beyond the
    bankruptcy price, by what the fund may lose: ``max_insurance_lost_per_interval`` and the
    fund's balance (worst case: every lot fills at the limit). dYdX rejects a fill that breaks
    those limits or that the fund cannot cover (§4.5 step 6); sizing the order to them is the
    same outcome without a rejected fill. Caps round DOWN; 0 means nothing may be sent (the
    position then goes to deleveraging, §4.5 step 7).
    """
    lots = div_round(held_lots * config.position_portion, RATE_SCALE, UP)
    lot_value = mark_ticks * money_per_tick_lot
    if config.min_position_notional:
        lots = max(lots, div_round(config.min_position_notional, lot_value, UP))
    lots = min(lots, held_lots)
    if config.max_notional_per_interval:
        lots = min(lots, div_round(config.max_notional_per_interval, lot_value, DOWN))
    if bankruptcy_price_ticks is not None:
        loss_per_lot = side * (bankruptcy_price_ticks - limit_ticks) * money_per_tick_lot
        if loss_per_lot > 0:
            budget = fund_balance
            if config.max_insurance_lost_per_interval:
                budget = min(budget, config.max_insurance_lost_per_interval)
            lots = min(lots, div_round(max(budget, 0), loss_per_lot, DOWN))
    return max(lots, 0)


def dydx_fill_split(
    side: int,
    fill_price_ticks: int,
    bankruptcy_price_ticks: int,
    lots: int,
    money_per_tick_lot: int,
    max_fee_ppb: int,
) -> tuple[int, int]:
    """``(fee_to_fund, fund_cover)`` of one dYdX liquidation fill (§4.5 step 6).

    ``dIF = quote received - bankruptcy quote = side x (fill - bankruptcy) x lots x m``. If
    positive, the fund takes ``min(max_fee x |quote|, dIF)`` (fee rounded UP, never more than the
    surplus) and the trader keeps the rest; if negative the fund owes ``-dIF``.
    """
    delta = side * (fill_price_ticks - bankruptcy_price_ticks) * lots * money_per_tick_lot
    if delta > 0:
        return min(fee_amount(fill_price_ticks, lots, money_per_tick_lot, max_fee_ppb), delta), 0
    return 0, -delta


# --- Hyperliquid (§4.6) ----------------------------------------------------------------------


def hyperliquid_lots(
    held_lots: int, notional: int, threshold: int, fraction_ppb: int, whole: bool
) -> tuple[int, bool]:
    """``(lots, partial)``: above ``threshold`` notional only ``fraction`` of the position (at
    least one lot) unless ``whole`` (Hyperliquid: within the cooldown after a partial, orders are
    for the entire position)."""
    if whole or notional <= threshold:
        return held_lots, False
    lots = share_lots(held_lots, fraction_ppb)
    return lots, lots < held_lots


def below_backstop(equity: int, maintenance_margin: int, numerator: int, denominator: int) -> bool:
    """Hyperliquid's backstop condition ``equity < num/den x MM`` (2/3), exactly."""
    return equity * denominator < numerator * maintenance_margin


def vault_takeover_price(
    side: int, bankruptcy_price_ticks: int | None, mark_ticks: int, rule: str, discount_ppb: int
) -> int:
    """The vault's transfer price: the bankruptcy price, or ``mark x (1 - discount)`` for a long
    it buys (``(1 + discount)`` for a short), never beyond the bankruptcy price (the account does
    not go negative through the vault). Discounted prices round in the vault's favour (a long's
    DOWN, a short's UP). Without a bankruptcy price, the mark."""
    if rule == "bankruptcy" or bankruptcy_price_ticks is None:
        return bankruptcy_price_ticks if bankruptcy_price_ticks is not None else mark_ticks
    if side > 0:
        price = div_round(mark_ticks * (RATE_SCALE - discount_ppb), RATE_SCALE, DOWN)
        return max(price, bankruptcy_price_ticks)
    price = div_round(mark_ticks * (RATE_SCALE + discount_ppb), RATE_SCALE, UP)
    return min(price, bankruptcy_price_ticks)
