"""Interventions on a timeline, on a real venue built from a config dict.

Grid: tick 1, lot 1, no decimals (one tick on one lot is one minor unit, so a notional is
``price x lots``); one bracket of 1 % maintenance up to 50x; no trading fees and no liquidation
fee; margin checks and margin calls without latency; no funding. The index is external: it starts
at 1,000 ticks and moves only when a test pushes it; the mark follows it (``index`` rule) every
10 ms, so a price pushed at a multiple of 10 ms is the mark of that instant. The insurance fund
starts with 1,000,000 and the money identity is checked after every liquidation step.

Accounts: the venue opens the insurance fund's account (1); a test's accounts come after it
(2, 3, ...). Positions are set up through the ledger at t = 0 (scaffolding, both sides at one
price so the money identity holds); orders go straight into the matching engine in the MATCH
phase, order ids from 10**9 up.

**The account at risk** (:meth:`Market.long_at_risk`): long 100 lots from 1,000 with a wallet of
1,900, short the other side with plenty. At a mark ``P`` its equity is ``1,900 + 100 (P - 1,000)
= 100 P - 98,100`` and its maintenance margin 1 % of ``100 P``, i.e. ``P``:

* liquidatable iff ``100 P - 98,100 < P`` iff ``P < 990.9``: at 990 equity 900 < MM 990, at 991
  equity 1,000 >= MM 991; a margin call iff ``100 P - 98,100 < 1.5 P`` iff ``P <= 995``;
* bankrupt at ``100 P = 98,100``: 981;
* maintenance rates doubled: liquidatable iff ``100 P - 98,100 < 2 P`` iff ``P <= 1,001``: at the
  starting mark 1,000, equity 1,900 < MM 2,000.

A buyer (account 4, the "bid" of :meth:`Market.long_at_risk`) rests 100 lots at 985 for the
liquidation to sell into.
"""

from __future__ import annotations

import itertools

import pytest

import exchange_sim as es
from exchange_sim.analysis.cascade import build_tree
from exchange_sim.core.errors import ConfigError, SimulationError
from exchange_sim.events.log import MemoryLog
from exchange_sim.events.roots import root_kind_of
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL, Order
from exchange_sim.runner.simulate import build_venue

MS = 1_000_000
START = 1_000
"""The index (and mark) at t = 0, in ticks."""
FUND = 1_000_000
"""The insurance fund's initial balance."""
RICH = 10**9
"""A wallet no test gets near."""

TIERS = {
    "kind": "brackets",
    "brackets": [
        {
            "notional_floor": 0,
            "notional_cap": 10**15,
            "max_leverage": 50,
            "maintenance_rate": "0.01",
            "maintenance_amount": 0,
        }
    ],
}

HALT = {"kind": "halt", "at": "100ms", "duration": "50ms"}
"""Halts the perpetual from 100 ms; it resumes at 150 ms."""


def config_data(*interventions: dict, spot: bool = False) -> dict:
    """The venue's config as parsed TOML, with ``interventions`` (tables) on its timeline."""
    data = {
        "run": {"duration": "1s", "verify_money": True},
        "instrument": {"tick_size": 1, "lot_size": 1, "money_decimals": 0},
        "index": {"process": {"kind": "external", "start_price": START}},
        "mark": {"cadence": "10ms", "rule": {"kind": "index"}},
        "margin": TIERS,
        "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
        "risk": {
            "margin_check_latency": {"kind": "constant", "value": "0s"},
            "notify_latency": {"kind": "constant", "value": "0s"},
        },
        "liquidation": {"liquidation_fee": 0, "insurance_fund": {"initial_balance": FUND}},
        "funding": {"enabled": False},
        "participants": [],
        "interventions": list(interventions),
    }
    if spot:
        data["spot_markets"] = [{"name": "s", "maker_fee_ppb": 0, "taker_fee_ppb": 0}]
    return data


