"""The HTML report: every figure drawn and embedded, a self-contained well-formed page, stable."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from exchange_sim.analysis import cascade as cascade_tree
from exchange_sim.analysis.depth import BOOK_TYPES, final_levels
from exchange_sim.analysis.frames import load_run
from exchange_sim.analysis.report import REPORT_TYPES, EventsView, ReportData, write_report
from exchange_sim.cli import main
from exchange_sim.events.reader import read_log
from exchange_sim.matching.rebuild import rebuild_book

from .conftest import ROOT

CASCADE_FIGURES = (
    "price",
    "liquidated_notional",
    "cascade",
    "open_interest",
    "fund_vault",
    "depth",
    "delays",
)
VOID = frozenset(("meta", "img", "br", "hr", "link", "input", "col", "area", "base", "wbr"))


@pytest.fixture(scope="module")
def report(cascade_run) -> tuple[str, str]:
    """(run dir, report.html text) of the cascade run."""
    path = write_report(cascade_run)
    with open(path, encoding="utf-8") as handle:
        return cascade_run, handle.read()


class _Strict(HTMLParser):
    """Records tags and attributes; fails on a close tag that does not match the open one."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, name, value) for name, value in attrs]

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def _parse(html: str) -> _Strict:
    parser = _Strict()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


def test_every_figure_is_written_and_embedded(report):
    """Each expected figure is a PNG beside report.html and the same bytes are in the page."""
    run_dir, html = report
    for stem in CASCADE_FIGURES:
        path = os.path.join(run_dir, "report", f"{stem}.png")
        with open(path, "rb") as handle:
            png = handle.read()
        assert png.startswith(b"\x89PNG")
        assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in html, stem
    assert html.count("<img ") == len(CASCADE_FIGURES)


def test_the_page_is_well_formed(report):
    """Tags balance under a strict HTML parse and the page is well-formed XML too."""
    _, html = report
    parser = _parse(html)
    assert parser.tags[0] == "html"
    ET.fromstring(html.removeprefix("<!DOCTYPE html>\n"))


def test_the_page_is_self_contained(report):
    """No script, no link element, every src/href is a data: URI and nothing points at http."""
    _, html = report
    parser = _parse(html)
    assert "script" not in parser.tags and "link" not in parser.tags
    for tag, name, value in parser.attrs:
        if name in ("src", "href"):
            assert value.startswith("data:image/png;base64,"), (tag, value[:60])
    outside_images = re.sub(r'"data:image/png;base64,[A-Za-z0-9+/=]*"', '""', html)
    assert "http" not in outside_images and "//" not in outside_images
    assert "url(" not in outside_images and "@import" not in outside_images


def test_a_figure_without_data_is_left_out_with_one_line(report):
    """The cascade run has no funding interval: no funding.png, one line saying why."""
    run_dir, html = report
    assert not os.path.exists(os.path.join(run_dir, "report", "funding.png"))
    assert html.count("Funding rate per interval: not drawn") == 1


def test_headline_shows_the_runs_key_figures(report):
    """Scenario, seed, preset, liquidations, ADL, fund and drawdown are at the top."""
    run_dir, html = report
    with open(os.path.join(run_dir, "summary.json")) as handle:
        summary = json.load(handle)
    head = html[: html.index('<section class="figs">')]
    assert "Run report: cascade" in head and "seed 1" in head and "venue preset binance" in head
    assert f"{summary['liquidations_triggered']:,} triggered" in head
    for label in ("Insurance fund (end)", "Auto-deleveraging", "Bad debt", "Max price drawdown"):
        assert label in head


def test_the_same_run_gives_the_same_bytes(report):
    """Writing the report again gives an identical page and identical PNGs."""
    run_dir, html = report
    pngs = {}
    for stem in CASCADE_FIGURES:
        with open(os.path.join(run_dir, "report", f"{stem}.png"), "rb") as handle:
            pngs[stem] = handle.read()
    with open(write_report(run_dir), encoding="utf-8") as handle:
        assert handle.read() == html
    for stem, png in pngs.items():
        with open(os.path.join(run_dir, "report", f"{stem}.png"), "rb") as handle:
            assert handle.read() == png, stem


