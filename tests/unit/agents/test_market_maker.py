"""The market maker: quotes a ladder and re-posts it when the venue cancels its quotes."""

from __future__ import annotations

import numpy as np

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.agents.config import MarketMakerConfig
from exchange_sim.agents.market_maker import MarketMaker
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.venue.feed import IndexUpdate
from exchange_sim.venue.gateway import Gateway

MS = 1_000_000


def _sampler(ns):
    return LatencySampler(ConstantLatency(value=ns), np.random.Generator(np.random.PCG64(0)))


def _venue():
    env = PhasedEnvironment()
    log = MemoryLog()
    engine = MatchingEngine(log, MatchingConfig())
    gateway = Gateway(env, engine, _ledger(log))
    engine.trade_listeners.append(gateway.on_trade)
    engine.order_listeners.append(gateway.on_order_event)
    counter = iter(range(1, 10**6)).__next__
    maker = MarketMaker(
        env,
        gateway,
        MarketMakerConfig(levels=2, half_spread=5, level_spacing=5, level_size=10),
        1,
        counter,
    )
    gateway.connect(maker, _sampler(MS), _sampler(MS))
    return env, log, engine, maker


def test_maker_quotes_a_ladder_around_the_index():
    """Index 1,000 with 2 levels, 5 ticks apart from a 5-tick half spread: bids 995, 990; asks
    1,005, 1,010, each 10 lots."""
    env, _log, engine, maker = _venue()
    env.call_at(0, Phase.AGENT, lambda _e: maker.on_index(0, IndexUpdate(0, 1_000, 0)))
    env.run()
    assert engine.book.depth(1, 5) == [(995, 10), (990, 10)]
    assert engine.book.depth(-1, 5) == [(1_005, 10), (1_010, 10)]


def test_maker_reposts_its_ladder_when_the_venue_cancels_it():
    """When the venue cancels the maker's quotes (as a liquidation or ADL does), the maker hears
    of it after its response latency and posts the ladder again at its last reference."""
    env, log, engine, maker = _venue()
    env.call_at(0, Phase.AGENT, lambda _e: maker.on_index(0, IndexUpdate(0, 1_000, 0)))
    env.call_at(10 * MS, Phase.LIQUIDATE, lambda _e: engine.cancel_all(env.now, 1, None))
    env.run()
    accepted = [e["ts"] for e in log.of_type("order_accepted")]
    # First ladder at 1 ms; cancelled at 10 ms; told at 11 ms; new ladder arrives at 12 ms.
    assert accepted == [MS] * 4 + [12 * MS] * 4
    assert engine.book.depth(1, 5) == [(995, 10), (990, 10)]


def _ledger(log):
    """A ledger for the gateway's fill reports (no margin checks are wired in these tests)."""
    tiers = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
    return Ledger(log, 1, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))


def test_a_maker_whose_quotes_are_rejected_backs_off_instead_of_reposting():
    """A maker whose every quote is rejected (here: the market is halted) posts one ladder, then
    nothing for 1 s, 2 s, 4 s, ... (doubling up to 60 s) from the moment it hears of the
    rejection (1 ms each way): over 60 simulated seconds with the index moving every second its
    ladders arrive at 1 ms, then 2 ms + the pause after the one before (1.003 s, 3.005 s,
    7.007 s, 15.009 s, 31.011 s): six, not one per round trip, and not one per index move."""
    env, log, engine, maker = _venue()
    engine.halted = True
    for second in range(60):
        price = 1_000 + second
        env.call_at(
            second * 1_000 * MS,
            Phase.AGENT,
            lambda _e, p=price: maker.on_index(env.now, IndexUpdate(env.now, p, 0)),
        )
    env.run_until(60_000 * MS)
    rejected = log.of_type("order_rejected")
    ladders = sorted({e["ts"] for e in rejected})
    assert ladders == [MS, 1_003 * MS, 3_005 * MS, 7_007 * MS, 15_009 * MS, 31_011 * MS]
    assert len(rejected) == 6 * 4


def test_an_accepted_quote_resets_the_back_off():
    """Halted until 0.5 s: the first ladder (1 ms) is rejected, the maker hears at 2 ms and waits
    1 s; its 1.003 s ladder is accepted (the streak resets) and it requotes on the index at 2,
    3 and 4 s. Halted again from 5 s: the 5.001 s ladder is rejected and answered by the first
    pause again, 1 s (a ladder at 6.003 s), then 2 s (8.005 s)."""
    env, log, engine, maker = _venue()
    engine.halted = True

    def set_halt(value):
        def apply(_e):
            engine.halted = value

        return apply

    env.call_at(500 * MS, Phase.MATCH, set_halt(False))
    env.call_at(5_000 * MS, Phase.MATCH, set_halt(True))
    for second in range(10):
        env.call_at(
            second * 1_000 * MS,
            Phase.AGENT,
            lambda _e, p=1_000 + 10 * second: maker.on_index(env.now, IndexUpdate(env.now, p, 0)),
        )
    env.run_until(10_000 * MS)
    rejected = sorted({e["ts"] for e in log.of_type("order_rejected")})
    assert rejected == [MS, 5_001 * MS, 6_003 * MS, 8_005 * MS]
