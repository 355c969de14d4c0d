"""Every ``emit_record`` call in the package hands over a line whose first keys are the log's."""

from __future__ import annotations

import ast
import pathlib

import exchange_sim

PACKAGE = pathlib.Path(exchange_sim.__file__).parent
COMMON = ["seq", "ts", "type", "cause"]


def _record_calls():
    """``(where, record argument)`` of every call to a name or attribute ending in
    ``emit_record`` in the package's source, but the log-like classes' own ``emit_record``
    handing its record on (``super().emit_record(record)``)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        passing_on = {
            id(call)
            for function in ast.walk(tree)
            if isinstance(function, ast.FunctionDef) and function.name == "emit_record"
            for call in ast.walk(function)
        }
        for node in ast.walk(tree):
            if id(node) in passing_on:
                continue
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name.endswith("emit_record"):
                yield f"{path.relative_to(PACKAGE)}:{node.lineno}", node.args[0]


def test_every_call_builds_its_record_in_place_with_the_common_keys_first():
    """Each call passes a dict display (a fresh dict, nobody else holds it) whose first four
    keys are seq, ts, type and cause and which has no ``instrument`` (the extra perpetuals'
    log adds it after ``cause``): the line ``emit`` would write for the same fields. A call
    site that forgot the seq placeholder, or put a field first, would write a line in another
    order without any error at run time."""
    calls = list(_record_calls())
    assert len(calls) > 30  # the hot call sites, all found
    wrong = []
    for where, record in calls:
        if not isinstance(record, ast.Dict) or None in record.keys[:4]:
            wrong.append((where, "not a dict display"))
            continue
        keys = [
            key.value if isinstance(key, ast.Constant) else None for key in record.keys
        ]  # None: **
        if keys[:4] != COMMON or "instrument" in keys:
            wrong.append((where, keys[:4]))
    assert wrong == []
