"""Settlement and waterfall rules through the engine, each checked against the venues' documented
behaviour (exchange_mechanics.md §4-§5), one behaviour per test (issue 15: each test fails when
its rule is changed).

m = 1, one tier of 1 % MM, no trading fees (tests/scenario/liquidation_harness.py).
"""

from __future__ import annotations

from exchange_sim.liquidation.adl import AdlConfig
from exchange_sim.liquidation.config import (
    HyperliquidPolicyConfig,
    LiquidationConfig,
    MarketPolicyConfig,
    TieredPolicyConfig,
)
from tests.scenario.liquidation_harness import S, Venue

# --- the liquidation fee never creates a deficit --------------------------------------------


def test_liquidation_fee_is_capped_at_the_remaining_equity():
    """Binance §4.1 steps 3-5: the liquidation fee is taken from what the account has left (step
    5: "a portion of the remaining collateral (if any)"), so it never drives the wallet negative
    and never makes bad debt; dYdX §4.5 step 6 caps its fee the same way (``min(fee, dIF)``).

    Long 100 at 1,000, wallet 6,000, mark 945 (equity 500 < MM 945), fee 1 % (above the MM rate,
    so the IOC closes all 100, §4.1 "already bankrupt when first entering liquidation"). The IOC
    sells 100 into a bid at 941: realised 94,100 - 100,000 = -5,900 leaves 100; the fee would be
    941 but only the 100 left is taken. With an empty fund nothing could pay an uncapped fee's
    deficit back, so it would show as bad debt."""
    config = LiquidationConfig(liquidation_fee=10_000_000, max_retries=0)
    venue = Venue(config, fund=0)
    venue.account(10, 6_000)
    venue.account(11, 100_000)
    venue.pair(10, 11, 100, 1_000)
    venue.quote(1, 941, 1_000)
    venue.index_at(0, 945)
    venue.run(S)
    (fill,) = venue.events("liquidation_fill")
    assert (fill["price_ticks"], fill["size_lots"], fill["fund_delta"]) == (941, 100, 100)
    assert venue.state(10) == (0, 0, 0)
    assert venue.fund.balance == 100
    assert venue.events("bad_debt") == []


# --- a bankrupt account's leftover collateral -----------------------------------------------


def _tiered_bankrupt_venue(max_retries: int = 0) -> Venue:
    """Long 30 at 1,000 (account 10, wallet 2,500) against account 11; mark 920: equity 100 < MM
    276, bankruptcy price ceil(27,500 / 30) = 917. One tier, so the tiered policy goes straight
    to its takeover limit: sell 30 at 917, GTC (§4.2 "a limit order at the bankruptcy price")."""
    config = LiquidationConfig(policy=TieredPolicyConfig(), max_retries=max_retries)
    venue = Venue(config)
    venue.account(10, 2_500)
    venue.account(11, 10**6)
    venue.pair(10, 11, 30, 1_000)
    venue.index_at(0, 920)
    return venue


def test_bankrupt_accounts_leftover_collateral_goes_to_the_fund():
    """§4.2: the engine "takes over the position including any remaining maintenance margin";
    §4.1 step 5: "a portion of the remaining collateral (if any) will go to the insurance
    fund"; §4.3: "the remaining margin goes to the insurance fund".

    The takeover limit fills 30 at 917 against a bid: realised 27,510 - 30,000 = -2,490 leaves
    10 in the wallet (the bankruptcy price rounds up); the flat bankrupt account keeps nothing:
    the 10 go to the fund (10,000 -> 10,010)."""
    venue = _tiered_bankrupt_venue()
    venue.quote(1, 917, 30)
    venue.run(S)
    (order,) = venue.events("liquidation_order")
    assert (order["purpose"], order["price_ticks"], order["tif"]) == ("takeover_limit", 917, "GTC")
    assert venue.state(10) == (0, 0, 0)
    assert venue.fund.balance == 10_010
    (finished,) = venue.events("liquidation_finished")
    assert (finished["outcome"], finished["wallet"]) == ("closed", 0)


