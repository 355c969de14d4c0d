"""The risk monitor never misses a liquidatable account (Hypothesis, all tier models)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers, DeductionTiers, StepRiskLimit
from exchange_sim.risk.config import RiskConfig
from exchange_sim.risk.monitor import RiskMonitor
from tests.unit.risk.harness import MS, Venue, sampler

TIER_MODELS = (
    BracketTiers.from_brackets(
        [(0, 200_000, 50, 5_000_000, None), (200_000, 10**12, 20, 20_000_000, None)]
    ),
    DeductionTiers.build([(0, 40), (300_000, 10), (900_000, 4)]),
    StepRiskLimit.build(150_000, 60_000, 5_000_000, 20_000_000),
)

account_st = st.tuples(
    st.sampled_from((1, -1)), st.integers(1, 60), st.integers(800, 1_200), st.integers(500, 60_000)
)
step_st = st.tuples(st.integers(600, 1_500), st.integers(0, 4), st.integers(-20_000, 20_000))


@settings(max_examples=120, deadline=None)
@given(
    accounts=st.lists(account_st, min_size=1, max_size=15),
    steps=st.lists(step_st, min_size=1, max_size=25),
    tiers=st.sampled_from(TIER_MODELS),
)
def test_every_liquidatable_account_is_found_at_every_mark(accounts, steps, tiers):
    """With deposits and withdrawals between mark moves, a full scan at every mark finds no
    liquidatable account the trigger index missed (verify_with_sweep raises on any miss), and an
    account liquidatable at the end has been handed over."""
    venue = Venue()
    venue.ledger = ledger = Ledger(
        venue.log, 1, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
    )
    ledger.mark_price = lambda: venue.mark.price
    venue.mark.listeners.clear()
    venue.risk = RiskMonitor(
        venue.env,
        venue.log,
        RiskConfig(verify_with_sweep=True),
        ledger,
        venue.mark,
        sampler(0),
        sampler(0),
    )
    venue.wire()
    for account_id, (side, lots, price, wallet) in enumerate(accounts, start=1):
        account = ledger.open_account(account_id, leverage=4)
        ledger.deposit(0, account_id, wallet, None)
        ledger.apply_fill(0, 0, account, side, price, lots, 0)
    points = []
    for i, (mark, who, amount) in enumerate(steps, start=1):
        points.append((i * 10 * MS, mark))
        target = who % len(accounts) + 1

        def change(_e, target=target, amount=amount):
            if amount > 0:
                ledger.deposit(venue.env.now, target, amount, None)
            elif amount < 0:
                ledger.withdraw(venue.env.now, target, -amount, None)

        venue.env.call_at(i * 10 * MS + 5 * MS, 70, change)
    venue.mark.schedule(points)
    # Bounded: an account left under its margin-call level is called again every cooldown.
    venue.env.run(until=(len(steps) + 1) * 10 * MS)
    final = venue.mark.price
    for account in ledger.accounts.values():
        if ledger.is_liquidatable(account, final):
            assert account.account_id in venue.risk.in_liquidation
