"""ADL rankings: BitMEX W10, and hand-computed BitMEX, Binance and Hyperliquid queues."""

from __future__ import annotations

import pytest

from exchange_sim.config.loader import load_section
from exchange_sim.core.errors import ConfigError
from exchange_sim.events.log import MemoryLog
from exchange_sim.liquidation import event_types
from exchange_sim.liquidation.adl import (
    AdlCandidate,
    AdlConfig,
    AdlRanker,
    AdlScore,
    allocate_ranked,
    binance_score,
    bitmex_score,
    emit_adl,
    hyperliquid_score,
    queue_percentiles,
    rank_by_score,
)
from exchange_sim.liquidation.insurance_fund import InsuranceFund
from exchange_sim.runner.event_catalog import validate_record

REGISTRY = {event.name: event for event in event_types.EVENTS}

# W10 (BitMEX, exchange_mechanics.md §9): account -> (quantity, score).
W10 = {1: (10, 3), 2: (10, 6), 3: (20, 1), 4: (30, 4), 5: (20, 5), 6: (10, 2)}


def candidate(account_id, size, entry_price, mark, bankruptcy=0, mptl=1, **money):
    """A candidate whose entry notional and unrealised PnL are consistent with its prices."""
    entry_notional = entry_price * abs(size) * mptl
    sign = 1 if size > 0 else -1
    upnl = sign * (mark * abs(size) * mptl - entry_notional)
    fields = {
        "wallet_balance": 0,
        "maintenance_margin": 0,
        "account_value": 1,
        "unrealised_pnl": upnl,
    }
    fields.update(money)
    return AdlCandidate(
        account_id=account_id,
        size_lots=size,
        entry_notional=entry_notional,
        mark_price_ticks=mark,
        bankruptcy_price_ticks=bankruptcy,
        **fields,
    )


def ids(queue):
    return [entry.account_id for entry in queue]


def w10_queue():
    return rank_by_score((a, qty, AdlScore(score, 1)) for a, (qty, score) in W10.items())


def test_w10_queue_order_from_given_scores():
    """BitMEX W10: scores 3, 6, 1, 4, 5, 2 give the queue 2, 5, 4, 1, 6, 3."""
    assert ids(w10_queue()) == [2, 5, 4, 1, 6, 3]


def test_w10_queue_indicator_percentiles():
    """BitMEX W10: the indicator reads 20, 40, 60, 80, 80, 100 % down the queue."""
    assert queue_percentiles(w10_queue()) == [20, 40, 60, 80, 80, 100]


def test_w10_allocation_of_a_short_of_20_at_650():
    """BitMEX W10: a short of 20 bankrupt at 650 closes all 10 of account 2 and 10 of account 5."""
    queue = w10_queue()
    ranker = AdlRanker(AdlConfig(close_price="bankruptcy"), money_per_tick_lot=1, money_decimals=0)
    price = ranker.close_price_ticks(bankruptcy_price_ticks=650, mark_price_ticks=700)
    allocations = allocate_ranked(queue, 20)
    assert allocations == [(2, 10), (5, 10)]
    assert price == 650
    left = {a: qty for a, (qty, _) in W10.items()}
    for account, lots in allocations:
        left[account] -= lots
    assert left[5] == 10 and left[2] == 0


def test_w10_scores_from_bitmex_formula():
    """Longs built so PnL% = 1 and EffLev = k score exactly k; the queue is W10's.

    Per lot: entry 30, mark 60, so PnL% = (60 - 30)/30 = 1; EffLev = 60/(60 - B) = k needs
    B = 60 - 60/k: k = 1..6 -> B = 0, 30, 40, 45, 48, 50.
    """
    bankruptcy_for_score = {1: 0, 2: 30, 3: 40, 4: 45, 5: 48, 6: 50}
    candidates = [
        candidate(a, qty, 30, 60, bankruptcy_for_score[score]) for a, (qty, score) in W10.items()
    ]
    for c in candidates:
        assert bitmex_score(c, 1) == AdlScore(W10[c.account_id][1], 1)
    ranker = AdlRanker(AdlConfig(ranking="bitmex"), money_per_tick_lot=1, money_decimals=0)
    assert ids(ranker.queue(candidates, liquidated_side=-1)) == [2, 5, 4, 1, 6, 3]


def test_bitmex_ranks_longs_including_a_loser_last():
    """BitMEX, hand-computed (money_per_tick_lot 10); the short of account 5 is not opposite."""
    candidates = [
        # M = 2*120*10 = 2400, E = 2000, B = 1800: PnL% = 400/2000 = 1/5, EffLev = 2400/600 = 4
        candidate(1, 2, 100, 120, 90, mptl=10),  # 4/5
        # M = 1200, E = 1100, B = 1000: PnL% = 1/11, EffLev = 1200/200 = 6
        candidate(2, 1, 110, 120, 100, mptl=10),  # 6/11
        # M = 4800, E = 5200, B = 4000: PnL% = -1/13, EffLev = 6 -> -1/13 / 6
        candidate(3, 4, 130, 120, 100, mptl=10),  # -1/78
        # M = 3600, E = 1800, B = 600: PnL% = 1, EffLev = 3600/3000 = 6/5
        candidate(4, 3, 60, 120, 20, mptl=10),  # 6/5
        candidate(5, -2, 100, 120, 150, mptl=10),
    ]
    expected = {1: AdlScore(4, 5), 2: AdlScore(6, 11), 3: AdlScore(-1, 78), 4: AdlScore(6, 5)}
    ranker = AdlRanker(AdlConfig(ranking="bitmex"), money_per_tick_lot=10, money_decimals=2)
    queue = ranker.queue(candidates, liquidated_side=-1)
    assert ids(queue) == [4, 1, 2, 3]
    assert {e.account_id: e.score for e in queue} == expected


