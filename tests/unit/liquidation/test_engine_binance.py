"""Binance "Smart Liquidation" through the engine (exchange_mechanics.md §4.1).

Set-up for every case (m = 1, one tier of 1 % MM, no trading fees): account 10 long 100 lots at
1,000 (entry notional 100,000) with a wallet of 6,000, against account 11 short. At mark 945:
equity = 6,000 - 5,500 = 500 < MM = 1 % x 94,500 = 945, so it is liquidatable; its bankruptcy
price is ceil((100,000 - 6,000) / 100) = 940. Liquidation fee 0.1 %; the fund starts at 10,000.
"""

from __future__ import annotations

import attrs

from exchange_sim.liquidation.config import LiquidationConfig
from exchange_sim.runner.event_catalog import validate_record
from tests.scenario.liquidation_harness import MAKER, REGISTRY, S, Venue, cause_chain

CONFIG = LiquidationConfig(liquidation_fee=1_000_000, max_retries=0)


def _venue(config=CONFIG, **kwargs):
    venue = Venue(config, **kwargs)
    venue.account(10, 6_000)
    venue.account(11, 100_000)
    venue.pair(10, 11, 100, 1_000)
    return venue


def test_ioc_sized_to_restore_maintenance_and_fee_to_the_fund():
    """The IOC closes the smallest compliant size, 53 lots, and the account is left compliant.

    Closing X at the mark costs only the fee ceil(0.945 X): need 500 - ceil(0.945 X) >=
    ceil(9.45 (100 - X)). X = 52: 450 < 454; X = 53: 449 >= 445. Realised on 53 at 945:
    50,085 - 53,000 = -2,915; fee ceil(50.085) = 51 to the fund: wallet 6,000 - 2,915 - 51 =
    3,034, fund 10,051, position 47 (basis 47,000)."""
    venue = _venue()
    venue.quote(1, 945, 1_000)
    venue.index_at(0, 945)
    venue.run(S)
    (order,) = venue.events("liquidation_order")
    assert (order["size_lots"], order["tif"], order["price_ticks"]) == (53, "IOC", 940)
    assert venue.state(10) == (47, 47_000, 3_034)
    assert venue.fund.balance == 10_051
    (finished,) = venue.events("liquidation_finished")
    assert finished["outcome"] == "recovered"
    assert venue.events("takeover") == []


