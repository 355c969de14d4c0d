"""A sweep file: a base scenario, fixed overrides, factors and seeds (``docs/sweeps.md``).

:func:`load_sweep` reads and checks a sweep file strictly (unknown keys are refused, naming them);
:meth:`SweepSpec.points` is the grid (the cartesian product of the ``[[factors]]`` entries, the
first one outermost; a zipped entry varies its keys together); :func:`resolve_points` builds and
preflights every point's config before anything starts, so a bad factor value is refused naming
the point, the key and the value, and nothing is written.
"""

from __future__ import annotations

import copy
import itertools
import os
from decimal import Decimal
from typing import Any

import attrs

from exchange_sim.config import toml_out
from exchange_sim.config.loader import PLAIN_NAME
from exchange_sim.core.errors import ConfigError, InputError
from exchange_sim.core.units import MAX_INT
from exchange_sim.runner.config import LoadedConfig, apply_override, load_data, read_toml
from exchange_sim.runner.preflight import preflight

SWEEP_KEYS = ("name", "base", "seeds", "first_seed", "keep_logs")
FACTOR_KEYS = ("key", "keys", "values")
RESERVED = ("run.seed",)  # set by the sweep itself: first_seed + k


@attrs.frozen
class Factor:
    """One ``[[factors]]`` entry: ``keys`` (one for a grid factor, several when zipped) and its
    ``rows``, each a tuple of one value per key."""

    keys: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@attrs.frozen
class Point:
    index: int
    label: str
    factors: dict  # key -> value, in the sweep file's order


