"""The waterfall through the engine: ADL (each ranking, close price, trigger), socialised loss.

m = 1, one tier of 1 % MM, no trading fees.
"""

from __future__ import annotations

import attrs
import pytest

from exchange_sim.liquidation.adl import AdlConfig
from exchange_sim.liquidation.config import (
    LiquidationConfig,
    MarketPolicyConfig,
    TieredPolicyConfig,
)
from tests.scenario.liquidation_harness import MAKER, S, Venue

# --- BitMEX W10 end to end ------------------------------------------------------------------


def test_bitmex_w10_allocation_end_to_end():
    """W10 (§9): longs (account: lots, score rank) 1: 10, 3; 2: 10, 6; 3: 20, 1; 4: 30, 4;
    5: 20, 5; 6: 10, 2. A short of 20 is liquidated at bankruptcy price 650: account 2 closes all
    10 and account 5 closes 10 of its 20, at 650.

    Accounts 21..26 stand for 1..6, all long at 600; at mark 645 each gains 45 per lot and has
    105, 115, ... of equity per lot in the order 2, 5, 4, 1, 6, 3, so the BitMEX score
    45 x 645 / (600 x equity per lot) ranks them as W10 does. The short (account 30: 20 lots at
    600, wallet 1,000) has equity 100 < MM 129 and bankruptcy price floor(13,000 / 20) = 650.
    The tiered policy's limit at 650 finds no ask, the empty fund declines, ADL closes it."""
    config = LiquidationConfig(
        policy=TieredPolicyConfig(), max_retries=0, adl=AdlConfig(ranking="bitmex")
    )
    venue = Venue(config, fund=0)
    wallets = {21: 900, 22: 600, 23: 2_200, 24: 2_400, 25: 1_400, 26: 1_000}
    sizes = {21: 10, 22: 10, 23: 20, 24: 30, 25: 20, 26: 10}
    venue.account(30, 1_000)
    venue.account(31, 10**6)
    for account_id, wallet in wallets.items():
        venue.account(account_id, wallet)
        venue.pair(account_id, 30 if account_id in (22, 26) else 31, sizes[account_id], 600)
    venue.index_at(0, 645)
    venue.run(S)
    adl = [(e["account"], e["size"], e["price"], e["rank"]) for e in venue.events("adl")]
    assert adl == [(22, 10, 650, 1), (25, 10, 650, 2)]
    assert (venue.acct(22).size_lots, venue.acct(25).size_lots) == (0, 10)
    assert venue.state(30) == (0, 0, 0)
    assert venue.events("liquidation_finished")[0]["outcome"] == "deleveraged"


# --- each ranking ---------------------------------------------------------------------------


def _ranking_venue(adl: AdlConfig, fund: int = 0) -> Venue:
    """Long 10 (30 lots at 1,000, wallet 2,500) is bankrupt at mark 900 (equity -500), bankruptcy
    price ceil(27,500 / 30) = 917; no bids. Opposite shorts at mark 900:
    a=20: 10 at 1,000, wallet 1,000 (profit 1,000, equity 2,000);
    b=21: 20 at 1,000, wallet 500 (profit 2,000, equity 2,500);
    c=22: 40 at 950, wallet 1,000 (profit 2,000, equity 3,000);
    d=23: 30 at 850 (a loss of 1,500). Long 11 holds the other side of c and d."""
    config = LiquidationConfig(policy=MarketPolicyConfig(), max_retries=0, adl=adl)
    venue = Venue(config, fund=fund)
    venue.account(10, 2_500)
    venue.account(11, 10**6)
    for account_id, wallet in ((20, 1_000), (21, 500), (22, 1_000), (23, 10_000)):
        venue.account(account_id, wallet)
    venue.pair(10, 20, 10, 1_000)
    venue.pair(10, 21, 20, 1_000)
    venue.pair(11, 22, 40, 950)
    venue.pair(11, 23, 30, 850)
    venue.index_at(0, 900)
    return venue


