"""Stress-mitigation policies (``[stress]``) end to end: each against a scripted shock, with the
policy off and on, the invariant checker after every event (``run.check = "every-event"``).

The venue is the liquidation harness's (tick 1, lot 1, no decimals, 1 % maintenance, the
``index`` mark rule every 0.5 s driven by the test, no fees); the maker (9) rests bids.
"""

from __future__ import annotations

from itertools import pairwise

from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.liquidation.adl import AdlConfig
from exchange_sim.liquidation.config import LiquidationConfig, MarketPolicyConfig
from exchange_sim.matching.orders import Order
from exchange_sim.runner.api import load_config
from exchange_sim.venue.venue import Venue as RealVenue
from tests.scenario import liquidation_harness as harness
from tests.scenario.liquidation_harness import MAKER, S

MARKET = LiquidationConfig(policy=MarketPolicyConfig(), max_retries=0)


class StressVenue(harness.Venue):
    """The harness venue with a ``[stress]`` table, checked after every event."""

    def __init__(self, stress: dict, config=MARKET, fund: int = 10_000, interventions=()) -> None:
        risk = {"margin_call_ratio": 1, "verify_with_sweep": True}
        data = harness.config_data(config, fund=fund, risk=risk)
        data["stress"] = stress
        data["interventions"] = list(interventions)
        data["run"] = {"check": "every-event"}
        self.loaded = load_config(data)
        self.log = MemoryLog()
        self.venue = venue = RealVenue(self.loaded, self.log)
        self.env = venue.env
        self.ledger = venue.ledger
        self.engine = venue.engine
        self.mark = venue.mark
        self.risk = venue.risk
        self.liquidation = venue.liquidation
        self.fund = self.liquidation.fund
        self.vault = self.liquidation.vault
        self.fund_account = self.liquidation.waterfall.fund_account_id
        self._started = False
        self.ledger.open_account(MAKER, leverage=50)
        self.ledger.deposit(0, MAKER, 10**12, None)
        self.identity_checks = 0
        self.liquidation.after_step.append(self.check_identity)

    def run(self, until_ns: int) -> None:
        """Run with the invariant checker after every step that wrote an event."""
        if not self._started:
            self._started = True
            self.venue.start()
        self.venue._run_checked(until_ns)
        self.venue.invariants.check_state()

    def by_seq(self, seq: int) -> dict:
        return next(e for e in self.log.events if e["seq"] == seq)


def _closed(venue: StressVenue) -> list[int]:
    """Accounts whose liquidation closed at least part of a position on the book."""
    return sorted({e["account_id"] for e in venue.events("liquidation_fill")})


# --- circuit breaker --------------------------------------------------------------------------


def _wick(stress: dict, interventions=()) -> StressVenue:
    """Long 10 (10 lots at 1,000, wallet 650) is liquidatable at 940 (equity 50 < MM 94); the
    index falls to 940 at 1 s and is back at 1,000 from 3 s. Bids: 100 lots at 938."""
    venue = StressVenue(stress, interventions=interventions)
    venue.account(10, 650)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.quote(1, 938, 100)
    venue.index_at(0, 1_000)
    venue.index_at(S, 940)
    venue.index_at(3 * S, 1_000)
    venue.run(10 * S)
    return venue


BREAKER = {"move": "0.05", "window": "10s", "duration": "5s"}


def test_breaker_halt_spares_accounts_a_wick_would_liquidate():
    """Without the breaker the 6 % wick liquidates account 10 on the book; with a 5 % breaker the
    mark that moved 6 % halts the perpetual for 5 s, the liquidation engine starts nobody, and
    at the resume the index is back: the account recovers, nothing is sold."""
    off = _wick({})
    assert _closed(off) == [10]
    on = _wick({"circuit_breaker": {"enabled": True, **BREAKER}})
    assert _closed(on) == []
    assert [e["outcome"] for e in on.events("liquidation_finished")] == ["recovered"]
    assert on.acct(10).size_lots == 10


