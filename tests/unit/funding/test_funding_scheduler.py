"""The funding scheduler: when samples, rates and payments happen, and their exact amounts.

Common grid of these tests: tick 1 USDT, lot 0.1, money in cents, so one tick on one lot is
``money_per_tick_lot = 1 x 0.1 x 100 = 10`` cents. Margin: one bracket, 20x max leverage, MMR
2.5 %, so the IMR at max leverage is 1/20 = 5 %. The index is 10,000 ticks.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.core.units import NS_PER_HOUR, NS_PER_MIN, NS_PER_S, Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.funding.config import BINANCE, BITMEX, DYDX, HYPERLIQUID
from exchange_sim.funding.scheduler import FundingScheduler, max_leverage_margin_rates_ppb
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.matching.book import Book
from exchange_sim.matching.orders import BUY, GTC, SELL, Order

H, MIN, S = NS_PER_HOUR, NS_PER_MIN, NS_PER_S
SCALE = Scale.build(Decimal(1), Decimal("0.1"), 2, "test")
MPTL = 10
INDEX = 10_000
MAKER = 999  # the account whose orders make the scripted book (not a ledger account)


def tiers():
    return BracketTiers.from_brackets([(0, 10**15, 20, 25_000_000)])


class StubIndex:
    def __init__(self, price):
        self.price = price
        self.listeners = []


class RecordingMarkRule:
    def __init__(self):
        self.calls = []

    def set_funding(self, rate_ppb, next_funding_ts_ns, interval_ns):
        self.calls.append((rate_ppb, next_funding_ts_ns, interval_ns))


class StubMark:
    def __init__(self, price):
        self.price = price
        self.rule = RecordingMarkRule()
        self.listeners = []


def set_book(book, bids, asks):
    """Replace the book's contents with ``bids``/``asks`` given as (price_ticks, lots)."""
    for order in list(book.orders.values()):
        book.remove(order)
    next_id = 1 + max([0, *book.orders])
    for side, levels in ((BUY, bids), (SELL, asks)):
        for price, lots in levels:
            book.add(Order(next_id, MAKER, side, price, lots, tif=GTC))
            next_id += 1


class Venue:
    def __init__(self, rule, *, index=INDEX, mark=None):
        self.env = PhasedEnvironment()
        self.log = MemoryLog()
        self.book = Book()
        self.tiers = tiers()
        self.ledger = Ledger(
            self.log, MPTL, self.tiers, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
        )
        self.index = StubIndex(index)
        self.mark = StubMark(mark) if mark is not None else None
        self.ledger.mark_price = lambda: self.mark.price if self.mark else self.index.price
        self.funding = FundingScheduler(
            self.env,
            self.log,
            rule,
            self.ledger,
            self.book,
            self.index,
            self.mark,
            SCALE,
            self.tiers,
        )
        self.index.listeners.append(self.funding.on_index)

    def position(self, account_id, lots, price, deposit=10**9, now=0):
        """Open ``account_id`` (if new), fund it, and fill ``lots`` (signed) at ``price``."""
        ledger = self.ledger
        if account_id not in ledger.accounts:
            ledger.open_account(account_id)
            if deposit:
                ledger.deposit(now, account_id, deposit, None)
        side = BUY if lots > 0 else SELL
        ledger.apply_fill(now, 0, ledger.accounts[account_id], side, price, abs(lots), 0)

    def at(self, t, phase, action):
        self.env.call_at(t - self.env.now, phase, lambda _e: action())

    def run(self, until):
        self.funding.start()
        self.env.run_until(until)

    def of_type(self, kind):
        return self.log.of_type(kind)


# -- Binance: linear weights, 1 h interval of the 8 h formula, delayed settlement at mark --------

BINANCE_1H = attrs.evolve(BINANCE, interval=H, sampling=MIN)  # preset keeps its 15 s delay
MARK = 10_005


def binance_venue():
    """Book 1 until 30.5 min, book 2 after; positions A +7, B -4, C -3 at 10,005.

    IMN = 200 USDT / 5 % = 4,000 USDT = 400,000 cents.
    Book 1: bids 10,030 x 2 (10,030 x 2 x 10 = 200,600 cents) then 10,010 x 10; asks 10,040 x 10.
      impact bid = 400,000 x 10,010 / (10 x 10,010 x 2 + 199,400) = 4,004,000,000 / 399,600
                 = 10,020.02002... ticks; impact ask = 10,040 (the first level holds 1,004,000).
      P1 = floor((4,004,000,000/399,600 - 10,000) / 10,000 x 1e9)
         = floor(8,000,000 x 1e9 / 3,996,000,000) = floor(2,002,002.002) = 2,002,002 ppb.
    Book 2: bids 9,970 x 10, asks 9,980 x 10: impact ask 9,980 < index, so
      P2 = -(10,000 - 9,980) / 10,000 = -0.2 % = -2,000,000 ppb.
    """
    venue = Venue(BINANCE_1H, mark=MARK)
    set_book(venue.book, [(10_030, 2), (10_010, 10)], [(10_040, 10)])
    venue.at(
        30 * MIN + 30 * S, Phase.MATCH, lambda: set_book(venue.book, [(9_970, 10)], [(9_980, 10)])
    )
    venue.position(1, 7, MARK)
    venue.position(2, -4, MARK, deposit=10_020)
    venue.position(3, -3, MARK)
    return venue


