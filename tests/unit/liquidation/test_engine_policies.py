"""The tiered (BitMEX/Bybit), dYdX, Hyperliquid and market policies through the engine.

All cases: m = 1 (one tick on one lot is one minor unit), no trading fees, fund seeded with
10,000. Account 10 is the liquidated long, account 11 the short on the other side of it.
"""

from __future__ import annotations

import attrs

from exchange_sim.liquidation.config import (
    DydxPolicyConfig,
    HyperliquidPolicyConfig,
    LiquidationConfig,
    MarketPolicyConfig,
    TieredPolicyConfig,
)
from tests.scenario.liquidation_harness import MAKER, S, Venue

# BitMEX step model: 1 % MM below 50,000 of notional, one more 1 % per 50,000 step above it.
STEPS = {
    "kind": "step",
    "base_risk_limit": 50_000,
    "step": 50_000,
    "base_maintenance_rate": "0.01",
    "base_initial_rate": "0.02",
}
TIERED = LiquidationConfig(policy=TieredPolicyConfig(), liquidation_fee=0, max_retries=1)


def _long(venue, lots, price, wallet):
    venue.account(10, wallet)
    venue.account(11, 1_000_000)
    venue.pair(10, 11, lots, price)


# --- tiered -------------------------------------------------------------------------------------


def test_tiered_fok_brings_the_position_down_one_tier():
    """Long 100 at 1,000, wallet 7,000, mark 945: notional 94,500 is in tier 1 (MM 2 % = 1,890)
    and equity 1,500 < 1,890. Tier 0 needs (100 - X) x 945 < 50,000, i.e. X >= 48: a FOK for 48
    limited at the bankruptcy price 930 fills 30 at 945 and 18 at 940. Realised -1,650 - 1,080:
    wallet 4,270, 52 lots left (notional 49,140, tier 0, MM 492), equity 1,410: recovered."""
    venue = Venue(TIERED, tiers=STEPS)
    _long(venue, 100, 1_000, 7_000)
    venue.quote(1, 945, 30)
    venue.quote(1, 940, 30)
    venue.index_at(0, 945)
    venue.run(S)
    (order,) = venue.events("liquidation_order")
    assert (order["tif"], order["size_lots"], order["price_ticks"]) == ("FOK", 48, 930)
    assert venue.state(10) == (52, 52_000, 4_270)
    assert venue.events("liquidation_finished")[0]["outcome"] == "recovered"