def test_a_metrics_section_in_the_summary_becomes_a_table(cascade_run, tmp_path):
    """summary.json's ``metrics`` (nested) is shown, folded at the end of the page, as a table of
    its leaf values; the run's own metrics also give the key-figure tables near the top."""
    run_dir = tmp_path / "run"
    for name in ("events.jsonl", "config.toml", "summary.json"):
        os.makedirs(run_dir, exist_ok=True)
        shutil.copy(os.path.join(cascade_run, name), run_dir / name)
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["metrics"] = {"cascade": {"peak_backlog": 17, "fed_share": 0.5}, "label": "x<y"}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    with open(write_report(str(run_dir)), encoding="utf-8") as handle:
        html = handle.read()
    assert "<summary>Every metric in summary.json" in html
    for key, value in (("cascade.peak_backlog", "17"), ("cascade.fed_share", "0.50")):
        assert f'<td>{key}</td><td class="num">{value}</td>' in html
    assert "x&lt;y" in html
    _parse(html)


def test_funding_and_vault_are_drawn_when_the_run_has_them(tmp_path):
    """A hyperliquid run with 20 s funding draws the funding figure and the vault panel."""
    out = tmp_path / "hl"
    config = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")
    args = ["run", config, "--out", str(out), "--set", 'venue.preset="hyperliquid"']
    args += ["--set", "participants.longs.leverages=[15, 20, 25, 30, 35, 40]"]
    assert main([*args, "--set", 'funding.rule.interval="20s"']) == 0
    with open(write_report(str(out)), encoding="utf-8") as handle:
        html = handle.read()
    assert 'id="fig-funding"' in html and "Vault PnL (end)" in html
    assert os.path.exists(out / "report" / "funding.png")
    assert "not drawn" not in html


def test_the_depth_replay_leaves_the_book_the_engine_rebuild_does(cascade_run):
    """Replaying the book for the heatmap ends with the same levels as matching.rebuild."""
    run = load_run(cascade_run, BOOK_TYPES)
    book = rebuild_book(read_log(os.path.join(cascade_run, "events.jsonl")))
    expected = {
        1: {price: level.total_lots for price, level in book.bids.items()},
        -1: {price: level.total_lots for price, level in book.asks.items()},
    }
    assert final_levels({kind: run[kind] for kind in BOOK_TYPES}) == expected


def test_the_events_view_gives_the_cascade_tree_of_the_full_log(flash_crash_run):
    """generations() and parents() on the lazy view equal those on the whole log in memory (on
    a crash whose tree is several generations deep)."""
    run = load_run(flash_crash_run, REPORT_TYPES, with_skeleton=True)
    events = read_log(os.path.join(flash_crash_run, "events.jsonl"))
    view = EventsView(run)
    assert cascade_tree.generations(view) == cascade_tree.generations(events)
    assert cascade_tree.parents(view) == cascade_tree.parents(events)
    assert max(cascade_tree.generations(view).values()) > 0


def test_open_interest_ends_at_the_summarys(cascade_run):
    """Long open interest rebuilt from position events ends at summary.json's value."""
    data = ReportData(load_run(cascade_run, REPORT_TYPES, with_skeleton=True))
    lots = data.run.summary["open_interest_lots"]
    assert data.open_interest.long_base.iloc[-1] == pytest.approx(lots * 0.001)


def test_the_key_figures_come_from_the_runs_metrics(cascade_run):
    """The latency, market-stress and who-paid tables quote summary.json's metrics."""
    with open(os.path.join(cascade_run, "summary.json"), encoding="utf-8") as handle:
        metrics = json.load(handle)["metrics"]
    with open(write_report(cascade_run), encoding="utf-8") as handle:
        html = handle.read()
    assert "<h2>Key figures</h2>" in html
    delay = metrics["latency"]["margin_check_delay"]
    assert f"p50 {delay['p50']:,.3f} s" in html
    assert f"{metrics['traders']['accounts']} accounts, {metrics['traders']['lost_money']}" in html


def test_an_amplification_run_shows_its_amplification_card(cascade_run, tmp_path):
    """A summary with ``amplification`` (run.amplification = true) gets a headline card with
    the perp ratio and both drawdowns; one without gets none."""
    run_dir = tmp_path / "run"
    shutil.copytree(cascade_run, run_dir, ignore=shutil.ignore_patterns("report"))
    with open(write_report(str(run_dir)), encoding="utf-8") as handle:
        assert "Amplification (perp)" not in handle.read()
    summary_path = run_dir / "summary.json"
    summary = json.loads(summary_path.read_text())
    summary["amplification"] = {
        "perp": {"drawdown": 0.06, "baseline_drawdown": 0.03, "ratio": 2.0},
        "index": {"drawdown": 0.02, "baseline_drawdown": 0.02, "ratio": 1.0},
    }
    summary_path.write_text(json.dumps(summary))
    with open(write_report(str(run_dir)), encoding="utf-8") as handle:
        head = handle.read().split('<section class="figs">')[0]
    assert "Amplification (perp)" in head and "x2.00" in head and "-3.00%" in head
