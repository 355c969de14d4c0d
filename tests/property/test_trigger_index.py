"""The trigger index finds exactly the accounts a full scan finds (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers, DeductionTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.risk.trigger_index import LIQUIDATION, MARGIN_CALL, TriggerIndex

TIER_MODELS = (
    BracketTiers.from_brackets(
        [(0, 200_000, 50, 5_000_000, None), (200_000, 10**12, 20, 20_000_000, None)]
    ),
    DeductionTiers.build([(0, 40), (300_000, 10), (900_000, 4)]),
)

account_st = st.tuples(
    st.sampled_from((1, -1)), st.integers(1, 60), st.integers(800, 1_200), st.integers(0, 60_000)
)


@settings(max_examples=200, deadline=None)
@given(
    accounts=st.lists(account_st, min_size=1, max_size=25),
    marks=st.lists(st.integers(500, 1_600), min_size=1, max_size=30),
    tiers=st.sampled_from(TIER_MODELS),
    kind=st.sampled_from((LIQUIDATION, MARGIN_CALL)),
)
def test_index_pops_exactly_the_accounts_a_full_scan_flags(accounts, marks, tiers, kind):
    """Over any mark path, the accounts popped so far are exactly those a full scan has found
    past the trigger at some mark so far (liquidation or margin-call level)."""
    ledger = Ledger(MemoryLog(), 7, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    index = TriggerIndex()
    for account_id, (side, lots, price, wallet) in enumerate(accounts, start=1):
        account = ledger.open_account(account_id)
        ledger.deposit(0, account_id, wallet, None)
        ledger.apply_fill(0, 0, account, side, price, lots, 0)
        trigger = account.liquidation_price if kind == LIQUIDATION else account.margin_call_price
        index.set(account_id, kind, side, trigger)
    popped: set[int] = set()
    flagged: set[int] = set()
    for mark in marks:
        popped.update(index.pop_crossed(mark, kind))
        for account in ledger.accounts.values():
            past = (
                ledger.is_liquidatable(account, mark)
                if kind == LIQUIDATION
                else account.size_lots != 0
                and ledger.equity(account, mark) < ledger.margin_call_level(account, mark)
            )
            if past:
                flagged.add(account.account_id)
        assert popped == flagged