def test_bitmex_short_signs():
    """BitMEX shorts use signed values: a short's profit and cushion come out positive.

    7: M = -2*80*10 = -1600, E = -2000, B = -2200: PnL% = 400/2000 = 1/5, EffLev = 1600/600
       = 8/3, score 8/15. 8: M = -800, E = -900, B = -950: PnL% = 1/9, EffLev = 800/150 = 16/3,
       score 16/27 > 8/15.
    """
    shorts = [candidate(7, -2, 100, 80, 110, mptl=10), candidate(8, -1, 90, 80, 95, mptl=10)]
    assert bitmex_score(shorts[0], 10) == AdlScore(8, 15)
    assert bitmex_score(shorts[1], 10) == AdlScore(16, 27)
    ranker = AdlRanker(AdlConfig(ranking="bitmex"), money_per_tick_lot=10, money_decimals=2)
    assert ids(ranker.queue(shorts, liquidated_side=1)) == [8, 7]


def test_bitmex_profitable_position_past_bankruptcy_ranks_first():
    """Mark at the bankruptcy price means infinite effective leverage: +inf for a profit."""
    c = candidate(1, 1, 50, 60, 60)
    assert bitmex_score(c, 1) == AdlScore(1, 0)
    assert str(bitmex_score(c, 1)) == "1/0"


def test_equal_scores_break_ties_by_lower_account_id():
    """Two identical positions queue by account id, whatever their input order."""
    candidates = [candidate(9, 1, 100, 120, 90), candidate(4, 1, 100, 120, 90)]
    ranker = AdlRanker(AdlConfig(ranking="bitmex"), money_per_tick_lot=1, money_decimals=0)
    assert ids(ranker.queue(candidates, liquidated_side=-1)) == [4, 9]


def test_binance_leverage_pnl_ranking():
    """Binance LeveragePnl, hand-computed; money_decimals 2 so max(1, WB) floors WB at 100.

    1: 200/1000 * 60/1200 = 1/100. 2: 100/max(100, 50) * 30/150 = 1/5. 3: 100/400 * 50/500
    = 1/40. 4: a loss, not eligible. 5: WB + UPnL = -100 <= 0 so MarginRatio 0: score 0.
    """

    def shorts(account_id, wallet, upnl, mm):
        return AdlCandidate(
            account_id=account_id,
            size_lots=-1,
            entry_notional=1000,
            mark_price_ticks=1000,
            wallet_balance=wallet,
            unrealised_pnl=upnl,
            maintenance_margin=mm,
            bankruptcy_price_ticks=2000,
            account_value=wallet + upnl,
        )

    candidates = [
        shorts(1, 1000, 200, 60),
        shorts(2, 50, 100, 30),
        shorts(3, 400, 100, 50),
        shorts(4, 1000, -50, 10),
        shorts(5, -300, 200, 10),
    ]
    assert [binance_score(c, 100) for c in candidates[:3]] == [
        AdlScore(1, 100),
        AdlScore(1, 5),
        AdlScore(1, 40),
    ]
    ranker = AdlRanker(AdlConfig(ranking="binance"), money_per_tick_lot=1, money_decimals=2)
    queue = ranker.queue(candidates, liquidated_side=1)
    assert ids(queue) == [2, 3, 1, 5]
    assert queue[-1].score == AdlScore(0, 1)


def test_hyperliquid_ranking_of_longs():
    """Hyperliquid (mark/entry) * (notional/AV), hand-computed; the losing long is excluded.

    1: 110/100 * 1100/500 = 121/50. 2: 110/100 * 550/100 = 121/20. 3: 110/105 * 2200/4400
    = 11/21. 4: entry 120 > mark 110, a loss.
    """
    candidates = [
        candidate(1, 10, 100, 110, account_value=500),
        candidate(2, 5, 100, 110, account_value=100),
        candidate(3, 20, 105, 110, account_value=4400),
        candidate(4, 10, 120, 110, account_value=1000),
    ]
    scores = [hyperliquid_score(c, 1) for c in candidates[:3]]
    assert scores == [AdlScore(121, 50), AdlScore(121, 20), AdlScore(11, 21)]
    ranker = AdlRanker(AdlConfig(ranking="hyperliquid"), money_per_tick_lot=1, money_decimals=0)
    assert ids(ranker.queue(candidates, liquidated_side=-1)) == [2, 1, 3]


