"""Time in force (IOC, FOK), post-only, and the price band around the reference price."""

from __future__ import annotations

from exchange_sim.matching import BUY, FOK, IOC, SELL, Order

BAND_5PCT_PPB = 50_000_000
"""Binance PERCENT_PRICE multiplierUp/Down 1.05/0.95 (exchange_mechanics.md §7): a 5 % band."""


def expired(log) -> list[tuple[int, str, int]]:
    return [(e["order_id"], e["reason"], e["remaining_lots"]) for e in log.of_type("order_expired")]


def traded_lots(log) -> int:
    return sum(t["size_lots"] for t in log.of_type("trade"))


def test_ioc_fills_what_crosses_and_expires_the_rest(make_engine):
    """IOC buy 5 at 100 against 3 lots at 100: 3 fill, 2 expire (ioc_remainder), none rest."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, SELL, 100, 3), None)
    engine.submit(0, Order(2, 1, SELL, 101, 3), None)
    engine.submit(1, Order(3, 2, BUY, 100, 5, tif=IOC), None)
    assert traded_lots(log) == 3
    assert expired(log) == [(3, "ioc_remainder", 2)]
    assert not engine.book.bids


def test_fok_fills_completely_when_enough_lots_cross(make_engine):
    """FOK buy 4 at 101 against 2 @ 100 and 2 @ 101 fills all 4 lots."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, SELL, 100, 2), None)
    engine.submit(0, Order(2, 1, SELL, 101, 2), None)
    engine.submit(1, Order(3, 2, BUY, 101, 4, tif=FOK), None)
    assert traded_lots(log) == 4
    assert expired(log) == []
    assert not engine.book.asks


def test_fok_expires_without_any_fill_when_short_by_one_lot(make_engine):
    """FOK buy 5 at 101 against only 4 crossing lots expires whole; the book is untouched."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, SELL, 100, 2), None)
    engine.submit(0, Order(2, 1, SELL, 101, 2), None)
    engine.submit(0, Order(3, 1, SELL, 102, 9), None)
    before = engine.book.order_state()
    engine.submit(1, Order(4, 2, BUY, 101, 5, tif=FOK), None)
    assert traded_lots(log) == 0
    assert expired(log) == [(4, "fok_unfillable", 5)]
    assert engine.book.order_state() == before


def test_fok_counts_own_orders_as_unfillable_under_cancel_newest(make_engine):
    """With STP cancel_newest, the FOK check stops at the taker's own order: 2 of 3 lots -> kill."""
    engine, log = make_engine(stp="cancel_newest")
    engine.submit(0, Order(1, 1, SELL, 100, 2), None)
    engine.submit(0, Order(2, 2, SELL, 100, 5), None)  # the taker's own order
    engine.submit(1, Order(3, 2, BUY, 100, 3, tif=FOK), None)
    assert expired(log) == [(3, "fok_unfillable", 3)]
    assert log.of_type("order_cancelled") == []


