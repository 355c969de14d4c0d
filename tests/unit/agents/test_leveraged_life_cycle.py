"""The leveraged traders' life cycle: arrivals, holding times, stops, take-profits, margin-call
exits and re-entries, each logged with an honest cause; and today's behaviour when left off.

Market: :mod:`trader_harness` (tick 1, lot 1, no fees, a deep maker around an index of 10,000
that the tests push). A trader with deposit 10,000 at 10x and position_fraction 0.9 buys
floor(90,000 / 10,000) = 9 lots, from the maker's first ask 10,001.
"""

from __future__ import annotations

from statistics import mean

from exchange_sim.runner.api import load_config
from tests.unit.agents.trader_harness import MAKER, MS, START, Market, S


def leveraged(**changes) -> dict:
    values = {
        "kind": "leveraged",
        "name": "lev",
        "count": 5,
        "deposit": 10_000,
        "leverages": [10],
        "long_fraction": 1,
        "position_fraction": "0.9",
        "entry_start": "1s",
        "entry_end": "2s",
    }
    values.update(changes)
    return values


def test_life_cycle_is_off_when_its_keys_are_left_at_their_defaults():
    """A leveraged table with none of the life-cycle keys resolves to a config without a life
    cycle; any one of them switches it on."""
    (cfg,) = load_config({"participants": [leveraged()]}).config.participants
    assert not cfg.life_cycle
    for key, value in (
        ("arrival", "poisson"),
        ("holding", "fixed"),
        ("stop_loss", "0.1"),
        ("take_profit", "0.1"),
        ("reentry_probability", "0.5"),
    ):
        (cfg,) = load_config({"participants": [leveraged(**{key: value})]}).config.participants
        assert cfg.life_cycle, key


def test_a_life_cycle_that_never_acts_changes_nothing_but_the_exits_it_logs():
    """Switching the life cycle on (a 50 % stop and a 10 h holding time, never reached) draws
    from its own stream: the group's leverages, sides, entry times, margin-call choices and every
    venue event are unchanged; the only additions are the trader_exit events of the traders
    liquidated or cutting their position after a margin call."""
    path = [(t * S, START - 50 * (t - 4)) for t in range(5, 33)]  # 10,000 down to 8,600
    path += [(t * S, 8_600 + 100 * (t - 32)) for t in range(33, 40)]
    logs = []
    for changes in ({}, {"stop_loss": "0.5", "holding": "exponential", "holding_time": "10h"}):
        reaction = {"reaction_latency": {"kind": "constant", "value": "100ms"}}
        group = leveraged(
            count=40, leverages=[10, 20, 50], long_fraction="0.5", response=reaction, **changes
        )
        market = Market([MAKER, group])
        market.index_path(path)
        logs.append(market.run(40 * S).events)
    actions = {e["action"] for e in logs[1] if e["type"] == "margin_call_response"}
    assert actions == {"top_up", "reduce", "ignore"}
    exits = [e for e in logs[1] if e["type"] == "trader_exit"]
    assert {e["reason"] for e in exits} == {"liquidated", "margin_call_reduce"}
    assert not [e for e in logs[0] if e["type"] == "trader_exit"]

    def content(events):  # seqs shift by the exits logged in between
        return [
            {k: v for k, v in e.items() if k not in ("seq", "cause")}
            for e in events
            if e["type"] != "trader_exit"
        ]

    assert content(logs[0]) == content(logs[1])


def test_a_stop_loss_closes_a_long_when_the_observed_index_crosses_it():
    """Entry 10,001, stop 2 % below: floor(10,001 x 0.98) = 9,800. The index at 9,900 leaves the
    traders alone; at 9,790 each logs a stop_loss exit caused by that index_price, and its
    reduce-only sell names the exit; all end flat."""
    market = Market([MAKER, leveraged(stop_loss="0.02")])
    market.index_path([(5 * S, 9_900), (6 * S, 9_790)])
    market.run(10 * S)
    exits = market.of_type("trader_exit")
    assert len(exits) == 5
    for exit_event in exits:
        cause = market.events[exit_event["cause"]]
        assert (cause["type"], cause["price"]) == ("index_price", 9_790)
        assert exit_event["reason"] == "stop_loss"
        assert exit_event["entry_price_ticks"] == 10_001
        (order,) = market.orders_caused_by(exit_event["seq"])
        assert (order["side"], order["size_lots"], order["reduce_only"]) == (-1, 9, True)
    assert all(market.position(a) == 0 for a in market.accounts_of("lev"))


