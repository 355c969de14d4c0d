"""Loading a run for analysis: frames per event type, exact integers plus user units."""

from __future__ import annotations

import os
import re
import tracemalloc
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from exchange_sim.analysis import log_scan
from exchange_sim.analysis.frames import FIELD_UNITS, load_run, schema_of, user_column
from exchange_sim.core.errors import DataError
from exchange_sim.events.reader import read_log

from .conftest import ROOT, reseal, write_synthetic

UNIT_WORDS = {
    "ticks": re.compile(r"\bticks\b"),
    "lots": re.compile(r"\blots\b"),
    "money": re.compile(r"\bmoney\b|\bminor units\b"),
    "ppb": re.compile(r"\bppb\b|parts per billion"),
    "ns": re.compile(r"\bns\b|nanoseconds"),
}
UNCOVERED_WORDS = re.compile(r"\b(seconds|millis\w*|micros\w*|bps|basis points|percent|cents)\b")
FAMILY = {"pair": "ticks"}


def _documented() -> dict[str, list[tuple[str, str]]]:
    """docs/events.md as ``type -> [(field, description), ...]``."""
    with open(os.path.join(ROOT, "docs", "events.md"), encoding="utf-8") as handle:
        text = handle.read()
    sections = re.split(r"^## `(\w+)`$", text, flags=re.MULTILINE)
    return {
        name: re.findall(r"^\| `(\w+)` \| (.*) \|$", body, flags=re.MULTILINE)
        for name, body in zip(sections[1::2], sections[2::2], strict=True)
    }


def _same(frame_value, log_value) -> bool:
    if log_value is None:
        return frame_value is None or frame_value is pd.NA or frame_value != frame_value
    if isinstance(log_value, list):
        return list(frame_value) == log_value
    return frame_value == log_value and type(log_value)(frame_value) == log_value


def test_unit_table_covers_every_documented_field_with_its_unit():
    """Every field docs/events.md lists is in the unit table, in log order, and a field whose
    description names a unit (ticks, lots, money / minor units, ppb, ns) has that unit there; a
    unit word the table has no kind for fails, so the table cannot drift silently."""
    documented = _documented()
    assert set(documented) == set(FIELD_UNITS)
    problems = []
    for kind, fields in documented.items():
        table = dict(FIELD_UNITS[kind])
        assert [f for f, _ in fields] == [f for f, _ in FIELD_UNITS[kind]], kind
        for field, description in fields:
            named = {unit for unit, word in UNIT_WORDS.items() if word.search(description)}
            unit = FAMILY.get(table[field], table[field])
            if named and named != {unit}:
                problems.append(f"{kind}.{field}: docs say {named}, table says {unit}")
            if UNCOVERED_WORDS.search(description):
                problems.append(f"{kind}.{field}: a unit the table has no kind for")
    assert problems == []


def test_every_unit_field_gets_a_distinct_user_column():
    """Each field with a unit gets a user-unit column, and no added name clashes with a field."""
    for kind in FIELD_UNITS:
        names = schema_of(kind).names
        assert len(names) == len(set(names)), kind
        for field, unit in FIELD_UNITS[kind]:
            if unit in ("ns", "ticks", "pair", "lots", "money", "ppb"):
                assert user_column(field, unit) in names


