"""The report of a run with several perpetuals: an overview figure of every perpetual, and each
other perpetual's own figures drawn from its events alone."""

from __future__ import annotations

import os

import numpy as np
import pytest

from exchange_sim.analysis import plots, report_perpetuals
from exchange_sim.analysis.frames import load_run
from exchange_sim.analysis.report import REPORT_TYPES, ReportData, write_report
from exchange_sim.runner.api import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
SMALL = (
    "participants.btc_longs.count=20",
    "participants.eth_longs.count=20",
    "run.duration=70s",
)


def _run(factory, *overrides: str) -> str:
    out = factory.mktemp("contagion") / "run"
    config = os.path.join(ROOT, "configs", "scenarios", "contagion_two_markets.toml")
    run(config, overrides=(*SMALL, *overrides), out=str(out))
    return str(out)


@pytest.fixture(scope="module")
def contagion(tmp_path_factory) -> tuple[str, str]:
    """The contagion scenario, small, with its report written: (run dir, report HTML)."""
    run_dir = _run(tmp_path_factory)
    with open(write_report(run_dir), encoding="utf-8") as handle:
        return run_dir, handle.read()


@pytest.fixture(scope="module")
def data(contagion) -> ReportData:
    return ReportData(load_run(contagion[0], REPORT_TYPES, with_skeleton=True))


def test_a_perpetual_view_holds_only_its_events(data):
    """``for_perpetual(symbol)``'s frames are exactly the log's lines of that instrument."""
    eth = data.for_perpetual("ETHUSDT")
    trades = data.run["trade"]
    assert len(eth["trade"]) == (trades.instrument == "ETHUSDT").sum() > 0
    assert set(eth["liquidation_triggered"].instrument) == {"ETHUSDT"}
    assert eth.symbol == "ETHUSDT"


def test_each_other_perpetual_has_its_figures_written_and_embedded(contagion):
    """ETHUSDT's figures are PNGs beside the page, under their own heading, and embedded."""
    run_dir, html = contagion
    files = set(os.listdir(os.path.join(run_dir, "report")))
    for stem in ("price", "liquidated_notional", "open_interest", "fund_vault", "delays"):
        assert f"ETHUSDT-{stem}.png" in files
        assert f'id="fig-ETHUSDT-{stem}"' in html
    assert "ETHUSDT-cascade.png" not in files  # the tree is the venue's, drawn once
    assert '<h2 id="perpetual-ETHUSDT">Figures of ETHUSDT</h2>' in html
    assert html.index('id="fig-price"') < html.index('id="fig-ETHUSDT-price"')


def test_the_overview_draws_every_perpetual(data, contagion):
    """perpetuals.png has one mark line per perpetual (change from its first mark, in %) and each
    perpetual's cumulative liquidated notional ends at the total of its own flows."""
    assert "perpetuals.png" in os.listdir(os.path.join(contagion[0], "report"))
    fig = report_perpetuals.overview(data)
    marks, liquidated = fig.axes
    assert [line.get_label() for line in marks.get_lines()[:2]] == ["BTCUSDT", "ETHUSDT"]
    eth = data.for_perpetual("ETHUSDT")
    first = float(eth["mark_price"].price_quote.iloc[0])
    last = float(eth["mark_price"].price_quote.iloc[-1])
    assert marks.get_lines()[1].get_ydata()[-1] == pytest.approx((last / first - 1) * 100)
    ends = [line.get_ydata()[-1] for line in liquidated.get_lines()]
    totals = [data.flows.notional.sum(), eth.flows.notional.sum()]
    assert ends == pytest.approx(totals) and min(totals) > 0


def test_the_table_shows_prices_to_the_tick(contagion, data):
    """A perpetual's prices in the table have as many decimals as the tick (0.1 here)."""
    assert str(data.scale.tick_size) == "0.1"
    row = contagion[1][contagion[1].index("<td>final index</td>") :].split("</tr>")[0]
    cells = [cell.split("<")[0] for cell in row.split('<td class="num">')[1:]]
    assert len(cells) == 2 and all(len(cell.split(".")[1]) == 1 for cell in cells), cells


def test_a_shared_fund_is_said_to_be_drawn_above(tmp_path_factory):
    """With one shared insurance fund, ETHUSDT's fund figure is not drawn and the page says
    whose fund it draws on."""
    run_dir = _run(tmp_path_factory, "perpetuals.0.shared_insurance_fund=true")
    with open(write_report(run_dir), encoding="utf-8") as handle:
        html = handle.read()
    assert "ETHUSDT-fund_vault.png" not in os.listdir(os.path.join(run_dir, "report"))
    assert "ETHUSDT draws on BTCUSDT&#x27;s insurance fund, drawn above" in html


def test_a_single_perpetual_run_has_no_perpetual_parts(cascade_run):
    """One perpetual: no overview, no per-perpetual headings."""
    data = ReportData(load_run(cascade_run, REPORT_TYPES, with_skeleton=True))
    assert report_perpetuals.overview(data) is None
    assert report_perpetuals.render_others(data, lambda fig: b"") == []