# Samples at 1..60 min: 1..30 are P1, 31..60 are P2. Linear weights: sum 1..30 = 465,
# sum 31..60 = 1,365, total 1,830.
#   avg P = floor((465 x 2,002,002 - 1,365 x 2,000,000) / 1,830)
#         = floor(-1,799,069,070 / 1,830) = floor(-983,097.85) = -983,098
#   F_8h  = P + clamp(I - P, +-0.05 %) = -983,098 + min(500,000, 1,083,098) = -483,098
#   F_1h  = floor(-483,098 x 1/8) = floor(-60,387.25) = -60,388 ppb (cap 0.75 x 2.5 % not hit)
BINANCE_RATE = -60_388
# Settlement at 1 h + 15 s, at the mark of 1 h, 10,005: money per lot = 10,005 x 10 x -60,388 / 1e9
#   A +7: floor( 7 x 6,041,819,400 / 1e9) = floor( 42.29) =  42 (receives, rounded down)
#   B -4: floor(-4 x 6,041,819,400 / 1e9) = floor(-24.17) = -25 (pays, rounded up)
#   C -3: floor(-3 x 6,041,819,400 / 1e9) = floor(-18.13) = -19
#   residue = -(42 - 25 - 19) = 2
BINANCE_PAYMENTS = {1: 42, 2: -25, 3: -19}


