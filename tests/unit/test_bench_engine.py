"""tools/bench_engine.py: its fallback stream, its fills check and its row without nautilus."""

from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import bench_engine  # noqa: E402


def test_own_stream_has_the_70_25_5_mix():
    """The fallback stream is about 70 % passive adds, 25 % cancels, 5 % marketable orders."""
    init, ops, book_cls, stream = bench_engine.load_stream(4_000, os.path.join(ROOT, "absent"))
    assert stream.startswith("own") and book_cls is bench_engine.RefBook
    fills = bench_engine.reference_fills(book_cls, init, ops)
    marketable = {fill[1] for fill in fills}
    cancels = sum(1 for op in ops if op[0] != bench_engine.S_SUBMIT)
    assert abs(cancels / len(ops) - 0.25) < 0.03
    assert abs(len(marketable) / len(ops) - 0.05) < 0.02


def test_engine_fills_equal_the_reference_books_on_the_bench_stream():
    """On the benchmark's stream the engine prints exactly the reference book's fills."""
    init, ops, book_cls, _ = bench_engine.load_stream(3_000, os.path.join(ROOT, "absent"))
    prefill, engine_ops = bench_engine.engine_ops(init, ops)
    expected = bench_engine.reference_fills(book_cls, init, ops)
    assert expected and bench_engine.engine_fills(prefill, engine_ops) == expected


def test_row_without_nautilus_still_times_the_engine(monkeypatch):
    """With nautilus absent the row says so and still carries the engine's figures."""
    monkeypatch.setattr(bench_engine, "nautilus_drivers", dict)
    row = bench_engine.bench_engine(quick=True, reference=os.path.join(ROOT, "absent"), n_ops=1_000)
    assert row["nautilus"].startswith("absent")
    assert row["fills_identical_engine_vs_reference"] is True
    assert row["engine_log_ops_per_s"] > 0 and row["engine_noop_log_ops_per_s"] > 0


def test_nautilus_drivers_reproduce_the_reference_fills():
    """Both nautilus loops (pyo3 and Cython books) print the reference book's fills."""
    pytest.importorskip("nautilus_trader")
    init, ops, book_cls, _ = bench_engine.load_stream(3_000, os.path.join(ROOT, "absent"))
    expected = bench_engine.reference_fills(book_cls, init, ops)
    nautilus_ops = bench_engine.nautilus_ops(init, ops, {fill[1] for fill in expected})
    for setup, run in bench_engine.nautilus_drivers().values():
        assert run(setup(init), nautilus_ops) == expected
