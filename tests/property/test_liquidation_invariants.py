"""Invariants of the liquidation engine over random accounts, books, shocks and policies.

After every engine step (Hypothesis drives the inputs; the checks run in the engine's
``after_step`` hook): money is conserved to the minor unit
(``money_in_accounts + fees + fund + vault cash - bad debt == deposits - withdrawals + seeds``),
long and short open interest are equal, no account outside the engine holds a negative balance
once flat (it was paid back or written off as bad debt), and ADL only ever draws opposite
positions, and only profitable ones unless the ranking ranks losers too (BitMEX).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.liquidation.adl import PROFITABLE_ONLY, RANKINGS, AdlConfig
from exchange_sim.liquidation.config import (
    BinancePolicyConfig,
    DydxPolicyConfig,
    HyperliquidPolicyConfig,
    LiquidationConfig,
    MarketPolicyConfig,
    TieredPolicyConfig,
    UnwindConfig,
    VaultConfig,
)
from tests.scenario.liquidation_harness import MAKER, S, Venue, rate

POLICIES = (
    BinancePolicyConfig(),
    BinancePolicyConfig(order_limit="none"),
    TieredPolicyConfig(),
    DydxPolicyConfig(
        min_position_notional=0,
        max_notional_per_interval=5_000,
        max_insurance_lost_per_interval=500,
    ),
    HyperliquidPolicyConfig(partial_threshold=5_000),
    HyperliquidPolicyConfig(partial_threshold=5_000, cooldown_action="wait", cooldown=2 * S),
    MarketPolicyConfig(),
)
WATERFALLS = (
    ("book", "fund", "adl"),
    ("book", "vault", "adl"),
    ("book", "fund", "vault", "adl"),
    ("book", "fund", "socialise"),
    ("book", "adl", "socialise"),
    ("book", "fund"),
    ("book",),
)

pair = st.tuples(
    st.integers(1, 40),  # lots
    st.integers(900, 1_100),  # entry price
    st.integers(50, 4_000),  # long's wallet
    st.integers(50, 4_000),  # short's wallet
    st.booleans(),  # long isolated
    st.booleans(),  # short isolated
)
liquidation = st.builds(
    LiquidationConfig,
    policy=st.sampled_from(POLICIES),
    processing_latency=st.sampled_from((0, S // 10)),
    throughput=st.sampled_from((0, 3)),
    liquidation_fee=st.sampled_from((0, 5_000_000)),
    retry_interval=st.just(S),
    max_retries=st.integers(0, 2),
    waterfall=st.sampled_from(WATERFALLS),
    fund_unwind=st.just(UnwindConfig(interval=S, fraction=500_000_000)),
    fund_position_limit=st.sampled_from((0, 2_000_000_000)),
    vault=st.builds(
        VaultConfig,
        capital=st.integers(0, 50_000),
        max_leverage=st.integers(0, 5),
        takeover_price=st.sampled_from(("bankruptcy", "mark_discount")),
        discount=st.sampled_from((0, 10_000_000)),
    ),
    adl=st.builds(
        AdlConfig,
        ranking=st.sampled_from(RANKINGS),
        close_price=st.sampled_from(("bankruptcy", "mark")),
        cap_ppb=st.just(500_000_000),
    ),
)


def _checks(venue: Venue, queued: list) -> None:
    """The per-step invariants beyond the harness's identity and open-interest checks."""
    engine = venue.liquidation

    def check(now: int) -> None:
        for account in venue.ledger.accounts.values():
            if account.size_lots or account.account_id in engine.jobs:
                continue
            if account.account_id in engine.venue_accounts:
                continue
            assert account.wallet >= 0 and account.isolated_margin >= 0, account

    engine.after_step.append(check)
    engine.waterfall.ranker = _RecordingRanker(engine.waterfall.ranker, engine, queued)
    engine.waterfall.adl_book = _RecordingBook(engine.waterfall.adl_book, engine, queued)


