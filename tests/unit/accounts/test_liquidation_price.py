"""Liquidation and bankruptcy prices against the venues' worked examples (§9) and properties."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.liquidation_price import (
    LONG,
    SHORT,
    bankruptcy_price,
    binance_liquidation_price,
    binance_liquidation_price_tiered,
    bybit_inverse_bankruptcy_price,
    bybit_isolated_liquidation_price,
    dydx_liquidation_price,
    hyperliquid_liquidation_price,
    hyperliquid_liquidation_price_tiered,
    liquidation_price,
    maintenance_check,
    margin_ratio_ppb,
    tiered_liquidation_price,
)
from exchange_sim.accounts.margin import BracketTiers, DeductionTiers
from exchange_sim.core.units import Scale

# tick 0.01, lot 0.001, 8 money decimals: one tick on one lot = 0.00001 = 1,000 minor units.
SCALE = Scale.build(Decimal("0.01"), Decimal("0.001"), 8, "test")
M = SCALE.money_per_tick_lot


def usd(text: str) -> int:
    return SCALE.money_minor(text, "test")


def px(text: str) -> int:
    return SCALE.price_ticks(text, "test")


def lots(text: str) -> int:
    return SCALE.size_lots(text, "test")


def ppb(text: str) -> int:
    return int(Decimal(text) * 10**9)


def entry(price: str, size: str) -> int:
    return SCALE.notional(px(price), lots(size))


def test_binance_w1_cross_short():
    """W1: short 0.005 BTC at 9,451.53, WB 10.72, TMM1 1.3, UPNL1 0.47, MMR 0.4 %:
    LP = 57.14765 / 0.00502 = 11,383.994 -> short rounds down -> 11,383.99."""
    lp = binance_liquidation_price(
        side=SHORT,
        size_lots=lots("0.005"),
        entry_notional=entry("9451.53", "0.005"),
        wallet_balance=usd("10.72"),
        other_maintenance_margin=usd("1.3"),
        other_unrealized_pnl=usd("0.47"),
        maintenance_rate_ppb=ppb("0.004"),
        maintenance_amount=0,
        money_per_tick_lot=M,
    )
    assert lp == px("11383.99")


def test_binance_w2_cross_long_rounds_up():
    """W2: long 1 ETH at 199.53, WB 10.72, TMM1 0.19 (as the doc rounds it), UPNL1 -0.06, MMR
    0.65 %: LP = -189.06 / -0.9935 = 190.2969. The doc shows 190.29 (truncated); a long's
    liquidation price rounds up so the trigger fires no later than the exact price: 190.30."""
    lp = binance_liquidation_price(
        side=LONG,
        size_lots=lots("1"),
        entry_notional=entry("199.53", "1"),
        wallet_balance=usd("10.72"),
        other_maintenance_margin=usd("0.19"),
        other_unrealized_pnl=usd("-0.06"),
        maintenance_rate_ppb=ppb("0.0065"),
        maintenance_amount=0,
        money_per_tick_lot=M,
    )
    assert lp == px("190.30")


W4_BRACKETS = BracketTiers.from_brackets(
    [
        (usd("0"), usd("50000"), 125, ppb("0.004")),
        (usd("50000"), usd("250000"), 100, ppb("0.005")),
        (usd("250000"), usd("1000000"), 50, ppb("0.01")),
        (usd("1000000"), usd("5000000"), 20, ppb("0.025")),
    ]
)


def test_binance_uses_bracket_at_liquidation_price():
    """Long 3 BTC at 100,000 (300,000 USDT, bracket 1 %, cum 1,300), isolated WB 60,000.
    With the entry bracket: (300,000 - 60,000 - 1,300) / (3 x 0.99) = 80,370.37 -> notional
    241,111 lies in the 0.5 % bracket (cum 50), so recompute: (240,000 - 50) / (3 x 0.995) =
    80,385.2596 -> notional 241,156, still 0.5 %: stable. Long rounds up: 80,385.26."""
    lp = binance_liquidation_price_tiered(
        side=LONG,
        size_lots=lots("3"),
        entry_notional=entry("100000", "3"),
        wallet_balance=usd("60000"),
        tiers=W4_BRACKETS,
        money_per_tick_lot=M,
    )
    assert lp == px("80385.26")


def test_bitmex_example_read_as_linear():
    """§3.2: long 1 contract at 100.00, 100x (margin 1.00), MM 0.5 %: bankruptcy 99.00 and
    liquidation (100 - 1)/(1 - 0.005) = 99.497 -> rounds up -> 99.50, the page's numbers."""
    args = dict(side=LONG, size_lots=lots("1"), entry_notional=entry("100", "1"))
    assert bankruptcy_price(**args, margin_balance=usd("1"), money_per_tick_lot=M) == px("99")
    lp = liquidation_price(
        **args,
        margin_balance=usd("1"),
        maintenance_rate_ppb=ppb("0.005"),
        maintenance_deduction=0,
        money_per_tick_lot=M,
    )
    assert lp == px("99.50")


