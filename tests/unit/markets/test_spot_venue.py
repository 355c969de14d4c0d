"""Spot markets assembled in a venue, end to end through ``exchange_sim.run``.

The scenario: two spot markets (spot-a, spot-b) with makers centred on the fundamental value and
noise traders; the perpetual's index is Binance's rule over their last trades (weights 1 and 3,
5 % outlier band, 10 s staleness), sampled every second and published 100 ms later; an informed
trader on spot-a; a spot-perpetual arbitrageur hedging on spot-a; a maker, noise traders and
leveraged longs on the perpetual. The fundamental (50,000.0, 50 % a year) falls 4 % on news at 45 s,
which the informed trader carries into spot-a and the index carries to the perpetual's longs.
"""

from __future__ import annotations

import bisect
from fractions import Fraction

import numpy as np
import pytest

import exchange_sim as es
from exchange_sim.core.ids import IdSource
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.markets.config import SpotMarketConfig
from exchange_sim.markets.index_rule import combine, round_to_tick
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder
from exchange_sim.venue.spot_market import SpotMarket

S = 1_000_000_000
MS = 1_000_000
SPOT = ("spot-a", "spot-b")
WEIGHTS = {"spot-a": 1, "spot-b": 3}
NEWS_AT = 45 * S


def spot_maker(name, market, half_spread):
    return {
        "kind": "market_maker",
        "name": name,
        "market": market,
        "reference": "fundamental",
        "levels": 10,
        "half_spread": half_spread,
        "level_spacing": half_spread,
        "level_size": "0.5",
        "requote_threshold": 0,
        "base_deposit": 100,
        "deposit": 10_000_000,
    }


def spot_noise(name, market):
    return {
        "kind": "noise",
        "name": name,
        "market": market,
        "count": 10,
        "limit_lifetime": "3s",
        "base_deposit": 5,
    }


CONFIG = {
    "run": {"name": "spot-index", "duration": "90s"},
    "venue": {"preset": "binance"},
    "fundamental": {
        "enabled": True,
        "start_price": 50_000,
        "volatility_annual": "0.5",
        "news": [{"at": "45s", "jump": "-0.04", "headline": "tariff"}],
    },
    "spot_markets": [{"name": "spot-a"}, {"name": "spot-b"}],
    "index": {
        "cadence": "1s",
        "oracle_latency": {"kind": "constant", "value": "100ms"},
        "process": {
            "kind": "spot",
            "sources": [{"market": m, "weight": w} for m, w in WEIGHTS.items()],
        },
    },
    "participants": [
        spot_maker("spot-mm-a", "spot-a", "2.0"),
        spot_maker("spot-mm-b", "spot-b", "3.0"),
        {
            "kind": "informed",
            "name": "informed-a",
            "market": "spot-a",
            "base_deposit": 50,
            "deposit": 5_000_000,
            "clip_size": "0.5",
            "max_position": 20,
        },
        {
            "kind": "market_maker",
            "name": "mm",
            "levels": 10,
            "half_spread": "1.0",
            "level_spacing": "2.0",
            "level_size": "1.0",
            "requote_threshold": 0,
        },
        {
            "kind": "spot_arbitrageur",
            "name": "arb",
            "spot_market": "spot-a",
            "base_deposit": 50,
            "clip_size": "0.5",
            "max_position": 20,
        },
        {"kind": "noise", "name": "noise", "count": 20, "limit_lifetime": "3s"},
        spot_noise("spot-noise-a", "spot-a"),
        spot_noise("spot-noise-b", "spot-b"),
        {
            "kind": "leveraged",
            "name": "longs",
            "count": 150,
            "deposit": 1000,
            "leverages": [15, 20, 25, 30, 35, 40, 45, 50],
            "long_fraction": "0.9",
            "position_fraction": "0.9",
            "entry_start": "2s",
            "entry_end": "20s",
        },
    ],
}


@pytest.fixture(scope="module")
def result():
    return es.run(CONFIG, seed=1, keep_events=True)


