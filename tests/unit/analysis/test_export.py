"""Parquet export: one file per event type, written incrementally, equal to the log."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pandas as pd
import pyarrow.parquet as pq
import pytest

from exchange_sim.analysis.export import export_run
from exchange_sim.analysis.frames import load_run, schema_of
from exchange_sim.core.errors import DataError
from exchange_sim.events.reader import read_log

from .conftest import write_synthetic


def test_parquet_files_agree_with_the_log_line_for_line(cascade_run, tmp_path):
    """Every event of a type appears once in its file, in seq order, with equal exact fields."""
    paths = export_run(cascade_run, str(tmp_path / "pq"))
    events = read_log(os.path.join(cascade_run, "events.jsonl"))
    by_type: dict[str, list[dict]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    assert sorted(os.path.basename(p) for p in paths) == sorted(f"{k}.parquet" for k in by_type)
    for path in paths:
        kind = os.path.basename(path).removesuffix(".parquet")
        rows = pq.read_table(path).to_pylist()
        expected = [{k: v for k, v in event.items() if k != "type"} for event in by_type[kind]]
        assert [{k: row[k] for k in event} for row, event in zip(rows, expected, strict=True)] == (
            expected
        )


def test_parquet_columns_are_those_of_load_run(cascade_run, tmp_path):
    """The files hold the same columns and values as the frames, user units included."""
    export_run(cascade_run, str(tmp_path / "pq"))
    run = load_run(cascade_run, ["position", "premium_sample"])
    for kind in ("position", "premium_sample"):
        table = pq.read_table(tmp_path / "pq" / f"{kind}.parquet")
        assert table.schema.equals(schema_of(kind))
        frame = run[kind]
        assert table.column_names == list(frame.columns)
        for name in table.column_names:
            got = [_plain(v) for v in table.column(name).to_pylist()]
            assert got == [_plain(v) for v in frame[name].tolist()], (kind, name)


def _plain(value):
    """One spelling per value: missing -> None, arrays -> lists."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def test_rows_are_written_in_row_groups_of_batch_rows(cascade_run, tmp_path):
    """A type with more rows than batch_rows is written as several row groups, in order."""
    export_run(cascade_run, str(tmp_path / "pq"), batch_rows=1000)
    meta = pq.ParquetFile(tmp_path / "pq" / "order_accepted.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert meta.num_row_groups > 3 and set(sizes[:-1]) == {1000}
    seqs = pq.read_table(tmp_path / "pq" / "order_accepted.parquet", columns=["seq"])
    assert seqs.column("seq").to_pylist() == sorted(seqs.column("seq").to_pylist())


def test_default_output_is_run_dir_parquet(cascade_run, tmp_path):
    """Without out_dir the files go to RUN_DIR/parquet/."""
    run_dir = write_synthetic(tmp_path / "run", cascade_run, 40)
    paths = export_run(run_dir)
    assert {os.path.dirname(p) for p in paths} == {os.path.join(run_dir, "parquet")}
    assert len(paths) == 5  # run_start, index_price, order_accepted, trade, run_end


_MEASURE = """
import json, resource, sys
from exchange_sim.analysis.export import export_run
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
export_run(sys.argv[1], sys.argv[2], batch_rows=10_000)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([before, after]))
"""


def _peak_growth_kib(run_dir: str, out_dir: str) -> int:
    """Peak RSS growth (KiB) of a fresh process exporting ``run_dir`` (imports excluded)."""
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, run_dir, out_dir],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = json.loads(result.stdout)
    return after - before


def test_export_memory_does_not_grow_with_the_log(cascade_run, tmp_path):
    """Exporting a 300k-line log peaks no higher than a 30k-line one, give or take 16 MiB.

    Bound: rows wait in per-type buffers of at most batch_rows (10k) rows before each row group
    is written, and the reader holds two 1 MiB chunks of lines, so the working set is fixed by
    batch_rows and the number of types (3 here), not by the log's length. The longer log is ~60
    MB bigger and would take hundreds of MB held as parsed rows. Measured: both peak ~32 MiB
    above the imports, ~3.5 MiB apart; 16 MiB leaves room for the allocator's and Parquet's
    own buffers.
    """
    small = write_synthetic(tmp_path / "small", cascade_run, 30_000)
    large = write_synthetic(tmp_path / "large", cascade_run, 300_000)
    growth_small = _peak_growth_kib(small, str(tmp_path / "small-pq"))
    growth_large = _peak_growth_kib(large, str(tmp_path / "large-pq"))
    extra_log_kib = (
        os.path.getsize(os.path.join(large, "events.jsonl"))
        - os.path.getsize(os.path.join(small, "events.jsonl"))
    ) // 1024
    assert growth_large - growth_small < 16 * 1024 < extra_log_kib
    meta = pq.ParquetFile(tmp_path / "large-pq" / "trade.parquet").metadata
    assert meta.num_rows == 99_999 and meta.num_row_groups == 10


def test_a_line_that_is_not_json_fails_naming_it_and_leaves_no_file(cascade_run, tmp_path):
    """A damaged line raises DataError with file:line; no partial Parquet file stays behind."""
    run_dir = write_synthetic(tmp_path / "run", cascade_run, 100)
    path = os.path.join(run_dir, "events.jsonl")
    with open(path, "rb") as handle:
        lines = handle.readlines()
    lines[57] = b'{"seq":57,"ts":1,"type":"trade",\n'
    with open(path, "wb") as handle:
        handle.writelines(lines)
    out = tmp_path / "pq"
    with pytest.raises(DataError) as caught:
        export_run(run_dir, str(out), batch_rows=10)
    assert caught.value.where == f"{path}:58"
    assert os.listdir(out) == []


def test_a_missing_run_directory_is_a_data_error(tmp_path):
    """export_run on a path with no run raises DataError naming it."""
    with pytest.raises(DataError) as caught:
        export_run(str(tmp_path / "absent"))
    assert caught.value.where == str(tmp_path / "absent")
