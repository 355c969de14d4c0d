"""The adaptive market maker on a real venue with an external index and a hand-driven whale.

Grid: the default instrument (tick 0.1, lot 0.001, 100 money minor units per tick-lot); prices
below are ticks (10,000 ticks = 1,000.0) and sizes lots. The maker sees the index after 1 ms and
the feed after 1 ms; its link takes 2 ms each way. Fees are zero.
"""

from __future__ import annotations

import itertools
import math

import exchange_sim as es
from exchange_sim.agents.config import AdaptiveMakerConfig
from exchange_sim.agents.maker_model import MakerModel
from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.events.log import MemoryLog
from exchange_sim.events.roots import root_kind_of
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL, Order
from exchange_sim.runner.simulate import build_venue

S = NS_PER_S
MS = 1_000_000


class Market:
    """A venue with one adaptive maker (``maker`` overrides its table) and a whale account the
    test drives straight into the engine."""

    def __init__(self, seed: int = 1, **maker) -> None:
        table = {
            "kind": "adaptive_maker",
            "name": "amm",
            "levels": 2,
            "level_sizes": ["0.005"],
            "base_half_spread": "0.2",
            "level_spacing": "0.1",
            "requote_threshold": "0.1",
            "requote_interval": "0s",
            "withdraw_volatility": 0,
            "withdraw_inventory": 0,
            "withdraw_margin_use": 0,
        }
        table.update(maker)
        config = {
            "run": {"seed": seed},
            "index": {"process": {"kind": "external"}},
            "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
            "participants": [table],
        }
        self.log = MemoryLog()
        self.venue = venue = build_venue(es.load_config(config), self.log)
        self.env = venue.env
        self.maker = venue._starts[0]
        self.whale = venue.ids.next("account")
        venue.ledger.open_account(self.whale, False, 20, "whale", "test")
        venue.ledger.deposit(0, self.whale, 10**15, None)
        self._whale_ids = iter(range(10**9, 2 * 10**9))

    def index(self, at: int, *prices: int, every: int = S) -> None:
        """Push ``prices`` to the venue's index at ``at``, ``at + every``, ..."""
        for i, price in enumerate(prices):
            self.venue.index.push(at + i * every - self.env.now, price)

    def whale_order(self, at: int, side: int, price: int | None, lots: int) -> None:
        def submit(_payload):
            order = Order(next(self._whale_ids), self.whale, side, price, lots, tif="IOC")
            self.venue.engine.submit(self.env.now, order, None)

        self.env.call_at(at - self.env.now, Phase.MATCH, submit)

    def run(self, until: int) -> None:
        if self.env.now == 0:
            self.venue.start()
        self.env.run_until(until)

    def quotes(self) -> list[tuple[int, int, int]]:
        """The maker's resting orders as ``(side, price, lots)``, bids then asks, best first."""
        orders = self.venue.book.by_account.get(self.maker.account_id, {}).values()
        rows = [(o.side, o.price_ticks, o.remaining_lots) for o in orders]
        return sorted(rows, key=lambda r: (-r[0], -r[0] * r[1]))

    def states(self) -> list[dict]:
        return self.log.of_type("maker_state")

    def type_of(self, seq: int) -> str:
        return self.log.events[seq]["type"]


def model(**changes) -> MakerModel:
    return MakerModel(AdaptiveMakerConfig(**changes), 100)


# -- fair value and skew arithmetic ------------------------------------------------------------


def test_fair_value_is_the_weighted_index_and_mid_floored():
    """Weights 3:1 on index 10,000 and mid (10,010 + 10,020)/2 = 10,015: the exact mean
    10,003.75 floors to 10,003; without a book only the index counts."""
    m = model(weight_index=750_000_000, weight_mid=250_000_000)
    m.observe_index(0, 10_000)
    assert m.anchor() == 10_000
    m.observe_book(0, 10_010, 10_020, ())
    assert m.anchor() == 10_003
    assert m.fair_value(0, m.anchor()) == 10_003


