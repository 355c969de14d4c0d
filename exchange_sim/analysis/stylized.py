"""The microstructure stylized facts of one or more runs, measured and judged.

:func:`stylized_facts` reads run directories (:func:`~exchange_sim.analysis.stylized_read.
read_run`: one verified streaming pass over each log) and measures the facts of section 3 of
``market_events.md`` (and its sections 2.9-2.10):

* return tails, skew, volatility clustering and aggregational Gaussianity of the perpetual's
  traded price on each sampling grid, pooled across runs
  (:mod:`~exchange_sim.analysis.stylized_returns`);
* the spread and the depth near the mid, calm against the steepest fall, and the perp-index gap
  at the trough (:mod:`~exchange_sim.analysis.stylized_stress`);
* funding after the main liquidation cascade, the rebound once its forced flow stops, and the
  square-root impact of execution agents' metaorders (:mod:`~exchange_sim.analysis.
  stylized_cascade`).

Each fact is ``{"measured", "target", "holds", "note", "headline"}``; ``holds`` is ``None`` when
the runs hold no data for it, and ``note`` says why. Per-run facts hold over several runs when
they hold in more than half of the runs with data. Every number is in user units (fractions,
seconds, base units, the settlement asset). Nothing depends on the wall clock: the same runs
give the same dict. Definitions: ``docs/stylized_facts.md``.
"""

from __future__ import annotations

import math

from exchange_sim.analysis.stylized_cascade import (
    DELTA_RANGE,
    funding_fact,
    impact_fact,
    rebound_fact,
)
from exchange_sim.analysis.stylized_read import read_run
from exchange_sim.analysis.stylized_returns import return_facts
from exchange_sim.analysis.stylized_stress import (
    DEPTH_COLLAPSE,
    GAP_MULTIPLE,
    SPREAD_WIDENING,
    book_facts,
    gap_fact,
)
from exchange_sim.core.errors import DataError
from exchange_sim.core.units import format_duration, parse_duration_ns

DEFAULT_GRIDS = ("1s", "10s")


def _duration(value: str | int, key: str) -> int:
    ns = parse_duration_ns(value, key)
    if ns <= 0:
        raise DataError(key, value, "must be a positive duration")
    return ns


def _clean(value):
    """JSON-safe copy: non-finite floats become ``None`` (their meaning is in the note)."""
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def stylized_facts(
    run_dirs: list[str],
    *,
    grids: tuple[str, ...] | list[str] = DEFAULT_GRIDS,
    book_period: str | None = None,
    window: str = "10s",
    rebound: str = "10s",
    cascade_gap: str = "10s",
    tail_fraction: float = 0.05,
    max_lag: int = 20,
) -> dict:
    """Measure the stylized facts of ``run_dirs`` (see the module doc).

    ``grids``: return sampling intervals (durations such as ``"1s"``), sorted finest first;
    ``book_period``: how often the book is sampled (default: the finest grid); ``window``: the
    length of the steepest-fall window; ``rebound``: how long after the last forced event the
    rebound is read; ``cascade_gap``: the quiet time that separates two cascades;
    ``tail_fraction``: the share of non-zero returns in the Hill tail; ``max_lag``: ACF lags.
    Bad input raises :class:`~exchange_sim.core.errors.DataError` naming the path or option.
    """
    if not run_dirs:
        raise DataError("run_dirs", run_dirs, "give at least one run directory")
    grid_ns = sorted({_duration(g, "grid") for g in grids})
    if not grid_ns:
        raise DataError("grid", grids, "give at least one grid")
    if not 0 < tail_fraction < 1:
        raise DataError("tail_fraction", tail_fraction, "must lie strictly between 0 and 1")
    if max_lag < 1:
        raise DataError("max_lag", max_lag, "must be at least 1")
    book_ns = grid_ns[0] if book_period is None else _duration(book_period, "book_period")
    window_ns = _duration(window, "window")
    rebound_ns = _duration(rebound, "rebound")
    gap_ns = _duration(cascade_gap, "cascade_gap")
    runs = [read_run(path, book_ns) for path in run_dirs]
    facts = return_facts(runs, grid_ns, tail_fraction, max_lag)
    facts.update(book_facts(runs, window_ns))
    facts["perp_index_gap_at_trough"] = gap_fact(runs)
    facts["funding_after_cascade"] = funding_fact(runs, gap_ns)
    facts["rebound_after_forced_flow"] = rebound_fact(runs, gap_ns, rebound_ns)
    facts["square_root_impact"] = impact_fact(runs)
    settings = {
        "grids": [format_duration(g) for g in grid_ns],
        "book_period": format_duration(book_ns),
        "window": format_duration(window_ns),
        "rebound": format_duration(rebound_ns),
        "cascade_gap": format_duration(gap_ns),
        "tail_fraction": tail_fraction,
        "max_lag": max_lag,
        "depth_band_fraction": 0.01,
        "spread_widening_multiple": SPREAD_WIDENING,
        "depth_collapse_fraction": DEPTH_COLLAPSE,
        "gap_multiple": GAP_MULTIPLE,
        "impact_delta_range": list(DELTA_RANGE),
    }
    described = [
        {
            "path": run.path,
            "scenario": run.scenario,
            "seed": run.seed,
            "symbol": run.symbol,
            "duration_s": run.end_ns / 1e9,
            "trades": len(run.trade_ts),
            "liquidations": len(run.liq_ts),
            "metaorders": len(run.metaorders),
        }
        for run in runs
    ]
    held = [name for name, f in facts.items() if f["holds"]]
    counts = {
        "holds": len(held),
        "fails": sum(f["holds"] is False for f in facts.values()),
        "no_data": sum(f["holds"] is None for f in facts.values()),
    }
    result = {"runs": described, "settings": settings, "facts": facts, "counts": counts}
    return _clean(result)


def _verdict(holds: bool | None) -> str:
    return "n/a" if holds is None else "yes" if holds else "NO"


def _wrap(text: str, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines or [""]


def format_table(result: dict, width: int = 46) -> str:
    """The facts as a plain-text table: fact, holds, measured headline, target (wrapped), then
    every fact's note (its criterion, and why there is no verdict when there is none)."""
    facts = result["facts"]
    name_w = max(len("fact"), *(len(name) for name in facts))
    head = f"{'fact':<{name_w}}  {'holds':<5}  {'measured':<{width}}  target"
    lines = [head, "-" * len(head)]
    for name, item in facts.items():
        left = _wrap(item["headline"], width)
        right = _wrap(item["target"], width)
        for row in range(max(len(left), len(right))):
            first = name if row == 0 else ""
            verdict = _verdict(item["holds"]) if row == 0 else ""
            cell = left[row] if row < len(left) else ""
            target = right[row] if row < len(right) else ""
            lines.append(f"{first:<{name_w}}  {verdict:<5}  {cell:<{width}}  {target}".rstrip())
    counts = result["counts"]
    lines += ["", f"runs ({len(result['runs'])}):"]
    lines += [f"  {r['path']} ({r['scenario']}, seed {r['seed']})" for r in result["runs"]]
    lines += [
        f"holds {counts['holds']}, fails {counts['fails']}, no data {counts['no_data']}",
        "",
        "notes:",
    ]
    lines += [f"  {name}: {item['note']}" for name, item in facts.items()]
    return "\n".join(lines)
