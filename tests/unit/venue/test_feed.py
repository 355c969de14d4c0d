"""The market-data feed: top-of-book, depth and trade channels, per instant, with latency."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.feed import FeedUpdate, MarketDataFeed, TopOfBook
from exchange_sim.venue.gateway import Gateway
from exchange_sim.venue.messages import CancelOrder, SubmitOrder

MS = 1_000_000


class Recorder:
    def __init__(self, account_id):
        self.account_id = account_id

    def on_order_update(self, now, seq, update):
        pass

    def on_fill(self, now, seq, fill):
        pass


def _const(ns):
    return LatencySampler(ConstantLatency(value=ns), np.random.Generator(np.random.PCG64(0)))


def _venue(accounts=(1, 2)):
    """Venue as in test_gateway, plus a feed; every account's orders take 1 ms to arrive."""
    env = PhasedEnvironment()
    log = MemoryLog()
    engine = MatchingEngine(log, MatchingConfig())
    gateway = Gateway(env, engine, _ledger(log))
    feed = MarketDataFeed(env, engine)
    for component in (gateway, feed):
        engine.trade_listeners.append(component.on_trade)
        engine.order_listeners.append(component.on_order_event)
    for account in accounts:
        gateway.connect(Recorder(account), _const(MS), _const(0))
    return env, log, gateway, feed


def _send_at(env, gateway, t, account, command):
    env.call_at(t, Phase.AGENT, lambda _e: gateway.send(account, command, None))


def _recorder(feed, latency_ns, **channels):
    seen = []
    feed.subscribe(lambda now, msg: seen.append((now, msg)), _const(latency_ns), **channels)
    return seen


def test_depth_snapshot_shows_n_levels_coalesced_per_instant_after_feed_latency():
    """Orders of one instant give one 2-level snapshot (ts 1 ms), received 5 ms later at 6 ms,
    naming as its seq the market sell's trade (the last event that changed the book)."""
    env, log, gateway, feed = _venue()
    seen = _recorder(feed, 5 * MS, depth_levels=2)
    # All sent at 0, all arrive at 1 ms. Bids 99x2, 98x1, 97x4 (+1 more at 99); asks 101x3, 102x1;
    # then a market sell of 1 lot takes 1 from the front of 99 -> bids 99: 2+1-1 = 2 lots.
    orders = [
        (1, SubmitOrder(1, BUY, 99, 2)),
        (1, SubmitOrder(2, BUY, 98, 1)),
        (1, SubmitOrder(3, BUY, 97, 4)),
        (1, SubmitOrder(4, SELL, 101, 3)),
        (1, SubmitOrder(5, SELL, 102, 1)),
        (1, SubmitOrder(6, BUY, 99, 1)),
        (2, SubmitOrder(7, SELL, None, 1)),
    ]
    for account, order in orders:
        _send_at(env, gateway, 0, account, order)
    env.run()
    # Only the best two levels per side are shown (97 is the third bid).
    (trade,) = log.of_type("trade")
    view = FeedUpdate(MS, ((99, 2), (98, 1)), ((101, 3), (102, 1)), 99, (), trade["seq"])
    assert seen == [(6 * MS, view)]


def test_subscriber_whose_visible_depth_did_not_change_receives_nothing():
    """A bid added at the third level reaches the 3-level subscriber but not the 1-level one."""
    env, _, gateway, feed = _venue()
    top1 = _recorder(feed, 0, depth_levels=1)
    top3 = _recorder(feed, 0, depth_levels=3)
    _send_at(env, gateway, 0, 1, SubmitOrder(1, BUY, 99, 1))
    _send_at(env, gateway, 0, 1, SubmitOrder(2, BUY, 98, 1))
    _send_at(env, gateway, 0, 1, SubmitOrder(3, SELL, 101, 1))
    _send_at(env, gateway, 5 * MS, 1, SubmitOrder(4, BUY, 97, 2))
    env.run()
    assert [now for now, _ in top1] == [MS]
    assert [now for now, _ in top3] == [MS, 6 * MS]
    assert top3[-1][1].bids == ((99, 1), (98, 1), (97, 2))


def test_trades_arrive_in_print_order_with_exchange_ts_batched_per_instant():
    """A 3-level sweep at 11 ms is one message of three trades, in order, received at 16 ms."""
    env, log, gateway, feed = _venue()
    seen = _recorder(feed, 5 * MS, trades=True)
    _send_at(env, gateway, 0, 1, SubmitOrder(1, SELL, 101, 1))
    _send_at(env, gateway, 0, 1, SubmitOrder(2, SELL, 102, 2))
    _send_at(env, gateway, 0, 1, SubmitOrder(3, SELL, 103, 3))
    _send_at(env, gateway, 10 * MS, 2, SubmitOrder(4, BUY, None, 6))
    env.run()
    seq_a, seq_b, seq_c = (e["seq"] for e in log.of_type("trade"))
    assert seq_a < seq_b < seq_c
    trades = (
        (11 * MS, seq_a, 101, 1, BUY),
        (11 * MS, seq_b, 102, 2, BUY),
        (11 * MS, seq_c, 103, 3, BUY),
    )
    # The 1 ms instant printed no trade, so this trades-only subscriber heard nothing then.
    assert seen == [(16 * MS, FeedUpdate(11 * MS, (), (), 103, trades, seq_c))]


