"""The spot index path: each spot market's price state and the index rule applied at a sample
instant, with the sample's cause (the update of the source that moved the value most since the
previous sample; on the first sample, or with no move, the latest among the sources used).

Real spot markets (book, engine, ledger, price state wired as the venue wires them); trades are
made by two funded accounts per market, with no fees. Prices in ticks, times in ns.
"""

from __future__ import annotations

from decimal import Decimal

from exchange_sim.core.ids import IdSource
from exchange_sim.core.units import NS_PER_S
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import PhasedEnvironment
from exchange_sim.markets.config import SpotMarketConfig
from exchange_sim.markets.spot_index import SpotIndexPath
from exchange_sim.matching.orders import BUY, GTC, SELL, Order
from exchange_sim.pricing.index import SpotIndex, SpotSource
from exchange_sim.venue.spot_market import SpotMarket

S = NS_PER_S
SELLER, BUYER = 1, 2


class Markets:
    """Spot markets ``a``, ``b`` and ``c`` on one log."""

    def __init__(self):
        self.log = log = MemoryLog()
        env, ids = PhasedEnvironment(), IdSource()
        self.markets = {}
        for name in ("a", "b", "c"):
            config = SpotMarketConfig(name=name, maker_fee_ppb=0, taker_fee_ppb=0)
            market = SpotMarket(env, log, config, 1, ids)
            for account in (SELLER, BUYER):
                market.ledger.open_account(account)
                market.ledger.deposit(0, account, 10**12, None)
                market.ledger.deposit(0, account, 10**6, None, asset="base")
            self.markets[name] = market
        self._ids = iter(range(1, 10**9))

    def submit(self, name, now, account, side, price, lots=1, tif=GTC):
        order = Order(next(self._ids), account, side, price, lots, tif=tif)
        return order, self.markets[name].engine.submit(now, order, None)

    def trade(self, name, now, price):
        """One lot trades at ``price`` on ``name`` at ``now``; return the trade's seq."""
        self.submit(name, now, SELLER, SELL, price)
        self.submit(name, now, BUYER, BUY, price)
        return self.log.of_type("trade")[-1]["seq"]

    def states(self):
        return {name: market.state for name, market in self.markets.items()}

    def path(self, weights=None, **changes):
        weights = weights or {"a": 1, "b": 1, "c": 1}
        sources = tuple(SpotSource(market=m, weight=Decimal(w)) for m, w in weights.items())
        return SpotIndexPath(SpotIndex(sources=sources, **changes), self.states())


def test_the_index_is_the_weighted_mean_of_last_trades_caused_by_the_latest():
    """a trades 10,000 at 1 s, b 10,003 at 2 s; weights 1 and 2: (10,000 + 20,006) / 3 =
    10,002; the sample names b's trade (the later of the two it came from)."""
    m = Markets()
    m.trade("a", 1 * S, 10_000)
    later = m.trade("b", 2 * S, 10_003)
    path = m.path({"a": 1, "b": 2})
    assert path.price_at(3 * S) == 10_002
    assert path.cause == later


def test_the_cause_is_the_source_that_moved_most_not_the_latest():
    """First sample at 3 s: a 10,000, b 10,000. Then a trades 9,900 at 4 s (a move of 100) and b
    10,001 at 5 s (a move of 1): the sample at 6 s names a's trade, the one that moved the index,
    although b's is later. With weight 200 on b, b's weighted move (200) beats a's (100)."""
    for weights, mover in (({"a": 1, "b": 1}, "a"), ({"a": 1, "b": 200}, "b")):
        m = Markets()
        m.trade("a", 1 * S, 10_000)
        m.trade("b", 2 * S, 10_000)
        path = m.path(weights)
        path.price_at(3 * S)
        seqs = {"a": m.trade("a", 4 * S, 9_900), "b": m.trade("b", 5 * S, 10_001)}
        path.price_at(6 * S)
        assert path.cause == seqs[mover], weights


def test_within_a_source_the_order_that_moved_the_last_price_most_is_the_cause():
    """a trades 10,000 at 1 s (first sample at 2 s). At 3 s one buy sweeps asks at 10,001,
    10,002 and 10,003 (a move of 3 from 10,000, in three trades); at 4 s one lot trades at
    10,002 (a move of 1). The sample at 5 s names the sweep's last trade, not the later one."""
    m = Markets()
    m.trade("a", 1 * S, 10_000)
    path = m.path({"a": 1})
    path.price_at(2 * S)
    for price in (10_001, 10_002, 10_003):
        m.submit("a", 3 * S, SELLER, SELL, price)
    m.submit("a", 3 * S, BUYER, BUY, 10_003, lots=3)
    sweep_last = m.log.of_type("trade")[-1]["seq"]
    m.trade("a", 4 * S, 10_002)
    assert path.price_at(5 * S) == 10_002
    assert path.cause == sweep_last


def test_the_cause_is_the_latest_source_the_value_came_from_not_an_outlier():
    """a 10,000 (1 s), b 10,010 (2 s), c 11,000 (3 s): c is 990 from the median 10,010 (band 5 %
    = 500.5), so it gets weight 0; the index is 10,005 and names b's trade, although c's trade
    is later."""
    m = Markets()
    m.trade("a", 1 * S, 10_000)
    b = m.trade("b", 2 * S, 10_010)
    m.trade("c", 3 * S, 11_000)
    path = m.path()
    assert path.price_at(4 * S) == 10_005
    assert path.cause == b