def test_tiered_failed_fok_leads_to_a_limit_at_bankruptcy_then_fund_takeover():
    """Only 30 lots bid within the 930 limit: the FOK for 48 expires unfilled. The position is
    taken over by a GTC sell of 100 at 930, which fills 30 at the 945 bid: the surplus
    (945 - 930) x 30 = 450 goes to the fund. The other 70 rest; after one retry interval
    (1 s) the order is cancelled and the fund takes the 70 over at the bankruptcy price, now
    ceil((70,000 - 4,900) / 70) = 930. The account ends flat with 0; fund 10,450."""
    venue = Venue(TIERED, tiers=STEPS)
    _long(venue, 100, 1_000, 7_000)
    venue.quote(1, 945, 30)
    venue.quote(1, 900, 1_000)
    venue.index_at(0, 945)
    venue.run(S // 2)
    expired = [e for e in venue.events("order_expired") if e["account_id"] == 10]
    assert expired[0]["reason"] == "fok_unfillable"
    fill = venue.events("liquidation_fill")[0]
    assert (fill["purpose"], fill["price_ticks"], fill["fund_delta"]) == (
        "takeover_limit",
        945,
        450,
    )
    assert 930 in venue.engine.book.asks
    venue.run(2 * S)
    assert venue.state(10) == (0, 0, 0)
    (takeover,) = venue.events("takeover")
    assert (takeover["ts"], takeover["position_lots"], takeover["price_ticks"]) == (S, 70, 930)
    assert venue.fund.balance == 10_450
    assert 930 not in venue.engine.book.asks


def test_tiered_lowest_tier_rests_a_limit_that_others_fill():
    """Long 40 at 1,000, wallet 2,600, mark 940: tier 0 (MM 376), equity 200: straight to a GTC
    sell of 40 at the bankruptcy price 935. It fills 10 at the 938 bid (surplus 30 to the fund);
    at 1 s a buyer lifts 10 at 935 (surplus 0); at 2 s (max_retries 2) the fund takes the last 20
    at 935. Account: -620 - 30 - 650 - 1,300 = -2,600: flat at 0. Fund 10,030."""
    venue = Venue(attrs.evolve(TIERED, max_retries=2), tiers=STEPS)
    _long(venue, 40, 1_000, 2_600)
    venue.quote(1, 938, 10)
    venue.index_at(0, 940)
    venue.quote_at(S, 1, 936, 10)
    venue.run(3 * S)
    fills = [
        (f["ts"], f["price_ticks"], f["size_lots"], f["fund_delta"])
        for f in venue.events("liquidation_fill")
        if f["account_id"] == 10
    ]
    assert fills == [(0, 938, 10, 30), (S, 935, 10, 0)]
    (takeover,) = venue.events("takeover")
    assert (takeover["ts"], takeover["position_lots"], takeover["price_ticks"]) == (2 * S, 20, 935)
    assert venue.state(10) == (0, 0, 0)
    assert venue.fund.balance == 10_030


# --- dYdX ---------------------------------------------------------------------------------------

THREE_PERCENT = {
    "kind": "brackets",
    "brackets": [
        {
            "notional_floor": 0,
            "notional_cap": 10**15,
            "max_leverage": 20,
            "maintenance_rate": "0.03",
            "maintenance_amount": 0,
        }
    ],
}
DYDX = LiquidationConfig(
    policy=DydxPolicyConfig(
        min_position_notional=0, max_notional_per_interval=0, max_insurance_lost_per_interval=0
    ),
    waterfall=("book", "adl"),
)


def test_dydx_fillable_price_capped_fee_and_deleveraging():
    """Long 100 at 1,000, wallet 7,500, MMF 3 %, oracle 950: TNC 2,500 < TMMR 2,850.

    ABR = 1 x (1 - 2,500/2,850); ABR x 1.5 x 2,850 = 525, so the fillable price is
    950 - 525/100 = 944.75, rounded up to 945. A 10 % slice (10 lots) fills 5 at 948 and 5 at
    946. Bankruptcy price 925: surpluses 115 and 105, fees min(ceil(1.5 % x 4,740) = 72, 115) and
    min(71, 105): fund +143. Wallet 7,500 - 530 - 143 = 6,827, 90 lots left: still liquidatable.

    At 1 s: ABR x 1.5 x 2,565 = 357, fillable ceil(950 - 357/90) = 947; 9 lots find no bid at
    or above 947: nothing fills, so the position goes to deleveraging: the short (account 11)
    closes 90 at the bankruptcy price ceil((90,000 - 6,827) / 90) = 925; the long keeps 77."""
    venue = Venue(DYDX, tiers=THREE_PERCENT)
    _long(venue, 100, 1_000, 7_500)
    venue.quote(1, 948, 5)
    venue.quote(1, 946, 100)
    venue.index_at(0, 950)
    venue.run(S // 2)
    (order,) = venue.events("liquidation_order")
    assert (order["price_ticks"], order["size_lots"], order["tif"]) == (945, 10, "IOC")
    assert [f["fund_delta"] for f in venue.events("liquidation_fill")] == [72, 71]
    assert venue.fund.balance == 10_143
    assert venue.state(10) == (90, 90_000, 6_827)
    venue.run(2 * S)
    second = venue.events("liquidation_order")[1]
    assert (second["ts"], second["price_ticks"], second["size_lots"]) == (S, 947, 9)
    (adl,) = venue.events("adl")
    assert (adl["account"], adl["counterparty"], adl["size"], adl["price"]) == (11, 10, 90, 925)
    assert venue.state(10) == (0, 0, 77)
    assert venue.acct(11).size_lots == -10
    assert venue.events("liquidation_finished")[0]["outcome"] == "deleveraged"


# --- Hyperliquid --------------------------------------------------------------------------------

HL = LiquidationConfig(
    policy=HyperliquidPolicyConfig(partial_threshold=50_000),
    waterfall=("book", "vault", "adl"),
)


def _hl_venue(config=HL):
    venue = Venue(config)
    _long(venue, 100, 1_000, 6_300)
    venue.quote(1, 944, 20)
    venue.quote(1, 900, 1_000)
    return venue


def test_hyperliquid_sends_a_20_percent_slice_above_the_threshold():
    """Mark 945: equity 800 < MM 945 but >= 2/3 MM (2,400 >= 1,890): book liquidation. Notional
    94,500 > 50,000, so a market order for 20 % = 20 lots, no fee: it fills at 944, wallet
    6,300 - 1,120 = 5,180, 80 left; equity 780 >= MM 756: recovered."""
    venue = _hl_venue()
    venue.index_at(0, 945)
    venue.run(S)
    (order,) = venue.events("liquidation_order")
    assert (order["price_ticks"], order["size_lots"], order["purpose"]) == (None, 20, "slice")
    assert venue.state(10) == (80, 80_000, 5_180)
    assert venue.events("insurance_fund") == []


def test_hyperliquid_within_the_cooldown_the_whole_position_is_sent():
    """At 5 s (inside the 30 s cooldown) mark 942: equity 540 < MM 754 (not below 2/3 MM), so
    the next order is for all 80 lots; they fill at 900, leaving -2,820: with no fund stage
    that is written off as bad debt."""
    venue = _hl_venue()
    venue.index_at(0, 945)
    venue.index_at(5 * S, 942)
    venue.run(6 * S)
    second = venue.events("liquidation_order")[1]
    assert (second["ts"], second["size_lots"], second["purpose"]) == (5 * S, 80, "close")
    (bad,) = venue.events("bad_debt")
    assert (bad["account"], bad["amount"], bad["outstanding"]) == (10, 2_820, 2_820)
    assert venue.state(10) == (0, 0, 0)


def test_hyperliquid_wait_mode_holds_the_next_slice_until_the_cooldown_ends():
    """With cooldown_action = wait the second slice (ceil(20 % x 80) = 16 lots) goes at 30 s."""
    config = attrs.evolve(
        HL, policy=HyperliquidPolicyConfig(partial_threshold=50_000, cooldown_action="wait")
    )
    venue = _hl_venue(config)
    venue.index_at(0, 945)
    venue.index_at(5 * S, 942)
    venue.run(31 * S)
    second = venue.events("liquidation_order")[1]
    assert (second["ts"], second["size_lots"]) == (30 * S, 16)


def test_hyperliquid_backstop_vault_takes_over_below_two_thirds_of_mm():
    """Mark 935: equity -200 < 2/3 MM: no book order; the vault takes the 100 lots over at the
    bankruptcy price 937 and the account ends at 0. One second later the vault sells 25 % (25
    lots): 20 at 944 (+140) and 5 at 900 (-185), one `vault` event for the order: its cash ends
    45 below its capital."""
    venue = _hl_venue()
    venue.index_at(0, 935)
    venue.run(S // 2)
    assert [e for e in venue.events("liquidation_order") if e["account_id"] == 10] == []
    (takeover,) = venue.events("takeover")
    assert (takeover["holder"], takeover["price_ticks"], takeover["position_lots"]) == (
        "vault",
        937,
        100,
    )
    assert venue.state(10) == (0, 0, 0)
    vault_account = venue.vault.account_id
    assert venue.state(vault_account) == (100, 93_700, 0)
    first = venue.events("vault")[0]
    assert (first["action"], first["unrealised_pnl"], first["cash"]) == (
        "takeover",
        -200,
        venue.vault.capital,
    )
    venue.run(S + 1)
    unwinds = [(e["action"], e["size_lots"], e["realised_pnl"]) for e in venue.events("vault")]
    assert unwinds[1:] == [("unwind", -25, -45)]
    assert venue.vault.cash == venue.vault.capital - 45


# --- market -------------------------------------------------------------------------------------

MARKET = LiquidationConfig(policy=MarketPolicyConfig(), waterfall=("book", "fund"), max_retries=0)


def _market_venue(fund):
    venue = Venue(MARKET, fund=fund)
    _long(venue, 100, 1_000, 6_000)
    venue.quote(1, 944, 50)
    venue.quote(1, 940, 30)
    venue.quote(1, 900, 1_000)
    venue.index_at(0, 945)
    return venue


def test_market_order_walks_the_book_and_the_fund_pays_the_deficit():
    """One market sell of 100 fills 50 at 944, 30 at 940 and 20 at 900: realised -2,800 -1,800
    -2,000 = -6,600, so the wallet ends at -600; the fund pays it back to 0: 10,000 - 600."""
    venue = _market_venue(10_000)
    venue.run(S)
    (order,) = venue.events("liquidation_order")
    assert (order["price_ticks"], order["size_lots"]) == (None, 100)
    assert venue.state(10) == (0, 0, 0)
    assert venue.fund.balance == 9_400
    assert venue.events("bad_debt") == []


def test_market_deficit_beyond_the_fund_is_recorded_as_bad_debt():
    """Same -600 with only 100 in the fund: the fund pays 100 and 500 is written off."""
    venue = _market_venue(100)
    venue.run(S)
    assert venue.fund.balance == 0
    (bad,) = venue.events("bad_debt")
    assert (bad["amount"], bad["outstanding"]) == (500, 500)
    assert venue.liquidation.accounting.bad_debt_outstanding == 500
    assert venue.state(10) == (0, 0, 0)


def test_market_policy_does_nothing_else_with_an_unfilled_rest():
    """Only 30 lots bid: the market order fills 30, the rest expires, and with a waterfall of
    just the book the engine hands the account back `unresolved`, still holding 70 lots."""
    venue = Venue(
        LiquidationConfig(policy=MarketPolicyConfig(), waterfall=("book",), max_retries=0)
    )
    _long(venue, 100, 1_000, 6_000)
    venue.quote(1, 944, 30)
    venue.index_at(0, 945)
    venue.run(S)
    assert venue.acct(10).size_lots == 70
    (finished,) = venue.events("liquidation_finished")
    assert finished["outcome"] == "unresolved"
    # Handed back to the real risk monitor, which finds it still liquidatable and hands it over
    # again at once (the engine restarts it a retry interval later: see test_engine_queue).
    assert [account for _, account, _ in venue.risk.handoffs] == [10, 10]
    assert venue.state(MAKER)[0] == 30


def test_tiered_no_fok_when_only_the_whole_position_leaves_the_tier():
    """BitMEX §4.2 (c) / Bybit §4.3 (c): the FillOrKill is a *partial* liquidation, "the size
    needed to bring the position value below a lower risk limit"; when that size is the whole
    position there is nothing partial to do and step (d) applies: the whole position is taken
    over with a limit at the bankruptcy price (boundary of ``policies.py``'s FOK check, FOK size
    equal to the position).

    Long 1 lot at 60,000, wallet 2,000, mark 59,000: notional 59,000 is in tier 1 (MM 2 % =
    1,180), equity 1,000 < 1,180. Only closing the one lot leaves tier 1, so no FOK is sent: the
    first (and only) order is the GTC takeover limit for 1 at 60,000 - 2,000 = 58,000."""
    venue = Venue(TIERED, tiers=STEPS)
    _long(venue, 1, 60_000, 2_000)
    venue.index_at(0, 59_000)
    venue.run(S // 2)
    orders = [
        (e["purpose"], e["tif"], e["size_lots"], e["price_ticks"])
        for e in venue.events("liquidation_order")
        if e["account_id"] == 10
    ]
    assert orders == [("takeover_limit", "GTC", 1, 58_000)]
