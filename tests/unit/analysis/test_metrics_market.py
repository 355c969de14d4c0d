"""Market-side run metrics on hand-written logs: drawdowns, the shock's snapshots (open interest,
book depth, spread), recovery and funding. Scale: tick 0.5, lot 0.1, m = 5 (test_metrics_script).
"""

from __future__ import annotations

from tests.unit.analysis.test_metrics_script import S, Script


def _marks(script: Script, points) -> None:
    for second, price in points:
        script.mark(second * S, price)


def test_mark_max_drawdown_is_peak_to_trough_as_fraction_and_price():
    """Marks 100, 110, 105, 99, 104: the largest fall is 110 -> 99, 11 ticks = 5.5 quote,
    11/110 = 0.1 of the peak; peak at 2 s, trough at 4 s."""
    script = Script()
    _marks(script, [(1, 100), (2, 110), (3, 105), (4, 99), (5, 104)])
    mark = script.metrics()["prices"]["mark"]
    assert mark["samples"] == 5
    assert (mark["first_ticks"], mark["last_ticks"]) == (100, 104)
    assert (mark["min_ticks"], mark["max_ticks"]) == (99, 110)
    dd = mark["max_drawdown"]
    assert dd["fraction"] == 0.1
    assert (dd["drop_ticks"], dd["drop"]) == (11, 5.5)
    assert (dd["peak_ticks"], dd["peak"], dd["peak_time_ns"]) == (110, 55.0, 2 * S)
    assert (dd["trough_ticks"], dd["trough_time"]) == (99, 4.0)


def test_drawdown_is_ranked_by_fraction_not_by_price_drop():
    """100 -> 80 is 20 % (20 ticks); later 200 -> 170 is a larger drop (30 ticks) but only
    15 %: the maximum drawdown stays 100 -> 80."""
    script = Script()
    _marks(script, [(1, 100), (2, 80), (3, 200), (4, 170)])
    dd = script.metrics()["prices"]["mark"]["max_drawdown"]
    assert (dd["peak_ticks"], dd["trough_ticks"], dd["fraction"]) == (100, 80, 0.2)


def test_an_equal_drawdown_later_keeps_the_earlier_trough():
    """110 -> 99 at 3 s, back to 110, 99 again at 5 s: the same 10 %; the first one stands."""
    script = Script()
    _marks(script, [(1, 100), (2, 110), (3, 99), (4, 110), (5, 99)])
    dd = script.metrics()["prices"]["mark"]["max_drawdown"]
    assert (dd["peak_time_ns"], dd["trough_time_ns"]) == (2 * S, 3 * S)


def test_a_peak_price_seen_again_moves_the_peak_to_the_later_time():
    """110 at 2 s and again at 4 s, then 88 at 5 s: the fall starts from the latest 110."""
    script = Script()
    _marks(script, [(1, 100), (2, 110), (3, 105), (4, 110), (5, 88)])
    dd = script.metrics()["prices"]["mark"]["max_drawdown"]
    assert (dd["peak_time_ns"], dd["trough_time_ns"], dd["fraction"]) == (4 * S, 5 * S, 0.2)


def test_perp_drawdowns_are_divided_by_the_index_drawdown():
    """Index 100 -> 90 (10 %), mark 100 -> 85 (15 %), trades 100 -> 88 (12 %): ratios 1.5 and
    1.2."""
    script = Script()
    script.index(1 * S, 100)
    script.index(2 * S, 90)
    _marks(script, [(1, 100), (2, 85)])
    script.trade(1 * S, 1, 2, 1, 2, 100, 1, -1)
    script.trade(2 * S, 1, 2, 1, 2, 88, 1, -1)
    prices = script.metrics()["prices"]
    assert prices["index"]["max_drawdown"]["fraction"] == 0.1
    assert prices["mark_drawdown_over_index"] == 1.5
    assert prices["last_trade_drawdown_over_index"] == 1.2


def test_drawdown_ratio_is_null_when_the_index_never_fell():
    """The index only rises: no index drawdown, so the ratios are null (not infinite)."""
    script = Script()
    script.index(1 * S, 100)
    script.index(2 * S, 101)
    _marks(script, [(1, 100), (2, 90)])
    prices = script.metrics()["prices"]
    assert prices["index"]["max_drawdown"] is None
    assert prices["mark_drawdown_over_index"] is None


def _open(script: Script, ts: int, long_lots: int, cause=None) -> None:
    """Account 1 long ``long_lots`` and account 2 short the same, both from 100."""
    entry = long_lots * 100 * 5
    script.position(ts, 1, 1, 100, 1, position=long_lots, entry=entry, wallet=10**6)
    script.position(ts, 2, -1, 100, 1, position=-long_lots, entry=entry, wallet=10**6)