@attrs.frozen
class SweepSpec:
    name: str
    base: str | None  # absolute path of the base scenario; None = built-in defaults
    seeds: int
    first_seed: int = 1
    keep_logs: bool = False
    fixed: dict = attrs.field(factory=dict)  # the [set] table: key -> value
    factors: tuple[Factor, ...] = ()

    def seed_values(self) -> list[int]:
        return [self.first_seed + k for k in range(self.seeds)]

    def factor_keys(self) -> list[str]:
        return [key for factor in self.factors for key in factor.keys]

    def points(self) -> list[Point]:
        combos = itertools.product(*(factor.rows for factor in self.factors))
        points = []
        for index, combo in enumerate(combos):
            values: dict[str, Any] = {}
            for factor, row in zip(self.factors, combo, strict=True):
                values.update(zip(factor.keys, row, strict=True))
            label = ", ".join(f"{key}={show_value(v)}" for key, v in values.items())
            points.append(Point(index, label or "base", values))
        return points

    def to_toml(self) -> str:
        """The resolved sweep as a sweep file (``DIR/sweep.toml``): re-runnable as it is."""
        lines = ["[sweep]", f"name = {_toml(self.name)}"]
        if self.base is not None:
            lines.append(f"base = {_toml(self.base)}")
        lines += [
            f"seeds = {self.seeds}",
            f"first_seed = {self.first_seed}",
            f"keep_logs = {_toml(self.keep_logs)}",
        ]
        if self.fixed:
            lines += ["", "[set]"] + [f"{_toml(k)} = {_toml(v)}" for k, v in self.fixed.items()]
        for factor in self.factors:
            lines += ["", "[[factors]]"]
            if len(factor.keys) == 1:
                lines.append(f"key = {_toml(factor.keys[0])}")
                lines.append(f"values = {_toml([row[0] for row in factor.rows])}")
            else:
                lines.append(f"keys = {_toml(list(factor.keys))}")
                lines.append(f"values = {_toml([list(row) for row in factor.rows])}")
        return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    """A TOML value, inline tables and nested lists included."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return toml_out._scalar(value)


def show_value(value: Any) -> str:
    """A factor value in a label or a text column: strings bare, the rest as TOML."""
    return value if isinstance(value, str) else _toml(value)


def _check_keys(table: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}", table[unknown[0]], f"unknown key (valid: {', '.join(allowed)})"
        )


def _int(table: dict, key: str, default: int, low: int, where: str) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}.{key}", value, "expected an integer")
    if not low <= value <= MAX_INT:
        raise ConfigError(f"{where}.{key}", value, f"must be >= {low}")
    return value


def _override_key(key: Any, where: str) -> str:
    if not isinstance(key, str) or not key or not all(p.strip() for p in key.split(".")):
        raise ConfigError(where, key, "expected a dotted config key, e.g. run.duration")
    if key in RESERVED:
        raise ConfigError(where, key, "is set by the sweep (first_seed + k); use seeds")
    return key


def _factor(entry: Any, i: int, where: str) -> Factor:
    at = f"{where}: factors[{i}]"
    if not isinstance(entry, dict):
        raise ConfigError(at, entry, "expected a table with key (or keys) and values")
    _check_keys(entry, FACTOR_KEYS, at)
    if ("key" in entry) == ("keys" in entry):
        raise ConfigError(at, sorted(entry), "needs exactly one of key or keys")
    values = entry.get("values")
    if not isinstance(values, list) or not values:
        raise ConfigError(f"{at}.values", values, "expected a non-empty list")
    if "key" in entry:
        return Factor((_override_key(entry["key"], f"{at}.key"),), tuple((v,) for v in values))
    keys = entry["keys"]
    if not isinstance(keys, list) or not keys:
        raise ConfigError(f"{at}.keys", keys, "expected a non-empty list of config keys")
    keys = tuple(_override_key(k, f"{at}.keys") for k in keys)
    for j, row in enumerate(values):
        if not isinstance(row, list) or len(row) != len(keys):
            raise ConfigError(f"{at}.values[{j}]", row, f"expected a list of {len(keys)} values")
    return Factor(keys, tuple(tuple(row) for row in values))


def _flatten_set(table: dict, prefix: str = ""):
    """``[set]`` as (dotted key, value) pairs: ``run.duration = "60s"`` written unquoted is a
    nested table in TOML, and means the key ``run.duration``, not a new ``[run]`` table. A table
    with a ``kind`` (a latency, an index process) is a value, set whole."""
    for key, value in table.items():
        if isinstance(value, dict) and "kind" not in value:
            yield from _flatten_set(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


def spec_from_data(data: dict, where: str, base_dir: str) -> SweepSpec:
    """A :class:`SweepSpec` from a parsed sweep file found at ``where`` (``base`` is relative to
    ``base_dir``)."""
    _check_keys(data, ("sweep", "set", "factors"), where)
    table = data.get("sweep", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: sweep", table, "expected a table")
    _check_keys(table, SWEEP_KEYS, f"{where}: sweep")
    at = f"{where}: sweep"
    name = table.get("name", "sweep")
    if not isinstance(name, str) or not PLAIN_NAME.fullmatch(name):
        raise ConfigError(
            f"{at}.name",
            name,
            "expected a plain name: 1-100 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit",
        )
    base = table.get("base")
    if base is not None:
        if not isinstance(base, str) or not base:
            raise ConfigError(f"{at}.base", base, "expected a path to a scenario TOML")
        base = os.path.abspath(os.path.join(base_dir, base))
    keep_logs = table.get("keep_logs", False)
    if not isinstance(keep_logs, bool):
        raise ConfigError(f"{at}.keep_logs", keep_logs, "expected true or false")
    fixed = data.get("set", {})
    if not isinstance(fixed, dict):
        raise ConfigError(f"{where}: set", fixed, "expected a table of key = value")
    fixed = dict(_flatten_set(fixed))
    for key in fixed:
        _override_key(key, f"{where}: set")
    factors_data = data.get("factors", [])
    if not isinstance(factors_data, list):
        raise ConfigError(f"{where}: factors", factors_data, "expected [[factors]] tables")
    factors = tuple(_factor(entry, i, where) for i, entry in enumerate(factors_data))
    seen: set[str] = set(fixed)
    for factor in factors:
        for key in factor.keys:
            if key in seen:
                raise ConfigError(f"{where}: factors", key, "key given twice (factors or set)")
            seen.add(key)
    return SweepSpec(
        name=name,
        base=base,
        seeds=_int(table, "seeds", 1, 1, at),
        first_seed=_int(table, "first_seed", 1, 0, at),
        keep_logs=keep_logs,
        fixed=dict(fixed),
        factors=factors,
    )


def load_sweep(path: str) -> SweepSpec:
    """Read and check a sweep file (``base`` relative to the file)."""
    return spec_from_data(read_toml(path), path, os.path.dirname(os.path.abspath(path)))


def with_options(spec: SweepSpec, seeds: int | None, keep_logs: bool) -> SweepSpec:
    """``spec`` with the command line's ``--seeds`` and ``--keep-logs``."""
    if seeds is not None:
        if seeds < 1:
            raise ConfigError("--seeds", seeds, "must be >= 1")
        spec = attrs.evolve(spec, seeds=seeds)
    if keep_logs:
        spec = attrs.evolve(spec, keep_logs=True)
    if spec.first_seed + spec.seeds - 1 > MAX_INT:
        raise ConfigError("seeds", spec.seeds, f"first_seed + seeds - 1 must be <= {MAX_INT}")
    return spec


def _base_data(spec: SweepSpec) -> tuple[dict, str]:
    if spec.base is None:
        return {}, os.getcwd()
    return read_toml(spec.base), os.path.dirname(spec.base)


def _apply(data: dict, key: str, value: Any) -> None:
    apply_override(data, [part.strip() for part in key.split(".")], copy.deepcopy(value))


def resolve_points(spec: SweepSpec) -> tuple[list[Point], list[LoadedConfig], str]:
    """Every point with its resolved, preflighted config (seed = first_seed) and the directory
    its relative data paths are read from; a bad value raises an ``InputError`` naming the point."""
    base, base_dir = _base_data(spec)
    points = spec.points()
    configs = []
    for point in points:
        data = copy.deepcopy(base)
        try:
            for key, value in spec.fixed.items():
                _apply(data, key, value)
            for key, value in point.factors.items():
                _apply(data, key, value)
            _apply(data, "run.seed", spec.first_seed)
            loaded = load_data(data, base_dir)
            preflight(loaded)
        except InputError as exc:
            raise ConfigError(
                f"point {point.index} ({point.label}): {exc.where}", exc.value, exc.problem
            ) from None
        configs.append(loaded)
    return points, configs, base_dir


def factor_value_json(value: Any) -> Any:
    """A factor value for points.json (decimals as JSON numbers)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: factor_value_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [factor_value_json(v) for v in value]
    return value