def test_bankrupt_account_is_not_handed_back_when_the_mark_recovers():
    """§4.2 (lowest tier, and (d)): once the engine has taken the position over with a limit at
    the bankruptcy price the trader is bankrupt; the position is the engine's and a later
    recovery of the mark does not return it ("you will be liquidated and your maintenance margin
    will be lost"). §4.3 the same for Bybit.

    The takeover limit (sell 30 at 917) rests on an empty book; the mark goes back to 1,000 at
    0.5 s (the account would be compliant again). After max_retries = 2 intervals the rest is
    escalated: the fund takes the 30 lots over at 917 and the account ends flat, not
    ``recovered``."""
    venue = _tiered_bankrupt_venue(max_retries=2)
    venue.index_at(S // 2, 1_000)
    venue.run(4 * S)
    (finished,) = venue.events("liquidation_finished")
    assert finished["outcome"] == "taken_over"
    (takeover,) = venue.events("takeover")
    assert (takeover["price_ticks"], takeover["position_lots"]) == (917, 30)
    assert venue.acct(10).size_lots == 0


# --- the fund's solvency check counts what it already holds ---------------------------------


def _market_venue(fund: int, fund_position_limit: int = 0) -> Venue:
    """Long 30 at 1,000 (account 10, wallet 2,500) is bankrupt at mark 900 (equity -500),
    bankruptcy price 917; no bids, so the market order fills nothing and the rest goes to the
    waterfall ``book, fund, adl``; the fund's loss at the mark on it is (917 - 900) x 30 = 510.
    Profitable shorts for ADL: 20 (10 at 1,000) and 21 (20 at 1,000)."""
    config = LiquidationConfig(
        policy=MarketPolicyConfig(),
        max_retries=0,
        adl=AdlConfig(ranking="bitmex"),
        fund_position_limit=fund_position_limit,
    )
    venue = Venue(config, fund=fund)
    venue.account(10, 2_500)
    venue.account(20, 1_000)
    venue.account(21, 500)
    venue.pair(10, 20, 10, 1_000)
    venue.pair(10, 21, 20, 1_000)
    return venue


def test_fund_with_an_open_loss_it_cannot_pay_declines_and_adl_follows():
    """§4.1 step 6: "if the insurance fund cannot accept the position, counterparty liquidation
    (ADL) follows"; §5.1/§5.2: ADL when the fund is depleted. A fund's open loss at the mark on
    positions it already holds is money it owes: it counts against its balance.

    Fund 1,000, already long 10 at 1,000 (against account 22): open loss at 900 = 1,000. The new
    takeover's loss at the mark, 510, fits the balance alone, but 510 + 1,000 > 1,000: the fund
    declines and the shorts are deleveraged at 917."""
    venue = _market_venue(fund=1_000)
    venue.account(22, 10_000)
    venue.pair(venue.fund_account, 22, 10, 1_000)
    venue.index_at(0, 900)
    venue.run(S)
    assert venue.events("takeover") == []
    assert {e["price"] for e in venue.events("adl")} == {917}
    assert sum(e["size"] for e in venue.events("adl")) == 30
    (finished,) = venue.events("liquidation_finished")
    assert finished["outcome"] == "deleveraged"
    assert venue.state(venue.fund_account)[0] == 10


def test_fund_position_limit_admits_a_position_of_exactly_its_balance():
    """Binance 2020 (§5.1): the fund's position "will not be allowed to exceed a predefined
    position notional ... by default 100 % the size of the insurance fund": a position equal to
    the balance does not exceed it (boundary of ``waterfall.py``'s limit check).

    Fund 27,000, limit 100 %: the 30 lots at mark 900 are 27,000 of notional, exactly the
    balance: the fund takes them over at 917 (no ADL)."""
    venue = _market_venue(fund=27_000, fund_position_limit=1_000_000_000)
    venue.index_at(0, 900)
    venue.run(S // 2)
    takeovers = [
        (e["holder"], e["price_ticks"], e["position_lots"]) for e in venue.events("takeover")
    ]
    assert takeovers == [("insurance_fund", 917, 30)]
    assert venue.events("adl") == []


# --- Hyperliquid: an unfilled market order is retried before the backstop -------------------


def test_hyperliquid_retries_an_unfilled_order_then_escalates():
    """Hyperliquid §4.6 step 1: liquidation is by market orders into the book; step 3: the
    backstop takes over only "if equity < 2/3 of MM without a successful book liquidation". An
    order that finds no bids while equity is still >= 2/3 MM is sent again, every
    ``retry_interval`` (1 s), ``max_retries`` (2) times; then the rest is escalated.

    Long 100 at 1,000, wallet 6,200, mark 945: equity 700 < MM 945 but 3 x 700 >= 2 x 945. The
    book is empty: three IOC market orders for all 100 at 0 s, 1 s and 2 s (attempts 1, 2, 3),
    none fills; at 2 s the fund takes the position over at the bankruptcy price
    ceil(93,800 / 100) = 938."""
    config = LiquidationConfig(
        policy=HyperliquidPolicyConfig(partial_threshold=10**12), max_retries=2, retry_interval=S
    )
    venue = Venue(config)
    venue.account(10, 6_200)
    venue.account(11, 10**6)
    venue.pair(10, 11, 100, 1_000)
    venue.index_at(0, 945)
    venue.run(4 * S)
    orders = [
        (e["ts"], e["attempt"], e["size_lots"], e["price_ticks"], e["tif"], e["purpose"])
        for e in venue.events("liquidation_order")
        if e["account_id"] == 10
    ]
    assert orders == [
        (0, 1, 100, None, "IOC", "close"),
        (S, 2, 100, None, "IOC", "close"),
        (2 * S, 3, 100, None, "IOC", "close"),
    ]
    assert venue.events("liquidation_fill") == []
    (takeover,) = venue.events("takeover")
    assert (takeover["ts"], takeover["price_ticks"], takeover["position_lots"]) == (2 * S, 938, 100)
    (finished,) = venue.events("liquidation_finished")
    assert (finished["ts"], finished["outcome"], finished["orders"]) == (2 * S, "taken_over", 3)
