"""Config validation of spot markets, the spot index and participants placed on spot markets:
each mistake is an input error naming its key, found by loading the config (so ``exchange-sim
validate`` refuses everything ``exchange-sim run`` would)."""

from __future__ import annotations

import pytest

import exchange_sim as es

SPOT_A = {"spot_markets": [{"name": "spot-a"}]}
NOISE = {"kind": "noise", "name": "spot-noise"}


def problem(config: dict) -> str:
    """The message of the input error loading ``config`` raises."""
    with pytest.raises(es.InputError) as caught:
        es.load_config(config)
    return str(caught.value)


def test_an_index_source_naming_no_spot_market_is_an_error_naming_its_key():
    """The second source names spot-x, which is not a spot market."""
    message = problem(
        {
            **SPOT_A,
            "index": {
                "process": {
                    "kind": "spot",
                    "sources": [{"market": "spot-a"}, {"market": "spot-x"}],
                }
            },
        }
    )
    assert message.startswith("index.process.sources[1].market: no such spot market")
    assert "spot-x" in message


def test_a_spot_index_without_spot_markets_is_an_error():
    """The default source (spot) names a market that a config without spot markets lacks."""
    message = problem({"index": {"process": {"kind": "spot"}}})
    assert message.startswith("index.process.sources[0].market: no such spot market")


def test_a_spot_market_may_be_an_index_source_once():
    """The same market twice among the sources is refused."""
    sources = [{"market": "spot-a"}, {"market": "spot-a"}]
    message = problem({**SPOT_A, "index": {"process": {"kind": "spot", "sources": sources}}})
    assert message.startswith("index.process: each spot market may be a source once")


def test_duplicate_spot_market_names_are_an_error():
    """Two spot markets named spot-a."""
    message = problem({"spot_markets": [{"name": "spot-a"}, {"name": "spot-a"}]})
    assert message.startswith("spot_markets: spot market names must be unique")


def test_a_spot_market_cannot_take_the_perpetuals_symbol():
    """A spot market named like the perpetual (BTCUSDT) would share its events' market."""
    message = problem({"spot_markets": [{"name": "BTCUSDT"}]})
    assert message.startswith("spot_markets: a spot market cannot share the perpetual's symbol")


@pytest.mark.parametrize(
    ("participant", "key", "value"),
    [
        ({**NOISE, "market": "spot-b"}, "participants[1].market", "spot-b"),
        (
            {"kind": "market_maker", "name": "m", "market": "spot-b"},
            "participants[1].market",
            "spot-b",
        ),
        (
            {"kind": "informed", "name": "i", "market": "spot-b"},
            "participants[1].market",
            "spot-b",
        ),
        (
            {"kind": "spot_arbitrageur", "name": "s", "spot_market": "spot-b"},
            "participants[1].spot_market",
            "spot-b",
        ),
    ],
)
def test_a_participant_on_no_spot_market_is_an_error_naming_its_key(participant, key, value):
    """A participant (the second in the list) placed on spot-b when only spot-a exists."""
    config = {
        **SPOT_A,
        "fundamental": {"enabled": True},
        "participants": [{**NOISE, "name": "first"}, participant],
    }
    message = problem(config)
    assert message.startswith(f"{key}: no such spot market (spot_markets: spot-a)")
    assert value in message


@pytest.mark.parametrize(
    ("participant", "key"),
    [
        ({"kind": "informed", "name": "i"}, "participants[0].kind"),
        (
            {"kind": "market_maker", "name": "m", "reference": "fundamental"},
            "participants[0].reference",
        ),
    ],
)
def test_watching_the_fundamental_needs_it_enabled(participant, key):
    """An informed trader, or a maker centred on the fundamental, with the fundamental off."""
    message = problem({"participants": [participant]})
    assert message.startswith(f"{key}: needs fundamental.enabled = true")


def test_validate_refuses_a_participant_on_no_spot_market(cli, tmp_path):
    """``exchange-sim validate`` exits 2 with one line naming the key, as ``run`` would."""
    path = tmp_path / "bad.toml"
    path.write_text(
        '[[spot_markets]]\nname = "spot-a"\n\n'
        '[[participants]]\nkind = "noise"\nname = "n"\nmarket = "spot-b"\n'
    )
    status, out, err = cli("validate", str(path))
    assert status == 2
    assert "participants[0].market" in err
    assert out == ""