def test_a_take_profit_closes_a_short_when_the_price_falls_to_it():
    """Shorts (long_fraction 0) sell 9 lots to the maker's first bid 9,999; take-profit 2 %
    below: floor(9,999 x 0.98) = 9,799. At 9,800 nothing happens; at 9,799 each buys back."""
    market = Market([MAKER, leveraged(long_fraction=0, take_profit="0.02")])
    market.index_path([(5 * S, 9_800), (6 * S, 9_799)])
    market.run(10 * S)
    exits = market.of_type("trader_exit")
    assert {(e["reason"], e["ts"] // S, e["position_lots"]) for e in exits} == {
        ("take_profit", 6, -9)
    }
    assert len(exits) == 5


def test_a_price_move_touches_only_the_members_whose_stop_it_crossed():
    """Traders enter while the index climbs (entries at 1-9 s, index +100 a second), so their
    stops differ; a fall to 10,400 stops exactly the traders whose stop is at or above it."""
    group = leveraged(count=30, entry_start="1s", entry_end="9s", stop_loss="0.01")
    market = Market([MAKER, group])
    market.index_path([(t * S, START + 100 * t) for t in range(1, 10)] + [(12 * S, 10_400)])
    market.run(14 * S)
    members = market.accounts_of("lev")
    entry = {}
    for e in market.of_type("trade"):
        if e["taker_account_id"] in members and e["aggressor_side"] == 1:
            entry[e["taker_account_id"]] = e["price_ticks"]
    stops = {a: p * 99 // 100 for a, p in entry.items()}
    expected = {a for a, stop in stops.items() if stop >= 10_400}
    assert 0 < len(expected) < len(entry)
    assert {e["account_id"] for e in market.of_type("trader_exit")} == expected


def test_a_fixed_holding_time_closes_the_position_on_the_traders_own_timer():
    """holding = fixed, 5 s: each trader closes 5 s after its opening fill, with an uncaused
    trader_exit (its own timer: root kind trader_decision) whose order names it."""
    market = Market([MAKER, leveraged(holding="fixed", holding_time="5s")])
    market.run(20 * S)
    fills = {
        e["taker_account_id"]: e["ts"]
        for e in market.of_type("trade")
        if e["aggressor_side"] == 1 and e["taker_account_id"] in market.accounts_of("lev")
    }
    exits = market.of_type("trader_exit")
    assert len(exits) == 5
    for e in exits:
        assert (e["reason"], e["cause"], e["price_ticks"]) == ("holding_time", None, None)
        # The fill report reaches the trader 20 ms (its response latency) after the trade.
        assert e["ts"] == fills[e["account_id"]] + 20 * MS + 5 * S
        assert len(market.orders_caused_by(e["seq"])) == 1


def test_poisson_arrivals_spread_first_entries_over_the_run():
    """arrival = poisson at 0.1 a second: 400 traders' first entries come an exponential wait
    of mean 10 s after entry_start (1 s), so most come after entry_end and their mean is near
    11 s."""
    group = leveraged(count=400, arrival="poisson", arrival_rate="0.1")
    market = Market([MAKER, group], duration="200s")
    market.run(200 * S)
    members = set(market.accounts_of("lev"))
    firsts = {}
    for e in market.of_type("order_accepted"):
        if e["account_id"] in members:
            firsts.setdefault(e["account_id"], e["ts"] / S)
    assert len(firsts) == 400
    assert 10 < mean(firsts.values()) < 12.5
    assert sum(t > 2 for t in firsts.values()) > 300


def test_after_an_exit_a_trader_re_enters_after_its_delay_naming_the_exit():
    """reentry_probability 1: each holding-time exit is followed, after an exponential delay,
    by a trader_entry (reason reentry) caused by that exit, whose market order names it."""
    group = leveraged(holding="fixed", holding_time="3s", reentry_probability=1, reentry_delay="2s")
    market = Market([MAKER, group])
    market.run(12 * S)
    entries = market.of_type("trader_entry")
    assert entries
    for entry in entries:
        exit_event = market.events[entry["cause"]]
        assert exit_event["type"] == "trader_exit"
        assert exit_event["account_id"] == entry["account_id"]
        assert entry["ts"] > exit_event["ts"]
        assert (entry["reason"], entry["lots"], entry["signal_ppb"]) == ("reentry", 9, None)
        (order,) = market.orders_caused_by(entry["seq"])
        assert order["account_id"] == entry["account_id"]


def test_a_margin_call_reduce_is_logged_as_an_exit_caused_by_the_response():
    """50x longs of 45 lots are called below 9,851 and liquidated below 9,827: at 9,840 each
    gets a margin call, and with reduce_probability 1 its cut is a trader_exit
    margin_call_reduce caused by its margin_call_response, for half the position."""
    group = leveraged(
        leverages=[50],
        position_fraction="0.9",
        stop_loss="0.5",
        response={
            "top_up_probability": 0,
            "reduce_probability": 1,
            "reaction_latency": {"kind": "constant", "value": "1s"},
        },
    )
    market = Market([MAKER, group])
    market.index_path([(5 * S, 9_840)])
    market.run(10 * S)
    exits = market.of_type("trader_exit")
    assert len(exits) == 5
    for e in exits:
        response = market.events[e["cause"]]
        assert response["type"] == "margin_call_response"
        assert response["action"] == "reduce"
        assert (e["reason"], e["lots"]) == ("margin_call_reduce", abs(e["position_lots"]) // 2)


def test_a_liquidated_trader_logs_its_exit_from_the_liquidation_fill_and_re_enters():
    """50x longs are liquidated when the index falls 3 %: each learns it from the liquidation
    fill (trader_exit liquidated, caused by that trade) and re-enters from that exit."""
    group = leveraged(
        leverages=[50],
        reentry_probability=1,
        reentry_delay="1s",
        response={"top_up_probability": 0, "reduce_probability": 0},
    )
    market = Market([MAKER, group])
    market.index_path([(5 * S, 9_700)])
    market.run(15 * S)
    liquidated = [e for e in market.of_type("trader_exit") if e["reason"] == "liquidated"]
    assert liquidated
    assert {market.events[e["cause"]]["type"] for e in liquidated} == {"trade"}
    assert {market.events[e["cause"]]["taker_tag"] for e in liquidated} == {"liquidation"}
    exits = {e["seq"]: e["account_id"] for e in liquidated}
    reentered = {e["account_id"] for e in market.of_type("trader_entry") if e["cause"] in exits}
    assert reentered == set(exits.values())


def test_stops_on_the_last_trade_fire_on_the_trades_the_trader_sees():
    """trigger_price = last_trade: the stops watch the feed's trades, not the index. A seller
    sweeping the maker's 20-lot bids down to 9,995 stops every long (entries 10,001 to 10,003,
    stops 0.05 % below: 9,996 to 9,997), each naming the trade that printed lowest as cause."""
    group = leveraged(stop_loss="0.0005", trigger_price="last_trade")
    seller = leveraged(name="seller", count=1, long_fraction=0, deposit=10**7, leverages=[1])
    seller.update(entry_start="4s", entry_end="4001ms", position_fraction="0.1")
    market = Market([dict(MAKER, level_size=20), group, seller])
    market.run(8 * S)
    exits = market.of_type("trader_exit")
    assert len(exits) == 5
    for e in exits:
        cause = market.events[e["cause"]]
        assert cause["type"] == "trade"
        assert cause["price_ticks"] == e["price_ticks"] == 9_995
