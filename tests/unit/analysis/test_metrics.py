"""Liquidation-side run metrics on hand-written logs: each expected value is worked out in the test.

Scale (see ``test_metrics_script``): tick 0.5, lot 0.1, 2 money decimals, ``m = 5`` minor units
per tick-lot, so ``notional = lots x ticks x 5`` minor units and money in user units is minor/100.
"""

from __future__ import annotations

import json

from exchange_sim.analysis.metrics import compute_metrics
from tests.unit.analysis.test_metrics_script import MS, SCALE, S, Script


def test_liquidations_count_and_trigger_notional_split_by_side():
    """Count and notional at trigger (|position| x trigger mark x m), split longs / shorts."""
    script = Script()
    script.trigger(1 * S, account=1, position=10, mark=100)  # long: 10 x 100 x 5 = 5000
    script.trigger(2 * S, account=2, position=-4, mark=120)  # short: 4 x 120 x 5 = 2400
    script.trigger(3 * S, account=1, position=6, mark=90)  # long again: 6 x 90 x 5 = 2700
    liq = script.metrics()["liquidations"]
    assert liq["count"] == 3
    assert liq["accounts"] == 2
    assert liq["notional_minor"] == 5000 + 2400 + 2700
    assert liq["notional"] == 101.0  # 10100 minor / 100
    assert liq["longs"] == {
        "count": 2,
        "size": 1.6,  # 16 lots x 0.1
        "size_lots": 16,
        "notional": 77.0,
        "notional_minor": 7700,
    }
    assert liq["shorts"]["count"] == 1
    assert liq["shorts"]["size_lots"] == 4
    assert liq["shorts"]["notional_minor"] == 2400


def test_outcomes_carry_the_notional_of_their_trigger_and_unfinished_ones_are_listed():
    """Each liquidation_finished counts under its outcome with the notional of the account's
    trigger; a liquidation still open when the log ends counts as ``unfinished``."""
    script = Script()
    script.trigger(1 * S, account=1, position=10, mark=100)  # 5000
    script.trigger(1 * S, account=2, position=-2, mark=100)  # 1000
    script.trigger(1 * S, account=3, position=4, mark=100)  # 2000
    script.finished(2 * S, account=1, outcome="closed")
    script.finished(2 * S, account=2, outcome="taken_over")
    by_outcome = script.metrics()["liquidations"]["by_outcome"]
    assert by_outcome == {
        "closed": {"count": 1, "notional": 50.0, "notional_minor": 5000},
        "taken_over": {"count": 1, "notional": 10.0, "notional_minor": 1000},
        "unfinished": {"count": 1, "notional": 20.0, "notional_minor": 2000},
    }


def test_book_closes_count_liquidated_accounts_fills_but_not_holder_unwinds():
    """closed_through_book sums liquidation fills of liquidated accounts; the fund's and the
    vault's unwind fills are reported apart."""
    script = Script()
    script.liq_fill(1 * S, account=1, purpose="reduce", price=98, size=3)  # 3 x 98 x 5 = 1470
    script.liq_fill(1 * S, account=1, purpose="reduce", price=97, size=2)  # 2 x 97 x 5 = 970
    script.liq_fill(2 * S, account=9, purpose="fund_unwind", price=96, size=5)  # 2400
    liq = script.metrics()["liquidations"]
    assert liq["closed_through_book"]["fills"] == 2
    assert liq["closed_through_book"]["size_lots"] == 5
    assert liq["closed_through_book"]["notional_minor"] == 1470 + 970
    assert liq["unwound_by_holders"]["fund_unwind"]["notional_minor"] == 2400
    assert liq["unwound_by_holders"]["vault_unwind"]["fills"] == 0


