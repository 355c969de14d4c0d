"""Strict config loading: clear errors naming the dotted key and the value."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_sim.config import toml_out
from exchange_sim.core.errors import ConfigError
from exchange_sim.kernel.latency import UniformLatency
from exchange_sim.pricing.index import ScriptedIndex
from exchange_sim.runner.config import SimConfig, load_data


def test_defaults_need_no_file():
    """An empty config resolves to the class defaults."""
    assert load_data({}).config == SimConfig()


def test_unknown_key_names_the_dotted_path():
    """A misspelt key is an error naming its full path and listing valid keys."""
    with pytest.raises(ConfigError, match=r"index\.cadance: unknown key \(valid: cadence"):
        load_data({"index": {"cadance": "1s"}})


def test_unknown_top_level_section_is_an_error():
    """Unknown sections are refused too."""
    with pytest.raises(ConfigError, match=r"^indx: unknown key"):
        load_data({"indx": {}})


def test_wrong_type_names_key_and_value():
    """A string where an integer belongs is reported with the key and the value."""
    with pytest.raises(ConfigError, match=r"run\.seed: expected an integer \(got 'seven'\)"):
        load_data({"run": {"seed": "seven"}})


def test_out_of_range_value_is_rejected():
    """Range limits from field metadata are enforced at load time."""
    with pytest.raises(ConfigError, match=r"run\.seed: must be >= 0"):
        load_data({"run": {"seed": -1}})


def test_price_off_the_tick_grid_names_the_key():
    """A price that is not a multiple of tick_size names the key."""
    data = {
        "instrument": {"tick_size": Decimal("0.5")},
        "index": {"process": {"start_price": Decimal("100.2")}},
    }
    with pytest.raises(ConfigError, match=r"index\.process\.start_price: not a whole multiple"):
        load_data(data)


def test_prices_become_ticks():
    """A decimal price in the config is held as integer ticks."""
    data = {
        "instrument": {"tick_size": Decimal("0.5")},
        "index": {"process": {"start_price": Decimal("100.5")}},
    }
    assert load_data(data).config.index.process.start_price == 201


def test_kind_selects_the_alternative():
    """A union-typed table is built from the class its 'kind' names."""
    data = {"index": {"oracle_latency": {"kind": "uniform", "low": "1ms", "high": "3ms"}}}
    latency = load_data(data).config.index.oracle_latency
    assert latency == UniformLatency(low=1_000_000, high=3_000_000)


def test_unknown_kind_lists_choices():
    """An unknown kind names the key and the valid kinds."""
    with pytest.raises(
        ConfigError, match=r"index\.process\.kind: must be one of gbm, scripted, csv"
    ):
        load_data({"index": {"process": {"kind": "brownian"}}})


def test_cross_field_rule_is_reported_with_the_table():
    """A class-level consistency check (high < low) surfaces as a ConfigError on the table."""
    data = {"index": {"oracle_latency": {"kind": "uniform", "low": "3ms", "high": "1ms"}}}
    with pytest.raises(ConfigError, match=r"index\.oracle_latency: high .* must be >= low"):
        load_data(data)


def test_set_override_reaches_nested_keys():
    """--set a.b.c=value overrides a nested key with a TOML-typed value."""
    loaded = load_data({}, overrides=("run.seed=99", "index.cadence=250ms"))
    assert loaded.config.run.seed == 99
    assert loaded.config.index.cadence == 250_000_000


def test_set_override_reaches_a_named_participant():
    """In a list of named tables the segment after the list is a name: participants.b.count
    sets the count of the participant named b and of no other."""
    data = {
        "participants": [
            {"kind": "noise", "name": "a", "count": 1},
            {"kind": "noise", "name": "b", "count": 1},
        ]
    }
    loaded = load_data(data, overrides=("participants.b.count=7",))
    assert [p.count for p in loaded.config.participants] == [1, 7]


def test_set_override_naming_no_participant_is_an_error():
    """A name no table has is an error naming the key and the names there are."""
    data = {"participants": [{"kind": "noise", "name": "a"}]}
    with pytest.raises(
        ConfigError, match=r"participants\.z: no such name, index or kind \(have 0: a \(noise\)\)"
    ):
        load_data(data, overrides=("participants.z.count=7",))


def test_set_override_with_unknown_key_is_an_error():
    """Overrides go through the same strict loader."""
    with pytest.raises(ConfigError, match=r"run\.sede: unknown key"):
        load_data({}, overrides=("run.sede=3",))


def test_set_without_equals_is_an_error():
    """An override must be KEY=VALUE."""
    with pytest.raises(ConfigError, match="--set: expected KEY=VALUE"):
        load_data({}, overrides=("run.seed",))


def test_override_without_kind_refines_the_default_alternative():
    """Setting one key of a union table keeps the default kind."""
    loaded = load_data({}, overrides=("index.process.volatility_annual=0.9",))
    assert loaded.config.index.process.volatility_annual == Decimal("0.9")


def test_resolved_config_round_trips_through_toml():
    """The resolved config written to config.toml loads back to an equal config and hash."""
    import tomllib

    data = {
        "instrument": {"tick_size": Decimal("0.5")},
        "index": {
            "process": {
                "kind": "scripted",
                "points": [
                    {"at": "0s", "price": Decimal("100")},
                    {"at": "10s", "price": Decimal("90.5")},
                ],
            }
        },
    }
    loaded = load_data(data)
    text = toml_out.dumps(loaded.to_data())
    again = load_data(tomllib.loads(text, parse_float=Decimal))
    assert again.config == loaded.config
    assert isinstance(again.config.index.process, ScriptedIndex)
    assert again.sha256() == loaded.sha256()


def test_configs_are_frozen():
    """Config objects cannot be changed after loading."""
    config = load_data({}).config
    with pytest.raises(AttributeError):
        config.run.seed = 5  # type: ignore[misc]
