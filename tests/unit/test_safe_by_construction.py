"""Configs, CSVs and logs are data, never code: nothing in the package evaluates or unpickles
what a user hands it, and nothing imports a module named by input."""

from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGE = os.path.join(ROOT, "exchange_sim")

FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_ATTRIBUTES = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("yaml", "load"),
    ("shelve", "open"),
}
LAZY_EXPORTS = os.path.join(PACKAGE, "__init__.py")
"""The only ``importlib.import_module``: the package's lazy exports, from a constant table."""


def _calls():
    for directory, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    tree = ast.parse(handle.read(), path)
                for node in ast.walk(tree):
                    if isinstance(node, ast.Call):
                        yield path, node


def test_no_eval_exec_or_unpickling_of_input():
    """No eval, exec, compile, __import__, pickle/marshal/yaml load or shelve in the package."""
    found = []
    for path, call in _calls():
        func = call.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
            found.append(f"{path}:{call.lineno} {func.id}")
        named = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
        if named and (func.value.id, func.attr) in FORBIDDEN_ATTRIBUTES:
            found.append(f"{path}:{call.lineno} {func.value.id}.{func.attr}")
    assert found == []


def test_modules_are_imported_only_from_the_constant_export_table():
    """``import_module`` appears once, in the lazy exports, reading a name from ``_EXPORTS``."""
    found = [
        (path, call.lineno)
        for path, call in _calls()
        if isinstance(call.func, ast.Attribute) and call.func.attr == "import_module"
    ]
    assert [path for path, _ in found] == [LAZY_EXPORTS]
