"""The fundamental value: GBM steps from its own RNG stream, news jumps, delivery to subscribers.

Grid: tick 0.1 (start 500,000 ticks = 50,000.0). Times in ns.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.markets.config import FundamentalConfig, NewsItem
from exchange_sim.markets.fundamental import FundamentalUpdate, FundamentalValue

S = 1_000_000_000
MS = 1_000_000
TICK = Decimal("0.1")


def run(until=5 * S, seed=1, subscribers=(), **changes):
    """Run a fundamental value to ``until``; return the log's events."""
    values = dict(enabled=True, start_price=500_000, volatility_annual=Decimal("0.5"), cadence=S)
    values.update(changes)
    env, log = PhasedEnvironment(), MemoryLog()
    value = FundamentalValue(
        env, log, FundamentalConfig(**values), TICK, np.random.Generator(np.random.PCG64(seed))
    )
    for handler, latency_ns in subscribers:
        sampler = LatencySampler(
            ConstantLatency(value=latency_ns), np.random.Generator(np.random.PCG64(0))
        )
        value.subscribe(handler, sampler)
    value.start()
    env.run_until(until)
    return log.events


def brief(events):
    return [(e["ts"], e["type"], e["cause"], e["price"]) for e in events]


def test_with_no_volatility_the_value_is_flat_except_at_news():
    """Volatility 0, news of -4 % at 3 s: 500,000 at 0, then at 3 s a news event (jump -40,000,000
    ppb, price 500,000 x 0.96 = 480,000) and a fundamental_price of 480,000 caused by it; no
    other event."""
    news = (NewsItem(at=3 * S, jump=Decimal("-0.04"), headline="tariff"),)
    events = run(volatility_annual=Decimal(0), news=news)
    assert brief(events) == [
        (0, "fundamental_price", None, 500_000),
        (3 * S, "news", None, 480_000),
        (3 * S, "fundamental_price", 1, 480_000),
    ]
    assert (events[1]["headline"], events[1]["jump_ppb"]) == ("tariff", -40_000_000)


def test_news_jumps_compound_and_round_to_the_nearest_tick():
    """Volatility 0, start 500,003 ticks: +10 % at 1 s gives 550,003.3 -> 550,003; then -50 % at
    2 s gives 275,001.65 -> 275,002 (the exact product, rounded once)."""
    news = (
        NewsItem(at=1 * S, jump=Decimal("0.1"), headline="up"),
        NewsItem(at=2 * S, jump=Decimal("-0.5"), headline="down"),
    )
    events = run(start_price=500_003, volatility_annual=Decimal(0), news=news)
    prices = [e["price"] for e in events if e["type"] == "fundamental_price"]
    assert prices == [500_003, 550_003, 275_002]


def test_news_at_time_zero_moves_the_first_value():
    """Volatility 0, +2 % news at 0: the first fundamental_price is 510,000, caused by the news."""
    news = (NewsItem(at=0, jump=Decimal("0.02"), headline="open"),)
    assert brief(run(volatility_annual=Decimal(0), news=news)) == [
        (0, "news", None, 510_000),
        (0, "fundamental_price", 0, 510_000),
    ]


def test_news_between_steps_happens_at_its_own_time():
    """Cadence 1 s, volatility 0, news of -4 % at 1.5 s: the news and the fundamental_price it
    causes are at 1.5 s, not at the next step."""
    news = (NewsItem(at=1_500 * MS, jump=Decimal("-0.04"), headline="tariff"),)
    events = run(volatility_annual=Decimal(0), news=news)
    assert brief(events)[1:] == [
        (1_500 * MS, "news", None, 480_000),
        (1_500 * MS, "fundamental_price", 1, 480_000),
    ]


def test_two_news_items_at_one_instant_compound_into_one_value():
    """Volatility 0, +10 % and -10 % both at 1.5 s: two news events (550,000 then 495,000) and
    one fundamental_price of 495,000 caused by the second."""
    news = (
        NewsItem(at=1_500 * MS, jump=Decimal("0.1"), headline="up"),
        NewsItem(at=1_500 * MS, jump=Decimal("-0.1"), headline="down"),
    )
    events = run(volatility_annual=Decimal(0), news=news)
    assert brief(events)[1:] == [
        (1_500 * MS, "news", None, 550_000),
        (1_500 * MS, "news", None, 495_000),
        (1_500 * MS, "fundamental_price", 2, 495_000),
    ]


def test_the_value_caused_by_news_is_the_news_price():
    """With volatility, a news item's price (the value after the jump) is the value of the
    fundamental_price it causes."""
    news = (
        NewsItem(at=2 * S, jump=Decimal("-0.04"), headline="on a step"),
        NewsItem(at=3_250 * MS, jump=Decimal("0.03"), headline="between steps"),
    )
    events = run(news=news)
    by_seq = {e["seq"]: e for e in events}
    caused = [e for e in events if e["type"] == "fundamental_price" and e["cause"] is not None]
    assert len(caused) == 2
    for event in caused:
        assert by_seq[event["cause"]]["type"] == "news"
        assert event["price"] == by_seq[event["cause"]]["price"]


def test_the_value_moves_every_cadence_with_volatility():
    """Volatility 50 %, cadence 1 s, 5 s, seed 1: a value at 0 s and one per step at 1-4 s (a 1 s
    step's standard deviation at 50 % a year is about 44 ticks of 50,000.0), all uncaused."""
    events = run()
    assert [e["ts"] for e in events] == [0, S, 2 * S, 3 * S, 4 * S]
    assert {e["cause"] for e in events} == {None}
    assert events[0]["price"] == 500_000


def test_the_same_stream_gives_the_same_path_and_another_a_different_one():
    """Two runs from the same RNG seed log the same path; another seed logs another."""
    assert run(seed=5) == run(seed=5)
    assert brief(run(seed=5)) != brief(run(seed=6))


def test_subscribers_hear_each_change_after_their_own_latency():
    """Volatility 0, news at 2 s: a subscriber with 3 ms latency hears 500,000 at 3 ms and
    480,000 at 2.003 s, with the moves' times and their fundamental_price seqs; one with 10 ms
    hears the same at 10 ms and 2.010 s."""
    heard = {3: [], 10: []}
    news = (NewsItem(at=2 * S, jump=Decimal("-0.04"), headline="tariff"),)
    events = run(
        volatility_annual=Decimal(0),
        news=news,
        subscribers=[
            (lambda now, update: heard[3].append((now, update)), 3 * MS),
            (lambda now, update: heard[10].append((now, update)), 10 * MS),
        ],
    )
    seqs = [e["seq"] for e in events if e["type"] == "fundamental_price"]
    for latency in (3, 10):
        assert heard[latency] == [
            (latency * MS, FundamentalUpdate(0, 500_000, seqs[0])),
            (2 * S + latency * MS, FundamentalUpdate(2 * S, 480_000, seqs[1])),
        ]
