"""The metrics of real runs agree with what the simulator itself reports in ``summary.json``."""

from __future__ import annotations

import io
import json
import os
import re
import tomllib
import weakref
from decimal import Decimal

import orjson
import pytest

from exchange_sim.analysis.metrics import (
    compute_metrics,
    metrics_from_run_dir,
    scale_from_config,
)
from exchange_sim.cli import main
from exchange_sim.core.errors import DataError
from exchange_sim.events.reader import iter_log

PRESETS = ("binance", "bitmex", "hyperliquid")
"""binance: fund takeovers and ADL; bitmex: bad debt; hyperliquid: the backstop vault."""


@pytest.fixture(scope="module", params=PRESETS)
def run(request, tmp_path_factory, repo_root_module):
    out = tmp_path_factory.mktemp(f"metrics-{request.param}") / "run"
    config = os.path.join(repo_root_module, "configs", "scenarios", "cascade.toml")
    args = ["run", config, "--out", str(out), "--set", f'venue.preset="{request.param}"']
    if request.param == "hyperliquid":  # its tiers stop at 40x
        args += ["--set", "participants.longs.leverages=[15, 20, 25, 30, 35, 40]"]
    assert main([*args, "--set", 'funding.rule.interval="20s"']) == 0
    with open(out / "summary.json", "rb") as handle:
        summary = orjson.loads(handle.read())
    return str(out), summary, metrics_from_run_dir(str(out))


@pytest.fixture(scope="module")
def repo_root_module() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_counts_agree_with_the_summary(run):
    """Events, liquidations, ADL events and funding settlements are the summary's counts; the
    outcomes account for every liquidation."""
    _, summary, metrics = run
    counts = summary["events_by_type"]
    assert metrics["events"] == summary["log_lines"]
    assert metrics["liquidations"]["count"] == counts["liquidation_triggered"]
    assert metrics["adl"]["count"] == counts.get("adl", 0)
    by_outcome = metrics["liquidations"]["by_outcome"]
    assert sum(row["count"] for row in by_outcome.values()) == metrics["liquidations"]["count"]
    assert metrics["funding"]["settlements"] == summary["funding_settlements"] > 0
    assert metrics["funding"]["residue_minor"] == summary["funding_residue_minor"]


def test_end_state_agrees_with_the_summary(run):
    """Fund, open interest, bad debt, vault cash and the final prices at the end of the run."""
    _, summary, metrics = run
    assert metrics["insurance_fund"]["end_minor"] == summary["insurance_fund_minor"]
    assert metrics["open_interest"]["end_lots"] == summary["open_interest_lots"]
    assert metrics["bad_debt"]["outstanding_minor"] == summary["bad_debt_outstanding_minor"]
    vault = metrics["vault"]
    assert (vault and vault["cash_end_minor"]) == summary["vault_cash_minor"]
    assert metrics["final_mark_ticks"] == summary["final_mark_price_ticks"]
    assert metrics["prices"]["index"]["last_ticks"] == summary["final_index_price_ticks"]
    assert metrics["prices"]["last_trade"]["last_ticks"] == summary["last_trade_price_ticks"]


def test_replayed_accounts_hold_exactly_the_money_the_summary_reports(run):
    """Summed over every role, net result + net deposits is the accounts' value, which the money
    identity fixes: money held - fees - fund - vault cash - funding residue + bad debt; the
    fees every role paid are the fees collected."""
    _, summary, metrics = run
    roles = metrics["roles"].values()
    in_accounts = sum(
        r["net_result_minor"] + r["deposits_minor"] - r["withdrawals_minor"] for r in roles
    )
    assert in_accounts == (
        summary["money_held_minor"]
        - summary["fees_collected_minor"]
        - summary["insurance_fund_minor"]
        - (summary["vault_cash_minor"] or 0)
        - summary["funding_residue_minor"]
        + summary["bad_debt_outstanding_minor"]
    )
    assert sum(r["fees_minor"] for r in roles) == summary["fees_collected_minor"]


def test_a_real_crash_has_a_shock_with_snapshots_and_latencies(run):
    """The mark fell, so "before" is taken when the mark left its peak (after the peak, before
    the trough) and holds more open interest than the trough; every liquidation left a
    queue-wait sample; the result is strict JSON."""
    _, _, metrics = run
    drawdown = metrics["prices"]["mark"]["max_drawdown"]
    assert drawdown["fraction"] > 0.05
    before = metrics["book"]["before"]
    assert drawdown["peak_time_ns"] < before["time_ns"] <= drawdown["trough_time_ns"]
    assert before["mark_ticks"] == drawdown["peak_ticks"]
    assert metrics["book"]["trough"]["time_ns"] == drawdown["trough_time_ns"]
    assert metrics["open_interest"]["before_lots"] > metrics["open_interest"]["trough_lots"]
    assert metrics["latency"]["queue_wait"]["count"] == metrics["liquidations"]["count"]
    json.dumps(metrics, allow_nan=False)