def test_bybit_w7_usdt_isolated_long():
    """W7: long 1 BTC at 20,000, 50x: IM 400, MM 100 (0.5 %): LP = 20,000 - 300 = 19,700."""
    lp = bybit_isolated_liquidation_price(
        side=LONG,
        size_lots=lots("1"),
        entry_notional=entry("20000", "1"),
        initial_margin=usd("400"),
        maintenance_margin=usd("100"),
        money_per_tick_lot=M,
    )
    assert lp == px("19700")


def test_bybit_usdt_isolated_short_extra_margin():
    """Short 2 BTC at 20,000: IM 800, MM 200, extra 100: LP = 20,000 + (600 + 100) / 2 = 20,350."""
    lp = bybit_isolated_liquidation_price(
        side=SHORT,
        size_lots=lots("2"),
        entry_notional=entry("20000", "2"),
        initial_margin=usd("800"),
        maintenance_margin=usd("200"),
        extra_margin=usd("100"),
        money_per_tick_lot=M,
    )
    assert lp == px("20350")


def test_bybit_w9_inverse_bankruptcy_long():
    """W9: 7,890.08 x 50/51 = 7,735.3725, a long rounds up to the next 0.5: 7,735.50."""
    bp = bybit_inverse_bankruptcy_price(
        side=LONG, entry_price_ticks=px("7890.08"), leverage=50, increment_ticks=px("0.5")
    )
    assert bp == px("7735.50")


def test_bybit_inverse_bankruptcy_short_rounds_down():
    """Short at 7,890.08, 50x: 7,890.08 x 50/49 = 8,051.1020 -> down to a multiple of 0.5: 8,051."""
    bp = bybit_inverse_bankruptcy_price(
        side=SHORT, entry_price_ticks=px("7890.08"), leverage=50, increment_ticks=px("0.5")
    )
    assert bp == px("8051")


def test_dydx_w13_isolated_short():
    """W13: e 1,000, short 3 ETH at 3,000, MMF 5 %: (1,000 + 9,000) / (0.15 + 3) = 3,174.603
    -> short rounds down -> 3,174.60."""
    lp = dydx_liquidation_price(
        signed_size_lots=-lots("3"),
        price_ticks=px("3000"),
        equity=usd("1000"),
        maintenance_fraction_ppb=ppb("0.05"),
        money_per_tick_lot=M,
    )
    assert lp == px("3174.60")


def test_dydx_w14_cross_short():
    """W14: e 1,000, short 1.5 ETH at 3,000, MMR_o 175 (1,000 STRK x 1.75 x 10 %):
    (1,000 + 4,500 - 175) / (0.075 + 1.5) = 3,380.952 -> 3,380.95."""
    lp = dydx_liquidation_price(
        signed_size_lots=-lots("1.5"),
        price_ticks=px("3000"),
        equity=usd("1000"),
        maintenance_fraction_ppb=ppb("0.05"),
        other_maintenance_requirement=usd("175"),
        money_per_tick_lot=M,
    )
    assert lp == px("3380.95")


def test_hyperliquid_long_single_tier():
    """Long 1 BTC, mark 100,000, 40x (l = 1/80), account value 5,000: MM 1,250, available 3,750;
    liq = 100,000 - 3,750 / (1 - 1/80) = 96,202.5316 -> long rounds up -> 96,202.54."""
    lp = hyperliquid_liquidation_price(
        side=LONG,
        size_lots=lots("1"),
        price_ticks=px("100000"),
        margin_available=usd("3750"),
        max_leverage=40,
        money_per_tick_lot=M,
    )
    assert lp == px("96202.54")


def test_hyperliquid_short_single_tier():
    """Short 1 BTC, mark 100,000, 40x, available 3,750: 100,000 + 3,750 / (1 + 1/80) =
    103,703.7037 -> short rounds down -> 103,703.70."""
    lp = hyperliquid_liquidation_price(
        side=SHORT,
        size_lots=lots("1"),
        price_ticks=px("100000"),
        margin_available=usd("3750"),
        max_leverage=40,
        money_per_tick_lot=M,
    )
    assert lp == px("103703.70")


def test_hyperliquid_tiered_matches_single_tier_inside_a_tier():
    """Far from the 150M boundary the tiered form gives the single-tier answer (96,202.54)."""
    tiers = DeductionTiers.build([(0, 40), (usd("150000000"), 20)])
    lp = hyperliquid_liquidation_price_tiered(
        side=LONG,
        size_lots=lots("1"),
        price_ticks=px("100000"),
        account_value=usd("5000"),
        tiers=tiers,
        money_per_tick_lot=M,
    )
    assert lp == px("96202.54")