class _RecordingBook:
    """Wraps the AdlBook: checks and records every queue head the waterfall asks for."""

    def __init__(self, book, engine, queued: list) -> None:
        self.book = book
        self.engine = engine
        self.queued = queued

    def queue_head(self, liquidated_side, size_lots, exclude, mark):
        result, candidates = self.book.queue_head(liquidated_side, size_lots, exclude, mark)
        ranking = self.book.ranker.config.ranking
        for entry in result:
            candidate = candidates[entry.account_id]
            assert candidate.size_lots * liquidated_side < 0
            if PROFITABLE_ONLY[ranking]:
                assert candidate.unrealised_pnl > 0
            assert entry.account_id not in self.engine.venue_accounts
        self.queued.append(
            {entry.account_id: candidates[entry.account_id].size_lots for entry in result}
        )
        return result, candidates


class _RecordingRanker:
    """Wraps the AdlRanker: checks and records every queue the waterfall asks for."""

    def __init__(self, ranker, engine, queued: list) -> None:
        self.ranker = ranker
        self.engine = engine
        self.queued = queued
        self.config = ranker.config

    def __getattr__(self, name):
        return getattr(self.ranker, name)

    def queue(self, candidates, liquidated_side):
        return self._record(candidates, liquidated_side, self.ranker.queue)

    def queue_head(self, candidates, liquidated_side, size_lots):
        def head(chosen, side):
            return self.ranker.queue_head(chosen, side, size_lots)

        return self._record(candidates, liquidated_side, head)

    def _record(self, candidates, liquidated_side, build):
        candidates = list(candidates)
        result = build(candidates, liquidated_side)
        by_id = {c.account_id: c for c in candidates}
        for entry in result:
            candidate = by_id[entry.account_id]
            assert candidate.size_lots * liquidated_side < 0
            if PROFITABLE_ONLY[self.config.ranking]:
                assert candidate.unrealised_pnl > 0
            assert entry.account_id not in self.engine.venue_accounts
        self.queued.append(
            {entry.account_id: by_id[entry.account_id].size_lots for entry in result}
        )
        return result


@settings(max_examples=200, deadline=None)
@given(
    config=liquidation,
    pairs=st.lists(pair, min_size=1, max_size=6),
    bids=st.lists(st.tuples(st.integers(850, 1_000), st.integers(1, 30)), max_size=6),
    asks=st.lists(st.tuples(st.integers(1_000, 1_150), st.integers(1, 30)), max_size=6),
    marks=st.lists(st.integers(850, 1_150), min_size=1, max_size=6),
    fund=st.integers(0, 5_000),
    taker_fee=st.sampled_from((0, 500_000)),
)
def test_invariants_hold_after_every_liquidation_step(
    config, pairs, bids, asks, marks, fund, taker_fee
):
    """Random accounts (cross and isolated, both sides), a random thin book and random mark
    shocks, under every policy and waterfall: see the module docstring for the invariants."""
    fees = {"maker_fee_ppb": rate(taker_fee // 2), "taker_fee_ppb": rate(taker_fee)}
    venue = Venue(config, fund=fund, fees=fees)
    queued: list = []
    _checks(venue, queued)
    for i, (lots, price, long_wallet, short_wallet, long_iso, short_iso) in enumerate(pairs):
        venue.account(10 + 2 * i, long_wallet, long_iso)
        venue.account(11 + 2 * i, short_wallet, short_iso)
        venue.pair(10 + 2 * i, 11 + 2 * i, lots, price)
    for price, lots in bids:
        venue.quote(1, price, lots)
    for price, lots in asks:
        venue.quote(-1, price, lots)
    for k, mark in enumerate(marks):
        venue.index_at(k * 2 * S, mark)
    venue.run((2 * len(marks) + 8) * S)
    assert venue.identity_checks > 0 or not venue.events("liquidation_started")
    left, right = venue.liquidation.money_identity()
    assert left == right
    venue.assert_events_valid()
    # Every ADL drew a queued, opposite position and only reduced it (never flipped it).
    for adl in venue.events("adl"):
        assert any(adl["account"] in q for q in queued)
        fills = [e for e in venue.events("position") if e["cause"] == adl["seq"]]
        target = next(e for e in fills if e["account_id"] == adl["account"])
        source = next(e for e in fills if e["account_id"] == adl["counterparty"])
        assert target["side"] == -source["side"]
        before = target["position_lots"] - target["side"] * adl["size"]
        assert before * source["side"] > 0 or before == 0
        assert target["position_lots"] * before >= 0
    assert venue.state(MAKER)[2] > 0