class _Event(dict):
    """A dict that can be watched with a weak reference."""


def test_compute_metrics_streams_without_keeping_events(run):
    """Fed a generator, compute_metrics holds at most the event in hand and the next one: every
    earlier event has been freed when the next is produced; the result equals the run dir's."""
    path, _, metrics = run
    alive = [0]
    most = [0]

    def release() -> None:
        alive[0] -= 1

    def events():
        for event in iter_log(os.path.join(path, "events.jsonl")):
            watched = _Event(event)
            alive[0] += 1
            weakref.finalize(watched, release)
            most[0] = max(most[0], alive[0])
            yield watched

    with open(os.path.join(path, "config.toml"), "rb") as handle:
        config = tomllib.load(handle, parse_float=Decimal)
    scale = scale_from_config(config)
    start = metrics["insurance_fund"]["start_minor"]
    assert compute_metrics(events(), scale, start) == metrics
    assert most[0] <= 2


def test_a_damaged_log_is_refused_naming_its_line(tmp_path, run):
    """A changed byte breaks the digest: reading stops with the run_end line named."""
    path, summary, _ = run
    with open(os.path.join(path, "events.jsonl"), "rb") as handle:
        data = handle.read()
    damaged = tmp_path / "events.jsonl"
    damaged.write_bytes(data.replace(b'"ts":0,', b'"ts":1,', 1))
    with pytest.raises(DataError, match=f"events.jsonl:{summary['log_lines']}: digest"):
        for _ in iter_log(str(damaged)):
            pass


DYNAMIC = ("by_outcome", "by_reason", "by_holder", "by_action", "roles")
"""Maps keyed by data (outcome, reason, holder, action, role names), not by field names."""
UNIT_SUFFIXES = ("_minor", "_ticks", "_lots", "_ns", "_ppb")


def _field_names(tree: dict, found: set[str]) -> set[str]:
    for key, value in tree.items():
        stem = next((key.removesuffix(s) for s in UNIT_SUFFIXES if key.endswith(s)), key)
        found.add(stem if stem in tree else key)
        if isinstance(value, dict):
            children = value.values() if key in DYNAMIC else [value]
            for child in children:
                if isinstance(child, dict):
                    _field_names(child, found)
    return found


def test_every_field_is_documented(run, repo_root_module):
    """Each field name of the result (a unit-suffixed twin under its user-unit name) appears in
    backticks in docs/metrics.md."""
    _, _, metrics = run
    with open(os.path.join(repo_root_module, "docs", "metrics.md"), encoding="utf-8") as handle:
        doc = handle.read()
    quoted = set()
    for span in doc.split("`")[1::2]:
        quoted.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", span))
    missing = sorted(name for name in _field_names(metrics, set()) if name not in quoted)
    assert missing == []


def test_the_in_run_metrics_are_the_offline_ones(run):
    """The metrics a run computes as it writes its log (each handler reached only by its own
    event types, depth read from the engine's book after the first trade) are exactly those
    metrics_from_run_dir replays from the log (depth from a mirror of the book)."""
    _, summary, metrics = run
    in_run, offline = dict(summary["metrics"]), dict(metrics)
    assert in_run.pop("cascade") is not None
    assert offline.pop("cascade") is None
    assert offline["book"]["before"] is not None
    assert in_run == offline


def test_in_a_run_the_metrics_are_reached_only_by_the_types_they_read(repo_root_module):
    """observe_run: the cascade tree gets every event; the metrics collector gets the types it
    has handlers for (a position, a mark price, trades), never one it does not read, and no
    order event once the book has traded (it then reads the engine's book)."""
    import exchange_sim as es
    from exchange_sim.events.log import EventLog
    from exchange_sim.runner.simulate import build_venue, observe_run

    config = os.path.join(repo_root_module, "configs", "scenarios", "cascade.toml")
    loaded = es.load_config(config, ["run.duration=20s"])
    log = EventLog(io.BytesIO())
    metrics, tree, _more = observe_run(loaded, log)
    venue = build_venue(loaded, log)
    metrics.read_book(venue.instrument.engine.book)
    assert len(log.observers_of("order_accepted")) == 2  # mirroring until the first trade
    venue.run(es.__version__)
    assert log.counts["trade"] > 0
    for kind in ("order_accepted", "order_cancelled", "order_expired", "margin_call_response"):
        assert log.observers_of(kind) == (tree.add,)
    for kind in ("position", "mark_price", "trade", "run_end"):
        assert len(log.observers_of(kind)) == 2
    assert metrics.result()["events"] == log.seq
