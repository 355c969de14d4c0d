"""A scripted crash into a crowded long book (exchange_mechanics.md §4.1, §5.1, §5.3).

Twenty longs of 20 lots at 1,000 with wallets 1,000, 1,100, ..., 2,900 (20x down to about 7x)
face one whale short of 400 lots. Bids are thin: 5 lots every 10 ticks from 990 down to 800,
and 200 more lots (20 every 5 ticks from 880) arrive at 6 s. The mark falls 10 ticks a second
from 1,000 to 850 (the test pushes the index; the mark follows it). Binance policy, fees 2 / 5 bp,
liquidation fee 0.5 %. Money conservation and equal open interest are checked after every engine
step.
"""

from __future__ import annotations

from exchange_sim.liquidation.config import LiquidationConfig
from tests.scenario.liquidation_harness import S, Venue

WHALE = 50
LONGS = range(100, 120)


def _crash(fund: int) -> Venue:
    venue = Venue(
        LiquidationConfig(max_retries=0),
        fund=fund,
        fees={"maker_fee_ppb": "0.0002", "taker_fee_ppb": "0.0005"},
    )
    venue.account(WHALE, 10**6)
    for i, account_id in enumerate(LONGS):
        venue.account(account_id, 1_000 + 100 * i)
        venue.pair(account_id, WHALE, 20, 1_000)
    for k in range(20):
        venue.quote(1, 990 - 10 * k, 5)
    for k in range(10):
        venue.quote_at(6 * S, 1, 880 - 5 * k, 20)
    for step in range(16):
        venue.index_at(step * S, 1_000 - 10 * step)
    venue.run(30 * S)
    return venue


def test_small_fund_runs_out_and_adl_hits_the_whale():
    """With 100 in the fund: the first liquidations trade in the book (liquidation fees to the
    fund), later ones are taken over by the fund, whose unwinding into the falling book drains
    it; once it cannot absorb a takeover, ADL closes the rest against the profitable whale."""
    venue = _crash(100)
    assert venue.identity_checks > 0
    venue.assert_events_valid()
    first = venue.events("liquidation_started")[0]
    # Wallet 1,000: equity at 960 is 200 >= MM 192; at 950 it is 0 < 190.
    assert (first["ts"], first["account_id"]) == (5 * S, 100)
    reduce_fills = [f for f in venue.events("liquidation_fill") if f["purpose"] == "reduce"]
    assert reduce_fills
    takeovers = venue.events("takeover")
    adl = venue.events("adl")
    assert takeovers and adl
    assert takeovers[0]["seq"] < adl[0]["seq"]
    assert {e["account"] for e in adl} == {WHALE}
    assert {e["counterparty"] for e in adl} <= set(LONGS)
    assert venue.fund.peak > 100
    assert venue.fund.balance == 0
    assert venue.acct(WHALE).size_lots > -400


def test_large_fund_absorbs_the_crash_without_adl():
    """With a large fund every position the book cannot take is taken over; nobody is ADL'd and
    the fund's balance falls below its peak as it unwinds at a loss (a drawdown)."""
    venue = _crash(10**9)
    assert venue.events("adl") == []
    assert len(venue.events("takeover")) >= 10
    assert venue.acct(WHALE).size_lots == -400
    assert venue.fund.balance < venue.fund.peak
    losses = [e for e in venue.events("insurance_fund") if e["reason"] == "takeover_loss"]
    assert losses and all(e["delta"] < 0 for e in losses)
    assert venue.events("bad_debt") == []