def test_a_sweep_is_one_message_to_subscribers_without_the_trade_channel():
    """A market order filling against 50 makers sends each non-trade subscriber one message."""
    makers = range(10, 60)
    env, log, gateway, feed = _venue(accounts=(2, *makers))
    top = _recorder(feed, 0)
    depth = _recorder(feed, 0, depth_levels=5)
    for i, account in enumerate(makers):
        _send_at(env, gateway, 0, account, SubmitOrder(i + 1, SELL, 100 + i, 1))
    _send_at(env, gateway, 10 * MS, 2, SubmitOrder(100, BUY, None, 50))
    env.run()
    assert len(log.of_type("trade")) == 50
    assert [now for now, _ in top] == [MS, 11 * MS]
    assert [now for now, _ in depth] == [MS, 11 * MS]
    # The book is empty after the sweep; the last trade printed at 100 + 49 = 149 ticks.
    last = log.of_type("trade")[-1]["seq"]
    assert top[-1][1] == (11 * MS, None, None, None, None, 149, last)
    assert depth[-1][1] == FeedUpdate(11 * MS, (), (), 149, (), last)


def test_top_of_book_subscriber_gets_exactly_what_it_got_before():
    """With depth/trade subscribers present, a top-of-book subscriber still gets one
    :class:`TopOfBook` per instant, naming the last order that rested as its seq.

    Same expectation as test_gateway.py::
    test_feed_coalesces_an_instant_and_delivers_after_feed_latency.
    """
    env, log, gateway, feed = _venue()
    _recorder(feed, MS, depth_levels=3, trades=True)
    seen = []
    feed.subscribe(lambda now, snap: seen.append((now, snap)), _const(5 * MS))
    _send_at(env, gateway, 0, 1, SubmitOrder(1, BUY, 99, 2))
    _send_at(env, gateway, 0, 1, SubmitOrder(2, SELL, 101, 3))
    env.run()
    last_rested = log.of_type("order_accepted")[-1]["seq"]
    assert seen == [(6 * MS, (MS, 99, 2, 101, 3, None, last_rested))]
    assert type(seen[0][1]) is TopOfBook


# A random order flow: in instants 0..5, a few limit orders near 100, market orders, cancels.
_side = st.sampled_from((BUY, SELL))
_command = st.one_of(
    st.tuples(st.just("limit"), _side, st.integers(95, 105), st.integers(1, 4)),
    st.tuples(st.just("market"), _side, st.just(None), st.integers(1, 6)),
    st.tuples(st.just("cancel"), st.just(0), st.integers(1, 40), st.just(0)),
)
_flow = st.lists(st.tuples(st.integers(0, 5), _command), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(flow=_flow, levels=st.integers(1, 4))
def test_depth_and_trade_messages_match_the_book_and_the_log(flow, levels):
    """Each depth message is the book at the end of its instant and differs from the previous one;
    the trade messages together are exactly the logged trades, in order."""
    env, log, gateway, feed = _venue()
    seen = _recorder(feed, 3 * MS, depth_levels=levels, trades=True)
    expected_depth = {}

    def record_book(_e):
        book = feed._book
        bids, asks = tuple(book.depth(BUY, levels)), tuple(book.depth(SELL, levels))
        expected_depth[env.now] = (bids, asks, feed.last_trade_price)

    for order_id, (instant, (kind, side, price, size)) in enumerate(flow, start=1):
        account = 1 if side == BUY else 2
        if kind == "cancel":
            command = CancelOrder(price)  # price carries an order id; unknown ids are rejected
            account = 1
        else:
            command = SubmitOrder(order_id, side, price, size)
        _send_at(env, gateway, instant * 10 * MS, account, command)
    for instant in range(6):  # the arrival instants (+1 ms), sampled after the feed phase
        env.call_at(instant * 10 * MS + MS, Phase.MARK, record_book)
    env.run()
    previous = ((), (), None)  # what the subscriber saw before any message: an empty book
    for now, msg in seen:
        view = (msg.bids, msg.asks, msg.last_trade_price)
        assert now == msg.ts_exchange + 3 * MS
        assert view == expected_depth[msg.ts_exchange]
        assert view != previous or msg.trades  # sent only when something it sees changed
        previous = view
    sent_at = {msg.ts_exchange for _, msg in seen}
    previous = ((), (), None)
    for ts in sorted(expected_depth):  # and every change of the visible depth was sent
        assert expected_depth[ts] == previous or ts in sent_at
        previous = expected_depth[ts]
    got = [trade for _, msg in seen for trade in msg.trades]
    logged = [
        (e["ts"], e["seq"], e["price_ticks"], e["size_lots"], e["aggressor_side"])
        for e in log.of_type("trade")
    ]
    assert got == logged


def _ledger(log):
    """A ledger for the gateway's fill reports (no margin checks are wired in these tests)."""
    tiers = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])
    return Ledger(log, 1, tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))


def test_a_top_of_book_view_names_the_latest_touch_change_not_a_deeper_order():
    """In one instant the touch is set (bid 99, ask 101) and then a bid rests at 97, deeper: the
    top-of-book view, and a one-level depth view, name the ask at 101 (the last event that
    changed what they show); a three-level view names the bid at 97."""
    env, log, gateway, feed = _venue()
    top = _recorder(feed, 0)
    one = _recorder(feed, 0, depth_levels=1)
    three = _recorder(feed, 0, depth_levels=3)
    for order in (SubmitOrder(1, BUY, 99, 1), SubmitOrder(2, SELL, 101, 1)):
        _send_at(env, gateway, 0, 1, order)
    _send_at(env, gateway, 0, 1, SubmitOrder(3, BUY, 97, 1))
    env.run()
    accepted = {e["price_ticks"]: e["seq"] for e in log.of_type("order_accepted")}
    assert [msg.seq for _, msg in top] == [accepted[101]]
    assert [msg.seq for _, msg in one] == [accepted[101]]
    assert [msg.seq for _, msg in three] == [accepted[97]]