def accounts_of(events, participant):
    return {
        e["account_id"]
        for e in events
        if e["type"] in ("account_opened", "spot_account_opened")
        and e["participant"] == participant
    }


# -- the index read from the spot markets --------------------------------------------------------


def test_the_index_is_the_rule_applied_to_the_spot_markets_last_trades(result):
    """For every sampling instant (each second), the index published 100 ms later is Binance's
    rule over each spot market's last trade before that instant (live within 10 s), and names as
    cause the trade of the source its value came from whose weighted price moved most since the
    previous sample (ties and no move: the latest of them); an instant with no live source
    publishes nothing."""
    events = result.events
    trades = {m: [] for m in SPOT}
    for e in events:
        if e["type"] == "trade" and e["market"] in trades:
            trades[e["market"]].append((e["ts"], e["price_ticks"], e["seq"], e["taker_order_id"]))

    def mover(market, since, until):
        """The last trade of the taker order whose trades in [since, until) moved the last price
        most (from the price before its first trade; ties: the later)."""
        best, group, start, last = None, None, None, None
        for ts, price, seq, taker in trades[market]:
            if ts >= until:
                break
            if taker != group:
                group, start = taker, (last if last is not None else price)
            last = price
            if ts >= since and (best is None or abs(price - start) >= best[0]):
                best = (abs(price - start), seq)
        return None if best is None else best[1]

    published = {e["ts_source"]: e for e in events if e["type"] == "index_price"}
    expected = {}
    previous = dict.fromkeys(SPOT)
    for instant in range(0, 90 * S, S):
        prices, weights, seqs, moves = [], [], [], []
        for market in SPOT:
            times = [t for t, _, _, _ in trades[market]]
            i = bisect.bisect_left(times, instant) - 1  # trades print after sampling at an instant
            if i >= 0 and instant - times[i] <= 10 * S:
                price = Fraction(trades[market][i][1])
                before = previous[market]
                move = 0 if before is None else Fraction(WEIGHTS[market]) * abs(price - before)
                previous[market] = price
                prices.append(price)
                weights.append(Fraction(WEIGHTS[market]))
                moved = mover(market, instant - S, instant)
                seqs.append(moved if moved is not None else trades[market][i][2])
                moves.append(move)
            else:
                previous[market] = None
        if prices:
            value, used = combine(prices, weights, "weighted_mean", 50_000_000)
            cause = max((moves[i], seqs[i]) for i in used)[1]
            expected[instant] = (round_to_tick(value), cause)
    assert len(expected) > 80
    assert {t: (e["price"], e["cause"]) for t, e in published.items()} == expected
    assert all(e["ts"] == t + 100 * MS for t, e in published.items())


def test_both_spot_markets_feed_the_index(result):
    """Index samples name trades of each spot market (the scenario exercises the weighting)."""
    events = result.events
    causes = {events[e["cause"]]["market"] for e in events if e["type"] == "index_price"}
    assert causes == set(SPOT)


def test_every_index_price_names_a_spot_trade(result):
    """Every index_price's cause is a trade on one of the spot markets."""
    events = result.events
    for e in events:
        if e["type"] == "index_price":
            cause = events[e["cause"]]
            assert (cause["type"], cause["market"] in SPOT) == ("trade", True)


# -- conservation --------------------------------------------------------------------------------


def test_money_is_conserved_on_the_perpetual(result):
    """The summary's money held equals what was put in, to the minor unit."""
    summary = result.summary
    assert summary["money_held_minor"] == summary["money_deposited_net_minor"]


def test_quote_and_base_are_conserved_on_every_spot_market(result):
    """Per spot market: quote held plus fees equals net deposits, base held equals base
    deposits, and both equal the sums of the log's spot_deposit events; fees were charged."""
    events = result.events
    summary = result.summary["spot_markets"]
    assert set(summary) == set(SPOT)
    for market in SPOT:
        deposits = [e for e in events if e["type"] == "spot_deposit" and e["market"] == market]
        quote_in = sum(e["amount"] for e in deposits if e["asset"] == "quote")
        base_in = sum(e["amount"] for e in deposits if e["asset"] == "base")
        spot = summary[market]
        assert (spot["quote_held_minor"], spot["quote_deposited_net_minor"]) == (quote_in, quote_in)
        assert (spot["base_held_lots"], spot["base_deposited_lots"]) == (base_in, base_in)
        assert spot["fees_collected_minor"] > 0


