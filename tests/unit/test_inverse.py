"""Inverse (coin-margined) contracts: the venues' worked examples (exchange_mechanics.md §3.2,
§3.3, §2.2, W9, W21) and the exactness of the liquidation and bankruptcy prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.inverse import (
    LONG,
    SHORT,
    InverseMaintenance,
    InversePosition,
    bankruptcy_price,
    bitmex_liquidation_price,
    bybit_isolated_liquidation_price,
    fill_value,
    funding_payment,
    initial_margin,
    liquidation_price,
    money_ticks_per_lot,
    position_value,
    short_step_up_price,
    trade_residue,
    unrealized_pnl,
)
from exchange_sim.accounts.liquidation_price import bybit_inverse_bankruptcy_price
from exchange_sim.accounts.margin import BITMEX_XBTUSD_2020, StepRiskLimit
from exchange_sim.core.errors import UnitError

XBT = 10**8
"""Satoshis per XBT."""
K_HALF = money_ticks_per_lot(Decimal(1), Decimal("0.5"), 8, "test")
"""XBTUSD: 1 USD contracts, tick 0.5 USD, satoshis."""
K_CENT = money_ticks_per_lot(Decimal(1), Decimal("0.01"), 8, "test")
"""1 USD contracts, tick 0.01 USD (Bybit BTCUSD's price grid in W9)."""
XBTUSD_STEPS = StepRiskLimit.build(
    *(int(Decimal(v) * XBT) for v in BITMEX_XBTUSD_2020[:2]),
    *(int(Decimal(v) * 10**9) for v in BITMEX_XBTUSD_2020[2:]),
)
"""§2.2 XBTUSD 2020 (the margin module's preset): base risk limit 200 XBT, step 100 XBT, MM 0.40 %,
IM 1.00 %, read in satoshis."""


def half(usd: str) -> int:
    """A USD price in ticks of 0.5."""
    return int(Decimal(usd) * 2)


def cent(usd: str) -> int:
    """A USD price in ticks of 0.01."""
    return int(Decimal(usd) * 100)


# --- units ----------------------------------------------------------------------------------------


def test_xbtusd_one_contract_at_one_tick_is_two_xbt():
    """k for 1 USD contracts on a 0.5 USD tick in satoshis: 1 / 0.5 XBT = 2 x 10^8 sat."""
    assert K_HALF == 2 * XBT


def test_inexact_contract_value_is_refused():
    """A contract value that is not a whole number of minor units per tick is a UnitError."""
    with pytest.raises(UnitError, match="whole number"):
        money_ticks_per_lot(Decimal(1), Decimal("0.3"), 0, "instrument.contract_value")


# --- value and PnL --------------------------------------------------------------------------------


def test_bitmex_upnl_example():
    """§3.2: long 1,000 XBTUSD, EP 1,000, MP 1,250: UPNL = 1,000 x (1/1,000 - 1/1,250) = 0.20 XBT;
    the short's is the negative."""
    assert fill_value(LONG, 1000, half("1000"), K_HALF) == 1 * XBT
    assert unrealized_pnl(LONG, 1000, 1 * XBT, half("1250"), K_HALF) == XBT // 5
    assert unrealized_pnl(SHORT, 1000, 1 * XBT, half("1250"), K_HALF) == -(XBT // 5)


def test_w21_entry_value_funding_and_pnl():
    """W21: long 15,000 XBTUSD at 750: entry value 20 XBT; funding at F = 0.25 % is 0.05 XBT;
    closed at 800, PnL = 15,000 x (1/750 - 1/800) = 1.25 XBT; net 1.20 XBT."""
    position, pnl = InversePosition().apply_fill(15_000, half("750"), K_HALF)
    assert position == InversePosition(15_000, 20 * XBT)
    assert pnl == 0
    funding = funding_payment(LONG, 15_000, half("750"), K_HALF, 2_500_000)
    assert funding == 5 * XBT // 100
    closed, pnl = position.apply_fill(-15_000, half("800"), K_HALF)
    assert closed == InversePosition(0, 0)
    assert pnl == 125 * XBT // 100
    assert pnl - funding == 120 * XBT // 100


def test_funding_short_receives_what_long_pays():
    """W21 from the short's side: at F > 0 it receives the 0.05 XBT."""
    assert funding_payment(SHORT, 15_000, half("750"), K_HALF, 2_500_000) == -(5 * XBT // 100)


def test_funding_rounds_payment_up_and_receipt_down():
    """1 contract at 3 ticks (value 2/3 x 10^8 sat) at F = 0.01 %: the exact 6,666.67 sat is
    paid as 6,667 and received as 6,666."""
    assert funding_payment(LONG, 1, 3, K_HALF, 100_000) == 6_667
    assert funding_payment(SHORT, 1, 3, K_HALF, 100_000) == -6_666


def test_fill_value_rounds_buy_down_and_sell_up():
    """1 contract at 3 ticks is worth 66,666,666.67 sat: a buy is valued 66,666,666, a sell
    66,666,667, so a round trip at one price costs the trader (at most) one satoshi."""
    assert fill_value(LONG, 1, 3, K_HALF) == 66_666_666
    assert fill_value(SHORT, 1, 3, K_HALF) == 66_666_667
    opened, _ = InversePosition().apply_fill(1, 3, K_HALF)
    assert opened.apply_fill(-1, 3, K_HALF)[1] == -1
    opened, _ = InversePosition().apply_fill(-1, 3, K_HALF)
    assert opened.apply_fill(1, 3, K_HALF)[1] == -1


def test_position_value_is_the_closing_fills_value():
    """A long is valued as its closing sell (UP), a short as its closing buy (DOWN)."""
    assert position_value(LONG, 1, 3, K_HALF) == 66_666_667
    assert position_value(SHORT, 1, 3, K_HALF) == 66_666_666


def test_average_entry_price_is_the_harmonic_mean():
    """Buy 1,000 at 1,000.00 and 1,000 at 1,250.00: entry value 1 + 0.8 = 1.8 XBT, average
    2,000 / 1.8 = 1,111.11 (rounded up for a long: 1,111.12), not the arithmetic 1,125."""
    position, _ = InversePosition().apply_fill(1000, cent("1000"), K_CENT)
    position, _ = position.apply_fill(1000, cent("1250"), K_CENT)
    assert position.entry_value == 18 * XBT // 10
    assert position.average_entry_price(K_CENT) == cent("1111.12")


def test_short_average_entry_price_rounds_down():
    """A short of 3 contracts with basis 2 XBT: 3 x 2 x 10^8 / 2 x 10^8 = 3 ticks exactly; with
    basis 2 XBT + 1 sat, 2.99999999 rounds DOWN to 2 (UP, the worse side, for a long: 3)."""
    assert InversePosition(-3, 2 * XBT + 1).average_entry_price(K_HALF) == 2
    assert InversePosition(3, 2 * XBT + 1).average_entry_price(K_HALF) == 3


def test_maintenance_at_or_above_one_hundred_percent_is_refused():
    """A flat MM rate plus extra of 100 % or more is refused when built."""
    with pytest.raises(ValueError, match="below 100"):
        InverseMaintenance(900_000_000, 100_000_000)


def test_short_under_steps_needs_its_reference_price():
    """A short's crossing under a step risk limit depends on where it starts: no reference is an
    error, not a guess."""
    with pytest.raises(ValueError, match="reference"):
        liquidation_price(
            side=SHORT,
            size_lots=1000,
            entry_value=XBT,
            margin_balance=XBT // 10,
            k=K_HALF,
            maintenance=InverseMaintenance(step=XBTUSD_STEPS),
        )


def test_partial_close_of_a_long_removes_basis_rounded_down():
    """A long of 3 with basis 10 closing 1: the removed share 10/3 rounds DOWN to 3 (its PnL
    rounds down); 7 stays in the basis."""
    position, _ = InversePosition(3, 10).apply_fill(-1, 2 * XBT, K_HALF)
    assert position == InversePosition(2, 7)


def test_partial_close_of_a_short_removes_basis_rounded_up():
    """A short of 3 with basis 10 closing 1: the removed share rounds UP to 4; 6 stays."""
    position, _ = InversePosition(-3, 10).apply_fill(1, 2 * XBT, K_HALF)
    assert position == InversePosition(-2, 6)


def test_flip_closes_all_then_opens_the_rest_at_the_fill_price():
    """Long 1,000 at 1,000 (1 XBT) sells 1,500 at 1,250: PnL 0.2 XBT on the 1,000, and a short
    of 500 with basis 500 / 1,250 = 0.4 XBT."""
    position, pnl = InversePosition(1000, 1 * XBT).apply_fill(-1500, half("1250"), K_HALF)
    assert pnl == XBT // 5
    assert position == InversePosition(-500, 4 * XBT // 10)


# --- margin ---------------------------------------------------------------------------------------


def test_xbtusd_step_risk_limit_in_xbt():
    """§2.2: a 250 XBT position is in the first step: MM 0.80 % = 2 XBT, IM 1.40 % = 3.5 XBT
    (above 250 / 100x = 2.5 XBT)."""
    assert (XBTUSD_STEPS.base_risk_limit, XBTUSD_STEPS.step) == (200 * XBT, 100 * XBT)
    maintenance = InverseMaintenance(step=XBTUSD_STEPS)
    assert maintenance.margin(250 * XBT) == 2 * XBT
    assert initial_margin(250 * XBT, 100, XBTUSD_STEPS) == 35 * XBT // 10


def test_falling_price_raises_a_fixed_long_into_a_higher_step():
    """Inverse: 1,900,000 contracts are 190 XBT at 10,000 (base step, MM 0.40 %) but 211.1 XBT at
    9,000 (first step, MM 0.80 %)."""
    maintenance = InverseMaintenance(step=XBTUSD_STEPS)
    at_10k = position_value(LONG, 1_900_000, half("10000"), K_HALF)
    at_9k = position_value(LONG, 1_900_000, half("9000"), K_HALF)
    assert maintenance.tier_index(at_10k) == 0
    assert maintenance.tier_index(at_9k) == 1


def test_bitmex_initial_margin_adds_entry_and_exit_taker_fee():
    """§3.2 (uncertain): initMargin = 1/L + 2 x taker fee: 1 XBT at 100x, fee 0.075 %:
    0.01 + 0.0015 = 0.0115 XBT."""
    assert initial_margin(1 * XBT, 100, taker_fee_ppb=750_000) == 1_150_000


def test_bitmex_maintenance_adds_exit_fee_and_paid_funding():
    """§2.2/§3.2 (uncertain): MM% = 0.40 % + taker 0.075 % + funding 0.01 % for a long paying
    it; a short receiving it gets only the fee added."""
    long = InverseMaintenance.bitmex(XBTUSD_STEPS, 750_000, 100_000, LONG)
    short = InverseMaintenance.bitmex(XBTUSD_STEPS, 750_000, 100_000, SHORT)
    assert long.margin(100 * XBT) == 485 * XBT // 1000
    assert short.margin(100 * XBT) == 475 * XBT // 1000


# --- worked liquidation and bankruptcy prices -----------------------------------------------------


def test_w9_bybit_inverse_bankruptcy_price():
    """W9: long 5,000 BTCUSD at 7,890.08, 50x: BP = 7,890.08 x 50/51 = 7,735.3725, rounded up
    to 0.5: 7,735.50, both by the closed form and by solving with the isolated margin
    (entry value / 50); on the 0.01 grid the solve gives 7,735.38."""
    entry = fill_value(LONG, 5000, cent("7890.08"), K_CENT)
    margin = initial_margin(entry, 50)
    kwargs = dict(side=LONG, size_lots=5000, entry_value=entry, margin_balance=margin, k=K_CENT)
    assert bankruptcy_price(**kwargs, increment_ticks=50) == cent("7735.50")
    assert bankruptcy_price(**kwargs) == cent("7735.38")
    assert bybit_inverse_bankruptcy_price(
        side=LONG, entry_price_ticks=cent("7890.08"), leverage=50, increment_ticks=50
    ) == cent("7735.50")


def test_short_bankruptcy_price_mirror():
    """§3.3 (3p mirror): short BP = EP x L/(L - 1): 7,890.08 x 50/49 = 8,051.10, rounded down to
    0.5: 8,051.00."""
    entry = fill_value(SHORT, 5000, cent("7890.08"), K_CENT)
    bp = bankruptcy_price(
        side=SHORT,
        size_lots=5000,
        entry_value=entry,
        margin_balance=initial_margin(entry, 50),
        k=K_CENT,
        increment_ticks=50,
    )
    assert bp == cent("8051.00")


def test_bybit_inverse_isolated_liquidation_price():
    """§3.3 worked by hand: 10,000 contracts at 10,000.00, 10x, MMR 0.5 %: PV = 1 XBT,
    IM = 0.1, MM = 0.005. Long LP = 10,000 / (1 + 0.095) = 9,132.4201 -> 9,132.43 (up);
    short LP = 10,000 / (1 - 0.095) = 11,049.7238 -> 11,049.72 (down)."""
    entry = fill_value(LONG, 10_000, cent("10000"), K_CENT)
    assert entry == 1 * XBT
    args = dict(size_lots=10_000, entry_value=entry, initial_margin=XBT // 10, k=K_CENT)
    assert bybit_isolated_liquidation_price(
        side=LONG, maintenance_margin=XBT // 200, **args
    ) == cent("9132.43")
    assert bybit_isolated_liquidation_price(
        side=SHORT, maintenance_margin=XBT // 200, **args
    ) == cent("11049.72")


def test_bitmex_relayed_liquidation_price():
    """§3.2 (uncertain) by hand: EP 10,000.00, 100x, taker 0.075 %, MMR 0.5 %, F 0.01 %:
    initMargin 1.15 %, maintMargin 0.585 %; long 10,000 / 1.00565 = 9,943.8174 -> 9,943.82;
    short 10,000 / 0.99435 = 10,056.8210 -> 10,056.82."""
    args = dict(
        entry_price_ticks=cent("10000"),
        leverage=100,
        taker_fee_ppb=750_000,
        maintenance_rate_ppb=5_000_000,
        funding_rate_ppb=100_000,
    )
    assert bitmex_liquidation_price(side=LONG, **args) == cent("9943.82")
    assert bitmex_liquidation_price(side=SHORT, **args) == cent("10056.82")


def test_long_liquidation_uses_the_step_at_the_liquidation_value():
    """XBTUSD steps: long 1,900,000 at 10,000 (190 XBT) with 19 XBT margin. At the base rate
    the root 209 / 1.004 = 208.17 XBT is past the 200 XBT limit, so the first step's 0.80 %
    applies: V = 209 / 1.008 = 207.34 XBT, LP = 1,900,000 / 207.34 = 9,163.5 -> 9,164.00
    (9,127.50 at the base rate alone)."""
    args = dict(side=LONG, size_lots=1_900_000, entry_value=190 * XBT, margin_balance=19 * XBT)
    stepped = liquidation_price(**args, k=K_HALF, maintenance=InverseMaintenance(step=XBTUSD_STEPS))
    flat = liquidation_price(**args, k=K_HALF, maintenance=InverseMaintenance(4_000_000))
    assert stepped == half("9164")
    assert flat == half("9127.5")


def test_short_liquidation_drops_to_the_lower_step_as_price_rises():
    """Short 2,500,000 at 10,000 (250 XBT, first step) with 52 XBT margin: the deficit 198 XBT at
    0.80 % needs 199.6 XBT, below the 200 XBT limit, so the base 0.40 % applies there:
    V = 198 / 0.996 = 198.8 XBT, LP = 2,500,000 / 198.8 = 12,575.7 -> 12,575.50."""
    lp = liquidation_price(
        side=SHORT,
        size_lots=2_500_000,
        entry_value=250 * XBT,
        margin_balance=52 * XBT,
        k=K_HALF,
        maintenance=InverseMaintenance(step=XBTUSD_STEPS),
        reference_price_ticks=half("10000"),
    )
    assert lp == half("12575.5")


def test_short_step_up_price():
    """Short 1,900,000 (190 XBT at 10,000): its value reaches 200 XBT at 9,500 on a fall; a short
    of 1,900,001 reaches it at 9,500.00 (200.00001 XBT), not yet at 9,500.50."""
    maintenance = InverseMaintenance(step=XBTUSD_STEPS)
    assert short_step_up_price(1_900_000, K_HALF, maintenance, half("10000")) == half("9500")
    price = short_step_up_price(1_900_001, K_HALF, maintenance, half("10000"))
    assert price == half("9500")
    assert maintenance.tier_index(position_value(SHORT, 1_900_001, price, K_HALF)) == 1
    assert maintenance.tier_index(position_value(SHORT, 1_900_001, price + 1, K_HALF)) == 0


@pytest.mark.parametrize(
    "maintenance",
    [
        InverseMaintenance(5_000_000),
        InverseMaintenance(step=StepRiskLimit.build(XBT, XBT, 5_000_000, 10_000_000)),
    ],
    ids=["flat", "steps"],
)
def test_one_contract_short_liquidation_to_the_satoshi(maintenance):
    """Flat 0.5 %: short 1 contract at 10,000.00 (10,000 sat) with 1,000 sat margin, deficit
    9,000 sat: it needs V >= 9,000 / 0.995 = 9,045.23, so 9,046 sat, at or below
    1 / 0.00009046 = 11,054.6098 -> 11,054.60 (equity 46 = MM 46); at 11,054.61 V = 9,045 sat,
    equity 45 < MM 46. The same under a step risk limit whose base limit it never reaches."""
    lp = liquidation_price(
        side=SHORT,
        size_lots=1,
        entry_value=10_000,
        margin_balance=1_000,
        k=K_CENT,
        maintenance=maintenance,
        reference_price_ticks=cent("10000"),
    )
    assert lp == cent("11054.60")


def test_none_means_already_for_a_long_and_never_for_a_short():
    """A long with no margin and no entry value is liquidatable at every price (None); a 1x
    short (margin = entry value) can never be liquidated (None)."""
    flat = InverseMaintenance(5_000_000)
    assert (
        liquidation_price(
            side=LONG, size_lots=1, entry_value=0, margin_balance=0, k=K_HALF, maintenance=flat
        )
        is None
    )
    assert (
        liquidation_price(
            side=SHORT,
            size_lots=1000,
            entry_value=XBT,
            margin_balance=XBT,
            k=K_HALF,
            maintenance=flat,
        )
        is None
    )


# --- properties -----------------------------------------------------------------------------------


def _gap(side, size, entry, margin, maintenance, price):
    """Equity minus MM at ``price`` (ticks of 0.5)."""
    value = position_value(side, size, price, K_HALF)
    return margin + side * (entry - value) - maintenance.margin(value)


maintenances = st.one_of(
    st.builds(InverseMaintenance, st.integers(0, 50_000_000), st.integers(0, 2_000_000)),
    st.builds(
        lambda base, step, mm, extra: InverseMaintenance(
            extra_rate_ppb=extra, step=StepRiskLimit.build(base, step, mm, 10 * mm)
        ),
        st.integers(1, 50 * XBT),
        st.integers(1, 20 * XBT),
        st.integers(1_000_000, 20_000_000),
        st.integers(0, 2_000_000),
    ),
)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([LONG, SHORT]),
    st.integers(1, 10**8),
    st.integers(20, 200_000),
    st.integers(1, 125),
    maintenances,
)
def test_liquidation_price_is_exact_one_tick_either_side(side, size, entry_px, lev, maintenance):
    """At the liquidation price equity >= MM; one tick beyond it (below for a long, above for a
    short) equity < MM. A short is taken from its entry price, where it must be safe."""
    entry = fill_value(side, size, entry_px, K_HALF)
    margin = entry // lev
    assume(margin > 0)
    extreme = maintenance.tier_index(3 * entry)
    assume(extreme <= 40 and maintenance.rate_ppb(extreme) < 10**9)
    lp = liquidation_price(
        side=side,
        size_lots=size,
        entry_value=entry,
        margin_balance=margin,
        k=K_HALF,
        maintenance=maintenance,
        reference_price_ticks=entry_px,
    )
    if side == SHORT:
        assume(_gap(side, size, entry, margin, maintenance, entry_px) >= 0)
    assume(lp is not None and lp >= 2)
    assert _gap(side, size, entry, margin, maintenance, lp) >= 0
    assert _gap(side, size, entry, margin, maintenance, lp - side) < 0
    if side == SHORT:
        assert lp >= entry_px


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([LONG, SHORT]),
    st.integers(1, 10**8),
    st.integers(20, 200_000),
    st.integers(2, 125),
    st.sampled_from([1, 2, 5]),
)
def test_bankruptcy_price_leaves_equity_within_one_grid_step_of_zero(
    side, size, entry_px, lev, increment
):
    """At the bankruptcy price equity >= 0, one grid step beyond it < 0: so the equity left is
    less than the value that one step moves (the rounding unit of a price on the grid)."""
    entry = fill_value(side, size, entry_px, K_HALF)
    margin = initial_margin(entry, lev)
    bp = bankruptcy_price(
        side=side,
        size_lots=size,
        entry_value=entry,
        margin_balance=margin,
        k=K_HALF,
        increment_ticks=increment,
    )
    assume(bp is not None and bp > increment)

    def equity(price):
        return margin + side * (entry - position_value(side, size, price, K_HALF))

    beyond = bp - side * increment
    assert equity(bp) >= 0
    assert equity(beyond) < 0
    assert equity(bp) < abs(
        position_value(side, size, beyond, K_HALF) - position_value(side, size, bp, K_HALF)
    )


def test_long_liquidated_where_its_value_enters_a_step():
    """XBTUSD steps: long 1,900,000 (190 XBT) with 11 XBT margin, budget 201 XBT. At 0.40 % the
    root 201 / 1.004 = 200.2 XBT is in the first step, where 0.80 % needs 201 / 1.008 = 199.4 XBT,
    below the step: MM's jump at 200 XBT (equity 1 XBT < MM 1.6 XBT) is the crossing. The last
    safe value is 200 XBT - 1 sat: LP = 1,900,000 / 199.99999999 -> 9,500.50 (the 9,528.50 of the
    first step's own root would liquidate early)."""
    lp = liquidation_price(
        side=LONG,
        size_lots=1_900_000,
        entry_value=190 * XBT,
        margin_balance=11 * XBT,
        k=K_HALF,
        maintenance=InverseMaintenance(step=XBTUSD_STEPS),
    )
    assert lp == half("9500.5")
    assert (
        _gap(
            LONG,
            1_900_000,
            190 * XBT,
            11 * XBT,
            InverseMaintenance(step=XBTUSD_STEPS),
            half("9500"),
        )
        < 0
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 5000), st.integers(1, 999)),
        min_size=1,
        max_size=30,
    )
)
def test_money_is_conserved_with_the_trade_residue(trades):
    """Any sequence of trades between three accounts (buyer, seller, size, price), each fill's
    realised PnL paid to the wallet: ``Σ (wallet + signed_entry_value) + Σ trade residues`` stays
    at its start, exactly, and the residue is 0 or 1 minor unit a trade."""
    positions = [InversePosition()] * 3
    wallets = [0, 0, 0]
    residue = 0
    for buyer, seller, lots, price in trades:
        assume(buyer != seller)
        for account, signed in ((buyer, lots), (seller, -lots)):
            positions[account], pnl = positions[account].apply_fill(signed, price, K_HALF)
            wallets[account] += pnl
        step = trade_residue(lots, price, K_HALF)
        assert step in (0, 1)
        residue += step
        held = sum(w + p.signed_entry_value for w, p in zip(wallets, positions, strict=True))
        assert held + residue == 0