@pytest.mark.parametrize(
    ("ranking", "expected"),
    [
        # BitMEX PnL% x EffLev: b 0.1 x 7.2 = 0.72, c (2/38) x 12 = 0.63, a 0.1 x 4.5 = 0.45.
        ("bitmex", [(21, 20), (22, 10)]),
        # Binance (profit / wallet) x (MM / equity): b 4 x 0.072, c 2 x 0.12, a 1 x 0.045.
        ("binance", [(21, 20), (22, 10)]),
        # Hyperliquid, shorts entry / account value: c 38,000/3,000, b 8, a 5.
        ("hyperliquid", [(22, 30)]),
        # Pro rata over the profitable 10, 20, 40: 30 x (1/7, 2/7, 4/7) = 4.29, 8.57, 17.14;
        # floors 4, 8, 17 and the missing lot to the largest remainder (b).
        ("pro_rata", [(20, 4), (21, 9), (22, 17)]),
    ],
)
def test_each_ranking_closes_the_expected_positions_at_bankruptcy(ranking, expected):
    """The bankrupt long's 30 lots are closed against the ranked shorts at 917; the losing
    short (23) is never touched; the long ends flat with ceil-rounding residue 10."""
    venue = _ranking_venue(AdlConfig(ranking=ranking))
    venue.run(S)
    adl = [(e["account"], e["size"]) for e in venue.events("adl")]
    assert adl == expected
    assert {e["price"] for e in venue.events("adl")} == {917}
    for account_id, lots in expected:
        size = {20: -10, 21: -20, 22: -40}[account_id]
        assert venue.acct(account_id).size_lots == size + lots
    assert venue.acct(23).size_lots == -30
    # 30 x 917 - 30,000 = -2,490 against a wallet of 2,500.
    assert venue.state(10) == (0, 0, 10)