def test_post_only_order_that_would_cross_is_rejected(make_engine):
    """A post-only buy at or above the best ask is rejected; below it, it rests."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, SELL, 100, 1), None)
    rejected = engine.submit(1, Order(2, 2, BUY, 100, 1, post_only=True), None)
    rested = engine.submit(1, Order(3, 2, BUY, 99, 1, post_only=True), None)
    assert log.events[rejected]["reason"] == "post_only_would_cross"
    assert log.events[rested]["type"] == "order_accepted"
    assert engine.book.best_bid() == 99
    assert traded_lots(log) == 0


def test_market_sweep_stops_at_the_band(make_engine):
    """Mark 10,000 and a 5 % band: a market buy may pay at most 10,000 * 1.05 = 10,500.

    Asks 10,400 x 1, 10,500 x 1, 10,501 x 1; market buy 3 fills 2 lots and 1 expires: price_band.
    """
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: 10_000
    for order_id, price in ((1, 10_400), (2, 10_500), (3, 10_501)):
        engine.submit(0, Order(order_id, 1, SELL, price, 1), None)
    engine.submit(1, Order(4, 2, BUY, None, 3), None)
    assert [t["price_ticks"] for t in log.of_type("trade")] == [10_400, 10_500]
    assert expired(log) == [(4, "price_band", 1)]
    assert engine.book.best_ask() == 10_501


def test_buy_band_rounds_down(make_engine):
    """Mark 10,001, band 5 %: 10,001 * 1.05 = 10,501.05 rounds DOWN to 10,501 for a buy."""
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: 10_001
    engine.submit(0, Order(1, 1, SELL, 10_501, 1), None)
    engine.submit(0, Order(2, 1, SELL, 10_502, 1), None)
    engine.submit(1, Order(3, 2, BUY, None, 2), None)
    assert [t["price_ticks"] for t in log.of_type("trade")] == [10_501]
    assert expired(log) == [(3, "price_band", 1)]


def test_sell_band_rounds_up(make_engine):
    """Mark 10,001, band 5 %: 10,001 * 0.95 = 9,500.95 rounds UP to 9,501 for a sell."""
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: 10_001
    engine.submit(0, Order(1, 1, BUY, 9_501, 1), None)
    engine.submit(0, Order(2, 1, BUY, 9_500, 1), None)
    engine.submit(1, Order(3, 2, SELL, None, 2), None)
    assert [t["price_ticks"] for t in log.of_type("trade")] == [9_501]
    assert expired(log) == [(3, "price_band", 1)]


def test_ioc_limit_tighter_than_band_expires_as_ioc_remainder(make_engine):
    """An IOC whose own limit binds before the band expires with ioc_remainder, not price_band."""
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: 10_000
    engine.submit(0, Order(1, 1, SELL, 10_100, 1), None)
    engine.submit(0, Order(2, 1, SELL, 10_200, 1), None)
    engine.submit(1, Order(3, 2, BUY, 10_100, 2, tif=IOC), None)
    assert expired(log) == [(3, "ioc_remainder", 1)]


def test_ioc_limit_looser_than_band_is_cut_at_the_band(make_engine):
    """An IOC buy at 11,000 with mark 10,000 and 5 % band trades only up to 10,500."""
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: 10_000
    engine.submit(0, Order(1, 1, SELL, 10_500, 1), None)
    engine.submit(0, Order(2, 1, SELL, 10_600, 1), None)
    engine.submit(1, Order(3, 2, BUY, 11_000, 2, tif=IOC), None)
    assert traded_lots(log) == 1
    assert expired(log) == [(3, "price_band", 1)]


def test_fok_beyond_the_band_is_unfillable(make_engine):
    """FOK counts only lots inside the band: 1 lot inside, 2 wanted -> killed without a fill."""
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: 10_000
    engine.submit(0, Order(1, 1, SELL, 10_500, 1), None)
    engine.submit(0, Order(2, 1, SELL, 10_600, 1), None)
    engine.submit(1, Order(3, 2, BUY, None, 2, tif=FOK), None)
    assert traded_lots(log) == 0
    assert expired(log) == [(3, "fok_unfillable", 2)]


def test_gtc_limit_is_not_cut_by_the_band(make_engine):
    """A GTC buy at 11,000 trades at 10,600 although that is beyond the 5 % band of 10,000."""
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: 10_000
    engine.submit(0, Order(1, 1, SELL, 10_600, 1), None)
    engine.submit(1, Order(2, 2, BUY, 11_000, 1), None)
    assert [t["price_ticks"] for t in log.of_type("trade")] == [10_600]


def test_no_reference_price_means_no_band(make_engine):
    """With the band configured but no reference price yet, a market order sweeps freely."""
    engine, log = make_engine(price_band_ppb=BAND_5PCT_PPB)
    engine.reference_price = lambda: None
    engine.submit(0, Order(1, 1, SELL, 10_000, 1), None)
    engine.submit(0, Order(2, 1, SELL, 20_000, 1), None)
    engine.submit(1, Order(3, 2, BUY, None, 2), None)
    assert traded_lots(log) == 2
