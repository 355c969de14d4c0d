"""Load a run directory for analysis: one pandas DataFrame per event type, in user units too.

Every frame keeps the log's own columns with their exact integers (``seq``, ``ts``, ``cause`` and
the event's fields, in log order; ``type`` is dropped since a frame holds one type) and adds,
right after each field that carries a unit, the same value as a float in user units:

* ``ns``: ``ts`` -> ``time_s``, ``queue_wait_ns`` -> ``queue_wait_s`` (seconds);
* ``ticks``: ``price`` -> ``price_quote``, ``mark_price`` -> ``mark_price_quote`` (quote per base);
* ``pair`` (exact ``[num, den]`` ticks): ``bid_ticks`` -> ``bid_quote``;
* ``lots``: ``size`` -> ``size_base``, ``position_lots`` -> ``position_base`` (base asset);
* ``money``: ``amount`` -> ``amount_settle``, ``amount_minor`` -> ``amount_settle`` (settlement
  asset);
* ``ppb``: ``rate_ppb`` -> ``rate_frac`` (a fraction: 1.0 = 100 %).

A collateral book's market (``[[collateral]]``, e.g. ``USDEUSDT``) is on its own grid: its rows'
ticks and lots are converted with that grid (:func:`market_grids`).

Integer columns stay int64; one that holds nulls (``cause``, a market order's ``price_ticks``)
becomes pandas ``Int64`` rather than a lossy float. A user-unit float is the exact value correctly
rounded (for integers below 2**53, i.e. every realistic value).

The unit of each field is stated in :data:`FIELD_UNITS`, an explicit table kept beside this
loader (a test compares it with ``docs/events.md`` so a new or renamed field cannot slip through
unconverted). Reading is streamed (:func:`scan`): the log is read in chunks of lines, each line of
a selected type is parsed with orjson into per-type row buffers, and every ``batch_rows`` rows a
buffer becomes a compact Arrow record batch. Memory is bounded by the selected frames, never by
the whole log. The log is verified as it is read (``seq`` per line, ``run_end``'s count and
sha256 digest); bad input raises :class:`~exchange_sim.core.errors.DataError` naming
``file:line``.
"""

from __future__ import annotations

import os
import tomllib
from array import array
from collections.abc import Callable, Iterable
from decimal import Decimal

import attrs
import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from exchange_sim.analysis import log_scan
from exchange_sim.analysis.event_units import COMMON, FIELD_UNITS, UNITS  # noqa: F401
from exchange_sim.core.errors import DataError
from exchange_sim.core.units import NS_PER_S, RATE_SCALE, Scale

"""Event type -> ``((field, unit), ...)`` in log order, after the common fields."""

_SUFFIX = {"ns": "_s", "ticks": "_quote", "pair": "_quote", "lots": "_base"}
_SUFFIX |= {"money": "_settle", "ppb": "_frac"}
_STRIP = ("_ns", "_ticks", "_lots", "_minor", "_ppb")
_ARROW = {"str": pa.string(), "bool": pa.bool_(), "pair": pa.list_(pa.int64())}


def user_column(field: str, unit: str) -> str | None:
    """Name of the user-unit column added beside ``field`` (``None`` for unitless fields)."""
    if unit not in _SUFFIX:
        return None
    if field == "ts":
        return "time_s"
    for suffix in _STRIP:
        if field.endswith(suffix):
            return field[: -len(suffix)] + _SUFFIX[unit]
    return field + _SUFFIX[unit]


INSTRUMENT = ("instrument", "str")
"""The field every event of an additional perpetual carries (its symbol; ``docs/events.md``): a
run with several perpetuals has it as every frame's last column (null: the first perpetual)."""


def spec_of(kind: str, instruments: bool = False) -> tuple[tuple[str, str], ...]:
    """``((field, unit), ...)`` of a type's rows: the common fields, the type's, and with
    several perpetuals ``instrument``."""
    return (*COMMON, *FIELD_UNITS[kind], *((INSTRUMENT,) if instruments else ()))


def schema_of(kind: str, instruments: bool = False) -> pa.Schema:
    """The Arrow schema of one event type's frame (exact fields, each followed by its user unit;
    ``instruments``: a run with several perpetuals, whose frames end with ``instrument``)."""
    columns = []
    for field, unit in spec_of(kind, instruments):
        if field == "type":
            continue
        columns.append(pa.field(field, _ARROW.get(unit, pa.int64())))
        derived = user_column(field, unit)
        if derived is not None:
            columns.append(pa.field(derived, pa.float64()))
    return pa.schema(columns)


def _float(values: pa.Array, num: int, den: int):
    """``values * num / den`` as float64 numpy (NaN for nulls): exact ints, one rounding each."""
    floats = values.to_numpy(zero_copy_only=False).astype("float64")
    return floats * num / den if num != 1 else floats / den


def _factors(scale: Scale) -> dict[str, tuple[int, int]]:
    tick, lot = scale.tick_size.as_integer_ratio(), scale.lot_size.as_integer_ratio()
    return {
        "ns": (1, NS_PER_S),
        "ticks": tick,
        "lots": lot,
        "money": (1, 10**scale.money_decimals),
        "ppb": (1, RATE_SCALE),
    }