def test_takeovers_are_summed_per_holder_at_the_transfer_price():
    """taken_over: |position| x transfer price x m, in total and per holder."""
    script = Script()
    script.takeover(1 * S, 1, "insurance_fund", 9, position=4, price=95)  # 4 x 95 x 5 = 1900
    script.takeover(2 * S, 2, "vault", 8, position=-2, price=105)  # 2 x 105 x 5 = 1050
    taken = script.metrics()["liquidations"]["taken_over"]
    assert taken["count"] == 2
    assert taken["size_lots"] == 6
    assert taken["notional_minor"] == 1900 + 1050
    assert taken["by_holder"]["insurance_fund"]["notional_minor"] == 1900
    assert taken["by_holder"]["vault"]["size_lots"] == 2


def test_peak_liquidations_per_second_uses_whole_second_buckets_and_the_earliest_tie():
    """Triggers per bucket [k s, (k+1) s): 1 in second 0, 3 in second 1 (1 s, 1.2 s and one ns
    before 2 s), 3 in second 2 (2 s exactly, 2.5 s, 2.9 s): the tie keeps second 1."""
    script = Script()
    for ts in (500 * MS, 1 * S, 1200 * MS, 2 * S - 1, 2 * S, 2500 * MS, 2900 * MS):
        script.trigger(ts, account=1, position=1, mark=100)
    peak = script.metrics()["liquidations"]["peak_per_second"]
    assert peak == {"count": 3, "second_start": 1.0, "second_start_ns": 1 * S}


def _adl_script() -> Script:
    """Account 2 is short 10 lots from 100 (entry 10 x 100 x 5 = 5000); the mark is 90 when
    4 lots of it are deleveraged at 95 against liquidated account 1."""
    script = Script()
    script.position(1 * S, 2, -1, 100, 10, position=-10, entry=5000, wallet=20000)
    script.mark(2 * S, 90)
    adl = script.adl(3 * S, account=2, counterparty=1, size=4, price=95)
    script.position(3 * S, 1, -1, 95, 4, position=0, entry=0, wallet=0, cause=adl)
    # account 2 buys 4 back: basis removed 5000 x 4/10 = 2000, exit 4 x 95 x 5 = 1900,
    # realised (short) = 2000 - 1900 = 100; left: -6 lots, entry 3000.
    script.position(
        3 * S, 2, 1, 95, 4, position=-6, entry=3000, wallet=20100, realised=100, cause=adl
    )
    return script


def test_adl_count_notional_and_accounts():
    """adl: events, lots, size x price x m, distinct deleveraged accounts and counterparties."""
    adl = _adl_script().metrics()["adl"]
    assert adl["count"] == 1
    assert adl["size_lots"] == 4
    assert adl["notional_minor"] == 4 * 95 * 5  # 1900
    assert adl["notional"] == 19.0
    assert adl["accounts_hit"] == 1
    assert adl["counterparties"] == 1


def test_adl_pnl_of_the_deleveraged_account_before_and_at_the_close():
    """Before its first ADL: position x mark x m - signed entry = -10 x 90 x 5 + 5000 = 500.
    The closed part at the mark: -(4 x 90 x 5 - 2000) = 200; realised at the ADL price: 100."""
    adl = _adl_script().metrics()["adl"]
    assert adl["unrealised_pnl_before_minor"] == 500
    assert adl["unrealised_pnl_before"] == 5.0
    assert adl["accounts_in_profit_before"] == 1
    assert adl["accounts_in_loss_before"] == 0
    assert adl["closed_unrealised_pnl_minor"] == 200
    assert adl["realised_pnl_minor"] == 100


def test_fund_start_end_and_minimum_from_its_events():
    """start = first event's balance - delta; end = last balance; min over start and all
    balances, with its time; change and shortfall; deltas per reason."""
    script = Script()
    script.fund(1 * S, delta=100, balance=50100, reason="liquidation_fee")  # start 50000
    script.fund(2 * S, delta=-300, balance=49800, reason="cover", shortfall=25)
    script.fund(3 * S, delta=50, balance=49850, reason="liquidation_fee")
    fund = script.metrics(insurance_fund_initial_minor=1)["insurance_fund"]  # events win
    assert fund["start_source"] == "event"
    assert fund["start_minor"] == 50000
    assert fund["start"] == 500.0
    assert fund["end_minor"] == 49850
    assert fund["change_minor"] == -150
    assert fund["min_minor"] == 49800
    assert fund["min_time_ns"] == 2 * S
    assert fund["shortfall_minor"] == 25
    assert fund["by_reason"]["liquidation_fee"] == {
        "count": 2,
        "amount": 1.5,
        "amount_minor": 150,
    }
    assert fund["by_reason"]["cover"]["amount_minor"] == -300