def test_binance_samples_every_minute_with_the_scripted_premiums():
    """60 samples in the first hour: P1 = 2,002,002 ppb for minutes 1-30, P2 = -2,000,000 after."""
    venue = binance_venue()
    venue.run(H + 1)
    samples = venue.of_type("premium_sample")
    assert [e["ts"] for e in samples] == [k * MIN for k in range(1, 61)]
    assert [e["premium_ppb"] for e in samples] == [2_002_002] * 30 + [-2_000_000] * 30
    assert samples[0]["bid_ticks"] == [4_004_000_000 // 400, 399_600 // 400]
    assert samples[0]["reference"] == "index"


def test_binance_rate_uses_linear_weights_and_the_eighth():
    """The 1 h rate is the linearly weighted 8 h formula / 8: -60,388 ppb (see the comments)."""
    venue = binance_venue()
    venue.run(H + 1)
    (rate,) = venue.of_type("funding_rate")
    assert rate["ts"] == H
    assert (rate["interval_start_ts"], rate["interval_end_ts"]) == (0, H)
    assert rate["sample_count"] == 60
    assert rate["average_premium_ppb"] == -983_098
    assert rate["formula_rate_ppb"] == -483_098
    assert rate["rate_ppb"] == BINANCE_RATE
    assert rate["cap_ppb"] == 18_750_000  # 0.75 x 2.5 %


def test_binance_rate_feeds_the_mark_rule_for_the_next_interval():
    """At 1 h the mark rule gets the new rate, the next funding time (2 h) and the interval."""
    venue = binance_venue()
    venue.run(H + 1)
    assert venue.mark.rule.calls == [(0, H, H), (BINANCE_RATE, 2 * H, H)]


def test_binance_payments_are_settled_15_s_after_the_timestamp():
    """Payments happen at 1 h + 15 s with the hand-computed amounts (shorts pay longs)."""
    venue = binance_venue()
    venue.run(H + 16 * S)
    payments = venue.of_type("funding_payment")
    assert {e["ts"] for e in payments} == {H + 15 * S}
    assert {e["account"]: e["amount_minor"] for e in payments} == BINANCE_PAYMENTS
    assert {e["price_ticks"] for e in payments} == {MARK}
    rate_seq = venue.of_type("funding_rate")[0]["seq"]
    assert {e["cause"] for e in payments} == {rate_seq}


def test_no_payment_before_the_settlement_delay():
    """At 1 h + 14 s the rate is known but nothing has been paid yet."""
    venue = binance_venue()
    venue.run(H + 14 * S)
    assert venue.of_type("funding_rate")
    assert venue.of_type("funding_payment") == []


def test_payments_plus_residue_is_zero_and_wallets_move_by_the_payments():
    """Σ payments + residue == 0; the residue (2) sits in ``residue_balance``, and the accounts'
    money falls by exactly that residue."""
    venue = binance_venue()
    before = venue.ledger.money_in_accounts()
    venue.run(H + 16 * S)
    (residue,) = venue.of_type("funding_residue")
    paid = sum(e["amount_minor"] for e in venue.of_type("funding_payment"))
    assert residue["residue_minor"] == 2
    assert paid + residue["residue_minor"] == 0
    assert venue.funding.residue_balance == 2
    assert venue.ledger.money_in_accounts() - before == paid
    assert venue.ledger.accounts[1].wallet == 10**9 + 42


def test_position_opened_after_the_timestamp_does_not_pay():
    """D buys A's 7 lots at 1 h + 5 s, before the 15 s settlement: D is not paid for the hour."""
    venue = binance_venue()

    def trade():
        venue.position(1, -7, MARK, now=H + 5 * S)
        venue.position(4, 7, MARK, now=H + 5 * S)

    venue.at(H + 5 * S, Phase.MATCH, trade)
    venue.run(H + 16 * S)
    paid = {e["account"] for e in venue.of_type("funding_payment")}
    assert 4 not in paid
    assert venue.ledger.accounts[4].wallet == 10**9


def test_position_closed_after_the_timestamp_still_pays():
    """A, long at 1 h, closes at 1 h + 5 s and still receives its 42 cents at 1 h + 15 s."""
    venue = binance_venue()

    def trade():
        venue.position(1, -7, MARK, now=H + 5 * S)
        venue.position(4, 7, MARK, now=H + 5 * S)

    venue.at(H + 5 * S, Phase.MATCH, trade)
    venue.run(H + 16 * S)
    paid = {e["account"]: e["amount_minor"] for e in venue.of_type("funding_payment")}
    assert paid == BINANCE_PAYMENTS
    assert venue.ledger.accounts[1].size_lots == 0
    assert venue.ledger.accounts[1].wallet == 10**9 + 42


def test_payment_that_breaches_maintenance_is_reported_with_its_seq():
    """B (short 4 at 10,005, wallet 10,020) has MM = 4 x 10,005 x 10 x 2.5 % = 10,005. Paying 25
    leaves equity 9,995 < 10,005: the change listener hears of it with B's funding_payment seq,
    and B is liquidatable at the mark."""
    venue = binance_venue()
    heard = []
    venue.ledger.change_listeners.append(
        lambda now, acct, seq: heard.append((now, acct.account_id, seq))
    )
    b = venue.ledger.accounts[2]
    assert not venue.ledger.is_liquidatable(b, MARK)
    venue.run(H + 16 * S)
    (b_payment,) = [e for e in venue.of_type("funding_payment") if e["account"] == 2]
    assert (H + 15 * S, 2, b_payment["seq"]) in heard
    assert b.wallet == 9_995
    assert venue.ledger.is_liquidatable(b, MARK)


# -- Hyperliquid: hourly 1/8 of the 8 h rate, paid at the oracle, capped at 4 % an hour ------------


def hyperliquid_venue(bid):
    venue = Venue(HYPERLIQUID, mark=10_050)  # a mark away from the oracle: must not be used
    set_book(venue.book, [(bid, 10)], [(bid + 10, 10)])
    venue.position(5, 3, INDEX)
    venue.position(6, -3, INDEX)
    return venue


def test_hyperliquid_pays_one_eighth_of_the_docs_example_rate_at_the_oracle():
    """The docs' example: impact bid 10,100 vs oracle 10,000, P = 1 %, F_8h = 1 % - 0.05 % =
    0.95 %; paid hourly at 1/8: 9,500,000 / 8 = 1,187,500 ppb. 720 samples (every 5 s).
    Long 3 lots at the oracle: 3 x 10,000 x 10 x 1,187,500 / 1e9 = 356.25 -> pays 357; the short
    receives 356; residue 1. Paid at the timestamp (no delay)."""
    venue = hyperliquid_venue(10_100)
    venue.run(H + 1)
    (rate,) = venue.of_type("funding_rate")
    assert rate["sample_count"] == 720
    assert rate["average_premium_ppb"] == 10_000_000
    assert rate["formula_rate_ppb"] == 9_500_000
    assert rate["rate_ppb"] == 1_187_500
    payments = venue.of_type("funding_payment")
    assert {e["account"]: e["amount_minor"] for e in payments} == {5: -357, 6: 356}
    assert {(e["ts"], e["price_ticks"]) for e in payments} == {(H, INDEX)}
    assert venue.funding.residue_balance == 1


def test_hyperliquid_hourly_rate_is_capped_at_4_percent():
    """Impact bid 14,000: P = 40 %, F_8h = 39.95 %, / 8 = 4.99375 % > 4 %: the rate paid is 4 %."""
    venue = hyperliquid_venue(14_000)
    venue.run(H + 1)
    (rate,) = venue.of_type("funding_rate")
    assert rate["uncapped_rate_ppb"] == 49_937_500
    assert rate["rate_ppb"] == 40_000_000
    assert rate["capped"] == 1


# -- dYdX: per-minute medians of per-second votes, zero padding, hourly payment at the oracle ---


def test_dydx_rate_is_the_padded_mean_of_padded_vote_medians():
    """IMN = 500 USDC / 5 % = 10,000 USDC = 1,000,000 cents; impact bid 10,050 (10,050 x 10 x 10
    = 1,005,000 cents), so each vote is P = 50 / 10,000 = 5,000,000 ppb.
    The index appears at 30 min 53.5 s: the 31st sample has only 7 votes (30:54..31:00), padded
    with 8 zeros to 15, median 0; samples 32..60 have 60 votes each, median P; samples 1..30 have
    no vote, median 0. Mean over 60 samples toward zero: trunc(29 x 5,000,000 / 60) = 2,416,666.
    R_8h = 2,416,666 (no interest, cap 600 % x (5 % - 2.5 %) = 15 % not hit);
    hourly: floor(2,416,666 / 8) = floor(302,083.25) = 302,083."""
    venue = Venue(DYDX, index=None)
    set_book(venue.book, [(10_050, 10)], [(10_060, 10)])
    venue.at(
        30 * MIN + 53 * S + 500_000_000, Phase.INDEX, lambda: setattr(venue.index, "price", INDEX)
    )
    venue.run(H + 1)
    votes = venue.of_type("premium_sample")
    assert len(votes) == 7 + 29 * 60
    assert votes[0]["ts"] == 30 * MIN + 54 * S
    (rate,) = venue.of_type("funding_rate")
    assert rate["sample_count"] == 60
    assert rate["average_premium_ppb"] == 2_416_666
    assert rate["cap_ppb"] == 150_000_000
    assert rate["rate_ppb"] == 302_083


def test_dydx_payment_is_hourly_at_the_oracle_price():
    """Long 5 lots at the oracle: 5 x 10,000 x 10 x 302,083 / 1e9 = 151.04 -> pays 152, the short
    receives 151, residue 1 (the same script as the rate test)."""
    venue = Venue(DYDX, index=None)
    set_book(venue.book, [(10_050, 10)], [(10_060, 10)])
    venue.at(
        30 * MIN + 53 * S + 500_000_000, Phase.INDEX, lambda: setattr(venue.index, "price", INDEX)
    )
    venue.position(7, 5, INDEX)
    venue.position(8, -5, INDEX)
    venue.run(H + 1)
    payments = venue.of_type("funding_payment")
    assert {e["account"]: e["amount_minor"] for e in payments} == {7: -152, 8: 151}
    assert {(e["ts"], e["price_ticks"]) for e in payments} == {(H, INDEX)}
    assert venue.funding.residue_balance == 1


# -- other rules and edge cases ------------------------------------------------------------------


def test_bitmex_premium_is_measured_against_the_mark():
    """BitMEX compares impact prices with the mark (10,020) and divides by the index: impact bid
    10,030 gives (10,030 - 10,020) / 10,000 = 0.1 % = 1,000,000 ppb."""
    venue = Venue(attrs.evolve(BITMEX, interval=H), mark=10_020)
    set_book(venue.book, [(10_030, 10)], [(10_040, 10)])
    venue.run(MIN + 1)
    (sample,) = venue.of_type("premium_sample")
    assert (sample["reference"], sample["reference_ticks"]) == ("mark", 10_020)
    assert sample["premium_ppb"] == 1_000_000


def test_interval_without_samples_pays_the_interest_rate():
    """No index for the whole hour: no sample is taken and the premium counts as 0, so the
    Binance rate is I / 8 = 100,000 / 8 = 12,500 ppb."""
    venue = Venue(BINANCE_1H, index=None, mark=MARK)
    set_book(venue.book, [(10_030, 10)], [(10_040, 10)])
    venue.run(H + 16 * S)
    (rate,) = venue.of_type("funding_rate")
    assert rate["sample_count"] == 0
    assert rate["rate_ppb"] == 12_500
    assert venue.of_type("premium_sample") == []


def test_mark_rule_without_a_mark_service_is_refused():
    """A rule that settles at the mark needs the mark service."""
    venue = Venue(HYPERLIQUID)
    with pytest.raises(ValueError, match="mark"):
        FundingScheduler(
            venue.env,
            venue.log,
            BINANCE,
            venue.ledger,
            venue.book,
            venue.index,
            None,
            SCALE,
            venue.tiers,
        )


def test_cap_inputs_are_the_first_tier_rates():
    """20x max leverage gives IMR 1/20 = 5 %; the bracket's MMR is 2.5 %."""
    assert max_leverage_margin_rates_ppb(tiers()) == (50_000_000, 25_000_000)