_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)


def _column(values: tuple, arrow_type: pa.DataType) -> pa.Array | int:
    """One exact column, or the index of the first value Arrow cannot hold as ``arrow_type``."""
    try:
        return pa.array(values, type=arrow_type)
    except _ARROW_ERRORS:
        for index, value in enumerate(values):
            try:
                pa.array([value], type=arrow_type)
            except _ARROW_ERRORS:
                return index
        raise


def to_batch(
    kind: str,
    rows: list[tuple],
    scale: Scale,
    path: str = "",
    grids: Grids | None = None,
    instruments: bool = False,
) -> pa.RecordBatch:
    """Row tuples (values of one type in log order, ``type`` included) -> a typed record batch.
    A value of the wrong type for its field raises DataError naming ``path:line``. Rows of a
    market in ``grids`` (a collateral book) get its own ticks and lots in user units. With
    ``instruments`` each row ends with its perpetual's symbol (``None``: the first)."""
    schema = schema_of(kind, instruments)
    factors = _factors(scale)
    arrays: list = []
    spec = spec_of(kind, instruments)
    columns = list(zip(*rows, strict=True))
    own_grids = []
    if grids:
        names = [f for f, _ in spec]
        # A row is on a market's own grid when its ``market`` (a collateral book, a perpetual's
        # orders and trades) or its ``instrument`` (any event of another perpetual) names it.
        keys = [k for k in ("market", "instrument") if k in names]
        tags = [np.asarray(columns[names.index(k)], dtype=object) for k in keys]
        for name, grid in grids.items():
            mask = np.zeros(len(rows), dtype=bool)
            for tag in tags:
                mask |= tag == name
            if mask.any():
                own_grids.append((mask, grid))
    for (field, unit), values in zip(spec, columns, strict=True):
        if field == "type":
            continue
        exact = _column(values, schema.field(field).type)
        if isinstance(exact, int):
            where = f"{path}:{columns[0][exact] + 1}"
            problem = f"{kind}.{field} must be {schema.field(field).type} (see the unit table)"
            raise DataError(where, values[exact], problem)
        arrays.append(exact)
        if unit in factors or unit == "pair":
            floats = _user_floats(exact, unit, factors)
            for mask, grid in own_grids:
                if unit in grid or unit == "pair":
                    floats = np.where(mask, _user_floats(exact, unit, factors | grid), floats)
            arrays.append(pa.array(floats))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _user_floats(exact: pa.Array, unit: str, factors: dict[str, tuple[int, int]]):
    if unit == "pair":
        num = pc.list_element(exact, 0).to_numpy(zero_copy_only=False).astype("float64")
        den = pc.list_element(exact, 1).to_numpy(zero_copy_only=False).astype("float64")
        tick_num, tick_den = factors["ticks"]
        return num / den * tick_num / tick_den
    return _float(exact, *factors[unit])


Grids = dict[str, dict[str, tuple[int, int]]]
"""Market -> its own ``ticks`` and ``lots`` factors, for a market not on the instrument's grid."""


def market_grids(config: dict) -> Grids:
    """The markets not on the instrument's grid: each perpetual with a tick or lot of its own
    (``[[perpetuals]]`` ``tick_size`` / ``lot_size``, the instrument's where one is left out), and
    the collateral books (``[[collateral]]``: a tick is ``tick_ppb`` settlement units per
    collateral unit, a lot ``lot_units`` collateral units, :mod:`exchange_sim.venue.collateral`).
    Other markets use the instrument's scale."""
    instrument = config.get("instrument", {})
    settle = instrument.get("settlement_asset", "")
    grids: Grids = {}
    for perpetual in config.get("perpetuals", ()):
        tick, lot = perpetual.get("tick_size"), perpetual.get("lot_size")
        if tick is None and lot is None:
            continue
        grids[str(perpetual["symbol"])] = {
            "ticks": Decimal(
                tick if tick is not None else instrument["tick_size"]
            ).as_integer_ratio(),
            "lots": Decimal(lot if lot is not None else instrument["lot_size"]).as_integer_ratio(),
        }
    for asset in config.get("collateral", ()):
        book = asset.get("book", {})
        tick, lot = Decimal(book.get("tick_ppb", 0)), Decimal(book.get("lot_units", 0))
        if tick > 0 and lot > 0:
            grids[f"{asset['asset']}{settle}"] = {
                "ticks": tick.as_integer_ratio(),
                "lots": lot.as_integer_ratio(),
            }
    return grids


BATCH_ROWS = 16_384
"""Rows of a type parsed before they become a compact Arrow batch: parsed lines (Python tuples)
cost several times their Arrow size, so they are converted early."""