def test_open_interest_before_the_shock_at_its_trough_and_at_the_end():
    """OI (long lots) is 15 when the mark peaks at 110 (2 s) and 12 when the mark leaves the
    peak (99 at 3 s): "before" is the last state at the peak, 12. The fall deepens to 95 at 4 s
    with OI 4 (trough); OI ends at 1; its maximum, 15, was reached at 1.5 s."""
    script = Script()
    _open(script, 1 * S, 10)
    script.mark(1 * S, 100)
    _open(script, 1500 * 10**6, 15)
    script.mark(2 * S, 110)
    _open(script, 2500 * 10**6, 12)
    script.mark(3 * S, 99)
    _open(script, 3500 * 10**6, 4)
    script.mark(4 * S, 95)
    _open(script, 5 * S, 1)
    result = script.metrics()
    oi = result["open_interest"]
    assert (oi["before_lots"], oi["trough_lots"], oi["end_lots"]) == (12, 4, 1)
    assert oi["before"] == 1.2
    assert (oi["max_lots"], oi["max_time_ns"]) == (15, 1500 * 10**6)
    assert result["book"]["before"]["time_ns"] == 3 * S  # the mark left its peak
    assert result["book"]["before"]["mark_ticks"] == 110
    assert result["book"]["trough"]["time_ns"] == 4 * S


def test_a_deeper_fall_later_pairs_its_trough_with_its_own_peak():
    """Peak 110 (OI 15) -> 99 (OI 4) is 10 %; then a new peak 120 (OI 20) -> 96 (OI 2) is 20 %:
    before/trough are the second pair."""
    script = Script()
    _open(script, 1 * S, 15)
    script.mark(1 * S, 110)
    _open(script, 2 * S, 4)
    script.mark(2 * S, 99)
    _open(script, 3 * S, 20)
    script.mark(3 * S, 120)
    script.mark(4 * S, 110)  # 8 %: no new maximum
    _open(script, 5 * S, 2)
    script.mark(5 * S, 96)
    oi = script.metrics()["open_interest"]
    assert (oi["before_lots"], oi["trough_lots"]) == (20, 2)


def _book(script: Script, ts: int) -> None:
    """Best bid 999, best ask 1001: mid 1000, 1 % band = bids >= 990, asks <= 1010."""
    for order_id, side, price, size in [
        (1, 1, 999, 5),
        (2, 1, 990, 3),  # on the band's edge: counts
        (3, 1, 989, 7),  # outside
        (4, -1, 1001, 4),
        (5, -1, 1010, 2),  # on the edge: counts
        (6, -1, 1011, 9),  # outside
    ]:
        script.order(ts, order_id, 7, side, price, size)


def test_book_depth_within_one_percent_of_mid_before_the_shock():
    """Bid depth 5 + 3 = 8 lots, notional (999 x 5 + 990 x 3) x 5 = 39825; ask depth 4 + 2 = 6
    lots, notional (1001 x 4 + 1010 x 2) x 5 = 30120; spread 2 ticks = 1.0 quote."""
    script = Script()
    _book(script, 1 * S)
    script.mark(1 * S, 1000)
    script.mark(2 * S, 900)
    before = script.metrics()["book"]["before"]
    assert (before["bid_depth_lots"], before["bid_depth"]) == (8, 0.8)
    assert before["bid_depth_notional_minor"] == (999 * 5 + 990 * 3) * 5
    assert before["ask_depth_lots"] == 6
    assert before["ask_depth_notional_minor"] == (1001 * 4 + 1010 * 2) * 5
    assert before["ask_depth_notional"] == 301.2
    assert (before["best_bid_ticks"], before["best_ask_ticks"]) == (999, 1001)
    assert (before["mid"], before["mid_x2_ticks"]) == (500.0, 2000)
    assert (before["spread_ticks"], before["spread"]) == (2, 1.0)
    assert before["spread_fraction"] == 0.002  # 2 / 1000
    assert (before["time_ns"], before["mark_ticks"]) == (2 * S, 1000)  # the peak's last instant


def test_book_depth_and_spread_at_the_trough_follow_cancels_trades_and_expiries():
    """After the peak: bid 999 is filled by a trade, ask 1001 cancelled, an IOC expires without
    resting. At the trough the best bid is 990 and the best ask 1010: mid 1000, spread 20 ticks
    = 10.0 quote; bids >= 990: 3 lots; asks <= 1010: 2 lots."""
    script = Script()
    _book(script, 1 * S)
    script.mark(1 * S, 1000)
    script.order(2 * S, 10, 8, -1, 999, 5, tif="IOC")
    script.trade(2 * S, 1, 10, 7, 8, 999, 5, -1)
    script.cancel(2 * S, 4, 7, -1, 1001, 4)
    script.order(2 * S, 11, 8, 1, 900, 1, tif="IOC")
    script.cancel(2 * S, 11, 8, 1, 900, 1, kind="order_expired")
    script.mark(3 * S, 900)
    trough = script.metrics()["book"]["trough"]
    assert (trough["best_bid_ticks"], trough["best_ask_ticks"]) == (990, 1010)
    assert (trough["spread_ticks"], trough["spread"]) == (20, 10.0)
    assert (trough["bid_depth_lots"], trough["ask_depth_lots"]) == (3, 2)
    assert trough["time_ns"] == 3 * S


