"""Generic strict loader from plain data (parsed TOML) into frozen attrs config classes.

Errors name the dotted key path and the offending value. Unknown keys are errors. Decimal values
with a unit become exact ints, using the instrument :class:`~exchange_sim.core.units.Scale` that the
root config loads first.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import (
    MAX_INT,
    Scale,
    format_duration,
    parse_duration_ns,
    parse_rate_ppb,
    to_decimal,
)

MAX_STRING = 4096
"""The longest string a config may hold (a path is the longest thing a config names)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""A name used as a directory name (``run.name``, a sweep's name): no separator, no ``..`` (a
leading letter or digit rules out ``.`` and ``..``, and ``/`` is not allowed)."""


class FieldProblem(ValueError):
    """Raised by a config class's validator about one field: reported as ``path.field``."""

    def __init__(self, field: str, value: Any, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.value = value
        self.problem = problem


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _union_members(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


def kind_of(cls: type) -> str:
    return cls.KIND  # type: ignore[attr-defined]


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _convert_unit(value: Any, unit: str, key: str, scale: Scale | None) -> Any:
    if unit == "duration":
        return parse_duration_ns(value, key)
    if unit == "rate":
        return parse_rate_ppb(value, key)
    if unit == "decimal":
        return to_decimal(value, key)
    if scale is None:
        raise ConfigError(key, value, "no instrument scale to convert this value with")
    if unit == "price":
        return scale.price_ticks(value, key)
    if unit == "size":
        return scale.size_lots(value, key)
    if unit == "money":
        return scale.money_minor(value, key)
    raise AssertionError(f"unknown unit {unit}")


def _check_range(value: Any, meta: dict, key: str) -> None:
    """``meta``'s min, max and choices; and every int within +-MAX_INT (it may reach the log)."""
    low = meta.get("min")
    high = meta.get("max")
    if isinstance(value, int) and not isinstance(value, bool):
        low = -MAX_INT if low is None else max(low, -MAX_INT)
        high = MAX_INT if high is None else min(high, MAX_INT)
    if low is not None and value < low:
        raise ConfigError(key, value, f"must be >= {low}")
    if high is not None and value > high:
        raise ConfigError(key, value, f"must be <= {high}")
    if meta.get("plain_name") and not PLAIN_NAME.fullmatch(value):
        raise ConfigError(
            key,
            value,
            "must be a plain name: 1-100 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (it names a directory, so no '/', no '..')",
        )
    choices = meta.get("choices")
    if choices is not None and value not in choices:
        raise ConfigError(key, value, f"must be one of {', '.join(map(str, choices))}")


def _scalar(value: Any, tp: Any, key: str) -> Any:
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, value, "expected true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ConfigError(key, value, "expected an integer")
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ConfigError(key, value, "expected an integer")
            if value.copy_abs() > MAX_INT:  # checked before int() expands a huge exponent
                raise ConfigError(key, value, f"must be within -{MAX_INT}..{MAX_INT}")
            if value != value.to_integral_value():
                raise ConfigError(key, value, "expected an integer")
            return int(value)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(key, value, "expected a string")
        if len(value) > MAX_STRING:
            raise ConfigError(key, value, f"longer than {MAX_STRING:,} characters")
        if _CONTROL.search(value):
            raise ConfigError(key, value, "contains a control character (NUL, newline, ...)")
        return value
    if tp is Decimal:
        return to_decimal(value, key)
    raise AssertionError(f"unsupported config type {tp!r} at {key}")


def load_value(
    value: Any,
    tp: Any,
    meta: dict,
    key: str,
    scale: Scale | None,
    default_scale: Scale | None = None,
    grids: Mapping[str, Scale] | None = None,
) -> Any:
    """Convert one value of declared type ``tp`` (with field ``meta``) found at ``key``."""
    members = _union_members(tp)
    if members is not None:
        concrete = [m for m in members if m is not type(None)]
        if value is None and len(concrete) < len(members):
            return None
        if all(attrs.has(m) for m in concrete):
            constant = [m for m in concrete if getattr(m, "KIND", None) == "constant"]
            if constant and isinstance(value, str | int) and not isinstance(value, bool):
                # Shorthand: a bare value of a union with a constant kind (a latency "250ms")
                # is that constant: {kind = "constant", value = ...}.
                value = {"kind": "constant", "value": value}
            if not isinstance(value, dict):
                raise ConfigError(key, value, "expected a table with a 'kind' key")
            kinds = {kind_of(m): m for m in concrete}
            kind = value.get("kind")
            if kind not in kinds:
                raise ConfigError(_join(key, "kind"), kind, f"must be one of {', '.join(kinds)}")
            return load_section(kinds[kind], value, key, scale, default_scale, grids)
        if len(concrete) == 1:
            return load_value(value, concrete[0], meta, key, scale, default_scale, grids)
        raise AssertionError(f"unsupported union at {key}")
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise ConfigError(key, value, "expected a list")
        item_tp = args[0]
        return tuple(
            load_value(item, item_tp, meta, _join(key, i), scale, default_scale, grids)
            for i, item in enumerate(value)
        )
    if attrs.has(tp):
        if not isinstance(value, dict):
            raise ConfigError(key, value, "expected a table")
        return load_section(tp, value, key, scale, default_scale, grids)
    unit = meta.get("unit")
    if unit is None:
        converted = _scalar(value, tp, key)
        _check_range(converted, meta, key)
        return converted
    converted = _convert_unit(value, unit, key, scale)
    try:
        _check_range(converted, meta, key)
    except ConfigError as exc:  # say it in the user's units, not ticks, lots or minor units
        raise ConfigError(key, value, _in_user_units(exc.problem, meta, scale)) from None
    return converted


def _in_user_units(problem: str, meta: dict, scale: Scale | None) -> str:
    """``must be >= 0`` with the bound converted back to the key's user unit."""
    words = problem.split()
    if len(words) != 4 or words[:2] != ["must", "be"] or not words[3].lstrip("-").isdigit():
        return problem
    bound = _dump_value(int(words[3]), meta, scale)
    if isinstance(bound, Decimal):
        bound = format(bound.normalize(), "f")
    return f"must be {words[2]} {bound}"


def _default_kind(field: attrs.Attribute) -> str | None:
    """The ``kind`` of a union field's default: a table without ``kind`` refines the default."""
    default: Any = field.default  # a value, or an attrs Factory
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        default = default.factory()
    return getattr(type(default), "KIND", None)


def regrid(value: Any, meta: dict, key: str, old: Scale, new: Scale) -> Any:
    """``value`` (a default on the ``old`` grid) re-expressed on the ``new`` grid, recursively."""
    if value is None:
        return None
    if attrs.has(type(value)):
        changes = {
            f.name: regrid(getattr(value, f.name), dict(f.metadata), _join(key, f.name), old, new)
            for f in attrs.fields(type(value))
        }
        return attrs.evolve(value, **changes)
    if isinstance(value, tuple):
        return tuple(regrid(v, meta, _join(key, i), old, new) for i, v in enumerate(value))
    unit = meta.get("unit")
    if unit in ("price", "size", "money"):
        return _convert_unit(_dump_value(value, meta, old), unit, key, new)
    return value


def table_grid(cls: type, market: object, scale: Scale | None, grids) -> Scale | None:
    """The grid a table's prices and sizes are on: a perpetual's own (``grids``, by symbol) for
    the perpetual's table (a class with ``OWN_GRID``, keyed by its ``symbol``) and for a table
    with a ``market`` naming it; else ``scale``."""
    if grids and isinstance(market, str) and market in grids:
        return grids[market]
    return scale


def _table_market(cls: type, data: dict) -> object:
    if getattr(cls, "OWN_GRID", False):  # keyed by its symbol, the default one if unwritten
        return data.get("symbol", attrs.fields_dict(cls)["symbol"].default)
    return data.get("market") if "market" in attrs.fields_dict(cls) else None


def load_section(
    cls: type,
    data: dict,
    path: str,
    scale: Scale | None,
    default_scale: Scale | None = None,
    grids: Mapping[str, Scale] | None = None,
) -> Any:
    """Build config class ``cls`` from table ``data`` found at ``path``; reject unknown keys.
    ``grids``: the perpetuals' own grids by symbol (:func:`table_grid`)."""
    if not isinstance(data, dict):
        raise ConfigError(path or "<root>", data, "expected a table")
    if grids:
        scale = table_grid(cls, _table_market(cls, data), scale, grids)
    fields = {f.name: f for f in attrs.fields(cls)}
    hints = _hints(cls)
    unknown = [k for k in data if k not in fields and not (k == "kind" and hasattr(cls, "KIND"))]
    if unknown:
        key = _join(path, unknown[0])
        raise ConfigError(key, data[unknown[0]], f"unknown key (valid: {', '.join(fields)})")
    kwargs = {}
    for name, field in fields.items():
        if name not in data:
            if default_scale is not None and scale is not None and scale != default_scale:
                # A default on the price/size/money grid is written for the default instrument;
                # re-express it on this config's grid so it keeps its meaning (50,000 USDT stays
                # 50,000 USDT whatever the tick), naming the key if it does not fit the new grid.
                default = field.default
                if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                    default = default.factory()
                key = _join(path, name)
                kwargs[name] = regrid(default, dict(field.metadata), key, default_scale, scale)
            continue
        if name in data:
            key = _join(path, name)
            value = data[name]
            if isinstance(value, dict) and "kind" not in value and _union_members(hints[name]):
                value = {"kind": _default_kind(field), **value}
            kwargs[name] = load_value(
                value, hints[name], dict(field.metadata), key, scale, default_scale, grids
            )
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except FieldProblem as exc:
        raise ConfigError(_join(path, exc.field), exc.value, exc.problem) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(path or "<root>", data, str(exc)) from None


def dump_section(obj: Any, scale: Scale | None, grids: Mapping[str, Scale] | None = None) -> dict:
    """The inverse of :func:`load_section`: plain data in user units (for ``config.toml``)."""
    out: dict[str, Any] = {}
    cls = type(obj)
    if grids:
        market = obj.symbol if getattr(cls, "OWN_GRID", False) else getattr(obj, "market", None)
        scale = table_grid(cls, market, scale, grids)
    if hasattr(cls, "KIND"):
        out["kind"] = kind_of(cls)
    for field in attrs.fields(cls):
        out[field.name] = _dump_value(getattr(obj, field.name), dict(field.metadata), scale, grids)
    return out


def _dump_value(
    value: Any, meta: dict, scale: Scale | None, grids: Mapping[str, Scale] | None = None
) -> Any:
    if value is None:
        return None
    if attrs.has(type(value)):
        return dump_section(value, scale, grids)
    if isinstance(value, tuple):
        return [_dump_value(v, meta, scale, grids) for v in value]
    unit = meta.get("unit")
    if unit == "duration":
        return format_duration(value)
    if unit == "rate":
        return Decimal(value).scaleb(-9).normalize() if value else Decimal(0)
    if unit == "price" and scale is not None:
        return scale.price_decimal(value)
    if unit == "size" and scale is not None:
        return scale.size_decimal(value)
    if unit == "money" and scale is not None:
        return scale.money_decimal(value)
    return value