class Market:
    """A venue with ``interventions`` and the helpers the tests share (module docstring)."""

    def __init__(self, *interventions: dict, spot: bool = False) -> None:
        self.log = MemoryLog()
        self.venue = venue = build_venue(
            es.load_config(config_data(*interventions, spot=spot)), self.log
        )
        self.env = venue.env
        self.ledger = venue.ledger
        self._order_ids = itertools.count(10**9)
        self._started = False

    # -- set-up ----------------------------------------------------------------------------
    def account(self, wallet: int = RICH) -> int:
        account_id = self.venue.ids.next("account")
        self.ledger.open_account(account_id, leverage=50)
        self.ledger.deposit(0, account_id, wallet, None)
        return account_id

    def long_at_risk(self) -> tuple[int, int]:
        """The account at risk (module docstring), its short counterparty and a bid of 100 lots
        at 985 resting from t = 0; returns ``(long, bidder)``."""
        ledger = self.ledger
        long, short, bidder = self.account(1_900), self.account(), self.account()
        ledger.apply_fill(0, None, ledger.accounts[long], BUY, START, 100, 0)
        ledger.apply_fill(0, None, ledger.accounts[short], SELL, START, 100, 0)
        self.order(0, bidder, BUY, 985, 100)
        return long, bidder

    # -- the timeline ----------------------------------------------------------------------
    def order(self, at: int, account_id: int, side: int, price, lots: int, tif="GTC", engine=None):
        """At ``at`` (MATCH phase) a new order reaches the engine (the perpetual's by default);
        returns its id."""
        order_id = next(self._order_ids)
        engine = engine or self.venue.engine

        def submit(_payload) -> None:
            order = Order(order_id, account_id, side, price, lots, tif=tif)
            engine.submit(self.env.now, order, None)

        self.env.call_at(at - self.env.now, Phase.MATCH, submit)
        return order_id

    def cancel(self, at: int, account_id: int, order_id: int) -> None:
        engine = self.venue.engine
        self.env.call_at(
            at - self.env.now,
            Phase.MATCH,
            lambda _p: engine.cancel(self.env.now, account_id, order_id, None),
        )

    def amend(self, at: int, account_id: int, order_id: int, price: int, lots: int) -> None:
        engine = self.venue.engine
        self.env.call_at(
            at - self.env.now,
            Phase.MATCH,
            lambda _p: engine.amend(self.env.now, account_id, order_id, price, lots, None),
        )

    def index(self, at: int, price: int) -> None:
        """The index is ``price`` from ``at`` (pushed by the external driver, INDEX phase)."""
        self.venue.index.push(at - self.env.now, price)

    def run(self, until: int) -> None:
        if not self._started:
            self._started = True
            self.venue.start()
        self.env.run_until(until)

    # -- reading ---------------------------------------------------------------------------
    def events(self, type_: str) -> list[dict]:
        return self.log.of_type(type_)

    def interventions(self) -> list[dict]:
        return self.events("intervention")

    def outcome(self, order_id: int) -> dict:
        """The accept or reject of ``order_id``."""
        (event,) = [
            e
            for e in self.log.events
            if e["type"] in ("order_accepted", "order_rejected") and e.get("order_id") == order_id
        ]
        return event

    def when(self, type_: str) -> list[int]:
        return [e["ts"] for e in self.events(type_)]


def prices(events: list[dict]) -> list[tuple[int, int]]:
    return [(e["ts"], e["price"]) for e in events]


# -- halt and resume ---------------------------------------------------------------------------


def test_an_order_during_a_halt_is_rejected_trading_halted():
    """Halted from 100 ms to 150 ms: a limit buy arriving at 120 ms is rejected with reason
    ``trading_halted`` and nothing rests."""
    m = Market(HALT)
    buyer = m.account()
    order_id = m.order(120 * MS, buyer, BUY, 990, 5)
    m.run(200 * MS)
    rejected = m.outcome(order_id)
    assert (rejected["type"], rejected["ts"], rejected["reason"]) == (
        "order_rejected",
        120 * MS,
        "trading_halted",
    )
    assert rejected["market"] == "BTCUSDT"
    assert m.venue.book.best_bid() is None


def test_orders_before_the_halt_and_from_the_resume_instant_are_accepted():
    """Halt at 100 ms, resume at 150 ms: an order at 99,999,999 ns is accepted, one at exactly
    100 ms rejected (the halt runs before matching at its instant), one at 149,999,999 ns
    rejected and one at exactly 150 ms accepted (so is the resume)."""
    m = Market(HALT)
    buyer = m.account()
    times = (100 * MS - 1, 100 * MS, 150 * MS - 1, 150 * MS)
    ids = [m.order(t, buyer, BUY, 990 - i, 1) for i, t in enumerate(times)]
    m.run(200 * MS)
    assert [m.outcome(i)["type"] for i in ids] == [
        "order_accepted",
        "order_rejected",
        "order_rejected",
        "order_accepted",
    ]


def test_halt_and_resume_are_intervention_events_the_resume_caused_by_the_halt():
    """The halt at 100 ms is a root (``cause`` null) naming the perpetual and its end; the
    resume at 150 ms is caused by it; neither carries a factor, band or amount."""
    m = Market(HALT)
    m.run(200 * MS)
    halt, resume = m.interventions()
    assert halt == {
        "seq": halt["seq"],
        "ts": 100 * MS,
        "type": "intervention",
        "cause": None,
        "action": "halt",
        "market": "BTCUSDT",
        "until_ns": 150 * MS,
        "factor_ppb": None,
        "band_ppb": None,
        "amount": None,
    }
    assert resume == {
        "seq": resume["seq"],
        "ts": 150 * MS,
        "type": "intervention",
        "cause": halt["seq"],
        "action": "resume",
        "market": "BTCUSDT",
        "until_ns": None,
        "factor_ppb": None,
        "band_ppb": None,
        "amount": None,
    }
    assert m.venue.interventions.applied == 2