def test_short_crossing_skipped_by_a_tick_is_not_its_liquidation_price():
    """XBTUSD steps: short 2,040,060 at 10,000 (204.006 XBT, first step) with 5.601 XBT margin
    (deficit 198.405 XBT). At 0.80 % it needs 200.00504 XBT, but no tick prices it between 200
    and 200.00504 XBT: 10,200.00 values it at 200.00588 (safe) and 10,200.50 at 199.99608, in
    the base step, where 0.40 % needs only 198.405 / 0.996 = 199.2018 XBT. The first unsafe tick
    is 10,241.50 (2,040,060 / 199.2018 = 10,241.17): LP = 10,241.00, not 10,200.00."""
    maintenance = InverseMaintenance(step=XBTUSD_STEPS)
    args = dict(side=SHORT, size_lots=2_040_060, entry_value=20_400_600_000, k=K_HALF)
    lp = liquidation_price(
        **args,
        margin_balance=5_601 * XBT // 1000,
        maintenance=maintenance,
        reference_price_ticks=half("10000"),
    )
    assert lp == half("10241")
    gap = (SHORT, 2_040_060, 20_400_600_000, 5_601 * XBT // 1000, maintenance)
    assert _gap(*gap, half("10200.5")) > 0
    assert _gap(*gap, half("10241.5")) < 0
