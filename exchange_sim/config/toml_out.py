"""A minimal TOML writer for resolved configs (the stdlib reads TOML but does not write it).

Handles exactly what :func:`~exchange_sim.config.loader.dump_section` produces: nested tables,
arrays of tables, ints, bools, strings, Decimals and lists of scalars. ``None`` values are omitted
(an absent optional key means ``None`` when read back).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text if "." in text else text + ".0"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dumps(data: dict, _prefix: str = "") -> str:
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for key, value in data.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_array(value):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_scalar(value)}")
    out = "\n".join(lines)
    for key, value in tables:
        name = f"{_prefix}{key}"
        if isinstance(value, dict):
            block = f"[{name}]\n" + dumps(value, name + ".")
        else:
            block = "\n".join(f"[[{name}]]\n" + dumps(item, name + ".") for item in value)
        out = (out + "\n\n" + block) if out else block
    return out.strip("\n") + "\n" if _prefix == "" else out
