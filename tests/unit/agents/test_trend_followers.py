"""Trend followers: they sell into falls and buy into rises when the observed price's change over
their lookback passes their own threshold, and get out when it fades or on a stop.

Market: :mod:`trader_harness` (index 10,000 published every second, a deep maker around it).
A trader with 10,000 at 5x and position_fraction 0.5 sizes floor(25,000 / price) lots.
"""

from __future__ import annotations

from tests.unit.agents.trader_harness import MAKER, START, Market, S


def trend(**changes) -> dict:
    values = {
        "kind": "trend",
        "name": "trend",
        "count": 20,
        "deposit": 10_000,
        "leverage": 5,
        "threshold_min": "0.005",
        "threshold_max": "0.02",
        "exit_fraction": "0.3",
        "lookback": "3s",
        "stop_loss": "0.05",
        "cooldown": "100s",
    }
    values.update(changes)
    return values


def fall_then_flat(until: int = 40) -> list[tuple[int, int]]:
    """10,000 to 9 s, then -50 a second from 10 s to 20 s (9,450), then flat; every second."""
    return [(t * S, START - 50 * min(max(t - 9, 0), 11)) for t in range(1, until)]


def signals(path, lookback_s: int) -> list[tuple[int, int]]:
    """``(t_s, signal_ppb)`` the group computes at each published price (the price seen at
    least ``lookback_s`` earlier as reference, 10,000 from t = 0)."""
    seen = [(0, START)] + [(t // S, p) for t, p in path]
    out = []
    for i, (t, price) in enumerate(seen[1:], start=1):
        reference = [p for s, p in seen[:i] if s <= t - lookback_s]
        if reference:
            out.append((t, (price - reference[-1]) * 10**9 // reference[-1]))
    return out


def test_trend_followers_sell_into_a_fall_naming_the_index_update_that_crossed():
    """In a fall every entry is a short: a trader_entry with a negative signal caused by an
    index_price, and a market sell naming the entry."""
    market = Market([MAKER, trend()])
    market.index_path(fall_then_flat())
    market.run(40 * S)
    entries = market.of_type("trader_entry")
    assert entries
    for entry in entries:
        assert market.events[entry["cause"]]["type"] == "index_price"
        assert (entry["reason"], entry["side"]) == ("trend", -1)
        assert entry["signal_ppb"] < 0
        (order,) = market.orders_caused_by(entry["seq"])
        assert (order["side"], order["size_lots"]) == (-1, entry["lots"])


def test_each_member_enters_at_the_first_update_whose_signal_reaches_its_threshold():
    """Thresholds are drawn per member in [0.5 %, 2 %]; the 3 s change peaks near -1.5 %: a
    member enters exactly at the first update where |signal| >= its threshold, and one whose
    threshold is never reached does not enter."""
    market = Market([MAKER, trend()])
    path = fall_then_flat()
    market.index_path(path)
    market.run(40 * S)
    thresholds = market.participant("trend")._threshold
    computed = signals(path, 3)
    expected = {}
    for account_id, threshold in thresholds.items():
        hit = [(t, s) for t, s in computed if -s >= threshold]
        if hit:
            expected[account_id] = hit[0]
    entries = {
        e["account_id"]: (e["ts"] // S, e["signal_ppb"]) for e in market.of_type("trader_entry")
    }
    assert entries == expected
    assert 0 < len(expected) < len(thresholds)


def test_a_short_is_closed_when_the_fall_fades():
    """Once the index stops falling, the 3 s change returns to zero: every short exits with
    reason signal_faded, caused by an index update, and ends flat."""
    market = Market([MAKER, trend()])
    market.index_path(fall_then_flat())
    market.run(40 * S)
    exits = market.of_type("trader_exit")
    assert {e["account_id"] for e in exits} == {
        e["account_id"] for e in market.of_type("trader_entry")
    }
    for e in exits:
        assert e["reason"] == "signal_faded"
        assert market.events[e["cause"]]["type"] == "index_price"
        assert e["ts"] > 20 * S
    assert all(market.position(a) == 0 for a in market.accounts_of("trend"))


def test_trend_followers_buy_into_a_rise():
    """The mirror image: a rise of 50 a second makes them buy (side 1, positive signal)."""
    market = Market([MAKER, trend()])
    market.index_path([(t * S, START + 50 * min(max(t - 9, 0), 11)) for t in range(1, 40)])
    market.run(40 * S)
    entries = market.of_type("trader_entry")
    assert entries
    assert {(e["side"], e["signal_ppb"] > 0) for e in entries} == {(1, True)}


def test_without_a_fade_exit_a_reversal_stops_the_short_out():
    """exit_fraction 0 (no fade exit), stop 2 %: shorts opened near 9,850 are stopped when the
    index snaps back to 10,100 (above each entry x 1.02), with that index update as cause."""
    market = Market([MAKER, trend(exit_fraction=0, stop_loss="0.02")])
    path = [(t * S, START - 50 * min(max(t - 9, 0), 3)) for t in range(1, 20)]
    path += [(t * S, 10_100) for t in range(20, 30)]
    market.index_path(path)
    market.run(30 * S)
    exits = market.of_type("trader_exit")
    assert exits
    for e in exits:
        assert e["reason"] == "stop_loss"
        cause = market.events[e["cause"]]
        assert (cause["type"], cause["price"]) == ("index_price", 10_100)
        assert cause["price"] >= e["entry_price_ticks"] * 102 // 100


def test_on_the_last_trade_the_signal_comes_from_the_trades_they_see():
    """price_source = last_trade: the group watches the feed's trades; an aggressive seller
    walking the price down makes them sell, each entry caused by a trade event."""
    seller = {
        "kind": "leveraged",
        "name": "seller",
        "count": 40,
        "deposit": 10_000,
        "leverages": [10],
        "long_fraction": 0,
        "entry_start": "5s",
        "entry_end": "9s",
    }
    thin = dict(MAKER, level_size=5, levels=30, requote_threshold=10_000)
    group = trend(
        price_source="last_trade", lookback="1s", threshold_min="0.0005", threshold_max="0.002"
    )
    market = Market([thin, group, seller])
    market.run(12 * S)
    entries = market.of_type("trader_entry")
    assert entries
    for e in entries:
        assert market.events[e["cause"]]["type"] == "trade"
        assert e["side"] == -1


def test_after_its_cooldown_a_member_can_follow_the_next_trend():
    """cooldown 5 s: the members that rode the first fall and exited when it faded (by about
    27 s) sell again in a second fall from 40 s."""
    market = Market([MAKER, trend(cooldown="5s")])
    second = [(t * S, 9_450 - 50 * min(max(t - 39, 0), 11)) for t in range(40, 60)]
    market.index_path(fall_then_flat() + second)
    market.run(60 * S)
    first = {e["account_id"] for e in market.of_type("trader_entry") if e["ts"] < 40 * S}
    again = {e["account_id"] for e in market.of_type("trader_entry") if e["ts"] > 40 * S}
    assert first and first <= again
