"""The liquidation hunter: from the public trades it estimates where the crowd's liquidation prices
cluster; when the book between the price and the cluster is thin it pushes the price there, buys
back into the forced selling and profits; with a deep book it does not push.

Scripted market (tick 1, lot 1, no fees, mark = last trade, index fixed at 10,000):

* a **book** account rests asks of 1,000 lots at 10,001 (what the crowd buys), a few bids below
  the price (:data:`THIN`: 2 lots at each of 9,999, 9,950, 9,900, 9,850 and 9,820; or
  :data:`DEEP`: 1,000 lots at each) and a wall of 5,000 lots at 9,780;
* a **crowd** of 20 leveraged longs (10,000 each at 50x, position_fraction 0.9: 45 lots each,
  effective leverage 45) buys at 10,001 in the first 3 s; their liquidation price is 9,827 and
  they ignore margin calls;
* the **hunter** assumes leverage 45 and a 0.5 % maintenance rate: it estimates the longs'
  liquidations at floor(10,001 x (1 - 1/45 + 0.005)) = 9,829, bucket [9,820, 9,830), edge 9,820;
  its push limit is 5 below (9,815), so the book on the way is what rests at 9,815 and above.
"""

from __future__ import annotations

from exchange_sim.kernel.latency import ConstantLatency
from exchange_sim.runner.population import populate
from exchange_sim.venue.messages import Deposit, SubmitOrder
from exchange_sim.venue.venue import Venue
from tests.unit.agents.trader_harness import MS, Market, S

THIN = [(9_999, 2), (9_950, 2), (9_900, 2), (9_850, 2), (9_820, 2)]
DEEP = [(price, 1_000) for price, _ in THIN]
WALL = (9_780, 5_000)

CROWD = {
    "kind": "leveraged",
    "name": "crowd",
    "count": 20,
    "deposit": 10_000,
    "leverages": [50],
    "long_fraction": 1,
    "position_fraction": "0.9",
    "entry_start": "1s",
    "entry_end": "3s",
    "response": {"top_up_probability": 0, "reduce_probability": 0},
}
HUNTER = {
    "kind": "hunter",
    "name": "hunter",
    "deposit": 1_000_000,
    "leverage": 10,
    "assumed_leverages": [45],
    "assumed_maintenance": "0.005",
    "bucket": 10,
    "max_distance": "0.03",
    "min_cluster": 900,
    "max_push": 50,
    "push_through": 5,
    "rebuy_levels": 5,
    "rebuy_spacing": 5,
    "check_interval": "1s",
    "quiet_period": "2s",
    "max_hold": "10s",
}


class Book:
    """An account resting the scripted book at t = 1 ms (its deposit arrives first)."""

    def __init__(self, account_id: int, gateway, bids) -> None:
        self.account_id = account_id
        self._gateway = gateway
        self._bids = bids

    def start(self) -> None:
        send, me = self._gateway.send, self.account_id
        send(me, Deposit(10**12), None)
        orders = [(-1, 10_001, 1_000)] + [(1, p, q) for p, q in [*self._bids, WALL]]
        for order_id, (side, price, lots) in enumerate(orders, start=10**9):
            send(me, SubmitOrder(order_id, side, price, lots), None)

    def on_order_update(self, now, seq, update) -> None:
        return None

    def on_fill(self, now, seq, fill) -> None:
        return None


def hunt(bids, crowd=CROWD, **hunter) -> Market:
    """Build, run 30 s and return the scripted market with the book's ``bids``."""
    participants = [crowd, dict(HUNTER, **hunter)]
    market = Market(
        participants,
        duration="30s",
        mark={"rule": {"kind": "last_trade"}, "cadence": "100ms"},
    )
    build = populate(market.loaded.config.participants)

    def populate_with_book(venue) -> list:
        starts = build(venue)
        account = venue.ids.next("account")
        venue.ledger.open_account(account, False, 100, "book", "book")
        book = Book(account, venue.gateway, bids)
        link = venue.sampler(ConstantLatency(value=MS), "test/book")
        venue.gateway.connect(book, link, link)
        return [book, *starts]

    market.log = type(market.log)()
    market.venue = Venue(market.loaded, market.log, populate_with_book)
    market.env = market.venue.env
    market.run(30 * S)
    return market


