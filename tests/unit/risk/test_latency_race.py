"""The latency race: price move -> margin check -> margin call -> trader's reaction."""

from __future__ import annotations

from exchange_sim.kernel.environment import Phase
from exchange_sim.venue.messages import Deposit, Withdraw
from tests.unit.risk.harness import MS, Quiet, Venue

# Long 100 lots at 10,000 with 20,000 of wallet (m = 1, MM 1 %): equity(P) = 100 P - 980,000,
# MM(P) = P, so the liquidation price is ceil(980,000 / 99) = 9,899: safe at 9,899, liquidatable
# at 9,898. The mark falls one tick every 10 ms from 10,000: it reaches 9,898 at 1,020 ms.
# Account 10 (the venue's insurance fund holds account 1).
LONG = 10
END = 5_000 * MS  # the fall ends at 9,700 at 3 s (or at its floor earlier)


def _run(check_latency_ns: int) -> dict:
    venue = Venue(check_latency_ns=check_latency_ns)
    account = venue.long(LONG, 100, 10_000, 20_000)
    assert account.liquidation_price == 9_899
    venue.falling(10_000, 1, 10 * MS, 400, 9_700)
    venue.run(END)
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
    venue.long(LONG, 100, 10_000, 20_000)
    venue.falling(10_000, 1, 10 * MS, 400, 9_700)
    venue.run(END)
    (check,) = [c for c in venue.events("margin_check") if c["outcome"] == "liquidate"]
    assert (check["ts"], check["mark_price"], check["trigger_mark_price"]) == (
        1_520 * MS,
        9_898,
        9_898,
    )


# --- a trader answering a margin call through the gateway -----------------------------------------

REACTION = 100 * MS
TOP_UP = 20_000


class TopUpTrader:
    """Answers a margin call ``reaction_ns`` after it arrives with a ``top_up`` deposit sent
    through the gateway (its cause: the margin call)."""

    def __init__(self, venue: Venue, account_id: int, reaction_ns: int, amount: int) -> None:
        self.venue = venue
        self.account_id = account_id
        self.reaction_ns = reaction_ns
        self.amount = amount
        self.calls: list[tuple[int, int]] = []

    def on_order_update(self, now, seq, update) -> None:
        pass

    def on_fill(self, now, seq, fill) -> None:
        pass

    def on_margin_call(self, now: int, seq: int, notice) -> None:
        self.calls.append((now, seq))
        self.venue.env.call_at(self.reaction_ns, Phase.AGENT, self._top_up, seq)

    def _top_up(self, call_seq: int) -> None:
        deposit = Deposit(self.amount, "top_up")
        self.venue.gateway.send(self.account_id, deposit, cause=call_seq)


def _margin_call_race(request_latency_ns: int) -> tuple[Venue, TopUpTrader]:
    # Margin call at equity < 1.5 x MM: 100 P - 980,000 < 1.5 P  =>  P < 9,949.2, so the call
    # price is 9,950 and the mark crosses it (9,949) at 510 ms. The mark bottoms at 9,800: with
    # 40,000 of wallet the liquidation price drops to ceil(960,000 / 99) = 9,697 (and the call
    # price to 9,747), so a top-up that arrives in time saves the position.
    venue = Venue(check_latency_ns=0, notify_latency_ns=100 * MS)
    venue.long(LONG, 100, 10_000, 20_000)
    assert venue.ledger.accounts[LONG].margin_call_price == 9_950
    trader = TopUpTrader(venue, LONG, REACTION, TOP_UP)
    venue.connect(trader, request_ns=request_latency_ns)
    venue.falling(10_000, 1, 10 * MS, 400, 9_800)
    venue.run(END)
    return venue, trader


def _top_up_event(venue: Venue) -> dict:
    (deposit,) = [d for d in venue.events("deposit") if d["purpose"] == "top_up"]
    return deposit


def test_a_top_up_slower_than_the_next_margin_check_is_liquidated():
    """Check latency 0, notify latency 100 ms, reaction 100 ms, request latency 320 ms.

    The mark crosses the call price at 510 ms: the check calls the margin at 510 ms, the call is
    delivered at 610 ms, the trader sends its 20,000 top-up at 710 ms and it arrives at
    710 + 320 = 1,030 ms. The next margin check of the account runs when the mark crosses the
    liquidation price, 9,898 at 1,020 ms (310 ms after the top-up left): still 20,000 of wallet,
    so it is handed to liquidation at 1,020 ms; the deposit lands 10 ms too late."""
    venue, trader = _margin_call_race(320 * MS)
    (call,) = venue.events("margin_call")
    assert (call["ts"], call["deliver_at"]) == (510 * MS, 610 * MS)
    assert trader.calls == [(610 * MS, call["seq"])]
    (triggered,) = venue.events("liquidation_triggered")
    assert (triggered["ts"], triggered["account_id"], triggered["mark_price"]) == (
        1_020 * MS,
        LONG,
        9_898,
    )
    deposit = _top_up_event(venue)
    assert (deposit["ts_sent"], deposit["ts"], deposit["cause"]) == (
        710 * MS,
        1_030 * MS,
        call["seq"],
    )
    assert venue.risk.in_liquidation == {LONG}


