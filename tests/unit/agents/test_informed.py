"""The informed trader on a spot market of a real venue: it trades toward the fundamental value it
sees, news included, and names the value (or the view) it acted on.

Harness: :mod:`tests.unit.agents.spot_harness` (ticks of 0.1, lots of 0.001, no fees). The
fundamental starts at 500,000 ticks with no volatility, so it moves only at news (at 2 s). The
trader: threshold 0.2 % (half of it 0.1 %), clips of 5 lots, 1 ms to see the value and the book,
1 ms links, a check every second. Spot book (the whale's): bid 499,990 / ask 500,010, 1,000 lots
each.
"""

from __future__ import annotations

import itertools

from tests.unit.agents.spot_harness import LINK_1MS, MS, S, SpotVenue

INFORMED = {
    "kind": "informed",
    "name": "informed",
    "market": "spot",
    "threshold": "0.002",
    "clip_size": "0.005",
    "max_position": "0.012",
    "check_interval": "1s",
    "fundamental_latency": {"kind": "constant", "value": "1ms"},
    "feed_latency": {"kind": "constant", "value": "1ms"},
    "latency": LINK_1MS,
}


def venue(jump: str, **changes) -> SpotVenue:
    fundamental = {
        "enabled": True,
        "start_price": "50000.0",
        "volatility_annual": 0,
        "news": [{"at": "2s", "jump": jump, "headline": "tariff"}],
    }
    market = SpotVenue([{**INFORMED, **changes}], fundamental)
    market.book(0, "spot", [(499_990, 1_000)], [(500_010, 1_000)])
    return market


def brief(order):
    return (order["ts"], order["side"], order["price_ticks"], order["size_lots"], order["tif"])


def test_sells_only_once_the_bid_is_more_than_the_threshold_above_the_value():
    """Before the news the value is 500,000 and 0.2 % above it is 501,000: with the bid at exactly
    501,000 it holds; when the bid moves to 501,001 at 1.5 s it sells (seen at 1.501 s, arriving
    at 1.502 s) at no less than ceil(500,000 x 1.001) = 500,500. (Run to 1.503 s, before its
    next decision.)"""
    market = venue("-0.04", base_deposit="0.010")
    market.book(0, "spot", [(501_000, 1_000)], [(501_100, 1_000)])
    market.book(1_500 * MS, "spot", [(501_001, 1_000)], [(501_100, 1_000)])
    market.run(1_503 * MS)
    orders = market.orders(market.accounts("informed")["spot"])
    assert [brief(o) for o in orders] == [(1_502 * MS, -1, 500_500, 5, "IOC")]


def test_buys_only_once_the_ask_is_more_than_the_threshold_below_the_value():
    """0.2 % under 500,000 is 499,000: with the ask at exactly 499,000 it holds; at 498,999 (from
    1.5 s) it buys at no more than floor(500,000 x 0.999) = 499,500."""
    market = venue("-0.04")
    market.book(0, "spot", [(498_900, 1_000)], [(499_000, 1_000)])
    market.book(1_500 * MS, "spot", [(498_900, 1_000)], [(498_999, 1_000)])
    market.run(1_503 * MS)
    orders = market.orders(market.accounts("informed")["spot"])
    assert [brief(o) for o in orders] == [(1_502 * MS, 1, 499_500, 5, "IOC")]


def test_sells_after_a_negative_news_jump_naming_the_value_it_saw():
    """News -4 % at 2 s: value 480,000. It sees it at 2.001 s; the bid 499,990 is more than 0.2 %
    above, so it sells a clip of 5 lots as an IOC at no less than ceil(480,000 x 1.001) = 480,480,
    arriving at 2.002 s and filling at the bid. Its cause is the fundamental_price the news
    caused."""
    market = venue("-0.04", base_deposit="0.010")
    market.run(2_500 * MS)
    ids = market.accounts("informed")
    first = market.orders(ids["spot"])[0]
    assert brief(first) == (2 * S + 2 * MS, -1, 480_480, 5, "IOC")
    news = next(e for e in market.log.events if e["type"] == "news")
    value = market.log.events[first["cause"]]
    assert (value["type"], value["cause"], value["price"]) == (
        "fundamental_price",
        news["seq"],
        480_000,
    )
    trade = market.trades(ids["spot"])[0]
    assert (trade["price_ticks"], trade["size_lots"]) == (499_990, 5)


def test_its_next_order_names_the_later_view_it_read():
    """Its first sale changes the book; the view of it (seen 1 ms later) is newer than the value,
    so the second clip (at 2.004 s) names that trade. With 10 lots of base it then stops."""
    market = venue("-0.04", base_deposit="0.010")
    market.run(6 * S)
    ids = market.accounts("informed")
    orders = market.orders(ids["spot"])
    assert [(o["ts"], o["size_lots"]) for o in orders] == [(2 * S + 2 * MS, 5), (2 * S + 4 * MS, 5)]
    assert orders[1]["cause"] == market.trades(ids["spot"])[0]["seq"]


def test_on_a_spot_market_it_sells_no_more_base_than_it_holds():
    """With 3 lots of base it sells 3 (not a clip of 5) and then nothing more, although the bid
    stays far above the value."""
    market = venue("-0.04", base_deposit="0.003")
    market.run(6 * S)
    orders = market.orders(market.accounts("informed")["spot"])
    assert [(o["side"], o["size_lots"]) for o in orders] == [(-1, 3)]


def test_buys_after_positive_news_up_to_its_max_position():
    """News +4 % at 2 s: value 520,000; the ask 500,010 is more than 0.2 % below, so it buys at no
    more than floor(520,000 x 0.999) = 519,480: clips of 5, 5 and then 2 to its 12-lot maximum
    (one order in flight at a time), then stops."""
    market = venue("0.04")
    market.run(8 * S)
    orders = market.orders(market.accounts("informed")["spot"])
    assert [(o["side"], o["price_ticks"], o["size_lots"]) for o in orders] == [
        (1, 519_480, 5),
        (1, 519_480, 5),
        (1, 519_480, 2),
    ]
    assert orders[0]["ts"] == 2 * S + 2 * MS


def test_it_has_one_order_in_flight_at_a_time():
    """With a 300 ms link each way and a check every 100 ms, after positive news it sends its next
    clip only once the previous one's outcome is back: each order leaves at least 300 ms after
    the previous one arrived."""
    slow = {
        "request": {"kind": "constant", "value": "300ms"},
        "response": {"kind": "constant", "value": "300ms"},
    }
    market = venue("0.04", latency=slow, check_interval="100ms")
    market.run(5 * S)
    orders = market.orders(market.accounts("informed")["spot"])
    assert len(orders) == 3
    for before, after in itertools.pairwise(orders):
        assert after["ts_sent"] >= before["ts"] + 300 * MS
