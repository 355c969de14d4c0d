"""The closing summary of a run with several perpetuals says whose each figure is (the first
perpetual's under its symbol, each other perpetual's on its line, the whole venue's), and
``summary.json`` ``venue.vaults`` adds up every perpetual's backstop vault."""

from __future__ import annotations

import os

import orjson
import pytest

import exchange_sim as es
from exchange_sim.runner.terminal import summary_lines

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ALTCOIN = os.path.join(ROOT, "configs", "scenarios", "altcoin_cascade.toml")
BOOK_ADL = (
    "venue.preset=okx",
    'liquidation.waterfall=["book","adl"]',
    'perpetuals.ALTUSDT.liquidation.waterfall=["book","adl"]',
)
"""No fund in either waterfall: both perpetuals deleverage and record bad debt."""


def _summary(factory, *overrides: str) -> dict:
    out = str(factory.mktemp("altcoin") / "run")
    es.run(ALTCOIN, overrides=overrides, out=out)
    with open(os.path.join(out, "summary.json"), "rb") as handle:
        return orjson.loads(handle.read())


@pytest.fixture(scope="module")
def book_adl(tmp_path_factory) -> dict:
    return _summary(tmp_path_factory, *BOOK_ADL)


@pytest.fixture(scope="module")
def vaults(tmp_path_factory) -> dict:
    return _summary(tmp_path_factory, "venue.preset=hyperliquid")


def test_the_first_perpetuals_lines_name_it(book_adl):
    """With several perpetuals the liquidations, fund, ADL, bad debt and drawdown lines are the
    first perpetual's and start with its symbol."""
    lines = summary_lines(None, book_adl)
    for name in ("liquidations", "insurance fund", "ADL", "bad debt", "drawdown"):
        assert any(line.startswith(f"BTCUSDT: {name} ") for line in lines), name
    assert not any(line.startswith(("liquidations:", "ADL:", "bad debt:")) for line in lines)


def test_another_perpetuals_line_gives_its_adl_and_bad_debt(book_adl):
    """ALTUSDT's own ADL fills and bad debt are on its line (they were printed nowhere)."""
    alt = book_adl["perpetuals"]["ALTUSDT"]["metrics"]
    assert alt["adl"]["count"] > 0 and alt["bad_debt"]["recorded_minor"] > 0
    line = next(x for x in summary_lines(None, book_adl) if x.startswith("ALTUSDT:"))
    assert f"; ADL {alt['adl']['count']} fills, {alt['adl']['notional']:,.2f} USDT" in line
    assert f"; bad debt {alt['bad_debt']['recorded']:,.2f} USDT recorded" in line


def test_the_whole_venue_line_gives_adl_and_bad_debt(book_adl):
    """The whole-venue line adds the venue's ADL fills and bad debt when not zero."""
    venue = book_adl["venue"]
    line = next(x for x in summary_lines(None, book_adl) if x.startswith("whole venue:"))
    assert f"; ADL {venue['adl']['count']} fills," in line
    assert f"; bad debt {venue['bad_debt']['recorded']:,.2f} USDT recorded" in line


def test_no_adl_or_bad_debt_is_left_out_of_the_other_lines(vaults):
    """Without ADL or bad debt the other perpetual's and the venue's lines do not mention them."""
    lines = summary_lines(None, vaults)
    for line in lines:
        if line.startswith(("ALTUSDT:", "whole venue:")):
            assert "ADL" not in line and "bad debt" not in line


def test_the_cascade_line_says_it_is_the_whole_venues(book_adl):
    """metrics.cascade spans every perpetual's liquidations: its line says so, with the count."""
    count = book_adl["metrics"]["cascade"]["liquidations"]
    assert count == book_adl["venue"]["liquidations"]["count"]
    lines = summary_lines(None, book_adl)
    assert any(x.startswith(f"  cascade, whole venue ({count} liquidations): ") for x in lines)


def test_venue_vaults_add_up_every_perpetuals_vault(vaults):
    """venue.vaults counts the perpetuals whose vault moved and sums their cash and PnL."""
    sections = [vaults["metrics"], vaults["perpetuals"]["ALTUSDT"]["metrics"]]
    assert all(section["vault"] for section in sections)
    section = vaults["venue"]["vaults"]
    assert section["count"] == 2
    assert section["cash_end_minor"] == sum(s["vault"]["cash_end_minor"] for s in sections)
    assert section["realised_pnl_minor"] == sum(s["vault"]["realised_pnl_minor"] for s in sections)
    line = next(x for x in summary_lines(None, vaults) if x.startswith("whole venue:"))
    assert f"; backstop vaults (2) cash {section['cash_end']:,.2f} USDT" in line
    alt = next(x for x in summary_lines(None, vaults) if x.startswith("ALTUSDT:"))
    assert "; backstop vault cash " in alt


def test_venue_vaults_are_null_without_a_vault(book_adl):
    """No perpetual's vault moved: venue.vaults is null, as a perpetual's vault is."""
    assert book_adl["venue"]["vaults"] is None
