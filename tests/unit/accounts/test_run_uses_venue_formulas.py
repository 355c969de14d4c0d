"""The prices a run uses are the venue formulas the worked examples check (§3, §9).

Every test builds the simulation a preset's run builds (``run_positions.run``: the preset's
config, its tier model, the run's ledger), gives an account a position through that ledger and
reads the account's ``liquidation_price`` and ``bankruptcy_price``, the prices the risk monitor
indexes. The run computes them with the generic solver (``TriggerLevel`` ->
``tiered_liquidation_price``) and ``bankruptcy_price``; each test compares them with a venue
function of ``exchange_sim/accounts/liquidation_price.py``, on the venue's worked examples and on
random positions (both sides; cross and isolated where the venue defines the mode).

A run has one instrument, so Binance's other-contract terms (TMM1, UPNL1) and dYdX's other
positions' requirement (MMR_o) are 0 in it: an example's ``WB - TMM1 + UPNL1`` (``e - MMR_o``) is
the run account's wallet. Both sides round as docs/design.md says (a long's prices UP, a short's
DOWN), so equality is exact; the one exception is Hyperliquid's closed form, whose
``margin_available`` is a whole number of minor units (see its test).

- binance (§3.1, W1, W2; §2.1 bracket at the liquidation price): cross and isolated.
- bybit (§3.3, W7): isolated only; the reference has no USDT cross formula. MM is on the entry
  value there (§2.3), and so in the run (``margin.maintenance_basis = "entry"``).
- dydx (§3.5, W13 isolated, W14 cross).
- hyperliquid (§3.6): §9 has no Hyperliquid example; the formula's own cases from
  test_liquidation_price.py stand in.
- bitmex: the reference gives no closed formula for the step model (§2.2 rule, one §3.2
  example), so test_run_step_trigger.py checks the run's trigger by brute force instead.
- okx: §3.4 defines the liquidation price only in words and §9 has no OKX example, so there is
  no venue formula to compare with; test_run_step_trigger.py checks its exact crossing.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.liquidation_price import (
    LONG,
    SHORT,
    bankruptcy_price,
    binance_liquidation_price,
    binance_liquidation_price_tiered,
    bybit_isolated_liquidation_price,
    dydx_liquidation_price,
    hyperliquid_liquidation_price,
    hyperliquid_liquidation_price_tiered,
)
from tests.unit.accounts.run_positions import M, holdings, lots, position, px, run, usd


def _side(account) -> int:
    return LONG if account.size_lots > 0 else SHORT


def _lp_stable(tiers, account, lp) -> bool:
    """No tier boundary between ``lp`` and the tick beyond it (where the exact root lies)."""
    n = abs(account.size_lots) * M
    beyond = max(lp - _side(account), 0) if lp is not None else 0
    return lp is None or tiers.tier_index(lp * n) == tiers.tier_index(beyond * n)


# --- Binance -------------------------------------------------------------------------------------


def test_binance_w1_run_cross_short():
    """W1 in a binance run (the preset's first bracket is the example's 0.4 %, cum 0): short
    0.005 at 9,451.53 with wallet 10.72 - 1.3 + 0.47 = 9.89; the run's price is the §3.1 formula's
    11,383.99."""
    sim = run("binance")
    account = position(sim, SHORT, [(px("9451.53"), lots("0.005"))], deposit=usd("9.89"))
    formula = binance_liquidation_price(
        side=SHORT,
        size_lots=lots("0.005"),
        entry_notional=px("9451.53") * lots("0.005") * M,
        wallet_balance=usd("10.72"),
        other_maintenance_margin=usd("1.3"),
        other_unrealized_pnl=usd("0.47"),
        maintenance_rate_ppb=4_000_000,
        maintenance_amount=0,
        money_per_tick_lot=M,
    )
    assert account.liquidation_price == formula == px("11383.99")


def test_binance_w2_run_cross_long():
    """W2 in a binance run with the ETHUSDT bracket (0.65 %, cum 0): long 1 at 199.53, wallet
    10.72 - 0.19 - 0.06 = 10.47; the run's price is the formula's 190.30 (a long rounds up)."""
    sim = run("binance", "eth_bracket")
    account = position(sim, LONG, [(px("199.53"), lots("1"))], deposit=usd("10.47"))
    formula = binance_liquidation_price(
        side=LONG,
        size_lots=lots("1"),
        entry_notional=px("199.53") * lots("1") * M,
        wallet_balance=usd("10.72"),
        other_maintenance_margin=usd("0.19"),
        other_unrealized_pnl=usd("-0.06"),
        maintenance_rate_ppb=6_500_000,
        maintenance_amount=0,
        money_per_tick_lot=M,
    )
    assert account.liquidation_price == formula == px("190.30")


def test_binance_run_recomputes_with_the_bracket_at_the_liquidation_price():
    """§2.1: isolated 20x long 6 at 100,000 (600,000: bracket 0.65 %, cum 950; margin 30,000).
    The entry bracket gives 569,050 / 5.961 = 95,462.1708 -> 95,462.18, whose notional is in the
    0.5 % bracket (cum 50): 569,950 / 5.97 = 95,469.0117, stable, rounded up: 95,469.02, as in
    the run."""
    sim = run("binance")
    account = position(
        sim,
        LONG,
        [(px("100000"), lots("6"))],
        deposit=usd("30000"),
        isolated=True,
        leverage=20,
    )
    assert account.isolated_margin == usd("30000")
    tiers = sim.tiers

    def formula(notional):
        return binance_liquidation_price(
            side=LONG,
            size_lots=lots("6"),
            entry_notional=account.entry_notional,
            wallet_balance=account.isolated_margin,
            maintenance_rate_ppb=tiers.maintenance_rate_ppb(notional),
            maintenance_amount=tiers.maintenance_deduction(notional),
            money_per_tick_lot=M,
        )

    first = formula(account.entry_notional)
    second = formula(first * lots("6") * M)
    assert (first, second) == (px("95462.18"), px("95469.02"))
    assert account.liquidation_price == second


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_binance_run_is_the_formula_with_the_bracket_at_its_price(data):
    """Random binance-run positions, cross and isolated: with the bracket of the notional at the
    run's liquidation price, §3.1's one-bracket formula gives that same price back (the fixed
    point of §2.1's recompute rule), and the tiered venue function agrees."""
    sim = run("binance")
    tiers = sim.tiers
    account = position(sim, **data.draw(holdings(tiers)))
    side, size = _side(account), abs(account.size_lots)
    lp = account.liquidation_price
    assume(_lp_stable(tiers, account, lp))
    at = lp * size * M if lp is not None else 0
    one_bracket = binance_liquidation_price(
        side=side,
        size_lots=size,
        entry_notional=account.entry_notional,
        wallet_balance=account.collateral,
        maintenance_rate_ppb=tiers.maintenance_rate_ppb(at),
        maintenance_amount=tiers.maintenance_deduction(at),
        money_per_tick_lot=M,
    )
    tiered = binance_liquidation_price_tiered(
        side=side,
        size_lots=size,
        entry_notional=account.entry_notional,
        wallet_balance=account.collateral,
        tiers=tiers,
        money_per_tick_lot=M,
    )
    assert lp == one_bracket == tiered


# --- Bybit ---------------------------------------------------------------------------------------


def test_bybit_w7_run_isolated_long():
    """W7 in a bybit run (one tier, MMR 0.5 %): isolated 50x long 1 at 20,000 moves IM 400 into
    the position; MM on the entry value is 100, so LP = 20,000 - 300 = 19,700 as the formula
    says, and the bankruptcy price (the 0 % margin level, §3.3) is 20,000 - 400 = 19,600."""
    sim = run("bybit", "bybit_w7")
    account = position(
        sim, LONG, [(px("20000"), lots("1"))], deposit=usd("400"), isolated=True, leverage=50
    )
    formula = bybit_isolated_liquidation_price(
        side=LONG,
        size_lots=lots("1"),
        entry_notional=px("20000") * lots("1") * M,
        initial_margin=usd("400"),
        maintenance_margin=usd("100"),
        money_per_tick_lot=M,
    )
    assert account.liquidation_price == formula == px("19700")
    assert account.bankruptcy_price == px("19600")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_bybit_run_isolated_is_the_formula(data):
    """Random isolated bybit-run positions: the run's liquidation price is §3.3's
    ``EP -/+ (IM - MM)/Q -/+ Extra/Q`` with IM the margin moved in at the fills, Extra the
    payments into the position since, and MM of the tier at the entry value (§2.3)."""
    sim = run("bybit")
    tiers = sim.tiers
    drawn = data.draw(holdings(tiers, modes=(True,)))
    account = position(sim, **drawn)
    formula = bybit_isolated_liquidation_price(
        side=drawn["side"],
        size_lots=abs(account.size_lots),
        entry_notional=account.entry_notional,
        initial_margin=account.isolated_margin - drawn["adjust"],
        maintenance_margin=tiers.maintenance_margin(account.entry_notional),
        extra_margin=drawn["adjust"],
        money_per_tick_lot=M,
    )
    assert account.liquidation_price == formula


# --- dYdX ----------------------------------------------------------------------------------------


def test_dydx_w13_run_isolated_short():
    """W13 in a dydx run (mid-cap MMF 5 %): isolated 10x short 3 at 3,000 holds IM 900, plus 100
    paid in: e = 1,000 at p = 3,000; the run's price is the formula's 3,174.60."""
    sim = run("dydx", "dydx_mid_cap")
    account = position(
        sim,
        SHORT,
        [(px("3000"), lots("3"))],
        deposit=usd("900"),
        isolated=True,
        leverage=10,
        adjust=usd("100"),
        mark=px("3000"),
    )
    formula = dydx_liquidation_price(
        signed_size_lots=-lots("3"),
        price_ticks=px("3000"),
        equity=usd("1000"),
        maintenance_fraction_ppb=50_000_000,
        money_per_tick_lot=M,
    )
    assert account.isolated_margin == usd("1000")
    assert account.liquidation_price == formula == px("3174.60")


def test_dydx_w14_run_cross_short():
    """W14 in a dydx run: cross short 1.5 at 3,000, e = 1,000 and MMR_o = 175, so the one-market
    run's wallet is 825; its price is the formula's 3,380.95."""
    sim = run("dydx", "dydx_mid_cap")
    account = position(sim, SHORT, [(px("3000"), lots("1.5"))], deposit=usd("825"), mark=px("3000"))
    formula = dydx_liquidation_price(
        signed_size_lots=-lots("1.5"),
        price_ticks=px("3000"),
        equity=usd("1000"),
        maintenance_fraction_ppb=50_000_000,
        other_maintenance_requirement=usd("175"),
        money_per_tick_lot=M,
    )
    assert account.liquidation_price == formula == px("3380.95")


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_dydx_run_is_the_formula(data):
    """Random dydx-run positions, cross and isolated: the run's liquidation price is §3.5's
    ``(e - s p) / (|s| MMF - s)`` with ``p`` the run's mark and ``e`` the equity there."""
    sim = run("dydx")
    drawn = data.draw(holdings(sim.tiers))
    account = position(sim, **drawn)
    mark = drawn["mark"]
    formula = dydx_liquidation_price(
        signed_size_lots=account.size_lots,
        price_ticks=mark,
        equity=sim.ledger.equity(account, mark),
        maintenance_fraction_ppb=30_000_000,
        money_per_tick_lot=M,
    )
    assert account.liquidation_price == formula


# --- Hyperliquid ---------------------------------------------------------------------------------


def test_hyperliquid_run_examples_match_the_closed_form():
    """The §3.6 formula's cases in a hyperliquid run (40x tier, l = 1/80): cross, mark and entry
    100,000, account value 5,000 (MM 1,250, available 3,750): long 96,202.54, short 103,703.70."""
    sim = run("hyperliquid")
    for side, expected in ((LONG, "96202.54"), (SHORT, "103703.70")):
        account = position(
            sim, side, [(px("100000"), lots("1"))], deposit=usd("5000"), mark=px("100000")
        )
        formula = hyperliquid_liquidation_price(
            side=side,
            size_lots=lots("1"),
            price_ticks=px("100000"),
            margin_available=usd("3750"),
            max_leverage=40,
            money_per_tick_lot=M,
        )
        assert account.liquidation_price == formula == px(expected)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_hyperliquid_run_is_the_tiered_formula(data):
    """Random hyperliquid-run positions (notionals on both sides of the 150M tier bound), cross
    and isolated: the run's price is §3.6 with the tier at the liquidation-price notional,
    evaluated from the mark and the account value there."""
    sim = run("hyperliquid")
    drawn = data.draw(holdings(sim.tiers))
    account = position(sim, **drawn)
    formula = hyperliquid_liquidation_price_tiered(
        side=drawn["side"],
        size_lots=abs(account.size_lots),
        price_ticks=drawn["mark"],
        account_value=sim.ledger.equity(account, drawn["mark"]),
        tiers=sim.tiers,
        money_per_tick_lot=M,
    )
    assert account.liquidation_price == formula


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_hyperliquid_run_and_closed_form_differ_only_by_whole_minor_units(data):
    """§3.6's closed form ``price - side x margin_available / Q / (1 - l side)`` with ``l`` and
    the MM line of the tier at the run's liquidation-price notional. ``margin_available`` is
    whole minor units (the MM rounded up), so the closed form is exact when that MM is whole and
    otherwise lies at most one tick on the safe side of the run's exact crossing (a long's
    higher, a short's lower): the sub-unit MM moves the price by less than 1 / (Q m) of a tick."""
    sim = run("hyperliquid")
    tiers = sim.tiers
    drawn = data.draw(holdings(tiers))
    account = position(sim, **drawn)
    lp = account.liquidation_price
    assume(lp is not None and lp > 0 and _lp_stable(tiers, account, lp))
    side, size, mark = drawn["side"], abs(account.size_lots), drawn["mark"]
    tier = tiers.tier_index(lp * size * M)
    rate, deduction = tiers.maintenance_lines()[tier]
    mm_num = mark * size * M * rate - deduction
    mm = -(-mm_num // tiers.denominator)
    closed = hyperliquid_liquidation_price(
        side=side,
        size_lots=size,
        price_ticks=mark,
        margin_available=sim.ledger.equity(account, mark) - mm,
        max_leverage=tiers.max_leverages[tier],
        money_per_tick_lot=M,
    )
    assert closed is not None
    if mm_num % tiers.denominator == 0:
        assert closed == lp
    else:
        assert side * (closed - lp) in (0, 1)


# --- bankruptcy ----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["binance", "bitmex", "bybit", "okx", "dydx", "hyperliquid"]), st.data())
def test_run_bankruptcy_price_is_each_formula_at_zero_margin(preset, data):
    """Every preset's run prices bankruptcy with ``bankruptcy_price`` (§3.2's example checks
    it), and that is each venue's formula at the 0 % margin level: Binance §3.1 with MMR 0 and
    cum 0, Bybit §3.3 with MM 0 ("closed at the bankruptcy price, the 0 % margin level") and
    dYdX §3.5 with MMF 0 (equity exactly 0, §3.5's bankruptcy rounding)."""
    sim = run(preset)
    drawn = data.draw(holdings(sim.tiers))
    account = position(sim, **drawn)
    side, size, entry = drawn["side"], abs(account.size_lots), account.entry_notional
    balance, mark = account.collateral, drawn["mark"]
    common = dict(side=side, size_lots=size, entry_notional=entry, money_per_tick_lot=M)
    zero_margin = {
        bankruptcy_price(side, size, entry, balance, M),
        binance_liquidation_price(
            **common, wallet_balance=balance, maintenance_rate_ppb=0, maintenance_amount=0
        ),
        bybit_isolated_liquidation_price(**common, initial_margin=balance, maintenance_margin=0),
        dydx_liquidation_price(
            signed_size_lots=account.size_lots,
            price_ticks=mark,
            equity=sim.ledger.equity(account, mark),
            maintenance_fraction_ppb=0,
            money_per_tick_lot=M,
        ),
    }
    assert zero_margin == {account.bankruptcy_price}
