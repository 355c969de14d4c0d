"""The ADL book (per-side position sets and a heap kept between steps) against the full sort.

Random sequences of position changes (each told to the book as the ledger tells it), mark
updates, accounts entering and leaving the liquidation pipeline, tier changes and ADL steps, for
every ranking: at every step the head, its candidates and the allocation must equal what the
pre-change waterfall computed (a candidate from every account, ``tests/adl_oracle.py``'s full
sort), entry for entry. Steps at one mark with positions changing between them exercise the
incremental path; mark moves the rebuild."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.liquidation.adl import RANKINGS, AdlConfig, AdlRanker
from exchange_sim.liquidation.adl_book import AdlBook
from exchange_sim.liquidation.adl_ratios import candidate_of
from tests.adl_oracle import oracle_queue


@attrs.define
class _Account:
    account_id: int
    size_lots: int = 0
    entry_notional: int = 0
    collateral: int = 0
    bankruptcy_price: int | None = None


@attrs.define(eq=False)
class _Tiers:
    divisor: int


class _Ledger:
    """What ``candidate_of`` and the book read of a ledger."""

    def __init__(self, mptl: int) -> None:
        self.mptl = mptl
        self.accounts: dict[int, _Account] = {}
        self.margin = _Tiers(100)  # the ledger's margin rules: a new object when they change
        self.change_listeners: list = []

    def unrealised_pnl(self, a, price):
        signed = a.entry_notional if a.size_lots >= 0 else -a.entry_notional
        return a.size_lots * price * self.mptl - signed

    def maintenance_margin(self, a, price):
        return abs(a.size_lots) * price * self.mptl // self.margin.divisor

    def equity(self, a, price):
        return a.collateral + self.unrealised_pnl(a, price)

    def changed(self, account):
        for listener in self.change_listeners:
            listener(0, account, 0)


class _Accounting:
    def __init__(self) -> None:
        self.venue_accounts = frozenset({0})
        self.busy: set[int] = set()

    def eligible(self, account, exclude):
        account_id = account.account_id
        return (
            account.size_lots != 0
            and account_id != exclude
            and account_id not in self.venue_accounts
            and account_id not in self.busy
        )


def _oracle(ledger, accounting, ranker, side, exclude, mark):
    """The waterfall's step before the book: a candidate from every account, one full sort."""
    candidates = [
        candidate_of(ledger, a, mark)
        for a in ledger.accounts.values()
        if a.size_lots * side < 0 and accounting.eligible(a, exclude)
    ]
    return oracle_queue(ranker, candidates, side), {c.account_id: c for c in candidates}


position = st.tuples(
    st.integers(0, 25),  # account id (0 is a venue account)
    st.integers(-20, 20),  # signed lots
    st.integers(1, 40),  # entry price
    st.integers(-50, 400),  # collateral
    st.one_of(st.none(), st.integers(0, 60)),  # bankruptcy price
)
step = st.one_of(
    st.tuples(st.just("pos"), position),
    st.tuples(st.just("mark"), st.integers(1, 60)),
    st.tuples(st.just("busy"), st.integers(0, 25)),
    st.tuples(st.just("tiers"), st.integers(20, 200)),
    st.tuples(st.just("adl"), st.tuples(st.sampled_from((1, -1)), st.integers(0, 80))),
    st.tuples(st.just("adl"), st.tuples(st.sampled_from((1, -1)), st.integers(0, 80))),
)


class _LazyBook(AdlBook):
    """Never rebuilds for the share of changed positions or stale entries (only for a mark,
    tiers or precision): small books then take the incremental path at every same-mark step."""

    __slots__ = ()
    REBUILD_SHARE = 0
    STALE_SLACK = 10**9


@pytest.mark.parametrize("book_kind", (AdlBook, _LazyBook))
@pytest.mark.parametrize("ranking", RANKINGS)
@settings(max_examples=200, deadline=None)
@given(steps=st.lists(step, max_size=50), mptl=st.sampled_from((1, 7)), decimals=st.integers(0, 2))
def test_book_head_equals_full_sort(book_kind, ranking, steps, mptl, decimals):
    """Every step's head, candidates and allocation equal the full sort's over every account."""
    ranker = AdlRanker(AdlConfig(ranking=ranking, cap_ppb=500_000_000), mptl, decimals)
    ledger, accounting = _Ledger(mptl), _Accounting()
    for account_id in range(26):
        ledger.accounts[account_id] = _Account(account_id)
    book = book_kind(ledger, accounting, ranker)
    mark = 20
    for kind, arg in steps:
        if kind == "pos":
            account_id, size, entry, collateral, bankrupt = arg
            account = ledger.accounts[account_id]
            account.size_lots, account.entry_notional = size, abs(size) * entry * mptl
            account.collateral, account.bankruptcy_price = collateral, bankrupt
            ledger.changed(account)
        elif kind == "mark":
            mark = arg
        elif kind == "busy":
            accounting.busy ^= {arg}
        elif kind == "tiers":  # an intervention: every position refreshed, as Ledger.set_tiers
            ledger.margin = _Tiers(arg)
            for account in ledger.accounts.values():
                if account.size_lots:
                    ledger.changed(account)
        else:
            side, lots = arg
            exclude = 25
            full, every = _oracle(ledger, accounting, ranker, side, exclude, mark)
            head, candidates = book.queue_head(side, lots, exclude, mark)
            allocation = ranker.allocate(head, lots)
            assert allocation == ranker.allocate(full, lots)
            if ranking in ("pro_rata", "capped_pro_rata"):
                assert head == full
            else:
                assert head == full[: len(head)]
            for account_id, _ in allocation:
                assert candidates[account_id] == every[account_id]
            for account_id, closed in allocation:  # the step closes these positions
                account = ledger.accounts[account_id]
                keep = abs(account.size_lots) - closed
                sign = 1 if account.size_lots > 0 else -1
                account.entry_notional = account.entry_notional * keep // abs(account.size_lots)
                account.size_lots = sign * keep
                account.bankruptcy_price = None if not keep else account.bankruptcy_price
                ledger.changed(account)
    for sign in (1, -1):
        held = {a.account_id for a in ledger.accounts.values() if a.size_lots * sign > 0}
        assert book.members(sign) == held


def test_book_keeps_side_sets_without_scanning():
    """The side sets follow the ledger's change notices: an account that closes leaves its side,
    one that flips moves to the other."""
    ledger, accounting = _Ledger(1), _Accounting()
    account = ledger.accounts[5] = _Account(5)
    book = AdlBook(ledger, accounting, AdlRanker(AdlConfig(), 1, 0))
    account.size_lots = 3
    ledger.changed(account)
    assert book.members(1) == {5} and book.members(-1) == set()
    account.size_lots = -2
    ledger.changed(account)
    assert book.members(1) == set() and book.members(-1) == {5}
    account.size_lots = 0
    ledger.changed(account)
    assert book.members(-1) == set()