def test_breaker_trip_is_caused_by_the_mark_and_causes_the_halt():
    """The trip names the ``mark_price`` that moved 6 % (60,000,000 ppb) as its cause; the halt
    is an ``intervention`` caused by the trip, and its resume 5 s later by the halt."""
    venue = _wick({"circuit_breaker": {"enabled": True, **BREAKER}})
    (trip,) = venue.events("stress_policy")
    assert (trip["action"], trip["value_ppb"], trip["until_ns"]) == ("trip", 60_000_000, 6 * S)
    mark = venue.by_seq(trip["cause"])
    assert (mark["type"], mark["price"]) == ("mark_price", 940)
    halt, resume = venue.events("intervention")
    assert (halt["action"], halt["cause"], halt["until_ns"]) == ("halt", trip["seq"], 6 * S)
    assert (resume["action"], resume["cause"], resume["ts"]) == ("resume", halt["seq"], 6 * S)


def test_breaker_halt_nests_inside_a_timeline_halt():
    """A timeline halt from 0.5 s to 8 s around the breaker's 1 s to 6 s halt: trading resumes
    only at the last end (8 s); an order at 7 s is rejected ``trading_halted``."""
    timeline = [{"kind": "halt", "at": "0.5s", "duration": "8s"}]
    stress = {"circuit_breaker": {"enabled": True, **BREAKER}}
    venue = StressVenue(stress, interventions=timeline)
    venue.account(10, 650)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.index_at(0, 1_000)
    venue.index_at(S, 940)
    venue.index_at(3 * S, 1_000)
    venue.quote_at(7 * S, 1, 938, 1)
    venue.run(7 * S + 1)
    assert venue.engine.halted
    assert [e["reason"] for e in venue.events("order_rejected")] == ["trading_halted"]
    venue.run(10 * S)
    assert not venue.engine.halted
    actions = [(e["action"], e["ts"]) for e in venue.events("intervention")]
    assert actions == [("halt", S // 2), ("halt", S), ("resume", 6 * S), ("resume", 17 * S // 2)]


def _two_sells(stress: dict) -> StressVenue:
    """Bids of 1 lot at each of 990, 980, ..., 900; trader 20 sells 5 lots at market at 1 s and
    5 more at 2 s. The index (and so the mark) stays at 1,000."""
    venue = StressVenue(stress)
    venue.account(20, 10**5)
    for level in range(10):
        venue.quote(1, 990 - 10 * level, 1)
    venue.index_at(0, 1_000)
    for at in (S, 2 * S):
        venue.env.call_at(
            at,
            Phase.MATCH,
            lambda _e: venue.engine.submit(
                venue.env.now, Order(venue.venue.ids.next("order"), 20, -1, None, 5), None
            ),
        )
    venue.run(3 * S)
    return venue


def test_breaker_on_last_trade_halts_a_sweep_and_limits_the_drawdown():
    """Watching trades, a 3 % breaker trips at the trade at 960 (3.03 % below 990): the first
    sweep completes (to 950), the second sell is rejected ``trading_halted``, and the last price
    ends at 950 instead of 900."""
    off = _two_sells({})
    assert off.venue.feed.last_trade_price == 900
    breaker = {"enabled": True, "source": "last_trade", "move": "0.03", "window": "10s"}
    on = _two_sells({"circuit_breaker": breaker})
    assert on.venue.feed.last_trade_price == 950
    (trip,) = on.events("stress_policy")
    trade = on.by_seq(trip["cause"])
    assert (trade["type"], trade["price_ticks"]) == ("trade", 960)
    assert [e["reason"] for e in on.events("order_rejected")] == ["trading_halted"]


def test_breaker_does_not_trip_on_a_move_equal_to_its_threshold():
    """A 6 % fall against a 6 % threshold is not *more than* it: no trip at 1 s, the account is
    liquidated as without the breaker (the 6.4 % rebound from 940 at 3 s trips it)."""
    venue = _wick({"circuit_breaker": {"enabled": True, **BREAKER, "move": "0.06"}})
    assert [e["ts"] for e in venue.events("stress_policy")] == [3 * S]
    assert _closed(venue) == [10]


def test_breaker_ignores_marks_during_its_trip():
    """Halted from 1 s to 6 s at 940, the mark falls on to 880 at 2 s; the window restarts after
    the trip, so the recovery to 930 at 7 s (5.7 % above 880) does not trip it again."""
    venue = StressVenue({"circuit_breaker": {"enabled": True, **BREAKER}})
    venue.account(11, 10**6)
    venue.index_at(0, 1_000)
    venue.index_at(S, 940)
    venue.index_at(2 * S, 880)
    venue.index_at(7 * S, 930)
    venue.run(8 * S)
    assert [e["ts"] for e in venue.events("stress_policy")] == [S]


def test_breaker_band_narrows_then_restores_the_band():
    """Action ``band``: the trip sets the price band to 1 % and 5 s later restores the band in
    force before (0: none), with a ``band_restore`` caused by the trip; trading is not halted."""
    stress = {"circuit_breaker": {"enabled": True, **BREAKER, "action": "band", "band": "0.01"}}
    venue = StressVenue(stress)
    venue.account(10, 650)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.quote(1, 938, 100)
    venue.index_at(0, 1_000)
    venue.index_at(S, 940)
    venue.index_at(3 * S, 1_000)
    venue.run(2 * S)
    assert venue.engine.price_band_ppb == 10_000_000
    venue.run(10 * S)
    trip, restore = venue.events("stress_policy")
    assert (trip["action"], trip["band_ppb"]) == ("trip", 10_000_000)
    assert (restore["action"], restore["band_ppb"], restore["cause"]) == (
        "band_restore",
        0,
        trip["seq"],
    )
    assert restore["ts"] == 6 * S
    assert venue.events("intervention") == []
    assert venue.engine.price_band_ppb == 0


# --- dynamic maintenance margin ---------------------------------------------------------------


def _volatile_then_fall(stress: dict) -> StressVenue:
    """The index swings 1,000 / 1,010 every 0.5 s for 10 s (window volatility about 4.4 %),
    rests at 1,000, then is 975 from 12 s and 940 from 14 s. Long 10: 10 lots at 1,000, wallet
    500. At 1 % it is liquidatable only below about 960, past its bankruptcy price at 940
    (equity -100); at 3x maintenance it is liquidatable at 975 (equity 250 < MM 292). Bids: 100
    lots at 974 and 100 at 939."""
    venue = StressVenue(stress)
    venue.account(10, 500)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.quote(1, 974, 100)
    venue.quote(1, 939, 100)
    for step in range(21):
        venue.index_at(step * S // 2, 1_010 if step % 2 else 1_000)
    venue.index_at(12 * S, 975)
    venue.index_at(14 * S, 940)
    venue.run(16 * S)
    return venue


DYNAMIC = {
    "enabled": True,
    "cadence": "1s",
    "window": "10s",
    "vol_threshold": "0.01",
    "vol_slope": 200,
    "max_factor": 3,
}


def test_dynamic_margin_liquidates_before_bankruptcy():
    """Without the policy the account is first found liquidatable at 940, already bankrupt
    (equity -100); with maintenance scaled 3x by the volatility it is found at 975, 2 s earlier,
    with equity 250 left to absorb the close-out."""
    off = _volatile_then_fall({})
    assert [(e["ts"], e["equity"]) for e in off.events("liquidation_triggered")] == [(14 * S, -100)]
    on = _volatile_then_fall({"dynamic_margin": DYNAMIC})
    assert [(e["ts"], e["equity"]) for e in on.events("liquidation_triggered")] == [(12 * S, 250)]


def test_dynamic_margin_change_is_logged_with_its_factor_and_cause():
    """Each change is caused by the latest ``mark_price``; the volatility lifts the factor to its
    cap 3 (3,000,000,000 ppb), and the ledger's tiers are then the configured ones times 3."""
    venue = _volatile_then_fall({"dynamic_margin": DYNAMIC})
    changes = venue.events("stress_policy")
    assert {e["action"] for e in changes} == {"margin_scale"}
    assert {venue.by_seq(e["cause"])["type"] for e in changes} == {"mark_price"}
    assert max(e["factor_ppb"] for e in changes) == 3_000_000_000
    configured = venue.venue.tiers.maintenance_margin(10_000)
    assert venue.ledger.tiers.maintenance_margin(10_000) == 3 * configured


def test_dynamic_margin_rises_with_open_interest_concentration():
    """One account holds 30 of the 40 long lots (75 %; the shorts hold 20 each); with a
    threshold of 50 % and slope 2 the factor is 1 + 2 x 25 % = 1.5 at the first recomputation,
    in a flat market (no volatility)."""
    venue = StressVenue(
        {
            "dynamic_margin": {
                "enabled": True,
                "cadence": "1s",
                "concentration_threshold": "0.5",
                "concentration_slope": 2,
            }
        }
    )
    for account_id in (10, 11, 12, 13):
        venue.account(account_id, 10**5)
    venue.pair(10, 12, 20, 1_000)
    venue.pair(10, 13, 10, 1_000)
    venue.pair(11, 13, 10, 1_000)
    venue.index_at(0, 1_000)
    venue.run(3 * S // 2)
    (change,) = venue.events("stress_policy")
    assert (change["share_ppb"], change["value_ppb"]) == (750_000_000, 0)
    assert (change["ts"], change["factor_ppb"]) == (S, 1_500_000_000)


# --- liquidation throttle -----------------------------------------------------------------------


def _ladder(stress: dict) -> StressVenue:
    """Ten longs (10..19: 10 lots at 1,000, wallet 500) are all liquidatable at 950 from 1 s.
    Bids: 10 lots at each of 990, 980, ..., 900, then 1,000 lots at 800. With no limit every
    account starts at 1 s and the close-outs walk the ladder down in one instant."""
    venue = StressVenue(stress)
    venue.account(30, 10**6)
    for account_id in range(10, 20):
        venue.account(account_id, 500)
        venue.pair(account_id, 30, 10, 1_000)
    for level in range(10):
        venue.quote(1, 990 - 10 * level, 10)
    venue.quote(1, 800, 1_000)
    venue.index_at(0, 1_000)
    venue.index_at(S, 950)
    venue.run(15 * S)
    return venue


def _largest_fall_per_second(venue: StressVenue) -> int:
    """The largest fall of the traded price within any one-second bucket (ticks)."""
    buckets: dict[int, list[int]] = {}
    for trade in venue.events("trade"):
        buckets.setdefault(trade["ts"] // S, []).append(trade["price_ticks"])
    return max(max(prices) - min(prices) for prices in buckets.values())


THROTTLE = {
    "enabled": True,
    "max_throughput": 10,
    "min_throughput": 1,
    "reference_depth": 1_000,
    "depth_band": "0.05",
}


def test_throttle_spreads_close_outs_and_cuts_impact_per_second():
    """Unthrottled, ten close-outs sweep 90 ticks of bids in one second; with the book this thin
    (at most 50 lots within 5 % against a reference of 1,000) the throttle starts one account
    per second: at most one 10-tick step per second."""
    off = _ladder({})
    assert _largest_fall_per_second(off) == 90
    on = _ladder({"liquidation_throttle": THROTTLE})
    assert _largest_fall_per_second(on) <= 10
    starts = [e["ts"] for e in on.events("liquidation_started")]
    assert all(b - a >= S for a, b in pairwise(starts))


def test_throttle_logs_its_pace_from_the_bid_depth_caused_by_the_trigger():
    """Against a reference depth of 100 lots, the 50 bid lots within 5 % of 990 (990 down to 950)
    allow 5 starts per second: the first start logs a ``pace`` of 0.2 s, caused by the started
    account's ``liquidation_triggered``."""
    venue = _ladder({"liquidation_throttle": {**THROTTLE, "reference_depth": 100}})
    pace = venue.events("stress_policy")[0]
    assert (pace["action"], pace["gap_ns"], pace["depth_lots"]) == ("pace", S // 5, 50)
    assert venue.by_seq(pace["cause"])["type"] == "liquidation_triggered"


# --- mark smoothing -----------------------------------------------------------------------------


def _one_tick_wick(stress: dict) -> StressVenue:
    """Long 10 (10 lots at 1,000, wallet 650) would be liquidated at 940; the index is 940 for one
    mark tick (2 s) and 1,000 otherwise."""
    venue = StressVenue(stress)
    venue.account(10, 650)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.quote(1, 938, 100)
    venue.index_at(0, 1_000)
    venue.index_at(2 * S, 940)
    venue.index_at(2 * S + S // 2, 1_000)
    venue.run(5 * S)
    return venue


def test_median_smoothing_ignores_a_one_tick_wick():
    """The raw mark follows the wick to 940 and triggers a liquidation; the median of the last
    1.5 s (three marks) stays at 1,000: no mark of 940, no trigger."""
    off = _one_tick_wick({})
    assert len(off.events("liquidation_triggered")) == 1
    on = _one_tick_wick({"mark_smoothing": {"kind": "median", "window": "1.5s"}})
    assert on.events("liquidation_triggered") == []
    assert 940 not in [e["price"] for e in on.events("mark_price")]


def test_ema_smoothing_damps_a_one_tick_wick():
    """An EMA with weight 0.3 moves only 30 % of the wick: the mark dips to 982, no trigger."""
    venue = _one_tick_wick({"mark_smoothing": {"kind": "ema", "weight": "0.3"}})
    assert min(e["price"] for e in venue.events("mark_price")) == 982
    assert venue.events("liquidation_triggered") == []


# --- ADL cap ------------------------------------------------------------------------------------


def _adl_venue(stress: dict) -> StressVenue:
    """As the waterfall tests' ranking case: long 10 (30 lots at 1,000, wallet 2,500) is bankrupt
    at 900 with no bids and an empty fund; BitMEX ranking puts 21 (20 lots) first, then 22 (40),
    then 20 (10)."""
    config = LiquidationConfig(
        policy=MarketPolicyConfig(), max_retries=0, adl=AdlConfig(ranking="bitmex")
    )
    venue = StressVenue(stress, config, fund=0)
    venue.account(10, 2_500)
    venue.account(11, 10**6)
    for account_id, wallet in ((20, 1_000), (21, 500), (22, 1_000), (23, 10_000)):
        venue.account(account_id, wallet)
    venue.pair(10, 20, 10, 1_000)
    venue.pair(10, 21, 20, 1_000)
    venue.pair(11, 22, 40, 950)
    venue.pair(11, 23, 30, 850)
    venue.index_at(0, 900)
    venue.run(S)
    return venue


def _adl_sizes(venue: StressVenue) -> list[tuple[int, int, int]]:
    return [(e["account"], e["size"], e["position_lots"]) for e in venue.events("adl")]


def test_adl_cap_limits_each_account_and_passes_the_rest_on():
    """Uncapped, 21 loses its whole 20-lot short; with a 50 % cap 21 closes 10 and the other 20
    go to 22 (half of its 40): no account closes more than half of its position."""
    assert _adl_sizes(_adl_venue({})) == [(21, 20, -20), (22, 10, -40)]
    capped = _adl_venue({"adl_cap": {"enabled": True, "max_fraction": "0.5"}})
    assert _adl_sizes(capped) == [(21, 10, -20), (22, 20, -40)]
    assert capped.acct(10).size_lots == 0


def test_adl_notional_cap_limits_each_account():
    """A notional cap of 4,000 at the close price 917 allows 4 lots per account: the whole queue
    (21, 22, 20 and the losing 23) takes 16 of 30 lots, and 14 stay with the liquidated account
    (handed over again later)."""
    capped = _adl_venue({"adl_cap": {"enabled": True, "max_fraction": 1, "max_notional": 4_000}})
    assert _adl_sizes(capped) == [(21, 4, -20), (22, 4, -40), (20, 4, -10), (23, 4, -30)]
    assert capped.acct(10).size_lots == 14