def test_resting_orders_stay_through_a_halt_with_their_priority():
    """Two bids of 3 lots at 995, from accounts 2 (at 10 ms) and 3 (at 20 ms), rest through the
    halt untouched; a sell of 4 lots at 170 ms, after the resume, fills 3 from the older bid then
    1 from the newer, at 995."""
    m = Market(HALT)
    first, second, seller = m.account(), m.account(), m.account()
    older = m.order(10 * MS, first, BUY, 995, 3)
    newer = m.order(20 * MS, second, BUY, 995, 3)
    m.run(149 * MS)
    book = m.venue.book
    assert [(o.order_id, o.remaining_lots) for o in book.orders.values()] == [
        (older, 3),
        (newer, 3),
    ]
    m.order(170 * MS, seller, SELL, None, 4, tif="IOC")
    m.run(200 * MS)
    trades = [(e["maker_order_id"], e["price_ticks"], e["size_lots"]) for e in m.events("trade")]
    assert trades == [(older, 995, 3), (newer, 995, 1)]


def test_a_cancel_during_a_halt_is_carried_out():
    """Cancels still work while halted: a bid resting from 10 ms is cancelled at 120 ms."""
    m = Market(HALT)
    buyer = m.account()
    order_id = m.order(10 * MS, buyer, BUY, 995, 3)
    m.cancel(120 * MS, buyer, order_id)
    m.run(200 * MS)
    (cancelled,) = m.events("order_cancelled")
    assert (cancelled["ts"], cancelled["order_id"], cancelled["remaining_lots"]) == (
        120 * MS,
        order_id,
        3,
    )
    assert m.venue.book.best_bid() is None


def test_an_amend_during_a_halt_is_rejected_and_the_order_kept():
    """An amend of a resting bid (995 x 3 to 996 x 2) at 120 ms is rejected ``trading_halted``;
    the order keeps its price and size."""
    m = Market(HALT)
    buyer = m.account()
    order_id = m.order(10 * MS, buyer, BUY, 995, 3)
    m.amend(120 * MS, buyer, order_id, 996, 2)
    m.run(200 * MS)
    (rejected,) = m.events("amend_rejected")
    assert (rejected["ts"], rejected["reason"]) == (120 * MS, "trading_halted")
    order = m.venue.book.orders[order_id]
    assert (order.price_ticks, order.remaining_lots) == (995, 3)


def test_a_halt_without_duration_lasts_to_the_end():
    """``duration`` 0 is for good: ``until_ns`` is null, no resume follows, an order at 900 ms is
    still rejected."""
    m = Market({"kind": "halt", "at": "100ms"})
    buyer = m.account()
    order_id = m.order(900 * MS, buyer, BUY, 990, 1)
    m.run(1_000 * MS)
    (halt,) = m.interventions()
    assert (halt["action"], halt["until_ns"]) == ("halt", None)
    assert m.outcome(order_id)["reason"] == "trading_halted"


def test_a_halt_of_the_perpetual_holds_liquidations_until_the_resume():
    """The account at risk crosses maintenance at 120 ms, inside the halt (mark 990: equity 900 <
    MM 990): it is triggered then but starts only at the resume, 150 ms, after 30 ms in the
    queue; its liquidation order trades at once (the resume runs before it)."""
    m = Market(HALT)
    long, _ = m.long_at_risk()
    m.index(120 * MS, 990)
    m.run(149 * MS)
    (triggered,) = m.events("liquidation_triggered")
    assert (triggered["ts"], triggered["account_id"]) == (120 * MS, long)
    assert m.events("liquidation_started") == []
    m.run(200 * MS)
    (started,) = m.events("liquidation_started")
    assert (started["ts"], started["queue_wait_ns"]) == (150 * MS, 30 * MS)
    assert m.events("trade")[0]["ts"] == 150 * MS


def test_the_venues_own_orders_do_not_pass_a_halt():
    """A liquidation started before a halt keeps its schedule, but its orders are refused like
    anyone's: the account at risk crosses at 50 ms with no bid (its first IOC, 10 lots at the
    bankruptcy price 981, expires unfilled); its retry at 1.05 s (``retry_interval`` 1 s), inside
    the halt from 100 ms, is rejected ``trading_halted``."""
    m = Market(HALT | {"duration": "5s"})
    ledger = m.ledger
    long, short = m.account(1_900), m.account()
    ledger.apply_fill(0, None, ledger.accounts[long], BUY, START, 100, 0)
    ledger.apply_fill(0, None, ledger.accounts[short], SELL, START, 100, 0)
    m.index(50 * MS, 990)
    m.run(1_100 * MS)
    first, retry = m.events("liquidation_order")
    assert (first["ts"], first["price_ticks"], first["size_lots"]) == (50 * MS, 981, 10)
    assert m.outcome(first["order_id"])["type"] == "order_accepted"
    rejected = m.outcome(retry["order_id"])
    assert (rejected["ts"], rejected["tag"], rejected["reason"]) == (
        1_050 * MS,
        "liquidation",
        "trading_halted",
    )