def test_no_spot_balance_is_ever_negative(result):
    """Every spot_fill leaves the account with non-negative quote and base."""
    fills = [e for e in result.events if e["type"] == "spot_fill"]
    assert fills
    assert all(e["quote"] >= 0 and e["base"] >= 0 for e in fills)


def test_spot_fills_come_in_maker_taker_pairs_named_by_their_trade(result):
    """Each spot trade has exactly two spot_fill events (maker, then taker) caused by it, on its
    market and at its price and size."""
    events = result.events
    fills = {}
    for e in events:
        if e["type"] == "spot_fill":
            fills.setdefault(e["cause"], []).append(e)
    spot_trades = [e for e in events if e["type"] == "trade" and e["market"] in SPOT]
    assert set(fills) == {t["seq"] for t in spot_trades}
    for trade in spot_trades:
        maker, taker = fills[trade["seq"]]
        assert (maker["account_id"], taker["account_id"]) == (
            trade["maker_account_id"],
            trade["taker_account_id"],
        )
        assert {(f["market"], f["price_ticks"], f["size_lots"]) for f in (maker, taker)} == {
            (trade["market"], trade["price_ticks"], trade["size_lots"])
        }


# -- participants --------------------------------------------------------------------------------


def test_the_informed_trader_sells_after_the_negative_news_naming_the_value_it_saw(result):
    """Its first order after the news is a sale on spot-a, caused by the fundamental_price the
    news caused."""
    events = result.events
    (news,) = [e for e in events if e["type"] == "news"]
    (value,) = [e for e in events if e["type"] == "fundamental_price" and e["cause"] == news["seq"]]
    informed = accounts_of(events, "informed-a")
    first = next(
        e
        for e in events
        if e["type"] == "order_accepted" and e["account_id"] in informed and e["ts"] > NEWS_AT
    )
    assert (first["market"], first["side"], first["cause"]) == ("spot-a", SELL, value["seq"])


def test_participants_on_a_spot_market_deposit_their_base_there(result):
    """The spot maker on spot-a (base_deposit 100, i.e. 100,000 lots; deposit 10,000,000.000000)
    puts both into its spot-a account at t = 0 and has no perpetual account."""
    events = result.events
    spot_accounts = {
        e["account_id"]
        for e in events
        if e["type"] == "spot_account_opened" and e["participant"] == "spot-mm-a"
    }
    assert len(spot_accounts) == 1
    assert not [
        e for e in events if e["type"] == "account_opened" and e["participant"] == "spot-mm-a"
    ]
    deposits = [
        (e["market"], e["asset"], e["amount"])
        for e in events
        if e["type"] == "spot_deposit" and e["account_id"] in spot_accounts
    ]
    assert sorted(deposits) == [("spot-a", "base", 100_000), ("spot-a", "quote", 10**13)]


def test_spot_noise_traders_send_limit_orders(result):
    """Spot markets refuse market orders; spot noise traders cross with IOC limits instead: none
    of their orders is rejected as limit_required (only for want of quote or base), and their
    accepted orders all carry a price."""
    events = result.events
    noise = accounts_of(events, "spot-noise-a") | accounts_of(events, "spot-noise-b")
    mine = [e for e in events if e.get("account_id") in noise and e.get("market") in SPOT]
    accepted = [e for e in mine if e["type"] == "order_accepted"]
    assert any(e["tif"] == "IOC" for e in accepted)
    assert all(e["price_ticks"] is not None for e in accepted)
    reasons = {e["reason"] for e in mine if e["type"] == "order_rejected"}
    assert reasons <= {"insufficient_quote", "insufficient_base"}


