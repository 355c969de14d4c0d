"""Index replay from a multi-column CSV: one price column per perpetual (``column``)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from exchange_sim.core.errors import DataError
from exchange_sim.core.units import Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.pricing.csv_replay import read_price_csv
from exchange_sim.runner.config import load_toml_text
from exchange_sim.runner.simulate import build_venue

SCALE = Scale.build(Decimal("0.01"), Decimal("0.001"), 6, "instrument")
PRICES = "timestamp,BTC,ETH\n0,50000,3000\n1000000000,49000.5,2950.5\n"


def _write(tmp_path, text: str = PRICES) -> str:
    path = tmp_path / "prices.csv"
    path.write_text(text)
    return str(path)


def test_each_column_is_its_own_path(tmp_path):
    """``column`` picks one price column; the timestamps are shared."""
    path = _write(tmp_path)
    assert read_price_csv(path, "", SCALE, snap=False, column="BTC") == [
        (0, 5_000_000),
        (1_000_000_000, 4_900_050),
    ]
    assert read_price_csv(path, "", SCALE, snap=False, column="ETH") == [
        (0, 300_000),
        (1_000_000_000, 295_050),
    ]


def test_a_missing_column_names_the_file_header_and_the_column(tmp_path):
    """A column the header lacks is an error at file:1 naming the column and what there is."""
    path = _write(tmp_path)
    with pytest.raises(DataError, match=r"prices\.csv:1: no such column \(have BTC, ETH\)"):
        read_price_csv(path, "", SCALE, snap=False, column="SOL")


def test_a_bad_value_in_the_selected_column_names_file_and_line(tmp_path):
    """A bad price in the column read is an error at file:line."""
    path = _write(tmp_path, "timestamp,BTC,ETH\n0,50000,3000\n1000,49000,x\n")
    with pytest.raises(DataError, match=r"prices\.csv:3: price is not a decimal number"):
        read_price_csv(path, "", SCALE, snap=False, column="ETH")


def test_a_short_row_names_file_and_line(tmp_path):
    """A row with fewer cells than the header is an error at file:line."""
    path = _write(tmp_path, "timestamp,BTC,ETH\n0,50000,3000\n1000,49000\n")
    with pytest.raises(DataError, match=r"prices\.csv:3: expected 3 columns"):
        read_price_csv(path, "", SCALE, snap=False, column="BTC")


def test_without_a_column_the_single_price_format_is_required(tmp_path):
    """The default keeps the ``timestamp,price`` format: a multi-column file is refused."""
    path = _write(tmp_path)
    with pytest.raises(DataError, match=r"header must be 'timestamp,price'"):
        read_price_csv(path, "", SCALE, snap=False)


def test_two_perpetuals_replay_their_columns_of_one_file(tmp_path):
    """In a run the instrument publishes the BTC column and ETHUSDT the ETH column."""
    _write(tmp_path)
    text = """
[run]
duration = "3s"
[index.process]
kind = "csv"
path = "prices.csv"
column = "BTC"
[[perpetuals]]
symbol = "ETHUSDT"
[perpetuals.index.process]
kind = "csv"
path = "prices.csv"
column = "ETH"
"""
    log = MemoryLog()
    build_venue(load_toml_text(text, str(tmp_path)), log).run("test")
    published = {
        (e.get("instrument"), e["ts_source"]): e["price"]
        for e in log.events
        if e["type"] == "index_price"
    }
    # The default grid: tick 0.1.
    assert published[(None, 1_000_000_000)] == 490_005
    assert published[("ETHUSDT", 1_000_000_000)] == 29_505


def test_a_missing_column_on_the_command_line_exits_2(cli, tmp_path, monkeypatch):
    """Through the CLI a missing column is one line with file:line, exit 2."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text('[index.process]\nkind = "csv"\npath = "prices.csv"\ncolumn = "SOL"\n')
    status, _out, err = cli("validate", str(config))
    assert status == 2
    assert "prices.csv:1: no such column" in err and err.count("\n") == 1


def test_a_run_directory_reproduces_two_perpetuals_reading_two_files_of_one_name(tmp_path):
    """Each perpetual's CSV is a run input: both are copied into ``data/`` (two files of one
    name kept apart), the config hash reads their contents, and the saved config.toml runs
    again to the same log from another directory."""
    import exchange_sim as es

    for sub, rows in (
        ("btc", "0,50000\n1000000000,49000.5\n"),
        ("eth", "0,3000\n1000000000,2950.5\n"),
    ):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "prices.csv").write_text("timestamp,price\n" + rows)
    config = tmp_path / "c.toml"
    config.write_text(
        '[run]\nduration = "3s"\n[index.process]\nkind = "csv"\npath = "btc/prices.csv"\n'
        '[[perpetuals]]\nsymbol = "ETHUSDT"\n[perpetuals.index.process]\nkind = "csv"\n'
        'path = "eth/prices.csv"\n'
    )
    first = tmp_path / "runs" / "first"
    es.run(str(config), out=str(first))
    assert sorted(os.listdir(first / "data")) == ["1_prices.csv", "prices.csv"]
    again = tmp_path / "runs" / "again"
    es.run(str(first / "config.toml"), out=str(again))
    assert (first / "events.jsonl").read_bytes() == (again / "events.jsonl").read_bytes()