def test_overlapping_halts_trade_again_only_when_the_last_one_ends():
    """Halts of 100-300 ms and 150-200 ms overlap: the inner one's resume (200 ms) leaves the
    market halted; an order at 250 ms is rejected, one at 300 ms accepted."""
    m = Market(
        {"kind": "halt", "at": "100ms", "duration": "200ms"},
        {"kind": "halt", "at": "150ms", "duration": "50ms"},
    )
    buyer = m.account()
    inside = m.order(250 * MS, buyer, BUY, 990, 1)
    after = m.order(300 * MS, buyer, BUY, 989, 1)
    m.run(400 * MS)
    actions = [(e["ts"], e["action"]) for e in m.interventions()]
    assert actions == [
        (100 * MS, "halt"),
        (150 * MS, "halt"),
        (200 * MS, "resume"),
        (300 * MS, "resume"),
    ]
    assert m.outcome(inside)["reason"] == "trading_halted"
    assert m.outcome(after)["type"] == "order_accepted"


def test_a_halt_for_good_is_not_lifted_by_a_timed_halt_ending():
    """A halt for good from 100 ms and a timed one of 150-200 ms: the timed one's resume leaves
    the market halted; an order at 500 ms is rejected."""
    m = Market(
        {"kind": "halt", "at": "100ms"},
        {"kind": "halt", "at": "150ms", "duration": "50ms"},
    )
    buyer = m.account()
    order_id = m.order(500 * MS, buyer, BUY, 990, 1)
    m.run(600 * MS)
    assert m.outcome(order_id)["reason"] == "trading_halted"


def test_a_spot_halt_leaves_the_perpetual_and_its_liquidations_alone():
    """Halting spot market ``s`` from 100 ms to 150 ms: a spot bid at 120 ms is rejected
    ``trading_halted`` on ``s``, a perpetual bid at 120 ms is accepted, and the account at risk,
    crossing at 120 ms, starts liquidating at once (queue wait 0)."""
    m = Market({"kind": "halt", "at": "100ms", "duration": "50ms", "market": "s"}, spot=True)
    spot = m.venue.spot_markets["s"]
    spot_buyer = m.venue.ids.next("account")
    spot.ledger.open_account(spot_buyer)
    spot.ledger.deposit(0, spot_buyer, RICH, None)
    long, bidder = m.long_at_risk()
    spot_bid = m.order(120 * MS, spot_buyer, BUY, 990, 1, engine=spot.engine)
    perp_bid = m.order(120 * MS, bidder, BUY, 984, 1)
    m.index(120 * MS, 990)
    m.run(200 * MS)
    assert [(e["action"], e["market"]) for e in m.interventions()] == [
        ("halt", "s"),
        ("resume", "s"),
    ]
    rejected = m.outcome(spot_bid)
    assert (rejected["market"], rejected["reason"]) == ("s", "trading_halted")
    assert m.outcome(perp_bid)["type"] == "order_accepted"
    (started,) = m.events("liquidation_started")
    assert (started["ts"], started["account_id"], started["queue_wait_ns"]) == (120 * MS, long, 0)


def test_halts_of_two_markets_are_counted_apart():
    """The perpetual halted 100-300 ms, spot market ``s`` 150-200 ms: at 250 ms the spot market
    trades again (its own halt is over) while the perpetual is still halted."""
    m = Market(
        {"kind": "halt", "at": "100ms", "duration": "200ms"},
        {"kind": "halt", "at": "150ms", "duration": "50ms", "market": "s"},
        spot=True,
    )
    spot = m.venue.spot_markets["s"]
    spot_buyer = m.venue.ids.next("account")
    spot.ledger.open_account(spot_buyer)
    spot.ledger.deposit(0, spot_buyer, RICH, None)
    perp_buyer = m.account()
    spot_bid = m.order(250 * MS, spot_buyer, BUY, 990, 1, engine=spot.engine)
    perp_bid = m.order(250 * MS, perp_buyer, BUY, 990, 1)
    m.run(400 * MS)
    assert m.outcome(spot_bid)["type"] == "order_accepted"
    assert m.outcome(perp_bid)["reason"] == "trading_halted"


# -- liquidation-engine outage -----------------------------------------------------------------

OUTAGE = {"kind": "liquidation_outage", "at": "100ms", "duration": "50ms"}
"""The liquidation engine is out from 100 ms; it is back at 150 ms."""


def test_an_account_crossing_during_an_outage_is_queued_until_it_ends():
    """The account at risk crosses at 120 ms (mark 990: equity 900, MM 990, shortfall 90): it is
    triggered and handed over then, and still queued at 149 ms; at 150 ms it starts (queue
    wait 30 ms) and is finished at that instant."""
    m = Market(OUTAGE)
    long, _ = m.long_at_risk()
    m.index(120 * MS, 990)
    m.run(149 * MS)
    (triggered,) = m.events("liquidation_triggered")
    assert (triggered["ts"], triggered["equity"], triggered["maintenance_margin"]) == (
        120 * MS,
        900,
        990,
    )
    assert triggered["shortfall"] == 90
    assert m.events("liquidation_started") == []
    assert m.venue.liquidation.backlog == 1
    m.run(200 * MS)
    (started,) = m.events("liquidation_started")
    assert (started["ts"], started["account_id"], started["queue_wait_ns"]) == (
        150 * MS,
        long,
        30 * MS,
    )
    (finished,) = m.events("liquidation_finished")
    assert (finished["ts"], finished["position_lots"]) == (150 * MS, 0)
    assert m.venue.liquidation.backlog == 0