def hunter_pnl(market: Market) -> int:
    """The hunter's money now against its deposit (flat at the end: its realised PnL)."""
    (account_id,) = market.accounts_of("hunter")
    account = market.venue.ledger.accounts[account_id]
    assert account.size_lots == 0
    return account.wallet - account.deposited


def test_with_a_thin_book_the_hunter_pushes_into_the_estimated_cluster():
    """It logs an estimate of 900 lots at 9,820 with decision push (10 lots on the way, under
    its 50), then an IOC sell of those 10 lots down to 9,815, caused by the push event."""
    market = hunt(THIN)
    estimate = market.of_type("hunter_estimate")[-1]
    assert (estimate["decision"], estimate["cluster_price_ticks"]) == ("push", 9_820)
    assert (estimate["cluster_lots"], estimate["depth_lots"], estimate["cluster_side"]) == (
        900,
        10,
        1,
    )
    (push,) = market.of_type("hunter_push")
    assert push["cause"] == estimate["cause"]
    assert (push["side"], push["lots"], push["limit_price_ticks"]) == (-1, 10, 9_815)
    (order,) = market.orders_caused_by(push["seq"])
    assert (order["side"], order["price_ticks"], order["size_lots"]) == (-1, 9_815, 10)


def test_the_push_starts_the_cascade_and_the_hunter_buys_back_into_it_at_a_profit():
    """Its sells print down to 9,820, the mark follows the last trade below the crowd's 9,827
    and the crowd is liquidated; the forced sells fill its resting bids (9,810 to 9,790), it
    exits when the liquidation stream goes quiet (cause: the last notice) and ends flat with
    more money than it started with."""
    market = hunt(THIN)
    (push,) = market.of_type("hunter_push")
    liquidations = market.of_type("liquidation_triggered")
    assert len(liquidations) == 20
    assert min(e["ts"] for e in liquidations) > push["ts"]
    (exit_event,) = market.of_type("hunter_exit")
    assert exit_event["reason"] == "cascade_over"
    assert market.events[exit_event["cause"]]["type"] == "liquidation_fill"
    assert exit_event["liquidations_seen"] >= 20
    (hunter,) = market.accounts_of("hunter")
    rebought = [
        e["price_ticks"]
        for e in market.of_type("trade")
        if e["maker_account_id"] == hunter and e["taker_tag"] == "liquidation"
    ]
    assert sorted(set(rebought)) == [9_790, 9_795, 9_800, 9_805, 9_810]
    assert hunter_pnl(market) > 0


def test_with_a_deep_book_the_hunter_does_not_push():
    """1,000 lots at each level on the way is far more than its 50: the estimate says
    too_deep, no push, no liquidation, and it never trades."""
    market = hunt(DEEP)
    decisions = {e["decision"] for e in market.of_type("hunter_estimate")}
    assert "too_deep" in decisions and "push" not in decisions
    assert market.of_type("hunter_push") == []
    assert market.of_type("liquidation_triggered") == []
    (hunter,) = market.accounts_of("hunter")
    assert not [
        e
        for e in market.of_type("trade")
        if hunter in (e["maker_account_id"], e["taker_account_id"])
    ]


def test_a_cluster_smaller_than_its_minimum_is_not_worth_a_push():
    """min_cluster 1,000 lots: the crowd's 900 are too few, even with a thin book."""
    market = hunt(THIN, min_cluster=1_000)
    assert {e["decision"] for e in market.of_type("hunter_estimate")} == {"too_small"}
    assert market.of_type("hunter_push") == []


def test_when_no_cascade_follows_it_gives_up_on_its_own_timer():
    """If the crowd's leverage is lower than it assumed (10x: liquidated far below), the push
    sets nothing off: after max_hold it exits with reason no_cascade and an uncaused event."""
    market = hunt(THIN, crowd=dict(CROWD, leverages=[10], deposit=50_000))
    assert market.of_type("hunter_push")
    assert market.of_type("liquidation_triggered") == []
    (exit_event,) = market.of_type("hunter_exit")
    assert (exit_event["reason"], exit_event["cause"]) == ("no_cascade", None)
    assert exit_event["ts"] - market.of_type("hunter_push")[0]["ts"] >= 10 * S
