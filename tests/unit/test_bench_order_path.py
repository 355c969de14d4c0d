"""tools/bench_order_path.py runs in a clean clone (no reference loop) and says so."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))

import bench_order_path


def test_quick_run_without_the_reference_reports_its_absence_and_still_measures(tmp_path):
    """--quick with no reference directory: the ceiling row says it is absent, no ratio is
    given, and the project rows ran (1.5 lines per op or more) and the writer's bytes match."""
    figures = bench_order_path.bench_order_path(
        quick=True, reference=str(tmp_path / "nowhere"), n_ops=2_000
    )
    assert "absent" in figures["ceiling"]
    assert not any(key.startswith("ratio_") for key in figures)
    assert figures["project"]["op_per_s"] > 0
    assert figures["project"]["lines_per_op"] >= 1.0
    assert figures["project_full_venue"]["lines_per_op"] > figures["project"]["lines_per_op"]
    assert figures["writer"]["bytes_identical"]