def test_a_source_exactly_staleness_old_is_live_and_one_ns_older_is_not():
    """Staleness 10 s. a traded 10,000 at 0, b 10,010 at 5 s. At 10 s, a is exactly 10 s old
    and still counts: (10,000 + 10,010) / 2 = 10,005. At 10 s + 1 ns it has weight 0: 10,010."""
    m = Markets()
    m.trade("a", 0, 10_000)
    b = m.trade("b", 5 * S, 10_010)
    path = m.path({"a": 1, "b": 1}, staleness=10 * S)
    assert path.price_at(10 * S) == 10_005
    assert path.price_at(10 * S + 1) == 10_010
    assert path.cause == b


def test_no_live_source_gives_no_index_and_no_cause():
    """Before any trade, and once every source is stale, there is no index (None) and no cause."""
    m = Markets()
    path = m.path({"a": 1}, staleness=S)
    assert path.price_at(0) is None
    assert path.cause is None
    m.trade("a", 0, 10_000)
    assert path.price_at(S) == 10_000
    assert path.price_at(S + 1) is None
    assert path.cause is None


def test_a_half_tick_mid_rounds_up():
    """price = "mid": a's book 9,999 / 10,002 has mid 10,000.5, which rounds up to 10,001."""
    m = Markets()
    m.submit("a", 0, BUYER, BUY, 9_999)
    m.submit("a", 0, SELLER, SELL, 10_002)
    assert m.path({"a": 1}, price="mid").price_at(S) == 10_001


def test_mids_combine_exactly_before_the_one_rounding():
    """Mids 10,000.5 (a: 9,999 / 10,002) and 10,001.5 (b: 10,000 / 10,003), weights 1 and 1:
    the exact mean 10,001 is the index (rounding each mid first would give 10,001.5 -> 10,002)."""
    m = Markets()
    for name, bid, ask in (("a", 9_999, 10_002), ("b", 10_000, 10_003)):
        m.submit(name, 0, BUYER, BUY, bid)
        m.submit(name, 0, SELLER, SELL, ask)
    assert m.path({"a": 1, "b": 1}, price="mid").price_at(S) == 10_001


def test_a_mid_names_the_latest_book_change_as_cause():
    """a's bids 9,998 and 9,996 rest at 1 s and its ask 10,002 at 2 s: the mid 10,000 names the
    ask's acceptance (the event that made the book what it is). Cancelling the 9,998 bid at 3 s
    moves the mid to 9,999 and makes the cancel its cause."""
    m = Markets()
    bid, _ = m.submit("a", 1 * S, BUYER, BUY, 9_998)
    m.submit("a", 1 * S, BUYER, BUY, 9_996)
    _, ask_seq = m.submit("a", 2 * S, SELLER, SELL, 10_002)
    path = m.path({"a": 1}, price="mid")
    assert path.price_at(2 * S) == 10_000
    assert path.cause == ask_seq
    cancel_seq = m.markets["a"].engine.cancel(3 * S, BUYER, bid.order_id, None)
    assert path.price_at(3 * S) == 9_999
    assert path.cause == cancel_seq


def test_a_one_sided_book_has_no_mid():
    """With only a bid on a's book there is no mid, so no index."""
    m = Markets()
    m.submit("a", 0, BUYER, BUY, 9_998)
    assert m.path({"a": 1}, price="mid").price_at(S) is None


def test_a_mid_is_stale_when_the_book_has_not_changed_for_the_staleness():
    """Staleness 10 s: a's book last changed at 1 s, so its mid counts at 11 s and not at
    11 s + 1 ns, although the orders still rest."""
    m = Markets()
    m.submit("a", 0, BUYER, BUY, 9_998)
    m.submit("a", 1 * S, SELLER, SELL, 10_002)
    path = m.path({"a": 1}, price="mid", staleness=10 * S)
    assert path.price_at(11 * S) == 10_000
    assert path.price_at(11 * S + 1) is None


def test_a_trade_is_a_book_change_for_the_mid():
    """a's book 9,990 / 10,010 (ask 2 lots) at 0; a buy of 1 lot trades at 10,010 at 5 s: the
    mid (still 10,000) is dated 5 s and names the trade."""
    m = Markets()
    m.submit("a", 0, BUYER, BUY, 9_990)
    m.submit("a", 0, SELLER, SELL, 10_010, lots=2)
    m.submit("a", 5 * S, BUYER, BUY, 10_010)
    trade = m.log.of_type("trade")[-1]["seq"]
    path = m.path({"a": 1}, price="mid", staleness=S)
    assert path.price_at(6 * S) == 10_000
    assert path.cause == trade


def test_an_order_that_expires_without_trading_is_not_a_book_change():
    """An IOC that finds nothing to trade expires: a's mid keeps the date and cause of the book
    it saw (its ask at 1 s), so at 2 s + 1 ns with staleness 1 s it is stale."""
    m = Markets()
    m.submit("a", 0, BUYER, BUY, 9_998)
    _, ask_seq = m.submit("a", 1 * S, SELLER, SELL, 10_002)
    m.submit("a", 2 * S, BUYER, BUY, 10_000, tif="IOC")
    path = m.path({"a": 1}, price="mid", staleness=S)
    assert path.price_at(2 * S) == 10_000
    assert path.cause == ask_seq
    assert path.price_at(2 * S + 1) is None


def test_weighted_median_over_spot_markets_names_the_median_source():
    """Weighted median, weights 1, 1, 3 on a 10,000 (1 s), b 10,020 (2 s), c 10,010 (0 s):
    sorted 10,000 (1), 10,010 (3), 10,020 (1); cumulative 4 reaches 2.5 at c: 10,010, caused by
    c's trade (the earliest of the three)."""
    m = Markets()
    c = m.trade("c", 0, 10_010)
    m.trade("a", 1 * S, 10_000)
    m.trade("b", 2 * S, 10_020)
    path = m.path({"a": 1, "b": 1, "c": 3}, method="weighted_median")
    assert path.price_at(3 * S) == 10_010
    assert path.cause == c