def test_inventory_skew_lowers_fair_value_per_unit_held_floored():
    """Skew 2 ticks per 10 lots: long 30 lowers fair by 6; short 35 raises it by 7 (floor of
    -7); the skew comes from its own fills."""
    m = model(inventory_skew=2, skew_unit=10)
    m.observe_index(0, 10_000)
    m.trade(BUY, 10_000, 30)
    assert m.fair_value(0, 10_000) == 9_994
    m.trade(SELL, 10_000, 65)
    assert m.fair_value(0, 10_000) == 10_007


def test_trade_flow_shifts_fair_value_within_its_window():
    """Net aggressor flow +30 lots (50 bought, 20 sold) at 1e-4 of the anchor per lot shifts
    fair value by floor(30 x 1e-4 x 10,000) = 30 ticks; once the window has passed, by 0."""
    m = model(flow_weight=100_000, flow_window=5 * S)
    trades = ((0, 1, 10_000, 50, BUY), (0, 2, 10_000, 20, SELL))
    m.observe_book(S, 9_999, 10_001, trades)
    assert m.net_flow(S) == 30
    assert m.fair_value(S, 10_000) == 10_030
    assert m.fair_value(6 * S, 10_000) == 10_000


def test_margin_use_is_position_margin_over_estimated_equity():
    """Deposit 10,000,000, bought 2 lots at 10,000 (cash -2,000,000), anchor 9,900: equity
    9,980,000, notional 1,980,000, leverage 10: use = ceil(1,980,000 / 99,800,000) in ppb."""
    m = model(leverage=10)
    m.deposited = 10_000_000
    m.trade(BUY, 10_000, 2)
    assert m.margin_use_ppb(9_900) == -(-1_980_000 * RATE_SCALE // (10 * 9_980_000))
    m.trade(BUY, 10_000, 10**6)
    assert m.margin_use_ppb(5_000) > RATE_SCALE  # equity gone: far past any threshold


# -- spread and volatility ---------------------------------------------------------------------


def _half_spread_after(path: list[int]) -> tuple[int, int]:
    market = Market(vol_multiplier="0.5", vol_window="60s", level_spacing="0.1")
    market.index(0, *path)
    market.run(len(path) * S)
    (_, bid, _), _, (_, ask, _), _ = market.quotes()
    return path[-1] - bid, ask - path[-1]


def test_volatile_index_widens_the_half_spread_by_the_formula():
    """Flat index: half spread = base (2 ticks). Volatile index ending at the same 10,000: half
    spread = 2 + ceil(0.5 x sigma x 10,000) with sigma = sqrt(sum of squared log returns) in
    whole ppb rounded up, on both sides of fair value."""
    assert _half_spread_after([10_000] * 6) == (2, 2)
    path = [10_000, 10_100, 9_900, 10_050, 9_950, 10_000]
    total = 0.0
    for a, b in itertools.pairwise(path):
        total += math.log(b / a) ** 2
    sigma_ppb = math.ceil(math.sqrt(total) * RATE_SCALE)
    expected = 2 + -(-500_000_000 * sigma_ppb * 10_000 // RATE_SCALE**2)
    assert expected > 100
    assert _half_spread_after(path) == (expected, expected)


# -- withdrawal and restore ----------------------------------------------------------------------


def test_volatility_withdraws_all_quotes_naming_the_index_update_that_pushed_it_over():
    """A 1 % rise then a 1.1 % fall take sigma over 1 %: at the second move's index update the
    maker logs `withdrawn` (cause: that index_price) and cancels every quote (cause: that
    event); the book holds none of its quotes while it is withdrawn."""
    market = Market(withdraw_volatility="0.01", vol_window="5s", restore_delay="3s")
    market.index(0, 10_000, 10_000, 10_000, 10_100, 9_990)
    market.index(5 * S, *[9_990] * 10)
    market.run(4 * S + 500 * MS)
    (state,) = market.states()
    assert (state["state"], state["reason"], state["action"]) == (
        "withdrawn",
        "volatility",
        "cancel_all",
    )
    index_event = market.log.events[state["cause"]]
    assert index_event["type"] == "index_price" and index_event["price"] == 9_990
    sigma = math.sqrt(math.log(10_100 / 10_000) ** 2 + math.log(9_990 / 10_100) ** 2)
    assert state["value"] == math.ceil(sigma * RATE_SCALE)
    assert state["threshold"] == 10_000_000
    cancels = [e for e in market.log.of_type("order_cancelled") if e["cause"] == state["seq"]]
    assert len(cancels) == 4
    assert market.quotes() == []


def test_restores_after_the_delay_once_calm_at_reduced_size():
    """The two moves leave the 5 s window at 9.001 s: that index update starts the calm clock,
    and 3 s later the maker logs `quoting` / `calm` / `restore` naming it, then quotes again at
    40 % size (2 of 5 lots)."""
    market = Market(
        withdraw_volatility="0.01", vol_window="5s", restore_delay="3s", restore_size="0.4"
    )
    market.index(0, 10_000, 10_000, 10_000, 10_100, 9_990)
    market.index(5 * S, *[9_990] * 10)
    market.run(11 * S + 900 * MS)
    assert market.quotes() == []
    market.run(12 * S + 500 * MS)
    _withdrawn, restored = market.states()
    assert (restored["state"], restored["reason"], restored["action"]) == (
        "quoting",
        "calm",
        "restore",
    )
    assert restored["ts"] == 12 * S + MS
    calm = market.log.events[restored["cause"]]
    assert calm["type"] == "index_price" and calm["ts"] == 9 * S
    assert (restored["value"], restored["size_ppb"]) == (0, 400_000_000)
    assert [lots for _, _, lots in market.quotes()] == [2, 2, 2, 2]


def test_inventory_withdrawal_names_the_fill_and_keeps_only_the_reducing_side():
    """A 10-lot market sell fills both 5-lot bids; the second fill takes inventory to 10 > 8:
    `withdrawn` / `inventory` names that trade, and the maker then rests only asks, 10 lots in
    all. A 3-lot buy brings it to 7: 2 s after that fill it restores, naming it."""
    market = Market(withdraw_inventory="0.008", restore_delay="2s", restore_size="1")
    market.index(0, *[10_000] * 10)
    market.whale_order(S + 500 * MS, SELL, None, 10)
    market.run(2 * S)
    (state,) = market.states()
    assert (state["reason"], state["value"], state["threshold"]) == ("inventory", 10, 8)
    trades = market.log.of_type("trade")
    assert state["cause"] == trades[1]["seq"]
    assert {side for side, _, _ in market.quotes()} == {SELL}
    assert sum(lots for _, _, lots in market.quotes()) == 10
    market.whale_order(3 * S, BUY, None, 3)
    market.run(6 * S)
    _withdrawn, restored = market.states()
    assert restored["action"] == "restore"
    assert market.type_of(restored["cause"]) == "trade"
    assert market.log.events[restored["cause"]]["aggressor_side"] == BUY
    assert restored["ts"] == market.log.events[restored["cause"]]["ts"] + 2 * MS + 2 * S
    assert {side for side, _, _ in market.quotes()} == {BUY, SELL}


def test_margin_call_withdraws_naming_the_call():
    """A margin call reaching the maker withdraws it at once (`margin_call`, value = the call's
    equity, threshold = its maintenance margin, cause = the margin_call event)."""
    market = Market()
    market.index(0, *[10_000] * 5)
    account = market.maker.account_id

    def call(_payload):
        now = market.env.now
        seq = market.log.emit(
            now,
            "margin_call",
            None,
            account_id=account,
            mark_price=10_000,
            equity=700,
            maintenance_margin=500,
            deliver_at=now + 5 * MS,
        )
        market.venue.gateway.deliver_margin_call(account, seq, 10_000, 700, 500, 0, 5 * MS)

    market.env.call_at(S + 100 * MS, Phase.MARGIN, call)
    market.run(2 * S)
    (state,) = market.states()
    assert (state["reason"], state["value"], state["threshold"]) == ("margin_call", 700, 500)
    assert market.type_of(state["cause"]) == "margin_call"
    assert state["ts"] == S + 105 * MS
    assert market.quotes() == []


# -- rejections and venue cancels ----------------------------------------------------------------


def test_a_maker_out_of_margin_cannot_flood_the_log():
    """With no deposit every quote is rejected. Each rejected ladder (4 quotes) pauses it
    1, 2, 4, ... s up to 60 s (`backoff` events naming an order_rejected, size halved each
    time); over 130 s it sends 8 ladders: 32 rejections, never more than 4 in a second."""
    market = Market(deposit=0, reject_backoff="1s", reject_backoff_max="60s")
    market.index(0, *[10_000] * 130)
    market.run(130 * S)
    account = market.maker.account_id
    rejected = [e for e in market.log.of_type("order_rejected") if e["account_id"] == account]
    backoffs = [e for e in market.states() if e["action"] == "backoff"]
    assert [e["value"] // S for e in backoffs] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert all(market.type_of(e["cause"]) == "order_rejected" for e in backoffs)
    assert [e["size_ppb"] for e in backoffs[:3]] == [500_000_000, 250_000_000, 125_000_000]
    assert len(rejected) == 4 * len(backoffs)
    per_second: dict[int, int] = {}
    for event in rejected:
        per_second[event["ts"] // S] = per_second.get(event["ts"] // S, 0) + 1
    assert max(per_second.values()) <= 4


def test_stops_after_reject_stop_after_rejected_ladders():
    """reject_stop_after = 3: the third rejected ladder in a row logs `stopped` / `stop` and no
    order is sent after it."""
    market = Market(deposit=0, reject_stop_after=3)
    market.index(0, *[10_000] * 30)
    market.run(30 * S)
    actions = [e["action"] for e in market.states() if e["reason"] == "rejected"]
    assert actions == ["backoff", "backoff", "stop"]
    assert market.states()[-1]["state"] == "stopped"
    assert len(market.log.of_type("order_rejected")) == 12


def test_a_venue_cancel_is_answered_once_then_backs_off():
    """The venue cancels the maker's quotes at 1 s: it posts one new ladder (cause: a cancel).
    The venue cancels that ladder too at 2 s: it backs off (`venue_cancel`) instead of
    re-posting, and quotes again only when the pause is over."""
    market = Market(reject_backoff="1s")
    market.index(0, *[10_000] * 10)
    account = market.maker.account_id

    def venue_cancel(_payload):
        market.venue.engine.cancel_all(market.env.now, account, None, "self_trade")

    for at in (S, 2 * S):
        market.env.call_at(at, Phase.LIQUIDATE, venue_cancel)
    market.run(2 * S + 500 * MS)
    accepted = [e for e in market.log.of_type("order_accepted") if e["account_id"] == account]
    reposted = [e for e in accepted if e["ts"] > S]
    assert len(reposted) == 4
    assert {market.type_of(e["cause"]) for e in reposted} == {"order_cancelled"}
    (state,) = market.states()
    assert (state["state"], state["reason"], state["action"]) == (
        "backoff",
        "venue_cancel",
        "backoff",
    )
    assert market.quotes() == []
    market.run(3 * S + 500 * MS)
    assert len(market.quotes()) == 4


# -- determinism ---------------------------------------------------------------------------------

RUN = {
    "run": {"duration": "20s"},
    "participants": [
        {"kind": "adaptive_maker", "name": "a", "withdraw_volatility": "0.0005"},
        {"kind": "adaptive_maker", "name": "b", "weight_mid": "0.5", "flow_weight": "0.000001"},
        {"kind": "noise", "name": "noise", "count": 10, "rate_per_second": 2},
    ],
}


def test_same_seed_same_log():
    """Two adaptive makers and noise traders on a GBM index: the same seed gives the same log
    digest; another seed gives another."""
    first = es.run(RUN, seed=5)
    assert es.run(RUN, seed=5).digest == first.digest
    assert es.run(RUN, seed=6).digest != first.digest
    assert first.summary["events_by_type"]["order_accepted"] > 100


def test_uncaused_participant_decisions_are_trader_decision_roots():
    """A maker's size growing back (its own timer) is logged with no cause; the cascade tree
    counts such a maker_state, like a metaorder's start, as a trader_decision root."""
    market = Market(restore_size="0.5", size_recovery="1s", withdraw_volatility="0.01")
    market.index(0, 10_000, 10_300, *[10_300] * 30)
    market.run(30 * S)
    grown = [e for e in market.states() if e["action"] == "size_up"]
    assert grown and all(e["cause"] is None for e in grown)
    assert root_kind_of("maker_state") == root_kind_of("metaorder") == "trader_decision"
