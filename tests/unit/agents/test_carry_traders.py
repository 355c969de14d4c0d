"""Carry traders: from the premium they see (the mid of their top of book against the index they
observe, what funding is computed from) they take the side that receives funding, within a size
limit, and unwind when it normalises; a rally squeezes them out at their stop.

Market: :mod:`trader_harness`, with a maker that sees the index 3 s late, so after an index move
the book trades away from the index for 3 s: rich after a fall, cheap after a rise.
"""

from __future__ import annotations

from tests.unit.agents.trader_harness import MAKER, START, Market, S

LAGGING_MAKER = dict(MAKER, index_latency={"kind": "constant", "value": "3s"})
BOOK_EVENTS = {"order_accepted", "order_cancelled", "order_amended", "trade"}


def carry(**changes) -> dict:
    values = {
        "kind": "carry",
        "name": "carry",
        "count": 20,
        "deposit": 100_000,
        "leverage": 3,
        "max_position": 3,
        "threshold_min": "0.001",
        "threshold_max": "0.003",
        "exit_fraction": "0.25",
        "stop_loss": "0.01",
        "cooldown": "100s",
    }
    values.update(changes)
    return values


def step_at_5s(price: int) -> list[tuple[int, int]]:
    """10,000 until 4 s, then ``price`` every second from 5 s."""
    return [(t * S, START if t < 5 else price) for t in range(1, 20)]


def test_carry_traders_short_a_rich_perpetual_up_to_their_size_limit():
    """The index falls to 9,950 at 5 s while the book still quotes around 10,000: a premium of
    +0.50 %, past every threshold (0.1-0.3 %). Each sells (the side funding pays) the 3 lots of
    its size limit (its margin would allow 15), naming that index update."""
    market = Market([LAGGING_MAKER, carry()])
    market.index_path(step_at_5s(9_950))
    market.run(7 * S)
    entries = market.of_type("trader_entry")
    assert len(entries) == 20
    for entry in entries:
        cause = market.events[entry["cause"]]
        assert (cause["type"], cause["price"]) == ("index_price", 9_950)
        assert (entry["reason"], entry["side"], entry["lots"]) == ("premium", -1, 3)
        assert entry["signal_ppb"] == (10_000 - 9_950) * 10**9 // 9_950
    assert all(market.position(a) == -3 for a in market.accounts_of("carry"))


def test_they_unwind_when_the_premium_normalises():
    """When the maker requotes around 9,950 (8 s) the premium is back to zero: every short is
    closed (reason premium_normalised), caused by the book change that showed it."""
    market = Market([LAGGING_MAKER, carry()])
    market.index_path(step_at_5s(9_950))
    market.run(12 * S)
    exits = market.of_type("trader_exit")
    assert len(exits) == 20
    for e in exits:
        assert e["reason"] == "premium_normalised"
        assert market.events[e["cause"]]["type"] in BOOK_EVENTS
        assert e["ts"] > 8 * S
    assert all(market.position(a) == 0 for a in market.accounts_of("carry"))


def test_they_buy_a_cheap_perpetual():
    """The mirror image: the index rises to 10,050 and the book lags below it: they buy."""
    market = Market([LAGGING_MAKER, carry()])
    market.index_path(step_at_5s(10_050))
    market.run(7 * S)
    entries = market.of_type("trader_entry")
    assert len(entries) == 20
    assert {(e["side"], e["signal_ppb"] < 0) for e in entries} == {(1, True)}


def test_a_rally_of_the_book_squeezes_the_shorts_out_at_their_stop():
    """Without a fade exit (exit_fraction 0), shorts sold near 9,999 are stopped (1 %: at or
    above 10,099) when the book follows the index up to 10,200: reason stop_loss, caused by the
    book change the rally showed."""
    market = Market([LAGGING_MAKER, carry(exit_fraction=0)])
    path = [(t * S, START if t < 5 else 9_950 if t < 6 else 10_200) for t in range(1, 20)]
    market.index_path(path)
    market.run(12 * S)
    exits = market.of_type("trader_exit")
    assert len(exits) == 20
    for e in exits:
        assert e["reason"] == "stop_loss"
        assert e["price_ticks"] >= 10_099
        assert market.events[e["cause"]]["type"] in BOOK_EVENTS


def test_a_premium_that_normalises_before_their_fill_arrives_still_unwinds_them():
    """With a maker only 30 ms behind the index, the premium is gone before the carry traders'
    fills reach them: they act on it at the next update they see after their fill and unwind."""
    quick = dict(MAKER, index_latency={"kind": "constant", "value": "30ms"})
    market = Market([quick, carry()])
    market.index_path(step_at_5s(9_950))
    market.run(8 * S)
    exits = market.of_type("trader_exit")
    assert len(exits) == 20
    assert {e["reason"] for e in exits} == {"premium_normalised"}
    assert all(market.position(a) == 0 for a in market.accounts_of("carry"))
