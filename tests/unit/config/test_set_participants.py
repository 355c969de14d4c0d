"""--set reaches participant groups by index, name, or unique kind."""

from __future__ import annotations

import os

import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.api import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CASCADE = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")


def _counts(loaded) -> dict:
    return {p.name: getattr(p, "count", None) for p in loaded.config.participants}


def test_set_by_index_on_built_in_defaults():
    """participants.1.count reaches the second group even when the config lists none."""
    assert _counts(load_config({}, ["participants.1.count=5"]))["noise"] == 5


def test_set_by_index_on_a_file():
    """participants.2.count reaches the third group of a config file."""
    assert _counts(load_config(CASCADE, ["participants.2.count=9"]))["longs"] == 9


def test_set_by_kind_when_the_name_differs():
    """participants.leveraged.count reaches the one leveraged group although it is named longs."""
    assert _counts(load_config(CASCADE, ["participants.leveraged.count=100000"]))["longs"] == 100000


def test_set_by_name_wins_over_kind():
    """A group's name is matched before kinds."""
    assert _counts(load_config(CASCADE, ["participants.longs.count=11"]))["longs"] == 11


def test_filling_in_defaults_changes_nothing_else():
    """Overriding a default group with its own value gives the same resolved config."""
    plain = load_config({})
    count = plain.config.participants[1].count
    assert load_config({}, [f"participants.1.count={count}"]).sha256() == plain.sha256()


def test_ambiguous_kind_names_key_and_candidates():
    """Two groups of one kind: the key is refused naming the candidates."""
    data = {"participants": [{"kind": "noise", "name": "a"}, {"kind": "noise", "name": "b"}]}
    with pytest.raises(ConfigError) as error:
        load_config(data, ["participants.noise.count=3"])
    message = str(error.value)
    assert message.startswith("participants.noise:")
    assert "0: a (noise)" in message and "1: b (noise)" in message


def test_unknown_group_and_index_out_of_range_exit_2(cli):
    """Unknown group and out-of-range index: status 2, one line naming key and candidates."""
    status, _, err = cli("validate", "--set", "participants.whales.count=3")
    assert status == 2
    assert "participants.whales: no such name, index or kind" in err
    assert "2: leveraged (leveraged)" in err
    status, _, err = cli("validate", "--set", "participants.7.count=3")
    assert status == 2
    assert "participants.7: no such index (have 0..2)" in err