def test_an_account_crossing_at_the_outage_end_instant_starts_at_once():
    """The outage ends at exactly 150 ms, before anything else at that instant: an account
    crossing at 150 ms starts at 150 ms with no wait."""
    m = Market(OUTAGE)
    long, _ = m.long_at_risk()
    m.index(150 * MS, 990)
    m.run(200 * MS)
    (started,) = m.events("liquidation_started")
    assert (started["ts"], started["account_id"], started["queue_wait_ns"]) == (150 * MS, long, 0)


def test_an_account_crossing_at_the_outage_start_instant_waits():
    """The outage starts at exactly 100 ms, before the mark of that instant: an account crossing
    at 100 ms is held for the whole 50 ms."""
    m = Market(OUTAGE)
    m.long_at_risk()
    m.index(100 * MS, 990)
    m.run(200 * MS)
    (started,) = m.events("liquidation_started")
    assert (started["ts"], started["queue_wait_ns"]) == (150 * MS, 50 * MS)


def test_liquidation_outage_and_restore_are_intervention_events():
    """``liquidation_outage`` at 100 ms (root, until 150 ms, no market), then
    ``liquidation_restore`` at 150 ms caused by it."""
    m = Market(OUTAGE)
    m.run(200 * MS)
    out, back = m.interventions()
    assert (out["ts"], out["cause"], out["action"], out["market"], out["until_ns"]) == (
        100 * MS,
        None,
        "liquidation_outage",
        "",
        150 * MS,
    )
    assert (back["ts"], back["cause"], back["action"], back["until_ns"]) == (
        150 * MS,
        out["seq"],
        "liquidation_restore",
        None,
    )


def test_an_outage_and_a_halt_overlapping_hold_liquidations_until_both_end():
    """Outage 100-150 ms, perpetual halt 130-200 ms: the account crossing at 120 ms is not
    started when the engine is back at 150 ms (still halted) but at the resume, 200 ms."""
    m = Market(OUTAGE, {"kind": "halt", "at": "130ms", "duration": "70ms"})
    m.long_at_risk()
    m.index(120 * MS, 990)
    m.run(300 * MS)
    (started,) = m.events("liquidation_started")
    assert (started["ts"], started["queue_wait_ns"]) == (200 * MS, 80 * MS)


# -- oracle outage -----------------------------------------------------------------------------

ORACLE = {"kind": "oracle_outage", "at": "100ms", "duration": "50ms"}
"""No index is published from 100 ms; the oracle is back at 150 ms."""


def test_no_index_is_published_during_an_oracle_outage_and_the_mark_stays():
    """Samples of 1,010 at 120 ms and 1,020 at 140 ms are dropped: no ``index_price``, the index
    and the mark stay 1,000; 1,030 at 160 ms is published and the mark follows at 160 ms."""
    m = Market(ORACLE)
    for t, price in ((120, 1_010), (140, 1_020), (160, 1_030)):
        m.index(t * MS, price)
    m.run(149 * MS)
    assert (m.venue.index.price, m.venue.mark.price) == (START, START)
    m.run(200 * MS)
    assert prices(m.events("index_price")) == [(0, START), (160 * MS, 1_030)]
    assert prices(m.events("mark_price")) == [(0, START), (160 * MS, 1_030)]


def test_an_oracle_outage_covers_its_start_instant_and_not_its_end_instant():
    """A sample at exactly 100 ms (the outage's start) is dropped, one at exactly 150 ms (its
    end) published: the outage takes effect before any price of its instants, whoever
    scheduled first (these samples were pushed before the run started)."""
    m = Market(ORACLE)
    m.index(100 * MS, 1_010)
    m.index(150 * MS, 1_020)
    m.run(200 * MS)
    assert prices(m.events("index_price")) == [(0, START), (150 * MS, 1_020)]


def test_oracle_outage_and_restore_are_intervention_events():
    """``oracle_outage`` at 100 ms (root, until 150 ms), ``oracle_restore`` at 150 ms caused by
    it."""
    m = Market(ORACLE)
    m.run(200 * MS)
    out, back = m.interventions()
    assert (out["ts"], out["cause"], out["action"], out["until_ns"]) == (
        100 * MS,
        None,
        "oracle_outage",
        150 * MS,
    )
    assert (back["ts"], back["cause"], back["action"]) == (150 * MS, out["seq"], "oracle_restore")