def test_fund_without_events_starts_and_ends_at_the_configured_balance():
    """No insurance_fund event: start = end = min = the configured initial balance."""
    fund = Script().metrics(insurance_fund_initial_minor=50000)["insurance_fund"]
    assert fund["start_source"] == "config"
    assert (fund["start_minor"], fund["end_minor"], fund["min_minor"]) == (50000, 50000, 50000)
    assert fund["change_minor"] == 0
    assert Script().metrics()["insurance_fund"]["start_minor"] is None


def test_fund_positions_at_the_end_are_valued_at_the_final_mark():
    """The fund's account (a takeover's holder_account_id) holds 2 lots long from 95: entry
    2 x 95 x 5 = 950; at the final mark 90 its open PnL is 2 x 90 x 5 - 950 = -50."""
    script = Script()
    seq = script.takeover(1 * S, 1, "insurance_fund", 9, position=2, price=95)
    script.position(1 * S, 9, 1, 95, 2, position=2, entry=950, wallet=0, cause=seq)
    script.mark(2 * S, 90)
    held = script.metrics()["insurance_fund"]["positions_at_end"]
    assert held["accounts"] == [9]
    assert held["position_lots"] == 2
    assert held["position"] == 0.2
    assert held["entry_notional_minor"] == 950
    assert held["open_pnl_minor"] == -50
    assert held["open_pnl"] == -0.5


def test_vault_capital_cash_and_pnl_from_its_events():
    """capital = first event's cash - realised; the last event gives cash and realised PnL;
    the position left is valued at the final mark: -3 x 100 x 5 - (-3 x 110 x 5) = 150."""
    script = Script()
    seq = script.takeover(1 * S, 1, "vault", 8, position=-3, price=110)
    script.position(1 * S, 8, -1, 110, 3, position=-3, entry=1650, wallet=0, cause=seq)
    script.vault(1 * S, "takeover", 1, -3, 110, -3, cash=100010, realised=10, unrealised=0)
    script.vault(2 * S, "settle", 8, 0, None, -3, cash=99990, realised=-10, unrealised=30)
    script.mark(3 * S, 100)
    vault = script.metrics()["vault"]
    assert vault["capital_minor"] == 100000
    assert vault["cash_end_minor"] == 99990
    assert vault["cash_min_minor"] == 99990
    assert vault["cash_min_time_ns"] == 2 * S
    assert vault["realised_pnl_minor"] == -10
    assert vault["unrealised_pnl_logged_minor"] == 30
    assert vault["by_action"] == {"settle": 1, "takeover": 1}
    assert vault["positions_at_end"]["position_lots"] == -3
    assert vault["positions_at_end"]["open_pnl_minor"] == 150


def test_no_vault_events_means_no_vault_section():
    """A venue without a vault reports ``vault: null``."""
    assert Script().metrics()["vault"] is None


def test_bad_debt_recorded_covered_outstanding_and_clawbacks():
    """recorded = sum of bad_debt amounts; covered = sum of bad_debt_covered; outstanding = the
    last event's; clawback charges summed with their accounts."""
    script = Script()
    script.bad_debt(1 * S, account=1, amount=100, outstanding=100)
    script.bad_debt(2 * S, account=2, amount=50, outstanding=150)
    script.socialised(2 * S, account=5, amount=60)
    script.socialised(2 * S, account=6, amount=41)
    script.covered(2 * S, amount=100, outstanding=50)
    debt = script.metrics()["bad_debt"]
    assert debt["events"] == 2
    assert debt["accounts"] == 2
    assert debt["recorded_minor"] == 150
    assert debt["covered_minor"] == 100
    assert debt["outstanding_minor"] == 50
    assert debt["outstanding"] == 0.5
    assert debt["socialised"] == {
        "charges": 2,
        "accounts": 2,
        "charged": 1.01,
        "charged_minor": 101,
    }


