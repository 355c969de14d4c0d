"""``exchange-sim compare`` and ``exchange-sim report SWEEP_DIR`` on synthetic sweep dirs."""

from __future__ import annotations

import csv
import os
import re
from xml.etree import ElementTree

from tests.unit.analysis.sweep_dirs import write_sweep_dir

FUND = "liquidation.insurance_fund.initial_balance"
COLUMNS = {
    "metrics.bad_debt.recorded": 0.0,
    "metrics.adl.notional": 1000.0,
    "metrics.insurance_fund.start": 0.0,
    "metrics.insurance_fund.min": 0.0,
}


def _sweep(tmp_path, failed: bool = False) -> str:
    points = [{FUND: 0, "liquidation.throughput": 10}, {FUND: 50000, "liquidation.throughput": 10}]
    runs = []
    for p in (0, 1):
        for s in (1, 2, 3):
            row = {"point": p, "seed": s, "settlement_asset": "USDT"} | COLUMNS
            row["metrics.bad_debt.recorded"] = 0.0 if p else 100.0 + s
            row["metrics.insurance_fund.start"] = float(points[p][FUND])
            row["metrics.insurance_fund.min"] = float(points[p][FUND]) - 10.0 * p * s
            runs.append(row)
    if failed:
        runs[4] |= {
            "status": "failed",
            "error": "SimulationError: the book ran dry <at> 42 s",
            "metrics.bad_debt.recorded": None,
            "metrics.adl.notional": None,
        }
    return write_sweep_dir(tmp_path / "sweep", points, runs)


def test_compare_prints_the_table_and_writes_the_csv(cli, tmp_path):
    """The table shows each metric's paired difference; the CSV has one row per metric."""
    sweep = _sweep(tmp_path)
    status, out, err = cli("compare", sweep, "--by", "initial_balance")
    assert (status, err) == (0, "")
    line = next(x for x in out.splitlines() if x.startswith("bad_debt "))
    assert re.search(r"3\s+102\s+0\.00\s+-102\s+\[-104, -99\.52\]\s+0$", line), line
    with open(os.path.join(sweep, f"compare-{FUND}.csv")) as handle:
        rows = list(csv.DictReader(handle))
    assert {r["metric"] for r in rows} == {"bad_debt", "fund_drawdown", "adl_notional"}
    drawdown = next(r for r in rows if r["metric"] == "fund_drawdown")
    assert float(drawdown["mean_diff"]) == 20.0
    assert "note: skipped, not in the results: bad_debt_outstanding, adl_accounts_hit" in out


def test_compare_writes_the_csv_where_asked_with_chosen_metrics(cli, tmp_path):
    """--out and --metrics (a name or a raw results.parquet column) choose file and rows."""
    target = tmp_path / "out.csv"
    status, _, _ = cli(
        "compare",
        _sweep(tmp_path),
        "--by",
        FUND,
        "--metrics",
        "bad_debt,metrics.adl.notional",
        "--out",
        str(target),
    )
    with open(target) as handle:
        assert [r["metric"] for r in csv.DictReader(handle)] == ["bad_debt", "metrics.adl.notional"]
    assert status == 0


def test_compare_bad_input_exits_2_with_one_line(cli, tmp_path):
    """Unknown factor (listing the factors), bad baseline, unknown metric, not a sweep dir:
    exit 2, one line naming it, no traceback, no CSV."""
    sweep = _sweep(tmp_path)
    cases = [
        (("--by", "ranking"), "--by: not a factor of this sweep (factors: " + FUND),
        (("--by", FUND, "--baseline", "7"), "--baseline: not a value of the factor"),
        (("--by", FUND, "--metrics", "nope"), "--metrics: not a metric"),
        (("--by", "liquidation"), "--by: not a factor"),
    ]
    for args, message in cases:
        status, _, err = cli("compare", sweep, *args)
        assert status == 2, args
        assert err.startswith(f"exchange-sim: error: {message}"), err
        assert err.count("\n") == 1 and "Traceback" not in err
    status, _, err = cli("compare", str(tmp_path), "--by", FUND)
    assert status == 2 and "not a sweep directory" in err
    assert not [n for n in os.listdir(sweep) if n.endswith(".csv")]


def test_sweep_report_renders_with_failed_runs(cli, tmp_path):
    """report SWEEP_DIR writes one well-formed page: embedded figures, every run in the table,
    the failed run first with its error (escaped), no script and no link."""
    sweep = _sweep(tmp_path, failed=True)
    status, out, err = cli("report", sweep)
    assert (status, err) == (0, "")
    path = os.path.join(sweep, "report", "report.html")
    assert out.strip() == f"report: {path}"
    with open(path, encoding="utf-8") as handle:
        html = handle.read()
    ElementTree.fromstring(html.removeprefix("<!DOCTYPE html>"))
    # the fund: levels and paired differences; the throughput has one value and is not drawn
    assert html.count('src="data:image/png;base64,') == 2
    assert "liquidation.throughput has one value: not plotted" in html
    assert "runs failed" in html and "the book ran dry &lt;at&gt; 42 s" in html
    assert html.index("p001-s2") < html.index("p000-s1")  # failed runs first
    assert html.count("<tr") == (1 + 2) + (1 + 6)  # factors table, runs table
    assert "<script" not in html and "href=" not in html


def test_sweep_report_draws_a_zipped_group_once(cli, tmp_path):
    """Factors zipped together change together: the report draws them once, under the first,
    and says where the others are."""
    kind = "liquidation.policy.kind"
    points = [
        {kind: "binance", FUND: 50000},
        {kind: "market", FUND: 50000},
        {kind: "market", FUND: 0},
    ]
    runs = [
        {"point": p, "seed": s} | COLUMNS | {"metrics.bad_debt.recorded": float(p * s)}
        for p in range(3)
        for s in (1, 2)
    ]
    sweep = write_sweep_dir(tmp_path / "sweep", points, runs)
    assert cli("report", sweep)[0] == 0
    with open(os.path.join(sweep, "report", "report.html"), encoding="utf-8") as handle:
        html = handle.read()
    assert html.count('src="data:image/png;base64,') == 2
    assert f"{FUND} is zipped with {kind} and shown with it" in html


def test_compare_shows_the_whole_venue_of_several_perpetuals(cli, tmp_path):
    """A sweep whose runs have a ``venue`` section compares its figures (``venue_*``)."""
    points = [{FUND: 0}, {FUND: 50000}]
    runs = [
        {"point": p, "seed": s, "settlement_asset": "USDT"}
        | COLUMNS
        | {"venue.liquidations.notional": 1000.0 + 100 * p + s, "venue.traders.net_result": -5.0}
        for p in (0, 1)
        for s in (1, 2, 3)
    ]
    sweep = write_sweep_dir(tmp_path / "sweep", points, runs)
    status, out, _ = cli("compare", sweep, "--by", "initial_balance")
    assert status == 0
    line = next(x for x in out.splitlines() if x.startswith("venue_liquidated_notional "))
    assert re.search(r"\s100\s", line), line
    assert any(x.startswith("venue_trader_net_result ") for x in out.splitlines())


def test_compare_of_one_perpetual_does_not_note_the_venue_metrics(cli, tmp_path):
    """Without several perpetuals the ``venue_*`` metrics are absent without a note."""
    status, out, _ = cli("compare", _sweep(tmp_path), "--by", "initial_balance")
    assert status == 0 and "venue_" not in out
