"""Metaorders and their impact read back from a log, and the impact ~ size^delta fit."""

from __future__ import annotations

import pytest

from exchange_sim.analysis.impact import Metaorder, impact_exponent, metaorders


def _event(seq, ts, phase, account=7, **fields):
    base = dict.fromkeys(
        (
            "child_lots",
            "order_id",
            "arrival_price_ticks",
            "best_bid_ticks",
            "best_ask_ticks",
            "index_ticks",
            "filled_lots",
            "notional_minor",
            "vwap_ticks",
            "impact_ticks",
            "impact_ppb",
        )
    )
    base.update(fields)
    return {
        "seq": seq,
        "ts": ts,
        "type": "metaorder",
        "cause": None,
        "account_id": account,
        "phase": phase,
        "side": 1,
        "style": "twap",
        "total_lots": 10,
        **base,
    }


def test_a_metaorder_is_folded_from_its_start_children_and_end():
    """Start, two children (one of 0 lots: nothing sent) and end give one record with the
    logged integers; a metaorder that never ended keeps end_ts None."""
    events = [
        _event(0, 1, "start", arrival_price_ticks=100),
        {"seq": 1, "ts": 2, "type": "trade", "cause": None},
        _event(2, 3, "child", child_lots=6, order_id=1),
        _event(3, 4, "child", child_lots=0),
        _event(
            4,
            5,
            "end",
            filled_lots=6,
            notional_minor=61_200,
            vwap_ticks=102,
            impact_ticks=2,
            impact_ppb=20_000_000,
        ),
        _event(5, 6, "start", account=8, arrival_price_ticks=100),
    ]
    first, second = metaorders(events)
    assert (first.children, first.sent_lots, first.end_ts) == (1, 6, 5)
    assert (first.vwap_ticks, first.impact_ticks, first.impact_fraction) == (102, 2, 0.02)
    assert (second.account_id, second.end_ts, second.impact_fraction) == (8, None, None)


def _order(filled: int, impact_ppb: int) -> Metaorder:
    return Metaorder(1, 1, "twap", filled, 0, 100, filled_lots=filled, impact_ppb=impact_ppb)


def test_impact_exponent_recovers_a_square_root_law():
    """Impacts of 0.1 % x (size / 100)^0.5 give delta 0.5 and Y = 0.1 % / 100^0.5."""
    orders = [_order(size, round(1_000_000 * (size / 100) ** 0.5)) for size in (25, 100, 400)]
    delta, y = impact_exponent(orders)
    assert delta == pytest.approx(0.5, abs=1e-6)
    assert y == pytest.approx(0.001 / 10, rel=1e-6)


def test_impact_exponent_needs_two_sizes_with_positive_impact():
    """One size, or impacts that are not positive, give no fit."""
    assert impact_exponent([_order(100, 5), _order(100, 7)]) is None
    assert impact_exponent([_order(100, 5), _order(200, -3)]) is None
