"""configs/scenarios/black_thursday_2020.toml, may_2021.toml and october_2025_adl.toml.

Each runs cut short (``run.duration``) to just past its last leg, once per module, and each test
reads one property of the episode its header cites from ``market_events.md``.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

import exchange_sim as es
from exchange_sim.core.units import NS_PER_S

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIOS = os.path.join(ROOT, "configs", "scenarios")


def _run(name: str, duration: str):
    path = os.path.join(SCENARIOS, f"{name}.toml")
    return es.run(path, seed=1, overrides=(f"run.duration={duration}",), keep_events=True)


def _liquidations_between(events: list[dict], start_s: int, end_s: int) -> int:
    return sum(
        1
        for e in events
        if e["type"] == "liquidation_triggered" and start_s * NS_PER_S <= e["ts"] < end_s * NS_PER_S
    )


@pytest.fixture(scope="module")
def black_thursday():
    return _run("black_thursday_2020", "300s")  # news at 60 s and 240 s


@pytest.fixture(scope="module")
def may_2021():
    return _run("may_2021", "270s")  # news at 60 s, 150 s and 240 s


@pytest.fixture(scope="module")
def october():
    return _run("october_2025_adl", "200s")  # news at 60 s and 120 s


def test_black_thursday_liquidates_in_two_legs(black_thursday):
    """Liquidations come in two legs after the two news items, with a lull between them."""
    events = black_thursday.events
    leg_1 = _liquidations_between(events, 60, 120)
    lull = _liquidations_between(events, 120, 240)
    leg_2 = _liquidations_between(events, 240, 300)
    assert leg_1 >= 50 and leg_2 >= 50, (leg_1, leg_2)
    assert lull * 3 < min(leg_1, leg_2), (leg_1, lull, leg_2)


def test_black_thursday_fund_takes_over_and_adl_never_runs(black_thursday):
    """BitMEX rules: the insurance fund takes positions over and pays for them; no ADL."""
    summary = black_thursday.summary
    taken_over = summary["metrics"]["liquidations"]["taken_over"]["by_holder"]["insurance_fund"]
    assert taken_over["count"] > 0
    assert summary["metrics"]["adl"]["count"] == 0
    first = next(e for e in black_thursday.events if e["type"] == "insurance_fund")
    assert summary["insurance_fund_minor"] < first["balance"] - first["delta"]


def test_black_thursday_perpetual_trades_below_the_index(black_thursday):
    """At its low the perpetual trades more than 5 % under the index it last published."""
    index = None
    lowest_ratio = 1.0
    for e in black_thursday.events:
        if e["type"] == "index_price":
            index = e["price"]
        elif e["type"] == "trade" and index:
            lowest_ratio = min(lowest_ratio, e["price_ticks"] / index)
    assert lowest_ratio < 0.95, lowest_ratio


def test_may_2021_liquidates_in_three_waves(may_2021):
    """Each of the three news items starts its own wave of liquidations."""
    events = may_2021.events
    waves = [_liquidations_between(events, a, b) for a, b in ((60, 150), (150, 240), (240, 270))]
    assert min(waves) >= 30, waves


def test_may_2021_liquidations_feed_later_ones(may_2021):
    """Forced selling moves the mark (Binance rules) and liquidates accounts the news did not."""
    cascade = may_2021.summary["metrics"]["cascade"]
    assert cascade["fed_through_mark"] > 0
    assert cascade["deepest_generation"] >= 2, cascade


def test_october_adl_starts_after_the_vault_takes_over(october):
    """Hyperliquid rules: the vault takes positions first; ADL comes later, within the cascade."""
    events = october.events
    first_vault = min(e["ts"] for e in events if e["type"] == "takeover" and e["holder"] == "vault")
    first_adl = min(e["ts"] for e in events if e["type"] == "adl")
    first_liquidation = min(e["ts"] for e in events if e["type"] == "liquidation_triggered")
    assert first_liquidation <= first_vault < first_adl


def test_october_deleverages_profitable_shorts(october):
    """Every deleveraged position was a profitable short (the liquidated crowd is long)."""
    adl = [e for e in october.events if e["type"] == "adl"]
    assert adl
    assert all(e["position_lots"] < 0 and e["unrealised_pnl"] > 0 for e in adl)


def test_october_adl_is_a_fraction_of_liquidated_notional(october):
    """ADL closes between 10 % and 80 % of the liquidated notional (38 % on the day)."""
    metrics = october.summary["metrics"]
    ratio = metrics["adl"]["notional_minor"] / metrics["liquidations"]["notional_minor"]
    assert 0.1 < ratio < 0.8, ratio


def test_october_adl_bursts_with_liquidations(october):
    """Seconds with ADL fills are seconds with liquidations (ADL follows them in bursts)."""
    liquidated = Counter(
        e["ts"] // NS_PER_S for e in october.events if e["type"] == "liquidation_triggered"
    )
    adl_seconds = {e["ts"] // NS_PER_S for e in october.events if e["type"] == "adl"}
    shared = sum(1 for s in adl_seconds if liquidated[s] or liquidated[s - 1])
    assert shared >= 0.8 * len(adl_seconds), (shared, len(adl_seconds))


def test_history_scenarios_conserve_money(black_thursday, may_2021, october):
    """Through their crashes the three episodes hold exactly the money (and spot assets) put in."""
    for result in (black_thursday, may_2021, october):
        summary = result.summary
        assert summary["money_held_minor"] == summary["money_deposited_net_minor"]
        for spot in summary["spot_markets"].values():
            assert spot["quote_held_minor"] == spot["quote_deposited_net_minor"]
            assert spot["base_held_lots"] == spot["base_deposited_lots"]
