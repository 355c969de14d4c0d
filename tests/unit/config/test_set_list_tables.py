"""--set reaches a perpetual by its symbol, a collateral by its asset, a spot market by its name."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.api import load_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ALTCOIN = os.path.join(ROOT, "configs", "scenarios", "altcoin_cascade.toml")
DEPEG = os.path.join(ROOT, "configs", "scenarios", "collateral_depeg.toml")


def test_set_perpetual_by_symbol():
    """perpetuals.ALTUSDT.tick_size sets the tick of the perpetual whose symbol is ALTUSDT."""
    loaded = load_config(ALTCOIN, ["perpetuals.ALTUSDT.tick_size=0.001"])
    assert loaded.config.perpetuals[0].tick_size == Decimal("0.001")


def test_set_collateral_by_asset():
    """collateral.USDE.price_source sets the collateral whose asset is USDE."""
    loaded = load_config(DEPEG, ["collateral.USDE.price_source=redemption"])
    assert loaded.config.collateral[0].price_source == "redemption"


def test_set_spot_market_by_name():
    """spot_markets.<name>.taker_fee_ppb sets the spot market of that name."""
    data = {"spot_markets": [{"name": "a"}, {"name": "b"}]}
    loaded = load_config(data, ["spot_markets.b.taker_fee_ppb=0.002"])
    assert [m.taker_fee_ppb for m in loaded.config.spot_markets] == [100_000, 2_000_000]


def test_default_symbol_names_a_perpetual_that_leaves_it_out():
    """A [[perpetuals]] table without symbol is reached by the default symbol (ETHUSDT)."""
    loaded = load_config({"perpetuals": [{}]}, ["perpetuals.ETHUSDT.tick_size=0.5"])
    assert loaded.config.perpetuals[0].tick_size == Decimal("0.5")


def test_unknown_symbol_error_lists_the_symbols():
    """An unknown symbol is refused naming the key and the perpetuals by index and symbol."""
    with pytest.raises(ConfigError) as error:
        load_config(ALTCOIN, ["perpetuals.ETHUSDT.tick_size=0.001"])
    message = str(error.value)
    assert message.startswith("perpetuals.ETHUSDT: no such symbol or index")
    assert "(have 0: ALTUSDT)" in message


def test_unknown_asset_exits_2_naming_the_assets(cli):
    """An unknown collateral asset: status 2, one line listing the assets."""
    status, _, err = cli("validate", DEPEG, "--set", "collateral.USDC.haircut_ppb=0.1")
    assert status == 2
    assert "collateral.USDC: no such asset or index (have 0: USDE)" in err