def test_long_without_positive_liquidation_price_is_none():
    """A fully funded long (balance >= entry notional) is never liquidated at a positive price."""
    lp = liquidation_price(
        side=LONG,
        size_lots=lots("1"),
        entry_notional=entry("100", "1"),
        margin_balance=usd("100"),
        maintenance_rate_ppb=ppb("0.005"),
        maintenance_deduction=0,
        money_per_tick_lot=M,
    )
    assert lp is None


def test_short_with_negative_balance_beyond_entry_is_none():
    """A short whose balance is below -entry notional is bankrupt at every positive price."""
    bp = bankruptcy_price(SHORT, lots("1"), entry("100", "1"), -usd("101"), M)
    assert bp is None


def test_margin_ratio():
    """MM 50 / balance 100 = 50 %; MM 1 / 3 rounds up to 333,333,334 ppb; balance 0 is None."""
    assert margin_ratio_ppb(50, 100) == 500_000_000
    assert margin_ratio_ppb(1, 3) == 333_333_334
    assert margin_ratio_ppb(1, 0) is None


def test_maintenance_check_passes_at_equality():
    """Equity equal to MM passes; one minor unit less fails (liquidatable when equity < MM)."""
    assert maintenance_check(100, 100)
    assert not maintenance_check(99, 100)


# --- properties ----------------------------------------------------------------------------------


@st.composite
def tier_models(draw):
    if draw(st.booleans()):
        count = draw(st.integers(1, 4))
        floors = sorted(
            draw(st.sets(st.integers(1, 10**13), min_size=count - 1, max_size=count - 1))
        )
        floors = [0, *floors]
        caps = [*floors[1:], floors[-1] + 10**13]
        rates = sorted(draw(st.lists(st.integers(0, 9 * 10**7), min_size=count, max_size=count)))
        rows = [(f, c, 10, r) for f, c, r in zip(floors, caps, rates, strict=True)]
        return BracketTiers.from_brackets(rows)
    count = draw(st.integers(1, 4))
    bounds = [
        0,
        *sorted(draw(st.sets(st.integers(1, 10**13), min_size=count - 1, max_size=count - 1))),
    ]
    levs = sorted(draw(st.lists(st.integers(1, 100), min_size=count, max_size=count)), reverse=True)
    return DeductionTiers.build(list(zip(bounds, levs, strict=True)))


def equity_at(side, size, entry_notional, balance, price):
    return balance + side * (price * size * M - entry_notional)


@settings(max_examples=300, deadline=None)
@given(
    tier_models(),
    st.sampled_from([LONG, SHORT]),
    st.integers(1, 10**6),
    st.integers(1, 10**7),
    st.integers(-(10**13), 10**13),
)
def test_tiered_liquidation_price_is_the_exact_crossing(tiers, side, size, entry_px, balance):
    """At the liquidation price the position is not liquidatable (equity >= MM of the tier at
    that notional); one tick beyond it (lower for a long, higher for a short) it is."""
    entry_notional = entry_px * size * M
    lp = tiered_liquidation_price(
        side=side,
        size_lots=size,
        reference_notional=entry_notional,
        balance_at_reference=balance,
        tiers=tiers,
        money_per_tick_lot=M,
    )

    def healthy(price):
        mm = tiers.maintenance_margin(price * size * M)
        return maintenance_check(equity_at(side, size, entry_notional, balance, price), mm)

    if lp is None:
        assert healthy(1) == (side == LONG)
        return
    assert healthy(lp)
    beyond = lp - side
    if beyond >= 0:
        assert not healthy(beyond)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([LONG, SHORT]),
    st.integers(1, 10**6),
    st.integers(1, 10**7),
    st.integers(-(10**13), 10**13),
)
def test_bankruptcy_price_leaves_no_negative_balance(side, size, entry_px, balance):
    """Closing at the bankruptcy price leaves margin >= 0; one tick worse leaves it < 0."""
    entry_notional = entry_px * size * M
    bp = bankruptcy_price(side, size, entry_notional, balance, M)
    assume(bp is not None)
    assert equity_at(side, size, entry_notional, balance, bp) >= 0
    if bp - side >= 0:
        assert equity_at(side, size, entry_notional, balance, bp - side) < 0


def test_a_long_whose_maintenance_rate_reaches_100_percent_is_always_past_its_trigger():
    """At a maintenance rate of 100 % or more (a step risk limit far past its base) a long holds
    less than its MM at any price where it is: its trigger is above every mark (checked at once),
    not a negative or undefined price."""
    from exchange_sim.accounts.liquidation_price import ALWAYS_CROSSED, _solve

    for rate in (10**9, 2 * 10**9):
        price = _solve(1, 10, 1_000, 100, rate, 0, 10**9, 1)
        assert price == ALWAYS_CROSSED
    assert _solve(1, 10, 1_000, 100, 10**9 - 1, 0, 10**9, 1) < ALWAYS_CROSSED