def scan(
    path: str,
    scale: Scale,
    on_batch: Callable[[str, pa.RecordBatch], None],
    types: Iterable[str] | None = None,
    batch_rows: int = BATCH_ROWS,
    skeleton: tuple[array, array] | None = None,
    grids: Grids | None = None,
    instruments: bool = False,
) -> dict[str, int]:
    """Stream and verify the log at ``path`` (:func:`exchange_sim.analysis.log_scan.scan`),
    handing each full batch of ``batch_rows`` rows of a selected type to ``on_batch`` as an Arrow
    record batch (then each type's remainder); return the line count per type. ``instruments``:
    a run with several perpetuals (any line may carry ``instrument``; a frame's last column)."""
    keys = {kind: tuple(f for f, _ in (*COMMON, *fields)) for kind, fields in FIELD_UNITS.items()}
    return log_scan.scan(
        path,
        keys,
        lambda kind, rows: on_batch(kind, to_batch(kind, rows, scale, path, grids, instruments)),
        None if types is None else set(types),
        batch_rows,
        skeleton,
        INSTRUMENT[0] if instruments else None,
    )


def has_perpetuals(config: dict) -> bool:
    """Whether a run's ``config.toml`` has ``[[perpetuals]]`` besides the instrument."""
    return bool(config.get("perpetuals"))


def load_scale(config: dict, where: str) -> Scale:
    """The instrument's :class:`Scale` from a resolved config (``[instrument]``; an inverse
    contract's when ``contract = "inverse"``)."""
    inst = config.get("instrument", {})
    try:
        return Scale.from_instrument_table(inst, "instrument")
    except KeyError as exc:
        raise DataError(where, sorted(inst), f"[instrument] has no {exc.args[0]}") from None


def run_paths(path: str) -> tuple[str, str]:
    """(run directory, events.jsonl) for a run directory or a log path; missing ones fail."""
    run_dir, log = (path, os.path.join(path, "events.jsonl"))
    if not os.path.isdir(path):
        run_dir, log = os.path.dirname(path) or ".", path
    if not os.path.exists(log):
        raise DataError(path, path, "no such run directory or events.jsonl")
    return run_dir, log


def read_meta(run_dir: str) -> tuple[dict | None, dict]:
    """(summary.json or ``None``, config.toml with decimals exact) of a run directory."""
    summary = None
    summary_path = os.path.join(run_dir, "summary.json")
    if os.path.exists(summary_path):
        with open(summary_path, "rb") as handle:
            try:
                summary = orjson.loads(handle.read())
            except orjson.JSONDecodeError as exc:
                raise DataError(summary_path, str(exc), "summary.json is not JSON") from None
    config_path = os.path.join(run_dir, "config.toml")
    try:
        with open(config_path, "rb") as handle:
            config = tomllib.load(handle, parse_float=Decimal)
    except OSError:
        raise DataError(config_path, config_path, "missing: the units need the config") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(config_path, str(exc), "config.toml is not TOML") from None
    return summary, config


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """Exact columns stay exact: ints with nulls become pandas ``Int64``, never floats."""
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_integer(column.type) and column.null_count:
            columns[name] = column.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))


@attrs.define
class Run:
    """A loaded run: ``summary`` (dict or ``None``), ``config`` (dict), ``scale``, ``frames``
    (type -> DataFrame) and ``counts`` (lines per type, every type). ``run["trade"]`` is a
    frame; a known type the log does not hold gives an empty frame with its columns.
    ``skeleton`` is ``(type names, type code per seq, cause per seq)`` when asked for.
    """

    path: str
    summary: dict | None
    config: dict
    scale: Scale
    frames: dict[str, pd.DataFrame]
    counts: dict[str, int]
    skeleton: tuple[list[str], array, array] | None = None
    instruments: bool = False
    """Several perpetuals: every frame ends with ``instrument`` (null: the first perpetual)."""

    def __getitem__(self, kind: str) -> pd.DataFrame:
        frame = self.frames.get(kind)
        if frame is None:
            if kind not in FIELD_UNITS:
                raise KeyError(kind)
            frame = _to_pandas(schema_of(kind, self.instruments).empty_table())
        return frame

    def __contains__(self, kind: str) -> bool:
        return kind in self.frames


def load_run(path: str, types: Iterable[str] | None = None, *, with_skeleton: bool = False) -> Run:
    """Load a run directory (or its ``events.jsonl``): frames of ``types`` (default: all)."""
    run_dir, log = run_paths(path)
    summary, config = read_meta(run_dir)
    scale = load_scale(config, os.path.join(run_dir, "config.toml"))
    batches: dict[str, list[pa.RecordBatch]] = {}
    skeleton = (array("h"), array("q")) if with_skeleton else None
    instruments = has_perpetuals(config)
    counts = scan(
        log,
        scale,
        lambda kind, batch: batches.setdefault(kind, []).append(batch),
        types=types,
        skeleton=skeleton,
        grids=market_grids(config),
        instruments=instruments,
    )
    frames = {}
    for kind in list(batches):
        table = pa.Table.from_batches(batches.pop(kind), schema=schema_of(kind, instruments))
        frames[kind] = _to_pandas(table)
    names = list(counts)
    full = None if skeleton is None else (names, *skeleton)
    return Run(run_dir, summary, config, scale, frames, counts, full, instruments)
