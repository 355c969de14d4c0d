"""Export a run's log to Parquet: one file per event type, written as the log streams by.

The columns are those of :func:`exchange_sim.analysis.frames.load_run` (the log's exact integers,
each unit-bearing field followed by its float in user units), typed by the unit table so every
file of a type has the same schema whatever its values. Each type's rows are written in row groups
of ``batch_rows`` with :class:`pyarrow.parquet.ParquetWriter` as soon as a group fills (parsed
lines become compact Arrow batches every :data:`~exchange_sim.analysis.frames.BATCH_ROWS` rows
on the way), so memory stays bounded by one pending group per type however long the log is.
Files are written under a temporary name and renamed only when the whole log has been read and
verified: a damaged log (a line that is not JSON, a wrong ``seq``, a digest mismatch) raises
:class:`~exchange_sim.core.errors.DataError` naming ``file:line`` and leaves no partial file.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from exchange_sim.analysis.frames import (
    BATCH_ROWS,
    has_perpetuals,
    load_scale,
    market_grids,
    read_meta,
    run_paths,
    scan,
    schema_of,
)
from exchange_sim.core.errors import DataError, InputError

FORMATS = ("parquet",)
_PARTIAL = ".partial"


class _GroupWriter:
    """One type's Parquet file: Arrow batches are gathered into row groups of ``group_rows``."""

    def __init__(self, path: str, kind: str, group_rows: int, instruments: bool) -> None:
        self.path, self.group_rows = path, group_rows
        self.writer = pq.ParquetWriter(path, schema_of(kind, instruments))
        self.pending: list[pa.RecordBatch] = []
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.rows += batch.num_rows
        while self.rows >= self.group_rows:
            table = pa.Table.from_batches(self.pending)
            self.writer.write_table(table.slice(0, self.group_rows), self.group_rows)
            self.pending = table.slice(self.group_rows).to_batches()
            self.rows -= self.group_rows

    def close(self, keep: bool) -> None:
        if keep and self.rows:
            self.writer.write_table(pa.Table.from_batches(self.pending), self.group_rows)
        self.writer.close()
        if not keep:
            os.remove(self.path)


def export_run(
    run_dir: str, out_dir: str | None = None, fmt: str = "parquet", batch_rows: int = 100_000
) -> list[str]:
    """Write ``OUT_DIR/<type>.parquet`` for every event type in the run's log, in row groups of
    ``batch_rows``; return the paths, sorted. ``out_dir`` defaults to ``RUN_DIR/parquet``."""
    if fmt not in FORMATS:
        raise InputError("fmt", fmt, f"unsupported export format (one of: {', '.join(FORMATS)})")
    if batch_rows < 1:
        raise InputError("batch_rows", batch_rows, "must be at least 1")
    run_dir, log = run_paths(run_dir)
    _, config = read_meta(run_dir)
    scale = load_scale(config, os.path.join(run_dir, "config.toml"))
    instruments = has_perpetuals(config)
    out_dir = out_dir or os.path.join(run_dir, "parquet")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise DataError(out_dir, out_dir, f"cannot create the output directory: {exc}") from None
    writers: dict[str, _GroupWriter] = {}

    def write(kind: str, batch: pa.RecordBatch) -> None:
        writer = writers.get(kind)
        if writer is None:
            path = os.path.join(out_dir, f"{kind}.parquet{_PARTIAL}")
            writer = writers[kind] = _GroupWriter(path, kind, batch_rows, instruments)
        writer.add(batch)

    try:
        scan(
            log,
            scale,
            write,
            batch_rows=min(batch_rows, BATCH_ROWS),
            grids=market_grids(config),
            instruments=instruments,
        )
    except BaseException:
        for writer in writers.values():
            writer.close(keep=False)
        raise
    paths = []
    for kind, writer in writers.items():
        writer.close(keep=True)
        path = os.path.join(out_dir, f"{kind}.parquet")
        os.replace(writer.path, path)
        paths.append(path)
    return sorted(paths)
