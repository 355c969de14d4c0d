"""The ADL queue head (``adl_select``) against the old full sort (``tests/adl_oracle.py``).

Random sequences of position changes, mark updates and ADL steps: at every step the head and the
allocation must equal the oracle's queue prefix and allocation entry for entry (ids, lots,
scores, ranks), ties included. ``shift=0`` makes integer keys collide often, so the exact
tie-group path is exercised too. Also: each ranked order depends on the mark (a counterexample
per ranking), which is why no mark-independent sorted structure can serve the step."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.liquidation.adl import RANKINGS, AdlCandidate, AdlConfig, AdlRanker
from exchange_sim.liquidation.adl_select import queue_head, ranked_head
from tests.adl_oracle import oracle_queue, rank_by_score


def _candidate(account_id, size, entry_notional, wallet, mark, mptl, bankrupt):
    signed_entry = entry_notional if size > 0 else -entry_notional
    pnl = size * mark * mptl - signed_entry
    mm = abs(size) * mark * mptl // 100
    return AdlCandidate(
        account_id, size, entry_notional, mark, wallet, pnl, mm, bankrupt, wallet + pnl
    )


position = st.tuples(
    st.integers(0, 30),  # account id
    st.integers(-20, 20),  # signed lots
    st.integers(1, 40),  # entry price
    st.integers(-50, 400),  # wallet
    st.integers(0, 60),  # bankruptcy price
)
step = st.one_of(
    st.tuples(st.just("pos"), position),
    st.tuples(st.just("mark"), st.integers(1, 60)),
    st.tuples(st.just("adl"), st.tuples(st.sampled_from((1, -1)), st.integers(0, 80))),
)


@pytest.mark.parametrize("ranking", RANKINGS)
@settings(max_examples=300, deadline=None)
@given(steps=st.lists(step, max_size=40), mptl=st.sampled_from((1, 7)), decimals=st.integers(0, 2))
def test_head_equals_full_sort(ranking, steps, mptl, decimals):
    ranker = AdlRanker(AdlConfig(ranking=ranking, cap_ppb=500_000_000), mptl, decimals)
    book: dict[int, tuple[int, int, int, int]] = {}  # id -> (size, entry notional, wallet, bk)
    mark = 20
    for kind, arg in steps:
        if kind == "pos":
            account_id, size, entry, wallet, bankrupt = arg
            book[account_id] = (size, abs(size) * entry * mptl, wallet, bankrupt)
        elif kind == "mark":
            mark = arg
        else:
            side, lots = arg
            cands = [_candidate(i, *book[i][:3], mark, mptl, book[i][3]) for i in sorted(book)]
            full = oracle_queue(ranker, cands, side)
            head = queue_head(ranker, cands, side, lots)
            assert head == full[: len(head)]
            allocation = ranker.allocate(head, lots)
            assert allocation == ranker.allocate(full, lots)
            assert sum(e.closable_lots for e in head) >= min(
                lots, sum(e.closable_lots for e in full)
            )
            for account_id, closed in allocation:  # the step closes these positions
                size, entry_notional, wallet, bankrupt = book[account_id]
                keep = abs(size) - closed
                sign = 1 if size > 0 else -1
                book[account_id] = (sign * keep, entry_notional * keep // abs(size), wallet, 0)


BIG = 10**30


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-3, 3),
            st.sampled_from((0, 1, 2, 3, BIG, BIG + 1, 3 * BIG)),
            st.integers(-2, 2),
            st.integers(1, 5),
        ),
        max_size=30,
    ),
    st.integers(0, 40),
)
def test_ranked_head_ties_near_ties_and_infinity(items, lots):
    """Exact ties, scores closer than ``1e-60`` (``(k*D + d) / D`` with ``D ~ 1e30``) and
    +infinity (den 0): the head is still the full sort's prefix."""
    from exchange_sim.liquidation.adl import AdlScore

    scored = []
    for i, (k, den, d, size) in enumerate(items):
        score = AdlScore(1, 0) if den == 0 else AdlScore(k * den + d, den)
        scored.append((i, size, score))
    full = rank_by_score(scored)
    head = ranked_head(scored, lots)
    assert head == full[: len(head)]
    assert sum(e.closable_lots for e in head) >= min(lots, sum(s for _, s, _ in scored))


# (size, entry price, wallet) of two shorts whose order flips between two marks.
FLIPS = {
    "bitmex": ((-18, 101, 454), (-15, 106, 542), 85, 96),
    "binance": ((-17, 91, 1546), (-18, 103, 2304), 66, 82),
    "hyperliquid": ((-12, 95, 1260), (-15, 109, 1604), 94, 80),
}


@pytest.mark.parametrize("ranking", sorted(FLIPS))
def test_order_depends_on_mark(ranking):
    """No key independent of the mark orders these rankings: the order of two fixed positions
    flips when only the mark moves."""
    a, b, mark_1, mark_2 = FLIPS[ranking]
    ranker = AdlRanker(AdlConfig(ranking=ranking), 1, 0)

    def order(mark):
        cands = []
        for i, (size, entry, wallet) in enumerate((a, b)):
            cands.append(
                _candidate(i, size, -size * entry, wallet, mark, 1, entry - wallet // size)
            )
        return [e.account_id for e in oracle_queue(ranker, cands, 1)]

    assert order(mark_1) == [0, 1]
    assert order(mark_2) == [1, 0]