def test_rest_taken_over_at_bankruptcy_when_still_liquidatable():
    """Only 20 lots bid at 945 (the next bid, 930, is beyond the 940 limit): the IOC fills 20.

    After: realised 18,900 - 20,000 = -1,100, fee ceil(18.9) = 19, wallet 4,881, position 80
    (basis 80,000); equity 4,881 - 4,400 = 481 < MM ceil(756) = 756, so the fund takes the 80 lots
    over at the bankruptcy price ceil((80,000 - 4,881) / 80) = 939. The account realises
    75,120 - 80,000 = -4,880 and its remaining collateral, 1, goes to the fund:
    fund 10,000 + 19 + 1 = 10,020."""
    venue = _venue()
    venue.quote(1, 945, 20)
    venue.quote(1, 930, 1_000)
    venue.index_at(0, 945)
    venue.run(S // 2)
    assert venue.state(10) == (0, 0, 0)
    assert venue.state(venue.fund_account)[:2] == (80, 75_120)
    assert venue.fund.balance == 10_020
    (takeover,) = venue.events("takeover")
    assert (takeover["price_ticks"], takeover["position_lots"], takeover["collateral"]) == (
        939,
        80,
        1,
    )
    (finished,) = venue.events("liquidation_finished")
    assert finished["outcome"] == "taken_over"


def test_fund_unwinds_what_it_took_over_into_the_book():
    """One second after the takeover the fund sells 25 % of 80 = 20 lots into the 930 bid:
    realised 18,600 - ceil(75,120 x 20 / 80) = 18,600 - 18,780 = -180, paid by the fund:
    10,020 - 180 = 9,840; 60 lots left (basis 56,340). Then ceil(25 %) of what is left each
    second: 15, 12, 9, 6, 5, 4, 3, 2, 1, 1, 1, 1 (80 in all, the last at 13 s)."""
    venue = _venue()
    venue.quote(1, 945, 20)
    venue.quote(1, 930, 1_000)
    venue.index_at(0, 945)
    venue.run(S + 1)
    assert venue.state(venue.fund_account) == (60, 56_340, 0)
    assert venue.fund.balance == 9_840
    venue.run(20 * S)
    assert venue.acct(venue.fund_account).size_lots == 0
    assert venue.state(MAKER)[0] == 20 + 80
    orders = [e for e in venue.events("liquidation_order") if e["purpose"] == "fund_unwind"]
    assert [o["size_lots"] for o in orders] == [20, 15, 12, 9, 6, 5, 4, 3, 2, 1, 1, 1, 1]
    assert orders[-1]["ts"] == 13 * S
    # 80 lots bought at 939 (75,120), sold at 930 (74,400): the fund lost 720 in all.
    assert venue.fund.balance == 10_020 - 720


def test_an_unfilled_ioc_is_retried_then_escalated():
    """With an empty book the IOC fills nothing; with max_retries 2 and a 1 s retry it is sent
    at 0, 1 s and 2 s, then the fund takes the whole position over at 940."""
    venue = _venue(attrs.evolve(CONFIG, max_retries=2))
    venue.index_at(0, 945)
    venue.run(3 * S)
    sent = [(e["ts"], e["size_lots"]) for e in venue.events("liquidation_order")]
    assert sent == [(0, 53), (S, 53), (2 * S, 53)]
    (takeover,) = venue.events("takeover")
    assert (takeover["ts"], takeover["price_ticks"]) == (2 * S, 940)


def test_the_price_band_cuts_the_ioc():
    """With a 0.5 % band around mark 945 a sell may not trade below ceil(940.275) = 941; the bid
    at 941 fills, the one at 940 (the bankruptcy limit) does not."""
    venue = _venue(band_ppb=5_000_000)
    venue.quote(1, 941, 10)
    venue.quote(1, 940, 1_000)
    venue.index_at(0, 945)
    venue.run(S // 2)
    fills = venue.events("liquidation_fill")
    assert (fills[0]["price_ticks"], fills[0]["size_lots"]) == (941, 10)
    expired = [e for e in venue.events("order_expired") if e["account_id"] == 10]
    assert expired[0]["reason"] == "price_band"


def test_events_chain_back_to_the_mark_and_match_the_schema():
    """Every liquidation event validates against its declared schema, and a fund event walks
    back through fill, trade, order, start, trigger and margin check to the mark price and the
    index price that moved it."""
    venue = _venue()
    venue.quote(1, 945, 20)
    venue.quote(1, 930, 1_000)
    venue.index_at(0, 945)
    venue.run(2 * S)
    for event in venue.log.events:
        if event["type"] in REGISTRY:
            assert validate_record(event, REGISTRY) is None, event
    fee_event = next(e for e in venue.events("insurance_fund") if e["reason"] == "liquidation_fee")
    assert cause_chain(venue.log, fee_event["seq"]) == [
        "insurance_fund",
        "liquidation_fill",
        "trade",
        "order_accepted",
        "liquidation_order",
        "liquidation_started",
        "liquidation_triggered",
        # The real risk monitor logs its margin check between the mark and the trigger, and the
        # index mark names the index publication it followed.
        "margin_check",
        "mark_price",
        "index_price",
    ]
    takeover = venue.events("takeover")[0]
    assert cause_chain(venue.log, takeover["seq"])[1:3] == ["liquidation_fill", "trade"]


def test_open_orders_are_cancelled_first():
    """A resting ask of the liquidated account is cancelled (reason `liquidation`) before the
    engine sends anything."""
    venue = _venue()
    venue.quote(-1, 1_100, 5, account_id=10)
    venue.quote(1, 945, 1_000)
    venue.index_at(0, 945)
    venue.run(S)
    cancelled = venue.events("order_cancelled")
    assert [(e["account_id"], e["reason"]) for e in cancelled] == [(10, "liquidation")]
    assert cancelled[0]["seq"] < venue.events("liquidation_order")[0]["seq"]
