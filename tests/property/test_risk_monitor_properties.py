"""The risk monitor never misses a liquidatable account (Hypothesis, all tier models)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.venue.messages import Deposit, Withdraw
from tests.unit.risk.harness import MS, Quiet, Venue

TIER_MODELS = (
    {
        "kind": "brackets",
        "brackets": [
            {
                "notional_floor": 0,
                "notional_cap": 200_000,
                "max_leverage": 50,
                "maintenance_rate": "0.005",
            },
            {
                "notional_floor": 200_000,
                "notional_cap": 10**12,
                "max_leverage": 20,
                "maintenance_rate": "0.02",
            },
        ],
    },
    {
        "kind": "deduction",
        "tiers": [
            {"lower_bound": 0, "max_leverage": 40},
            {"lower_bound": 300_000, "max_leverage": 10},
            {"lower_bound": 900_000, "max_leverage": 4},
        ],
    },
    {
        "kind": "step",
        "base_risk_limit": 150_000,
        "step": 60_000,
        "base_maintenance_rate": "0.005",
        "base_initial_rate": "0.02",
    },
)
FIRST = 10  # the venue's insurance fund holds account 1

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
    venue = Venue(margin=tiers, verify_with_sweep=True)
    ledger = venue.ledger
    for account_id, (side, lots, price, wallet) in enumerate(accounts, start=FIRST):
        account = ledger.open_account(account_id, leverage=4)
        ledger.deposit(0, account_id, wallet, None)
        ledger.apply_fill(0, 0, account, side, price, lots, 0)
        venue.connect(Quiet(account_id))
    points = []
    for i, (mark, who, amount) in enumerate(steps, start=1):
        points.append((i * 10 * MS, mark))
        target = who % len(accounts) + FIRST
        # Sent (and, over a zero-latency link, arriving) halfway between two marks.
        if amount > 0:
            venue.send_at(i * 10 * MS + 5 * MS, target, Deposit(amount))
        elif amount < 0:
            venue.send_at(i * 10 * MS + 5 * MS, target, Withdraw(-amount))
    venue.schedule(points)
    # Bounded: an account left under its margin-call level is called again every cooldown.
    venue.run((len(steps) + 1) * 10 * MS)
    final = venue.mark.price
    for account in ledger.accounts.values():
        if ledger.is_liquidatable(account, final):
            assert account.account_id in venue.risk.in_liquidation
