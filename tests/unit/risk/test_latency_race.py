"""The latency race: price move -> margin check -> margin call -> trader's reaction."""

from __future__ import annotations

from tests.unit.risk.harness import MS, Venue

# Long 100 lots at 10,000 with 20,000 of wallet (m = 1, MM 1 %): equity(P) = 100 P - 980,000,
# MM(P) = P, so the liquidation price is ceil(980,000 / 99) = 9,899: safe at 9,899, liquidatable
# at 9,898. The mark falls one tick every 10 ms from 10,000: it reaches 9,898 at 1,020 ms.


def _run(check_latency_ns: int) -> dict:
    venue = Venue(check_latency_ns=check_latency_ns)
    account = venue.long(1, 100, 10_000, 20_000)
    assert account.liquidation_price == 9_899
    venue.falling(10_000, 1, 10 * MS, 400, 9_700)
    venue.env.run()
    (triggered,) = venue.events("liquidation_triggered")
    return triggered


def test_zero_check_latency_catches_the_account_at_its_formula_price():
    """With no check latency the account is caught at the first mark past its liquidation price."""
    triggered = _run(0)
    assert triggered["ts"] == 1_020 * MS
    assert triggered["mark_price"] == 9_898
    # equity 100 x 9,898 - 980,000 = 9,800; MM 9,898; shortfall 98.
    assert (triggered["equity"], triggered["maintenance_margin"], triggered["shortfall"]) == (
        9_800,
        9_898,
        98,
    )


def test_slow_check_catches_the_account_later_at_a_worse_mark_with_a_larger_shortfall():
    """With 500 ms check latency the same account is caught 500 ms later, 50 ticks lower."""
    fast, slow = _run(0), _run(500 * MS)
    assert slow["ts"] == 1_520 * MS
    assert slow["mark_price"] == 9_848
    # equity 100 x 9,848 - 980,000 = 4,800; MM 9,848; shortfall 5,048.
    assert slow["shortfall"] == 5_048 > fast["shortfall"]


def test_check_at_trigger_time_uses_the_crossing_mark():
    """check_price = trigger_time uses the mark that crossed, not the later one."""
    venue = Venue(check_latency_ns=500 * MS, check_price="trigger_time")
    venue.long(1, 100, 10_000, 20_000)
    venue.falling(10_000, 1, 10 * MS, 400, 9_700)
    venue.env.run()
    (check,) = [c for c in venue.events("margin_check") if c["outcome"] == "liquidate"]
    assert (check["ts"], check["mark_price"], check["trigger_mark_price"]) == (
        1_520 * MS,
        9_898,
        9_898,
    )


def _margin_call_race(reaction_ns: int) -> Venue:
    # Margin call at equity < 1.5 x MM: 100 P - 980,000 < 1.5 P  =>  P < 9,949.2, so the call
    # price is 9,950 and the mark crosses it (9,949) at 510 ms; the call arrives 100 ms later.
    venue = Venue(check_latency_ns=0, notify_latency_ns=100 * MS)
    venue.long(1, 100, 10_000, 20_000)
    assert venue.ledger.accounts[1].margin_call_price == 9_950

    def top_up(account_id, call_seq, *_notice_and_delay):
        venue.env.call_at(
            100 * MS + reaction_ns,
            70,
            lambda _e: venue.ledger.deposit(venue.env.now, account_id, 20_000, call_seq),
        )

    venue.risk.deliver_margin_call = top_up
    # The mark bottoms at 9,800: with 40,000 of wallet the liquidation price drops to
    # ceil(960,000 / 99) = 9,697, so a timely top-up saves the position.
    venue.falling(10_000, 1, 10 * MS, 400, 9_800)
    venue.env.run()
    return venue


def test_fast_trader_tops_up_in_time_and_survives():
    """A 100 ms reaction tops up at 710 ms, before the 1,020 ms crossing: no liquidation."""
    venue = _margin_call_race(100 * MS)
    (call,) = venue.events("margin_call")
    assert (call["ts"], call["deliver_at"]) == (510 * MS, 610 * MS)
    (deposit,) = [d for d in venue.events("deposit") if d["cause"] is not None]
    assert deposit["ts"] == 710 * MS and deposit["cause"] == call["seq"]
    assert venue.events("liquidation_triggered") == []