def test_frames_agree_with_the_log_line_for_line(cascade_run):
    """Each frame holds every event of its type once, in seq order, with equal exact fields."""
    run = load_run(cascade_run)
    events = read_log(os.path.join(cascade_run, "events.jsonl"))
    by_type: dict[str, list[dict]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert set(run.frames) == set(by_type)
    assert run.counts == {kind: len(rows) for kind, rows in by_type.items()}
    for kind, rows in by_type.items():
        frame = run[kind]
        assert len(frame) == len(rows)
        for field in rows[0]:
            if field == "type":
                continue
            values = frame[field].tolist()
            for got, event in zip(values, rows, strict=True):
                assert _same(got, event[field]), (kind, field, event["seq"], got)


def test_user_unit_columns_are_the_exact_values_correctly_rounded(cascade_run):
    """time_s, *_quote, *_base and *_settle equal the exact decimal value rounded to a float."""
    run = load_run(cascade_run, ["position", "trade"])
    tick, lot, dec = run.scale.tick_size, run.scale.lot_size, run.scale.money_decimals
    pos, trade = run["position"], run["trade"]
    for ticks, quote in zip(trade.price_ticks, trade.price_quote, strict=True):
        assert quote == float(Decimal(int(ticks)) * tick)
    for lots, base in zip(pos.position_lots, pos.position_base, strict=True):
        assert base == float(Decimal(int(lots)) * lot)
    for minor, settle in zip(pos.wallet, pos.wallet_settle, strict=True):
        assert settle == float(Decimal(int(minor)).scaleb(-dec))
    assert (trade.time_s == trade.ts / 1e9).all()
    nulls = pos.liquidation_price_ticks.isna()
    assert pos.liquidation_price_ticks.dtype == "Int64" and nulls.any()
    assert np.isnan(pos.liquidation_price_quote[nulls]).all()


def test_types_selects_which_frames_are_built(cascade_run):
    """With ``types`` only those frames are built; every type is still counted; a known type
    absent from the log gives an empty frame with its columns."""
    run = load_run(cascade_run, ["trade"])
    assert list(run.frames) == ["trade"]
    assert run.counts["order_accepted"] > 0
    empty = run["bad_debt"]
    assert len(empty) == 0 and "amount_settle" in empty.columns
    assert run.summary["scenario"] == "cascade"
    assert str(run.scale.tick_size) == "0.1"


def test_memory_follows_the_selected_frames_not_the_log(cascade_run, tmp_path, monkeypatch):
    """Loading one small type allocates the same peak from a 5x longer log: lines are streamed a
    chunk at a time and only the selected type's rows are kept."""
    monkeypatch.setattr(log_scan, "CHUNK_BYTES", 1 << 17)
    peaks, sizes = [], []
    for lines in (6_000, 30_000):
        run_dir = write_synthetic(tmp_path / str(lines), cascade_run, lines)
        sizes.append(os.path.getsize(os.path.join(run_dir, "events.jsonl")))
        tracemalloc.start()
        run = load_run(run_dir, ["run_start"])
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert len(run["run_start"]) == 1 and run.counts["trade"] == (lines - 2) // 3
    # Two chunks of lines (128 KiB of bytes each, plus their list) are held at a time whatever
    # the log's length; the longer log adds ~4.5 MB of lines, which must not show in the peak.
    assert peaks[1] - peaks[0] < 2**17 < sizes[1] - sizes[0]
    assert peaks[1] < sizes[1] / 4


@pytest.mark.parametrize(
    ("damage", "line", "problem"),
    [
        (lambda lines: lines.__setitem__(3, b"{not json\n"), 4, "not a JSON object"),
        (lambda lines: lines.pop(5), 6, "expected seq 5"),
        (lambda lines: lines.pop(), None, "run_end"),
    ],
)
def test_a_damaged_log_raises_data_error_naming_file_and_line(
    cascade_run, tmp_path, damage, line, problem
):
    """A line that is not JSON, a missing line or a missing run_end is a DataError naming
    file:line, never a traceback from deep inside."""
    run_dir = write_synthetic(tmp_path / "bad", cascade_run, 50)
    path = os.path.join(run_dir, "events.jsonl")
    with open(path, "rb") as handle:
        lines = handle.readlines()
    damage(lines)
    with open(path, "wb") as handle:
        handle.writelines(lines)
    with pytest.raises(DataError) as caught:
        load_run(run_dir)
    assert problem in caught.value.problem
    if line is not None:
        assert caught.value.where == f"{path}:{line}"


def test_a_value_of_the_wrong_type_names_its_line(cascade_run, tmp_path):
    """A field holding a string where the unit table says lots is a DataError at that line, even
    when the log's digest is intact."""
    run_dir = write_synthetic(tmp_path / "typed", cascade_run, 50)
    path = os.path.join(run_dir, "events.jsonl")
    with open(path, "rb") as handle:
        lines = handle.readlines()
    lines[7] = re.sub(rb'"size_lots":\d+', b'"size_lots":"many"', lines[7])
    assert b'"type":"order_accepted"' in lines[7]
    reseal(path, lines)
    with pytest.raises(DataError) as caught:
        load_run(run_dir)
    assert caught.value.where == f"{path}:8"
    assert caught.value.value == "many" and "order_accepted.size_lots" in caught.value.problem


def test_an_altered_line_fails_the_digest(cascade_run, tmp_path):
    """Changing a value keeps the line valid JSON but breaks run_end's digest: DataError."""
    run_dir = write_synthetic(tmp_path / "altered", cascade_run, 50)
    path = os.path.join(run_dir, "events.jsonl")
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data.replace(b'"size_lots":2,', b'"size_lots":3,', 1))
    with pytest.raises(DataError, match="digest mismatch"):
        load_run(run_dir)


def test_a_missing_run_directory_is_a_data_error(tmp_path):
    """A path with no run in it names the path."""
    with pytest.raises(DataError) as caught:
        load_run(str(tmp_path / "nowhere"))
    assert caught.value.where == str(tmp_path / "nowhere")