def test_latency_percentiles_are_nearest_rank_on_the_stored_values():
    """Ten margin checks late by 1..10 ms (fed out of order): p50 is the 5th smallest (rank
    ceil(0.5 x 10) = 5), p90 the 9th, p99 the 10th (rank ceil(9.9) = 10), max 10 ms."""
    script = Script()
    for delay in (7, 3, 10, 1, 9, 2, 8, 5, 4, 6):
        script.margin_check(20 * S + delay * MS, 1, trigger_ts=20 * S, mark=100)
    delay = script.metrics()["latency"]["margin_check_delay"]
    assert delay["count"] == 10
    assert (delay["min_ns"], delay["p50_ns"], delay["p90_ns"], delay["p99_ns"]) == (
        1 * MS,
        5 * MS,
        9 * MS,
        10 * MS,
    )
    assert delay["max_ns"] == 10 * MS
    assert delay["p50"] == 0.005


def test_trigger_to_first_order_skips_unwinds_and_liquidations_that_sent_nothing():
    """Account 1: triggered at 1 s, a fund unwind order at 1.1 s is not its order, its first
    order at 1.5 s (0.5 s), a second one does not count. Account 2 recovers without an order,
    is triggered again at 3 s and sends at 3.25 s (0.25 s)."""
    script = Script()
    script.trigger(1 * S, account=1, position=1, mark=100)
    script.liq_order(1100 * MS, account=9, order_id=1, purpose="fund_unwind")
    script.liq_order(1500 * MS, account=1, order_id=2, purpose="reduce")
    script.liq_order(1700 * MS, account=1, order_id=3, purpose="reduce")
    script.trigger(2 * S, account=2, position=1, mark=100)
    script.finished(2200 * MS, account=2, outcome="recovered")
    script.trigger(3 * S, account=2, position=1, mark=100)
    script.liq_order(3250 * MS, account=2, order_id=4, purpose="reduce")
    first = script.metrics()["latency"]["trigger_to_first_order"]
    assert first["count"] == 2
    assert (first["min_ns"], first["max_ns"]) == (250 * MS, 500 * MS)


def test_queue_wait_and_backlog_come_from_liquidation_started():
    """queue_wait_ns as durations, backlog as plain counts."""
    script = Script()
    script.started(1 * S, 1, wait=200 * MS, backlog=0)
    script.started(1 * S, 2, wait=300 * MS, backlog=4)
    script.started(1 * S, 3, wait=900 * MS, backlog=2)
    latency = script.metrics()["latency"]
    assert latency["queue_wait"]["p50_ns"] == 300 * MS  # rank ceil(1.5) = 2
    assert latency["queue_wait"]["p50"] == 0.3
    assert latency["backlog"] == {"count": 3, "min": 0, "p50": 2, "p90": 4, "p99": 4, "max": 4}


def test_empty_latency_has_null_percentiles():
    """No samples: count 0 and every percentile null."""
    latency = Script().metrics()["latency"]["queue_wait"]
    assert latency["count"] == 0
    assert latency["p99"] is None and latency["p99_ns"] is None


def test_result_is_json_ready_deterministic_and_leaves_the_cascade_to_the_caller():
    """The result survives strict JSON, two computations are identical, ``cascade`` is None."""
    script = _adl_script()
    first = script.metrics()
    assert json.loads(json.dumps(first, allow_nan=False)) == first
    assert compute_metrics(iter(script.events), SCALE) == first
    assert first["cascade"] is None