def test_price_labels_have_the_decimals_their_step_needs():
    """A price axis near 2.0 (ticks every 0.0025) is labelled 1.9975, 2.0000, ..., each label
    its tick exactly; one near 50,000 with none."""
    _, ax = plots._figure(plots.HALF)
    ax.plot([0, 1], [1.99, 2.01])
    plots._thousands(ax)
    ticks = ax.get_yticks()
    labels = [ax.yaxis.get_major_formatter()(v) for v in ticks]
    assert len(set(labels)) == len(ticks)
    assert [float(label) for label in labels] == pytest.approx(list(ticks), abs=1e-12), labels
    assert "2.0000" in labels, labels
    _, ax = plots._figure(plots.HALF)
    ax.plot([0, 1], [45_000, 50_000])
    plots._thousands(ax)
    assert ax.yaxis.get_major_formatter()(np.float64(46_000)) == "46,000"


def test_small_mark_moves_get_distinct_labels():
    """Marks moving under 0.1 % still get one distinct label per tick (not all '+0.0'); a
    12 % move keeps one decimal."""
    _, ax = plots._figure(plots.HALF)
    ax.plot([0, 1], [-0.04, 0.03])
    report_perpetuals.label_changes(ax)
    labels = [ax.yaxis.get_major_formatter()(v) for v in ax.get_yticks()]
    assert len(set(labels)) == len(labels), labels
    _, ax = plots._figure(plots.HALF)
    ax.plot([0, 1], [-12, 0])
    report_perpetuals.label_changes(ax)
    assert ax.yaxis.get_major_formatter()(-10.0).replace("\u2212", "-") == "-10.0"


@pytest.mark.parametrize(
    ("step", "decimals"),
    [(2.5, 1), (0.25, 2), (0.125, 3), (5.0, 0), (0.2, 1), (0.1 + 0.2, 1), (20_000.0, 0)],
)
def test_tick_step_decimals_write_the_step_exactly(step, decimals):
    """A tick step gets the fewest decimals that write it exactly (2.5 -> 1, 0.125 -> 3), float
    noise ignored (0.1 + 0.2 -> 1)."""
    assert plots.decimals_for_step(step, 0, 8) == decimals


def test_ticks_every_two_and_a_half_are_labelled_exactly():
    """An axis with ticks every 2.5 is labelled 2.5, 7.5, 12.5 (not 2, 8, 12)."""
    _, ax = plots._figure(plots.HALF)
    ax.set_yticks([0, 2.5, 5, 7.5, 10, 12.5])
    plots._thousands(ax)
    labels = [ax.yaxis.get_major_formatter()(v) for v in ax.get_yticks()]
    assert labels == ["0.0", "2.5", "5.0", "7.5", "10.0", "12.5"]


def test_the_traders_headline_is_the_whole_venues(contagion):
    """The traders share one wallet across BTC and ETH: the key figures give the whole venue's
    count of accounts that lost money and net result (summary ``venue.traders``)."""
    import orjson

    run_dir, html = contagion
    with open(os.path.join(run_dir, "summary.json"), "rb") as handle:
        traders = orjson.loads(handle.read())["venue"]["traders"]
    assert "leveraged traders, whole venue" in html
    assert f"{traders['accounts']} accounts, {traders['lost_money']} lost money" in html
    assert "their net result, whole venue" in html


def test_the_cascade_card_and_tree_are_the_whole_venues(data, contagion):
    """The cascade card and cascade.png count every perpetual's liquidations, as summary
    ``metrics.cascade`` does (the tree crosses instruments), and say it is the whole venue's."""
    import orjson

    run_dir, html = contagion
    with open(os.path.join(run_dir, "summary.json"), "rb") as handle:
        cascade = orjson.loads(handle.read())["metrics"]["cascade"]
    assert set(data.cascade.perpetual) == {"BTCUSDT", "ETHUSDT"}
    fed, total = cascade["fed_by_liquidations"], cascade["liquidations"]
    assert "Cascade depth (whole venue)" in html
    assert f"generation {cascade['deepest_generation']}<" in html
    assert f"{fed} of {total} liquidations fed by earlier ones, in every perpetual" in html
    fig = plots.cascade(data)
    tree, bars = fig.axes
    assert "whole venue" in tree.get_title()
    assert sum(patch.get_height() for patch in bars.patches) == total
    assert sum(len(points.get_offsets()) for points in tree.collections[1:]) == total


@pytest.mark.parametrize(
    ("value", "text"),
    [(5_519_500.0, "5,519,500"), (12.121, "12.121"), (0.0, "0"), (1432200.5, "1,432,200.5")],
)
def test_sizes_are_written_with_separators_and_no_trailing_zeros(value, text):
    """Open interest in the key figures: 5,519,500 contracts, not 5519500.0."""
    from exchange_sim.analysis.report_html import quantity

    assert quantity(value) == text
