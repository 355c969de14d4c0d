"""Run triggers with no closed venue formula: BitMEX's step limits by brute force, and every
preset's trigger against the run's own exact check.

BitMEX: the reference gives the step rule (§2.2: ``MM% = base x (1 + steps)`` on the whole
position, a partial step counting as one) and one example (§3.2: long 1 at 100.00, 100x, MM
0.5 %: liquidation 99.50, bankruptcy 99.00), but no closed formula for a stepped liquidation
price. So the run's trigger is checked against a brute-force scan of the §2.2 rule written out
here: the first tick, moving from the mark against the position, at which ``equity < MM``. The
run's trigger is conservative by design (``TriggerLevel``: the highest rate reachable), so the
scan must find no liquidatable tick before it, and exactly the next tick when no step lies
between the mark and the trigger.

OKX: §3.4 defines the liquidation price only in words ("the price that ... makes the margin ratio
equal to the required MMR + liquidation fee rate") and §9 has no OKX example; with no formula to
compare, its run is checked like every continuous preset: at its trigger the run's exact check
passes, one tick beyond it fails. The run's check includes §2.4's liquidation-fee term (the
preset's ``margin.trigger_rate_added``).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.liquidation_price import LONG, SHORT
from exchange_sim.core.units import RATE_SCALE
from tests.unit.accounts.run_positions import holdings, lots, position, px, run, usd

# A coarse grid (tick 1, lot 1, whole money units: m = 1) so a scan over every tick is cheap and
# a few thousand lots reach dozens of the preset's 1,000,000 steps above its 2,000,000 base.
COARSE = (("tick_size", "1"), ("lot_size", "1"), ("money_decimals", 0))
BASE, STEP, BASE_MM = 2_000_000, 1_000_000, 4_000_000  # the bitmex preset (§2.2), m = 1
EXIT_TAKER_FEE = 500_000  # the preset's fee term in MM (§2.2, §3.2: [3p]), 5 bp


def bitmex_mm(notional: int) -> int:
    """§2.2 written out: MM% = base MM x (1 + steps) + the exit taker fee, a partial step
    counts, rounded up."""
    steps = 0 if notional < BASE else (notional - BASE) // STEP + 1
    return -(-notional * (BASE_MM * (1 + steps) + EXIT_TAKER_FEE) // RATE_SCALE)


def test_bitmex_example_in_a_run():
    """§3.2 in a bitmex run with base MM 0.5 % (IM 1 %, 100x) and no fee term (the example
    has none): isolated long 1 at 100.00 holds margin 1.00; its liquidation price is 99.50 and
    its bankruptcy price 99.00."""
    sim = run("bitmex", "bitmex_example")
    account = position(
        sim, LONG, [(px("100"), lots("1"))], deposit=usd("1"), isolated=True, leverage=100
    )
    assert account.isolated_margin == usd("1")
    assert (account.liquidation_price, account.bankruptcy_price) == (px("99.50"), px("99"))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([LONG, SHORT]),
    st.booleans(),
    st.integers(50, 3_000),
    st.integers(1, 20_000),
    st.integers(1, 3_000),
    st.data(),
)
def test_bitmex_run_trigger_against_a_scan_of_the_step_rule(
    side, isolated, price, size, mark, data
):
    """Random bitmex-run positions (up to ~58 steps), cross and isolated: moving from the mark
    against the position, no tick before the run's trigger has ``equity < MM`` under §2.2, the
    first one that has is the tick just beyond it when the mark and that tick share a step, and
    the run's own check agrees there."""
    sim = run("bitmex", None, COARSE)
    tiers, ledger = sim.tiers, sim.ledger
    leverage = data.draw(st.integers(1, tiers.max_leverage(price * size)))
    im = tiers.initial_margin(price * size, leverage)
    adjust = data.draw(st.integers(-im, price * size))
    account = position(
        sim,
        side,
        [(price, size)],
        deposit=im,
        isolated=isolated,
        leverage=leverage,
        adjust=adjust,
        mark=mark,
    )

    def liquidatable(p):
        return ledger.equity(account, p) < bitmex_mm(p * size)

    lp = account.liquidation_price
    if side == LONG:
        first = next((p for p in range(mark, 0, -1) if liquidatable(p)), None)
        assert first is None or ledger.is_liquidatable(account, first)
        if lp is None:
            assert first is None
            return
        assert first is None or first < lp
        # Exact when the mark and the first liquidatable tick share a step (the trigger is
        # computed at the highest rate reachable, so a step in between makes it early).
        if (
            first is not None
            and lp <= mark
            and tiers.tier_index(first * size) == tiers.tier_index(mark * size)
        ):
            assert first == lp - 1
    else:
        bp = account.bankruptcy_price
        top = mark if bp is None else max(mark, bp + 1)
        first = next(p for p in range(mark, top + 1) if liquidatable(p))
        assert ledger.is_liquidatable(account, first)
        if lp is None:
            assert first == mark
            return
        assert first > lp
        if lp >= mark and tiers.tier_index(first * size) == tiers.tier_index(mark * size):
            assert first == lp + 1


@settings(max_examples=100, deadline=None)
def needs_margin_call(ledger):
    """The risk monitor's margin-call test: equity below the call level (a position held)."""

    def check(account, price: int) -> bool:
        return bool(account.size_lots) and (
            ledger.equity(account, price) < ledger.margin_call_level(account, price)
        )

    return check


@given(st.sampled_from(["binance", "bybit", "okx", "dydx", "hyperliquid"]), st.data())
def test_run_trigger_is_the_run_checks_exact_crossing(preset, data):
    """Random positions in each continuous preset's run, cross and isolated: at the liquidation
    price the run's exact check passes (equity >= MM) and one tick beyond it fails; the same for
    the margin-call price and its check (equity < ratio x MM). Under Bybit's entry-value MM this
    is what makes §3.3's formula the run's trigger and not only its index."""
    sim = run(preset)
    ledger = sim.ledger
    account = position(sim, **data.draw(holdings(sim.tiers)))
    side = LONG if account.size_lots > 0 else SHORT
    for price, failing in (
        (account.liquidation_price, ledger.is_liquidatable),
        (account.margin_call_price, needs_margin_call(ledger)),
    ):
        if price is None:  # a long: never; a short: already past at every positive price
            assert failing(account, 1) == (side == SHORT)
            continue
        if price > 0:
            assert not failing(account, price)
        if price - side > 0:
            assert failing(account, price - side)