def test_a_top_up_faster_than_the_next_margin_check_saves_the_account():
    """The same race with a request latency of 300 ms: sent at 710 ms, the top-up arrives at
    1,010 ms (MATCH phase), while the mark is still 9,899, 10 ms before it would cross 9,899.
    With 40,000 of wallet the liquidation price is 9,697, below the 9,800 floor: no later margin
    check, no liquidation."""
    venue, _ = _margin_call_race(300 * MS)
    (call,) = venue.events("margin_call")
    deposit = _top_up_event(venue)
    assert (deposit["ts_sent"], deposit["ts"], deposit["cause"]) == (
        710 * MS,
        1_010 * MS,
        call["seq"],
    )
    assert deposit["wallet"] == 40_000
    assert venue.ledger.accounts[LONG].liquidation_price == 9_697
    assert [c["ts"] for c in venue.events("margin_check")] == [510 * MS]
    assert venue.events("liquidation_triggered") == []


# --- margin-call cooldown and re-arming ------------------------------------------------------


def test_margin_call_is_repeated_once_per_cooldown_while_under_the_level():
    """While the mark lingers under the call level, the account is called once per cooldown."""
    venue = Venue(check_latency_ns=0, notify_latency_ns=0, margin_call_cooldown="10s")
    venue.long(LONG, 100, 10_000, 20_000)
    # Falls to 9,940 (under the call level 9,950, above liquidation), wobbling for 5 s, then stays.
    points = [(0, 10_000), (100 * MS, 9_940)] + [
        (t * 100 * MS, 9_940 + t % 2) for t in range(2, 50)
    ]
    venue.schedule(points)
    venue.run(30_000 * MS)
    assert [c["ts"] for c in venue.events("margin_call")] == [100 * MS, 10_100 * MS, 20_100 * MS]


def test_withdrawal_moves_the_trigger_so_the_account_is_caught_on_time():
    """After a withdrawal raises the liquidation price, the index catches the account at the
    new price (9,898), not at the stale one from before the withdrawal."""
    venue = Venue()
    venue.long(LONG, 100, 10_000, 40_000)
    venue.connect(Quiet(LONG))
    venue.send_at(1, LONG, Withdraw(20_000))
    venue.falling(10_000, 1, 10 * MS, 400, 9_600)
    venue.run(END)
    (withdrawal,) = venue.events("withdrawal")
    assert withdrawal["ts"] == 1
    (triggered,) = venue.events("liquidation_triggered")
    assert triggered["mark_price"] == 9_898


def test_trigger_time_check_rechecks_when_the_mark_has_moved_past_the_line():
    """A trigger-time check that finds only a margin call schedules another check (one more check
    latency) when the current mark already liquidates the account, though the mark stays flat."""
    venue = Venue(check_latency_ns=500 * MS, check_price="trigger_time")
    venue.long(LONG, 100, 10_000, 20_000)
    venue.schedule([(0, 10_000), (100 * MS, 9_940), (200 * MS, 9_000)])
    venue.run(10_000 * MS)
    (triggered,) = venue.events("liquidation_triggered")
    # Crossed at 100 ms (call level), checked at 600 ms at 9,940 (margin call), re-checked at
    # 1,100 ms at the current 9,000.
    assert (triggered["ts"], triggered["mark_price"]) == (1_100 * MS, 9_000)


def test_step_tier_long_is_caught_when_a_rise_lifts_its_maintenance_rate():
    """BitMEX step limits: a long whose notional rises across a step takes the higher rate on the
    whole position; the monitor checks it there and liquidates it on the way *up*."""
    # Base limit 1,000,000 (m = 1), step 500,000, MM 1 % then 2 %. Long 100 at 9,900 with a wallet
    # of 9,950: safe at 9,900 (equity 9,950 >= MM 9,900); at 10,000 the notional is 1,000,000,
    # the rate 2 %: equity 19,950 < MM 20,000.
    steps = {
        "kind": "step",
        "base_risk_limit": 1_000_000,
        "step": 500_000,
        "base_maintenance_rate": "0.01",
        "base_initial_rate": "0.02",
    }
    venue = Venue(margin=steps)
    account = venue.long(LONG, 100, 9_900, 9_950)
    assert account.tier_step_price == 10_000
    venue.schedule([(0, 9_900), (100 * MS, 9_950), (200 * MS, 10_000)])
    venue.run(1_000 * MS)
    (triggered,) = venue.events("liquidation_triggered")
    assert (triggered["ts"], triggered["mark_price"]) == (200 * MS, 10_000)