def test_slow_trader_tops_up_too_late():
    """A 1 s reaction arrives at 1,610 ms: the account was handed to liquidation at 1,020 ms."""
    venue = _margin_call_race(1_000 * MS)
    (triggered,) = venue.events("liquidation_triggered")
    (deposit,) = [d for d in venue.events("deposit") if d["cause"] is not None]
    assert triggered["ts"] == 1_020 * MS < deposit["ts"] == 1_610 * MS


def test_margin_call_is_repeated_once_per_cooldown_while_under_the_level():
    """While the mark lingers under the call level, the account is called once per cooldown."""
    venue = Venue(check_latency_ns=0, notify_latency_ns=0, margin_call_cooldown=10_000 * MS)
    venue.long(1, 100, 10_000, 20_000)
    # Falls to 9,940 (under the call level 9,950, above liquidation), wobbling for 5 s, then stays.
    points = [(0, 10_000), (100 * MS, 9_940)] + [
        (t * 100 * MS, 9_940 + t % 2) for t in range(2, 50)
    ]
    venue.mark.schedule(points)
    venue.env.run(until=30_000 * MS)
    assert [c["ts"] for c in venue.events("margin_call")] == [100 * MS, 10_100 * MS, 20_100 * MS]


def test_withdrawal_moves_the_trigger_so_the_account_is_caught_on_time():
    """After a withdrawal raises the liquidation price, the index catches the account at the
    new price (9,898), not at the stale one from before the withdrawal."""
    venue = Venue()
    venue.long(1, 100, 10_000, 40_000)
    venue.env.call_at(1, 70, lambda _e: venue.ledger.withdraw(1, 1, 20_000, None))
    venue.falling(10_000, 1, 10 * MS, 400, 9_600)
    venue.env.run()
    (triggered,) = venue.events("liquidation_triggered")
    assert triggered["mark_price"] == 9_898


def test_trigger_time_check_rechecks_when_the_mark_has_moved_past_the_line():
    """A trigger-time check that finds only a margin call schedules another check (one more check
    latency) when the current mark already liquidates the account, though the mark stays flat."""
    venue = Venue(check_latency_ns=500 * MS, check_price="trigger_time")
    venue.long(1, 100, 10_000, 20_000)
    venue.mark.schedule([(0, 10_000), (100 * MS, 9_940), (200 * MS, 9_000)])
    venue.env.run(until=10_000 * MS)
    (triggered,) = venue.events("liquidation_triggered")
    # Crossed at 100 ms (call level), checked at 600 ms at 9,940 (margin call), re-checked at
    # 1,100 ms at the current 9,000.
    assert (triggered["ts"], triggered["mark_price"]) == (1_100 * MS, 9_000)


def test_step_tier_long_is_caught_when_a_rise_lifts_its_maintenance_rate():
    """BitMEX step limits: a long whose notional rises across a step takes the higher rate on the
    whole position; the monitor checks it there and liquidates it on the way *up*."""
    from exchange_sim.accounts.ledger import FeeSchedule, Ledger
    from exchange_sim.accounts.margin import StepRiskLimit
    from exchange_sim.risk.config import RiskConfig
    from exchange_sim.risk.monitor import RiskMonitor
    from tests.unit.risk.harness import sampler

    venue = Venue()
    # Base limit 1,000,000 (m = 1), step 500,000, MM 1 % then 2 %. Long 100 at 9,900 with a wallet
    # of 9,950: safe at 9,900 (equity 9,950 >= MM 9,900); at 10,000 the notional is 1,000,000,
    # the rate 2 %: equity 19,950 < MM 20,000.
    tiers = StepRiskLimit.build(1_000_000, 500_000, 10_000_000, 20_000_000)
    venue.ledger = Ledger(venue.log, 1, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    venue.ledger.mark_price = lambda: venue.mark.price
    venue.mark.listeners.clear()
    venue.risk = RiskMonitor(
        venue.env, venue.log, RiskConfig(), venue.ledger, venue.mark, sampler(0), sampler(0)
    )
    venue.wire()
    account = venue.long(1, 100, 9_900, 9_950)
    assert account.tier_step_price == 10_000
    venue.mark.schedule([(0, 9_900), (100 * MS, 9_950), (200 * MS, 10_000)])
    venue.env.run()
    (triggered,) = venue.events("liquidation_triggered")
    assert (triggered["ts"], triggered["mark_price"]) == (200 * MS, 10_000)
