"""The cascade tree: which liquidation fed which, read back from a verified log."""

from __future__ import annotations

import io
import json
import os

import pytest

from exchange_sim.analysis.cascade import generations, parents
from exchange_sim.events.log import EventLog


def _write_chain(path) -> tuple[int, int, int]:
    """A tiny log: an index move liquidates account 1; its liquidation order's trade moves the
    mark, which liquidates account 2; a noise trade's mark move liquidates account 3."""
    sink = io.BytesIO()
    log = EventLog(sink)
    log.start("test", 1, "x")
    index = log.emit(1, "index_price", None, price=100)
    mark = log.emit(1, "mark_price", index, price=100)
    check = log.emit(1, "margin_check", mark)
    first = log.emit(1, "liquidation_triggered", check, account_id=1)
    started = log.emit(1, "liquidation_started", first, account_id=1)
    order = log.emit(1, "liquidation_order", started, order_id=7)
    accepted = log.emit(1, "order_accepted", order, order_id=7, tag="liquidation")
    trade = log.emit(1, "trade", accepted, maker_tag="", taker_tag="liquidation", maker_order_id=3)
    mark2 = log.emit(2, "mark_price", trade, price=99)
    check2 = log.emit(2, "margin_check", mark2)
    second = log.emit(2, "liquidation_triggered", check2, account_id=2)
    noise_accept = log.emit(3, "order_accepted", None, order_id=9, tag="")
    noise_trade = log.emit(3, "trade", noise_accept, maker_tag="", taker_tag="", maker_order_id=3)
    mark3 = log.emit(3, "mark_price", noise_trade, price=98)
    check3 = log.emit(3, "margin_check", mark3)
    third = log.emit(3, "liquidation_triggered", check3, account_id=3)
    log.close(4)
    path.write_bytes(sink.getvalue())
    return first, second, third


def test_a_liquidation_fed_by_another_names_it_as_parent(tmp_path):
    """The trigger reached through a liquidation order's trade has that liquidation as parent;
    triggers reached from an index move or a trader's own trade are roots."""
    from exchange_sim.events.reader import read_log

    path = tmp_path / "events.jsonl"
    first, second, third = _write_chain(path)
    events = read_log(str(path))
    assert parents(events) == {first: None, second: first, third: None}
    assert generations(events) == {first: 0, second: 1, third: 0}


def test_cascade_command_prints_generations_of_a_real_crash(cli, flash_crash_run):
    """On the flash crash some liquidations are fed by earlier ones, several generations deep,
    and every parent is logged before its child."""
    status, stdout, _ = cli("cascade", flash_crash_run, "--json")
    assert status == 0
    result = json.loads(stdout)
    assert result["fed_by_liquidations"] > 0
    assert result["deepest_generation"] >= 2
    assert sum(result["per_generation"].values()) == result["liquidations"]
    from exchange_sim.events.reader import read_log

    for child, parent in parents(read_log(os.path.join(flash_crash_run, "events.jsonl"))).items():
        assert parent is None or parent < child


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data.replace(b'"ts":3', b'"ts":4', 1), "digest mismatch"),
        (lambda data: data[: data.rstrip(b"\n").rfind(b"\n") + 1], "the last line must be run_end"),
        (lambda data: data.replace(b"\n", b"\n{oops\n", 1), "not a JSON object"),
    ],
)
def test_a_damaged_log_is_refused_naming_the_line(cli, tmp_path, damage, message):
    """An edited, truncated or corrupt log exits 2 with one line naming file:line."""
    path = tmp_path / "events.jsonl"
    _write_chain(path)
    path.write_bytes(damage(path.read_bytes()))
    status, _, err = cli("cascade", str(path))
    assert status == 2
    assert err.count("\n") == 1
    assert "events.jsonl:" in err and message in err