# -- the cascade tree ----------------------------------------------------------------------------


def test_liquidations_trace_through_the_index_into_a_spot_trade_and_the_news(result):
    """Every liquidation's chain of causes runs through an index_price caused by a spot trade;
    the tree's roots are of kinds news or fundamental_move (the shock was a news jump)."""
    events = result.events
    liquidations = [e for e in events if e["type"] == "liquidation_triggered"]
    assert liquidations
    for liquidation in liquidations:
        chain, event = [], liquidation
        while event is not None:
            chain.append(event)
            event = events[event["cause"]] if event["cause"] is not None else None
        kinds = [(e["type"], e.get("market") in SPOT) for e in chain]
        i = kinds.index(("index_price", False))
        assert kinds[i + 1] == ("trade", True)
    roots = result.summary["metrics"]["cascade"]["roots_by_kind"]
    assert roots["news"] + roots["fundamental_move"] == len(liquidations)
    assert roots["news"] > 0


def test_the_same_config_and_seed_give_the_same_log(result):
    """Running the scenario again with seed 1 gives the same digest; seed 2 another."""
    assert es.run(CONFIG, seed=1).digest == result.digest
    assert es.run(CONFIG, seed=2).digest != result.digest


# -- the assembly --------------------------------------------------------------------------------


def test_the_venue_builds_each_configured_spot_market():
    """Venue.spot_markets holds one assembled market per config entry, by name, each with its own
    engine (naming it in its events) and its ledger's pre-trade check."""
    venue = es.build_venue(es.load_config(CONFIG), MemoryLog())
    assert list(venue.spot_markets) == list(SPOT)
    for name, market in venue.spot_markets.items():
        assert market.engine.market == name
        assert market.engine.pre_trade_check == market.ledger.pre_trade_check
        assert market.engine is not venue.engine


class Recorder:
    """A participant that keeps its fill reports."""

    def __init__(self, account_id):
        self.account_id = account_id
        self.fills = []

    def on_order_update(self, now, seq, update):
        pass

    def on_fill(self, now, seq, fill):
        self.fills.append(fill)


def test_a_spot_fill_report_carries_the_base_the_fill_left():
    """The ledger hears of a trade before the gateway: a buyer holding 2 lots that buys 3 more is
    told its position is 5 lots (and the seller, who had 10, 7)."""
    env, log = PhasedEnvironment(), MemoryLog()
    market = SpotMarket(env, log, SpotMarketConfig(name="spot"), 10, IdSource())
    link = LatencySampler(ConstantLatency(value=MS), np.random.Generator(np.random.PCG64(0)))
    seller, buyer = Recorder(1), Recorder(2)
    for participant, base in ((seller, 10), (buyer, 2)):
        market.ledger.open_account(participant.account_id)
        market.gateway.connect(participant, link, link)
        market.ledger.deposit(0, participant.account_id, 10**9, None)
        market.gateway.send(participant.account_id, Deposit(base, asset="base"), None)
    market.gateway.send(seller.account_id, SubmitOrder(1, SELL, 10_000, 3), None)
    market.gateway.send(buyer.account_id, SubmitOrder(2, BUY, 10_000, 3), None)
    env.run_until(S)
    assert [f.position_lots for f in seller.fills] == [7]
    assert [f.position_lots for f in buyer.fills] == [5]


@pytest.mark.parametrize(("asset", "account_field"), [("quote", "quote"), ("base", "base")])
def test_the_money_check_covers_each_spot_market(asset, account_field):
    """A unit of quote or base appearing from nowhere on spot-b fails the venue's money check,
    naming the asset and the market."""
    venue = es.build_venue(es.load_config(CONFIG), MemoryLog())
    venue.verify_money(0)
    account = next(iter(venue.spot_markets["spot-b"].ledger.accounts.values()))
    setattr(account, account_field, getattr(account, account_field) + 1)
    with pytest.raises(es.SimulationError, match=f"{asset} not conserved on spot-b"):
        venue.verify_money(0)