def test_hyperliquid_ranking_of_shorts_uses_entry_over_mark():
    """Shorts score (entry/mark) * (notional/AV), hand-computed.

    5: 100/90 * 900/300 = 10/3. 6: 95/90 * 360/95 = 4. 7: 100/90 * 180/80 = 5/2.
    """
    candidates = [
        candidate(5, -10, 100, 90, account_value=300),
        candidate(6, -4, 95, 90, account_value=95),
        candidate(7, -2, 100, 90, account_value=80),
    ]
    scores = [hyperliquid_score(c, 1) for c in candidates]
    assert scores == [AdlScore(10, 3), AdlScore(4, 1), AdlScore(5, 2)]
    ranker = AdlRanker(AdlConfig(ranking="hyperliquid"), money_per_tick_lot=1, money_decimals=0)
    assert ids(ranker.queue(candidates, liquidated_side=1)) == [6, 5, 7]


def test_pro_rata_queue_is_profitable_opposite_positions_by_account():
    """pro_rata: profitable opposite positions only, in account order, scored by size."""
    candidates = [
        candidate(3, -5, 100, 90),
        candidate(1, -2, 100, 90),
        candidate(2, -4, 80, 90),  # a losing short
        candidate(4, 6, 80, 90),  # same side as the bankrupt long
    ]
    ranker = AdlRanker(AdlConfig(ranking="pro_rata"), money_per_tick_lot=1, money_decimals=0)
    queue = ranker.queue(candidates, liquidated_side=1)
    assert ids(queue) == [1, 3]
    assert [e.score for e in queue] == [AdlScore(2, 1), AdlScore(5, 1)]


def test_close_price_mark_choice():
    """close_price = mark closes ADL at the mark price (OKX, Hyperliquid)."""
    ranker = AdlRanker(AdlConfig(close_price="mark"), money_per_tick_lot=1, money_decimals=0)
    assert ranker.close_price_ticks(bankruptcy_price_ticks=650, mark_price_ticks=700) == 700


def test_trigger_fund_exhausted():
    """fund_exhausted: an empty fund, or one that cannot pay the loss, triggers ADL."""
    ranker = AdlRanker(AdlConfig(trigger="fund_exhausted"), money_per_tick_lot=1, money_decimals=0)
    assert ranker.triggered(InsuranceFund(balance=0), now=0)
    assert ranker.triggered(InsuranceFund(balance=100), now=0, required=150)
    assert not ranker.triggered(InsuranceFund(balance=100), now=0, required=50)


def test_trigger_fund_drawdown_fires_on_drawdown_only_when_configured():
    """A 30 % fall from peak within 8 h triggers ADL under fund_drawdown, not fund_exhausted."""
    fund = InsuranceFund(balance=1000)
    fund.cover(ts=10, amount=300)
    drawdown = AdlRanker(AdlConfig(trigger="fund_drawdown"), money_per_tick_lot=1, money_decimals=0)
    exhausted = AdlRanker(
        AdlConfig(trigger="fund_exhausted"), money_per_tick_lot=1, money_decimals=0
    )
    assert drawdown.triggered(fund, now=10)
    assert not exhausted.triggered(fund, now=10)


def test_emit_adl_events_match_schema():
    """emit_adl writes one declared `adl` event per allocation with rank and exact score, and
    the deleveraged position as it was ranked (size, entry, mark, unrealised PnL, equity)."""
    log = MemoryLog()
    queue = w10_queue()
    ranked = {
        2: candidate(2, 10, 600, 700, wallet_balance=50, account_value=1050),
        5: candidate(5, 20, 680, 700, wallet_balance=70, account_value=470),
    }
    emit_adl(
        log,
        5,
        3,
        counterparty=99,
        queue=queue,
        allocations=[(2, 10), (5, 10)],
        price_ticks=650,
        candidates=ranked,
    )
    events = log.of_type("adl")
    assert [(e["account"], e["size"], e["rank"], e["score"]) for e in events] == [
        (2, 10, 1, "6/1"),
        (5, 10, 2, "5/1"),
    ]
    assert [
        (e["position_lots"], e["entry_notional"], e["mark_price"], e["unrealised_pnl"], e["equity"])
        for e in events
    ] == [(10, 6000, 700, 1000, 1050), (20, 13600, 700, 400, 470)]
    assert all(validate_record(e, REGISTRY) is None for e in events)


def test_config_loads_user_units_and_rejects_unknown_ranking():
    """AdlConfig reads rates and durations in user units and rejects a ranking not offered."""
    config = load_section(
        AdlConfig,
        {"ranking": "capped_pro_rata", "cap_ppb": "0.25", "drawdown_window": "8h"},
        "liquidation.adl",
        None,
    )
    assert (config.cap_ppb, config.drawdown_window) == (250_000_000, 8 * 3600 * 10**9)
    with pytest.raises(ConfigError, match=r"liquidation\.adl\.ranking"):
        load_section(AdlConfig, {"ranking": "lottery"}, "liquidation.adl", None)