def test_overlapping_oracle_outages_publish_again_only_when_the_last_one_ends():
    """Outages of 100-300 ms and 150-200 ms: a sample at 250 ms, after the inner one's restore,
    is still dropped; one at 310 ms is published."""
    m = Market(ORACLE | {"duration": "200ms"}, ORACLE | {"at": "150ms"})
    m.index(250 * MS, 1_010)
    m.index(310 * MS, 1_020)
    m.run(400 * MS)
    assert prices(m.events("index_price")) == [(0, START), (310 * MS, 1_020)]


# -- new maintenance rates ---------------------------------------------------------------------

DOUBLE = {"kind": "margin_rates", "at": "100ms", "factor": 2}
"""Maintenance rates doubled at 100 ms."""


def test_margin_rates_event_carries_the_factor_in_ppb():
    """A factor of 2 is logged as ``factor_ppb`` 2,000,000,000 at 100 ms, a root."""
    m = Market(DOUBLE)
    m.run(200 * MS)
    (event,) = m.interventions()
    assert (event["ts"], event["cause"], event["action"], event["factor_ppb"]) == (
        100 * MS,
        None,
        "margin_rates",
        2_000_000_000,
    )
    assert (event["until_ns"], event["band_ppb"], event["amount"]) == (None, None, None)


def test_doubled_rates_make_a_safe_account_liquidatable_at_the_same_mark():
    """At mark 1,000 the account at risk is safe (equity 1,900 >= MM 1,000, no check runs);
    doubled rates at 100 ms make its MM 2,000 > 1,900 with the mark unchanged: it is checked at
    100 ms and liquidated (shortfall 100)."""
    m = Market(DOUBLE)
    long, _ = m.long_at_risk()
    m.run(99 * MS)
    assert m.events("margin_check") == []
    m.run(200 * MS)
    assert prices(m.events("mark_price")) == [(0, START)]
    (check,) = m.events("margin_check")
    assert (check["ts"], check["account_id"], check["mark_price"]) == (100 * MS, long, START)
    assert (check["equity"], check["maintenance_margin"], check["outcome"]) == (
        1_900,
        2_000,
        "liquidate",
    )
    (triggered,) = m.events("liquidation_triggered")
    assert (triggered["cause"], triggered["shortfall"]) == (check["seq"], 100)


def test_the_margin_check_after_new_rates_is_caused_by_the_intervention():
    """The check at 100 ms names the ``margin_rates`` event as its cause, so the liquidation's
    chain has root kind ``intervention`` in the cascade tree."""
    m = Market(DOUBLE)
    m.long_at_risk()
    m.run(200 * MS)
    (event,) = m.interventions()
    (check,) = m.events("margin_check")
    assert check["cause"] == event["seq"]
    summary = build_tree(m.log.events).summary()
    assert summary["liquidations"] == 1
    assert summary["roots_by_kind"]["intervention"] == 1


def test_new_rates_move_the_liquidation_price_at_once():
    """A long of 100 lots from 1,000 with a wallet of 3,500 (equity ``100 P - 96,500``) is
    liquidatable below ``96,500 / 99 = 974.7``: liquidation price 975 (rounded up; a long is
    liquidatable strictly below it). Doubled rates: below ``96,500 / 98 = 984.7``, so 985, at
    100 ms. At mark 1,000 it stays safe and unchecked (equity 3,500 >= 1.5 x MM 2,000)."""
    m = Market(DOUBLE)
    ledger = m.ledger
    long, short = m.account(3_500), m.account()
    ledger.apply_fill(0, None, ledger.accounts[long], BUY, START, 100, 0)
    ledger.apply_fill(0, None, ledger.accounts[short], SELL, START, 100, 0)
    account = ledger.accounts[long]
    m.run(99 * MS)
    before = (account.liquidation_price, ledger.is_liquidatable(account, 974))
    assert before == (975, True) and not ledger.is_liquidatable(account, 975)
    m.run(200 * MS)
    after = (account.liquidation_price, ledger.is_liquidatable(account, 984))
    assert after == (985, True) and not ledger.is_liquidatable(account, 985)
    assert m.events("margin_check") == []


def test_margin_rate_factors_compound():
    """Factors apply to the rates in force: 2 at 100 ms then 1.5 at 200 ms make maintenance
    3 % (MM of the account at risk at mark 1,000: 1,000, then 2,000, then 3,000)."""
    m = Market(DOUBLE, {"kind": "margin_rates", "at": "200ms", "factor": "1.5"})
    ledger = m.ledger
    account = ledger.accounts[m.account()]
    ledger.apply_fill(0, None, account, BUY, START, 100, 0)
    ledger.apply_fill(0, None, ledger.accounts[m.account()], SELL, START, 100, 0)
    seen = []
    for until in (99, 199, 300):
        m.run(until * MS)
        seen.append(ledger.maintenance_margin(account, START))
    assert seen == [1_000, 2_000, 3_000]
    assert [e["factor_ppb"] for e in m.interventions()] == [2_000_000_000, 1_500_000_000]


# -- price band --------------------------------------------------------------------------------

BAND = {"kind": "price_band", "at": "100ms", "band_ppb": "0.01"}
"""A 1 % band from 100 ms (the config starts with none)."""