def test_capped_pro_rata_leaves_the_rest_unresolved():
    """Cap 20 %: a, b, c close at most 2, 4 and 8 lots (14 of 30); ADL is the last stage, so the
    other 16 stay with the account and it is handed back unresolved."""
    venue = _ranking_venue(AdlConfig(ranking="capped_pro_rata", cap_ppb=200_000_000))
    venue.run(S // 2)
    assert [(e["account"], e["size"]) for e in venue.events("adl")] == [(20, 2), (21, 4), (22, 8)]
    assert venue.acct(10).size_lots == 16
    assert venue.events("liquidation_finished")[0]["outcome"] == "deleveraged"


def test_adl_at_mark_leaves_a_deficit_the_empty_fund_records_as_bad_debt():
    """Close price `mark`: b and a close at 900, the long realises 27,000 - 30,000 = -3,000
    against 2,500: -500, which the empty fund cannot pay: bad debt 500."""
    venue = _ranking_venue(AdlConfig(ranking="bitmex", close_price="mark"))
    venue.run(S)
    assert {e["price"] for e in venue.events("adl")} == {900}
    (bad,) = venue.events("bad_debt")
    assert (bad["account"], bad["amount"]) == (10, 500)
    assert venue.state(10) == (0, 0, 0)


def test_adl_cancels_the_deleveraged_traders_orders():
    """Binance §5.3 / Bybit §5.4: the ADL'd trader's open orders are cancelled (reason `adl`)."""
    venue = _ranking_venue(AdlConfig(ranking="bitmex"))
    # Placed at t = 0 in the MATCH phase, after the index (900) is published and before the
    # first mark: the ledger checks the ask's margin at the index, the price it will face.
    venue.quote_at(0, -1, 1_100, 5, account_id=21)
    venue.run(S)
    cancelled = [(e["account_id"], e["reason"]) for e in venue.events("order_cancelled")]
    assert (21, "adl") in cancelled


def test_a_funded_insurance_fund_takes_over_instead_of_adl():
    """With 10,000 in the fund the same position is taken over at 917 and nobody is ADL'd."""
    venue = _ranking_venue(AdlConfig(ranking="bitmex"), fund=10_000)
    venue.run(S // 2)
    assert venue.events("adl") == []
    (takeover,) = venue.events("takeover")
    assert (takeover["holder"], takeover["price_ticks"]) == ("insurance_fund", 917)


# --- ADL trigger --------------------------------------------------------------------------------


def _drawdown_venue(trigger: str) -> Venue:
    """Longs 10 and 12 (10 lots at 1,000, wallet 600 each; short 11 opposite) at mark 945.
    Account 10 goes first: its market order sells 10 at the only bid, 500: -5,000, wallet
    -4,400, paid by the fund (10,000 -> 5,600, a 44 % fall). Account 12 then finds no bid."""
    config = LiquidationConfig(
        policy=MarketPolicyConfig(),
        max_retries=0,
        adl=AdlConfig(trigger=trigger, drawdown_ppb=300_000_000),
    )
    venue = Venue(config, fund=10_000)
    venue.account(10, 600)
    venue.account(12, 600)
    venue.account(11, 10**6)
    venue.pair(10, 11, 10, 1_000)
    venue.pair(12, 11, 10, 1_000)
    venue.quote(1, 500, 10)
    venue.index_at(0, 945)
    venue.run(S // 2)
    return venue


def test_fund_drawdown_trigger_sends_the_next_bankrupt_position_to_adl():
    """OKX-style trigger (a 30 % fall from the window's peak): after the 44 % fall the fund
    declines account 12's position and ADL closes it against the short at 940."""
    venue = _drawdown_venue("fund_drawdown")
    assert venue.fund.balance == 5_600
    (adl,) = venue.events("adl")
    assert (adl["account"], adl["counterparty"], adl["size"], adl["price"]) == (11, 12, 10, 940)
    assert venue.events("takeover") == []


def test_fund_exhausted_trigger_lets_the_fund_take_it():
    """With the fund_exhausted trigger the 5,600 fund takes account 12 over at 940."""
    venue = _drawdown_venue("fund_exhausted")
    assert venue.events("adl") == []
    assert venue.events("takeover")[0]["account_id"] == 12


# --- socialised loss ----------------------------------------------------------------------------


def test_socialised_loss_claws_the_uncovered_deficit_back_pro_rata_to_profit():
    """Waterfall book, fund, socialise; fund 101. Long 10 (10 lots at 1,000, wallet 600) is
    sold at 900 by one market order: wallet -400. The fund pays 101; 299 is written off and
    clawed back at mark 945 from the profits: short 11 (6 lots): 330, short 12 (4 lots): 220,
    the maker (bought 10 at 900): 450; total 1,000. Charges ceil(299 x p / 1,000): 99, 66, 135 =
    300; the extra 1 goes to the fund. Outstanding bad debt back to 0."""
    config = LiquidationConfig(
        policy=MarketPolicyConfig(), max_retries=0, waterfall=("book", "fund", "socialise")
    )
    venue = Venue(config, fund=101)
    venue.account(10, 600)
    venue.account(11, 10_000)
    venue.account(12, 10_000)
    venue.pair(10, 11, 6, 1_000)
    venue.pair(10, 12, 4, 1_000)
    venue.quote(1, 900, 1_000)
    maker_wallet = venue.acct(MAKER).wallet
    venue.index_at(0, 945)
    venue.run(S)
    (bad,) = venue.events("bad_debt")
    assert (bad["amount"], bad["outstanding"]) == (299, 299)
    charges = [(e["account"], e["amount"]) for e in venue.events("socialised_loss")]
    assert charges == [(MAKER, 135), (11, 99), (12, 66)]
    (covered,) = venue.events("bad_debt_covered")
    assert (covered["amount"], covered["outstanding"]) == (299, 0)
    assert venue.fund.balance == 1
    assert venue.acct(MAKER).wallet == maker_wallet - 135
    assert venue.state(10) == (0, 0, 0)


def test_waterfall_must_start_with_the_book():
    """A waterfall that does not start with `book`, or repeats a stage, is rejected."""
    with pytest.raises(ValueError, match="book"):
        LiquidationConfig(waterfall=("fund", "adl"))
    with pytest.raises(ValueError, match="repeat"):
        attrs.evolve(LiquidationConfig(), waterfall=("book", "adl", "adl"))
