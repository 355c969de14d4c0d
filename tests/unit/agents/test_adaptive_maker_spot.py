"""The adaptive market maker on a spot market, centred on the fundamental value.

Grid: the default instrument (tick 0.1, lot 0.001); prices are ticks (10,000 ticks = 1,000.0),
sizes lots. The fundamental value is constant (zero volatility, no news); fees are zero.
"""

from __future__ import annotations

import exchange_sim as es
from exchange_sim.core.units import NS_PER_S
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL, Order
from exchange_sim.runner.simulate import build_venue

S = NS_PER_S
SPOT_INDEX = {"process": {"kind": "spot", "sources": [{"market": "s", "weight": 1}]}}


def spot_venue(index=None, **maker):
    table = {
        "kind": "adaptive_maker",
        "name": "spot-amm",
        "market": "s",
        "reference": "fundamental",
        "base_deposit": "1",
        "deposit": "100000",
        "levels": 1,
        "level_sizes": ["0.010"],
        "base_half_spread": "0.5",
        "requote_threshold": "0.1",
        "requote_interval": "0s",
        "withdraw_volatility": 0,
        "withdraw_inventory": 0,
    }
    table.update(maker)
    config = {
        "fundamental": {"enabled": True, "start_price": "1000", "volatility_annual": 0},
        "spot_markets": [{"name": "s", "maker_fee_ppb": 0, "taker_fee_ppb": 0}],
        "participants": [table],
    }
    if index is not None:
        config["index"] = index
    log = MemoryLog()
    venue = build_venue(es.load_config(config), log)
    return venue, log


def spot_quotes(venue, account: int) -> list[tuple[int, int, int]]:
    book = venue.spot_markets["s"].book
    orders = book.by_account.get(account, {}).values()
    return sorted((o.side, o.price_ticks, o.remaining_lots) for o in orders)


def test_quotes_rest_on_the_spot_book_around_the_fundamental():
    """A spot adaptive maker quotes its ladder on the spot market's book, centred on the
    fundamental value it subscribes to, and not on the perpetual's book."""
    venue, _ = spot_venue()
    maker = venue._starts[0]
    venue.start()
    venue.env.run_until(2 * S)
    assert spot_quotes(venue, maker.account_id) == [(SELL, 10_005, 10), (BUY, 9_995, 10)]
    assert maker.account_id not in venue.book.by_account


def test_base_deposit_arrives_as_a_spot_deposit_of_base():
    """Its ``base_deposit`` is sent over its link and credited as base on the spot market."""
    venue, log = spot_venue()
    venue.start()
    venue.env.run_until(S)
    deposits = [e for e in log.events if e["type"] == "spot_deposit"]
    assert sorted(e["asset"] for e in deposits) == ["base", "quote"]
    base = next(e for e in deposits if e["asset"] == "base")
    assert base["amount"] == 1_000 and base["base"] == 1_000


def test_inventory_skew_counts_from_the_base_deposit():
    """Selling 10 lots of its base deposit makes its position -10: with a skew of 0.1 per
    0.010 held its fair value rises one tick (its starting base is not a position)."""
    venue, _ = spot_venue(inventory_skew="0.1", skew_unit="0.010")
    maker = venue._starts[0]
    spot = venue.spot_markets["s"]
    buyer = venue.ids.next("account")
    spot.ledger.open_account(buyer, "buyer", "test")
    spot.ledger.deposit(0, buyer, 10**12, None)
    venue.start()

    def lift(_payload):
        spot.engine.submit(venue.env.now, Order(10**9, buyer, BUY, 10_010, 10, tif="IOC"), None)

    venue.env.call_at(2 * S, Phase.MATCH, lift)
    venue.env.run_until(3 * S)
    assert maker.model.position_lots == -10
    assert spot_quotes(venue, maker.account_id) == [(SELL, 10_006, 10), (BUY, 9_996, 10)]


def test_margin_use_is_not_measured_on_spot():
    """On a spot market the margin-use withdrawal never fires, however low its threshold: after
    selling inventory the maker keeps quoting."""
    venue, log = spot_venue(withdraw_margin_use="0.000000001")
    maker = venue._starts[0]
    spot = venue.spot_markets["s"]
    buyer = venue.ids.next("account")
    spot.ledger.open_account(buyer, "buyer", "test")
    spot.ledger.deposit(0, buyer, 10**12, None)
    venue.start()

    def lift(_payload):
        spot.engine.submit(venue.env.now, Order(10**9, buyer, BUY, 10_010, 10, tif="IOC"), None)

    venue.env.call_at(2 * S, Phase.MATCH, lift)
    venue.env.run_until(3 * S)
    assert maker.withdrawn is None
    assert not [e for e in log.events if e["type"] == "maker_state"]


def test_initial_price_opens_a_market_no_one_has_priced():
    """With reference = index on a market the index has not priced yet (the index is built from
    this very book), ``initial_price`` 1,000.0 lets it quote at once around 10,000 ticks; without
    it the maker waits for a price and the book stays empty."""
    venue, _ = spot_venue(SPOT_INDEX, reference="index", initial_price="1000")
    maker = venue._starts[0]
    venue.start()
    venue.env.run_until(100_000_000)
    assert venue.index.price is None
    assert spot_quotes(venue, maker.account_id) == [(SELL, 10_005, 10), (BUY, 9_995, 10)]
    waiting, _ = spot_venue(SPOT_INDEX, reference="index")
    waiting.start()
    waiting.env.run_until(100_000_000)
    assert spot_quotes(waiting, waiting._starts[0].account_id) == []