def test_price_band_event_carries_the_band_in_ppb():
    """A band of 0.01 is logged as ``band_ppb`` 10,000,000 at 100 ms, a root."""
    m = Market(BAND)
    m.run(200 * MS)
    (event,) = m.interventions()
    assert (event["ts"], event["cause"], event["action"], event["band_ppb"]) == (
        100 * MS,
        None,
        "price_band",
        10_000_000,
    )


def test_an_ioc_beyond_the_new_band_trades_before_and_expires_after():
    """Asks of 1 lot at 1,015 (twice). An IOC buy limit 1,020 at 50 ms, with no band, takes one
    at 1,015. The same IOC at 150 ms, with the 1 % band around mark 1,000 (buy limit floor(1,000 x
    1.01) = 1,010 < 1,015), is accepted but expires unfilled with reason ``price_band``."""
    m = Market(BAND)
    seller, buyer = m.account(), m.account()
    m.order(0, seller, SELL, 1_015, 1)
    m.order(0, seller, SELL, 1_015, 1)
    before = m.order(50 * MS, buyer, BUY, 1_020, 1, tif="IOC")
    after = m.order(150 * MS, buyer, BUY, 1_020, 1, tif="IOC")
    m.run(200 * MS)
    assert [(e["ts"], e["taker_order_id"], e["price_ticks"]) for e in m.events("trade")] == [
        (50 * MS, before, 1_015)
    ]
    assert m.outcome(after)["type"] == "order_accepted"
    (expired,) = m.events("order_expired")
    assert (expired["ts"], expired["order_id"], expired["reason"]) == (
        150 * MS,
        after,
        "price_band",
    )


def test_an_ioc_inside_the_new_band_still_trades():
    """With the 1 % band (buy limit 1,010) an IOC buy at 150 ms takes an ask at 1,010."""
    m = Market(BAND)
    seller, buyer = m.account(), m.account()
    m.order(0, seller, SELL, 1_010, 1)
    m.order(150 * MS, buyer, BUY, 1_020, 1, tif="IOC")
    m.run(200 * MS)
    assert [(e["ts"], e["price_ticks"]) for e in m.events("trade")] == [(150 * MS, 1_010)]


def test_the_new_band_does_not_cut_a_gtc_limit():
    """GTC limits are not banded (their price is the protection): a GTC buy at 1,020 at 150 ms
    takes the ask at 1,015 beyond the 1 % band."""
    m = Market(BAND)
    seller, buyer = m.account(), m.account()
    m.order(0, seller, SELL, 1_015, 1)
    m.order(150 * MS, buyer, BUY, 1_020, 1)
    m.run(200 * MS)
    assert [(e["ts"], e["price_ticks"]) for e in m.events("trade")] == [(150 * MS, 1_015)]


# -- fund top-up -------------------------------------------------------------------------------

TOP_UP = {"kind": "fund_top_up", "at": "100ms", "amount": 250_000}
"""250,000 into the insurance fund at 100 ms."""


def test_a_top_up_raises_the_fund_by_its_amount():
    """At 100 ms the fund goes from 1,000,000 to 1,250,000: an ``insurance_fund`` event (delta
    250,000, reason ``top_up``) caused by the ``fund_top_up`` intervention (amount 250,000)."""
    m = Market(TOP_UP)
    m.run(99 * MS)
    assert m.venue.liquidation.fund.balance == FUND
    m.run(200 * MS)
    (event,) = m.interventions()
    assert (event["ts"], event["cause"], event["action"], event["amount"]) == (
        100 * MS,
        None,
        "fund_top_up",
        250_000,
    )
    (fund,) = m.events("insurance_fund")
    assert (fund["ts"], fund["cause"], fund["delta"], fund["balance"], fund["reason"]) == (
        100 * MS,
        event["seq"],
        250_000,
        1_250_000,
        "top_up",
    )
    assert m.venue.liquidation.fund.balance == 1_250_000


def test_a_top_up_counts_as_money_put_in():
    """Deposits 1,900 + 10**9 + 10**9 (the account at risk, its counterparty, the bidder), the
    fund's 1,000,000 and the top-up's 250,000 are put in; after the top-up and a liquidation
    (mark 990 at 120 ms) every unit is held, and the results say so."""
    m = Market(TOP_UP)
    m.long_at_risk()
    m.index(120 * MS, 990)
    m.run(200 * MS)
    assert len(m.events("liquidation_finished")) == 1
    put_in = 1_900 + 2 * RICH + FUND + 250_000
    assert m.venue.money_identity() == (put_in, put_in)
    results = m.venue.results()
    assert results["money_held_minor"] == results["money_deposited_net_minor"] == put_in


def test_a_top_up_not_counted_as_put_in_would_fail_the_money_check():
    """The check has teeth: with the top-up's 250,000 removed from what was put in, the
    venue's results refuse to report."""
    m = Market(TOP_UP)
    m.run(200 * MS)
    m.venue.liquidation.fund.injected -= 250_000
    with pytest.raises(SimulationError, match="held 1250000, put in 1000000"):
        m.venue.results()