def test_recovery_is_the_time_from_the_trough_until_trades_are_within_one_percent():
    """Index 1000; trades fall to 950 and the mark troughs at 3 s (gap 5 %). A trade at 985
    (1.5 % off) is not enough; the index moving to 980 at 5 s brings it within 1 % (5 <= 9.8):
    recovery 2 s after the trough."""
    script = Script()
    script.index(1 * S, 1000)
    script.mark(1 * S, 1000)
    script.trade(2 * S, 1, 2, 1, 2, 950, 1, -1)
    script.mark(3 * S, 960)
    script.trade(4 * S, 1, 2, 1, 2, 985, 1, 1)
    script.index(5 * S, 980)
    recovery = script.metrics()["recovery"]
    assert recovery["trough_time_ns"] == 3 * S
    assert recovery["gap_at_trough_fraction"] == 0.05
    assert recovery["reference_at_trough"] == "last_trade"
    assert recovery["recovered_time_ns"] == 5 * S
    assert (recovery["duration_ns"], recovery["duration"]) == (2 * S, 2.0)


def test_recovery_band_includes_its_edge():
    """Index 1000: a trade at 989 is 1.1 % off, one at 990 exactly 1 %, which counts as back."""
    script = Script()
    script.index(1 * S, 1000)
    script.mark(1 * S, 1000)
    script.trade(2 * S, 1, 2, 1, 2, 950, 1, -1)
    script.mark(3 * S, 960)
    script.trade(4 * S, 1, 2, 1, 2, 989, 1, 1)
    script.trade(5 * S, 1, 2, 1, 2, 990, 1, 1)
    assert script.metrics()["recovery"]["duration_ns"] == 2 * S


def test_recovery_is_null_when_trades_never_come_back():
    """Trades stay 5 % below the index after the trough: no recovery."""
    script = Script()
    script.index(1 * S, 1000)
    script.mark(1 * S, 1000)
    script.trade(2 * S, 1, 2, 1, 2, 950, 1, -1)
    script.mark(3 * S, 960)
    recovery = script.metrics()["recovery"]
    assert recovery["duration_ns"] is None and recovery["recovered_time"] is None


def test_recovery_reads_the_mid_while_nothing_has_traded():
    """No trade at all: the mid (999 + 1001)/2 = 1000 is 12/1012 = 1.2 % below index 1012 at
    the trough; cancelling the ask at 1001 makes the mid (999 + 1010)/2 = 1004.5, within 1 %
    (7.5 <= 10.12), at 4 s."""
    script = Script()
    script.index(1 * S, 1012)
    _book(script, 1 * S)
    script.mark(1 * S, 1100)
    script.mark(3 * S, 1000)
    script.cancel(4 * S, 4, 7, -1, 1001, 4)
    recovery = script.metrics()["recovery"]
    assert recovery["reference_at_trough"] == "mid"
    assert recovery["gap_at_trough_fraction"] == 24 / 2024
    assert recovery["reference_at_recovery"] == "mid"
    assert recovery["duration_ns"] == 1 * S


def test_funding_rates_settlements_and_payments():
    """Rates +100 (capped) and -50 ppb; two settlements: payments -30/+29 (residue 1) and
    +10/-11 (residue 1): paid 30 + 11 = 41, received 29 + 10 = 39, residue 2."""
    script = Script()
    script.funding_rate(8 * S, 100, capped=1)
    script.funding_payment(8 * S, 1, 10, 100, 100, -30)
    script.funding_payment(8 * S, 2, -10, 100, 100, 29)
    script.funding_residue(8 * S, 1, 2, 100, 100)
    script.funding_rate(16 * S, -50)
    script.funding_payment(16 * S, 1, 10, 100, -50, 10)
    script.funding_payment(16 * S, 2, -10, 100, -50, -11)
    script.funding_residue(16 * S, 1, 2, -50, 100)
    funding = script.metrics()["funding"]
    assert (funding["rates"], funding["capped"]) == (2, 1)
    assert (funding["rate_min_ppb"], funding["rate_max_ppb"]) == (-50, 100)
    assert funding["rate_max"] == 1e-7
    assert (funding["settlements"], funding["payments"]) == (2, 4)
    assert (funding["paid_minor"], funding["received_minor"], funding["residue_minor"]) == (
        41,
        39,
        2,
    )
    assert funding["paid"] == 0.41
