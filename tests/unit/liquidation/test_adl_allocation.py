"""ADL allocation: ranked walk, pro-rata and capped pro-rata in exact integer lots."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.liquidation.adl import (
    PROFITABLE_ONLY,
    RANKINGS,
    AdlCandidate,
    AdlConfig,
    AdlQueueEntry,
    AdlRanker,
    AdlScore,
)
from exchange_sim.liquidation.apportion import (
    allocate_capped_pro_rata,
    allocate_pro_rata,
    allocate_ranked,
    cap_lots,
    largest_remainder,
)


def queue_of(*sizes):
    """Entries for accounts 1, 2, ... with the given sizes, in that order."""
    return [AdlQueueEntry(i, lots, AdlScore(lots, 1), i) for i, lots in enumerate(sizes, start=1)]


def test_ranked_walk_stops_when_the_queue_runs_out():
    """A queue holding 7 lots closes 7 of a 10-lot bankrupt position; the caller owns 3."""
    assert allocate_ranked(queue_of(4, 3), 10) == [(1, 4), (2, 3)]


def test_pro_rata_largest_remainder():
    """7 lots over sizes 5, 3, 4 (total 12).

    Shares 35/12, 21/12, 28/12 -> floors 2, 1, 2 (5); 2 lots missing go to the largest
    remainders 11/12 (account 1) and 9/12 (account 2): 3, 2, 2.
    """
    assert allocate_pro_rata(queue_of(5, 3, 4), 7) == [(1, 3), (2, 2), (3, 2)]


def test_pro_rata_equal_remainders_go_to_lower_account():
    """1 lot over two 1-lot positions: shares 1/2 each, the lower account id takes it."""
    assert allocate_pro_rata(queue_of(1, 1), 1) == [(1, 1)]


def test_pro_rata_closes_everyone_when_size_exceeds_queue():
    """A size above the queue total closes every position in full."""
    assert allocate_pro_rata(queue_of(2, 3), 9) == [(1, 2), (2, 3)]


def test_capped_pro_rata_redistributes_a_capped_share():
    """Cap 10 %: sizes 10, 19, 100 have caps 1, 1, 10 (floor); 11 lots to close.

    Plain pro-rata would give account 2 its share 11*19/129 = 1.62 rounded up to 2 > cap 1.
    Water filling: cap/size ratios 1/10, 1/19, 1/10 -> order 2, 1, 3. Account 2: 11*19 = 209 >=
    1*129 so it is fixed at 1; R = 10, W = 110. Account 1: 10*10 = 100 < 1*110, stop. Accounts 1
    and 3 share 10 over 10 and 100: 100/110 and 1000/110 -> floors 0, 9, the missing lot to the
    larger remainder (account 1): 1, 1, 9.
    """
    queue = queue_of(10, 19, 100)
    assert allocate_pro_rata(queue, 11) == [(1, 1), (2, 2), (3, 8)]
    assert allocate_capped_pro_rata(queue, 11, 100_000_000) == [(1, 1), (2, 1), (3, 9)]


def test_capped_pro_rata_excludes_positions_whose_cap_is_zero():
    """Cap 50 %: a 1-lot position has cap floor(0.5) = 0 and closes nothing.

    Sizes 1, 3, 10, 10 -> caps 0, 1, 5, 5; 8 lots. Active weights 23: account 2 has 8*3 = 24 >=
    1*23 -> fixed at 1; R = 7, W = 20; account 3: 7*10 = 70 < 5*20, stop; accounts 3 and 4
    share 7 as 3.5 each -> 3, 3, and the tied remainder goes to account 3: 4, 3.
    """
    assert allocate_capped_pro_rata(queue_of(1, 3, 10, 10), 8, 500_000_000) == [
        (2, 1),
        (3, 4),
        (4, 3),
    ]


def test_capped_pro_rata_leaves_what_the_caps_cannot_hold():
    """Cap 50 % of sizes 4 and 6 holds 2 + 3 = 5 lots; 8 asked, 5 allocated."""
    assert allocate_capped_pro_rata(queue_of(4, 6), 8, 500_000_000) == [(1, 2), (2, 3)]


def test_ranker_dispatches_capped_allocation():
    """AdlRanker.allocate uses the configured cap for capped_pro_rata."""
    ranker = AdlRanker(
        AdlConfig(ranking="capped_pro_rata", cap_ppb=100_000_000),
        money_per_tick_lot=1,
        money_decimals=0,
    )
    assert ranker.allocate(queue_of(10, 19, 100), 11) == [(1, 1), (2, 1), (3, 9)]


# -- properties ------------------------------------------------------------------------------


@st.composite
def candidates(draw):
    count = draw(st.integers(1, 8))
    account_ids = draw(st.lists(st.integers(1, 50), min_size=count, max_size=count, unique=True))
    out = []
    for account_id in account_ids:
        size = draw(st.integers(-40, 40).filter(lambda s: s != 0))
        entry = draw(st.integers(1, 200))
        mark = draw(st.integers(1, 200))
        sign = 1 if size > 0 else -1
        entry_notional = entry * abs(size) * 10
        out.append(
            AdlCandidate(
                account_id=account_id,
                size_lots=size,
                entry_notional=entry_notional,
                mark_price_ticks=mark,
                wallet_balance=draw(st.integers(-500, 10_000)),
                unrealised_pnl=sign * (mark * abs(size) * 10 - entry_notional),
                maintenance_margin=draw(st.integers(0, 1000)),
                bankruptcy_price_ticks=draw(st.integers(0, 400)),
                account_value=draw(st.integers(-100, 20_000)),
            )
        )
    return out


@settings(max_examples=300, deadline=None)
@given(
    cands=candidates(),
    ranking=st.sampled_from(RANKINGS),
    side=st.sampled_from((1, -1)),
    size=st.integers(0, 200),
    cap_ppb=st.integers(1, 1_000_000_000),
)
def test_allocation_properties(cands, ranking, side, size, cap_ppb):
    """Allocations hit only eligible opposite positions, never exceed one, and sum exactly."""
    ranker = AdlRanker(
        AdlConfig(ranking=ranking, cap_ppb=cap_ppb), money_per_tick_lot=10, money_decimals=2
    )
    queue = ranker.queue(cands, side)
    allocations = ranker.allocate(queue, size)
    by_id = {c.account_id: c for c in cands}
    closed = dict(allocations)
    assert len(closed) == len(allocations)
    for account_id, lots in allocations:
        position = by_id[account_id]
        assert position.size_lots * side < 0
        assert 0 < lots <= abs(position.size_lots)
        if PROFITABLE_ONLY[ranking]:
            assert position.unrealised_pnl > 0
        if ranking == "capped_pro_rata":
            assert lots <= cap_lots(abs(position.size_lots), cap_ppb)
    capacity = sum(e.closable_lots for e in queue)
    if ranking == "capped_pro_rata":
        capacity = sum(cap_lots(e.closable_lots, cap_ppb) for e in queue)
    assert sum(closed.values()) == min(size, capacity)


@settings(max_examples=200, deadline=None)
@given(cands=candidates(), ranking=st.sampled_from(("bitmex", "binance", "hyperliquid")))
def test_ranked_queue_is_sorted_by_score_then_account(cands, ranking):
    """A ranked queue never puts a lower score, or an equal score of a higher account, first."""
    ranker = AdlRanker(AdlConfig(ranking=ranking), money_per_tick_lot=10, money_decimals=2)
    queue = ranker.queue(cands, 1)
    for before, after in itertools.pairwise(queue):
        assert before.score > after.score or (
            before.score == after.score and before.account_id < after.account_id
        )


@settings(max_examples=300, deadline=None)
@given(
    weights=st.lists(st.integers(1, 1000), min_size=1, max_size=12),
    data=st.data(),
)
def test_largest_remainder_is_within_one_lot_of_the_exact_share(weights, data):
    """Each part is floor or ceil of its exact share and the parts sum to the total."""
    total = data.draw(st.integers(0, sum(weights)))
    parts = largest_remainder(list(range(len(weights))), weights, total)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        share = Fraction(total * weight, sum(weights))
        assert share - 1 < part < share + 1
        assert part <= weight


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(1, 100), min_size=1, max_size=10), size=st.integers(0, 1200))
def test_capped_pro_rata_with_a_full_cap_is_plain_pro_rata(sizes, size):
    """A 100 % cap never binds: capped pro-rata then equals plain pro-rata."""
    queue = queue_of(*sizes)
    assert allocate_capped_pro_rata(queue, size, 1_000_000_000) == allocate_pro_rata(queue, size)