# -- config errors -----------------------------------------------------------------------------


def _load_error(*interventions: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        es.load_config(config_data(*interventions))
    return str(caught.value)


def test_an_unknown_kind_names_the_key_and_the_kinds():
    """The second table's kind ``meteor`` names ``interventions[1].kind`` and lists the six."""
    err = _load_error(TOP_UP, {"kind": "meteor", "at": "1s"})
    assert err == (
        "interventions[1].kind: must be one of halt, liquidation_outage, oracle_outage, "
        "margin_rates, price_band, fund_top_up (got 'meteor')"
    )


def test_a_table_without_kind_names_the_key():
    err = _load_error({"at": "1s"})
    assert err.startswith("interventions[0].kind: must be one of halt,")
    assert err.endswith("(got None)")


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"kind": "halt", "at": "soon"}, "interventions[0].at: expected a duration such as"),
        ({"kind": "halt", "at": "-1s"}, "interventions[0].at: expected a duration such as"),
        ({"kind": "halt", "at": -5}, "interventions[0].at: a duration needs a unit"),
        (
            {"kind": "oracle_outage", "at": "1s", "duration": -1},
            "interventions[0].duration: a duration needs a unit",
        ),
        (
            {"kind": "liquidation_outage", "at": "1.5ns"},
            "interventions[0].at: not a whole number of nanoseconds (got '1.5ns')",
        ),
    ],
    ids=["not_a_duration", "negative_string", "negative_int", "negative_duration", "part_ns"],
)
def test_a_bad_time_names_the_key(table, message):
    """A time that is not a duration, is negative or is not whole ns names its key."""
    assert _load_error(table).startswith(message)


def test_a_key_of_another_kind_is_unknown():
    """``amount`` belongs to ``fund_top_up``: on a halt it is an unknown key, the valid ones
    listed."""
    err = _load_error({"kind": "halt", "at": "1s", "amount": 5})
    assert err == "interventions[0].amount: unknown key (valid: at, market, duration) (got 5)"


def test_a_halt_of_an_unknown_market_names_the_key():
    err = _load_error({"kind": "halt", "at": "1s", "market": "ETHUSDT"})
    assert err == "interventions[0].market: no such spot market (got 'ETHUSDT')"


def test_a_factor_finer_than_a_ppb_is_refused():
    """A factor is applied in ppb: 1.0000000001 would silently be 1 (no change); it is refused,
    naming the key."""
    err = _load_error({"kind": "margin_rates", "at": "1s", "factor": "1.0000000001"})
    assert err == (
        "interventions[0].factor: not a whole multiple of the rate resolution 1E-9 "
        "(got 1.0000000001)"
    )


def test_a_bad_intervention_on_the_command_line_is_one_line_naming_the_key(cli):
    """``validate`` with a bad ``--set interventions=...`` exits 2 with one line."""
    status, out, err = cli(
        "validate", "--set", 'interventions=[{kind="halt", at="1s"}, {kind="meteor"}]'
    )
    assert (status, out) == (2, "")
    assert err.count("\n") == 1
    assert err.startswith("exchange-sim: error: interventions[1].kind: must be one of halt,")


# -- causes and same-instant order -------------------------------------------------------------


def test_intervention_is_its_own_root_kind():
    """An uncaused ``intervention`` is a root of kind ``intervention`` (not ``venue_timer``)."""
    assert root_kind_of("intervention") == "intervention"


def test_every_intervention_start_is_a_root_and_every_end_is_caused_by_its_start():
    """Six kinds on one timeline: each start is uncaused; each end names its start."""
    m = Market(
        HALT,
        OUTAGE | {"at": "200ms"},
        ORACLE | {"at": "300ms"},
        DOUBLE | {"at": "400ms"},
        BAND | {"at": "500ms"},
        TOP_UP | {"at": "600ms"},
    )
    m.run(1_000 * MS)
    events = m.interventions()
    by_seq = {e["seq"]: e for e in events}
    starts = [e["action"] for e in events if e["cause"] is None]
    ends = [(by_seq[e["cause"]]["action"], e["action"]) for e in events if e["cause"] is not None]
    assert starts == [
        "halt",
        "liquidation_outage",
        "oracle_outage",
        "margin_rates",
        "price_band",
        "fund_top_up",
    ]
    assert ends == [
        ("halt", "resume"),
        ("liquidation_outage", "liquidation_restore"),
        ("oracle_outage", "oracle_restore"),
    ]


def test_an_intervention_runs_before_every_other_event_of_its_instant():
    """At 100 ms a halt, an index sample and an order coincide: the intervention is logged
    first, then the index, then the order's rejection."""
    m = Market(HALT)
    buyer = m.account()
    m.order(100 * MS, buyer, BUY, 990, 1)
    m.index(100 * MS, 1_001)
    m.run(200 * MS)
    at_100 = [e["type"] for e in m.log.events if e["ts"] == 100 * MS]
    assert at_100[:3] == ["intervention", "index_price", "order_rejected"]
