"""Funding rule config: loading from TOML-like data, presets, and declared event types."""

from __future__ import annotations

import pytest

from exchange_sim.config.loader import dump_section, load_section
from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import NS_PER_HOUR
from exchange_sim.events.log import MemoryLog
from exchange_sim.funding.config import PRESETS, FixedCap, FundingRule
from exchange_sim.funding.event_types import EVENTS
from exchange_sim.funding.premium import record_premium_sample
from exchange_sim.funding.rate import funding_rate, record_funding_rate


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_round_trips_through_config_data(name):
    """Every preset can be written as config data and read back unchanged."""
    preset = PRESETS[name]
    assert load_section(FundingRule, dump_section(preset, None), "funding", None) == preset


def test_load_user_units():
    """Config text uses decimal rates and durations: '0.04' -> 40,000,000 ppb, '1h' -> ns."""
    rule = load_section(
        FundingRule,
        {"cap": {"kind": "fixed", "limit": "0.04"}, "interval": "1h", "interest": "0.0001"},
        "funding",
        None,
    )
    assert rule.cap == FixedCap(limit=40_000_000)
    assert (rule.interval, rule.interest) == (NS_PER_HOUR, 100_000)


def test_unknown_choice_names_key():
    """A misspelt averaging mode is a ConfigError naming the key."""
    with pytest.raises(ConfigError, match=r"funding\.averaging"):
        load_section(FundingRule, {"averaging": "weighted"}, "funding", None)


def test_unknown_cap_kind_names_key():
    """An unknown cap kind is a ConfigError naming funding.cap.kind."""
    with pytest.raises(ConfigError, match=r"funding\.cap\.kind"):
        load_section(FundingRule, {"cap": {"kind": "percent"}}, "funding", None)


def test_record_events_use_declared_fields():
    """premium_sample and funding_rate events carry exactly their declared fields."""
    log = MemoryLog()
    record_premium_sample(
        log,
        5,
        None,
        bid=(201, 2),
        ask=None,
        reference="index",
        reference_ticks=100,
        index_ticks=100,
        premium_ppb=5_000_000,
    )
    record_funding_rate(
        log,
        9,
        0,
        interval_start_ts=0,
        interval_end_ts=9,
        sample_count=1,
        result=funding_rate(PRESETS["bitmex"], [5_000_000]),
    )
    declared = {e.name: e.field_names | {"seq", "ts", "type", "cause"} for e in EVENTS}
    for event in log.events:
        assert set(event) == declared[event["type"]]
    assert log.events[0]["bid_ticks"] == [201, 2]
    assert log.events[1]["capped"] == 1
