"""The sweep report's figures: each key metric against one factor, and its paired differences.

A factor whose values are all numbers or all durations is drawn on a numeric x axis (durations in
seconds) as a line with a 95 % confidence band; any other factor as categories, points with
error bars. One series per combination of the other factors held equal (the strata of
:func:`~exchange_sim.analysis.sweep_stats.compare`); with more than :data:`MAX_SERIES` of them
the runs are pooled across the other factors and the title says so.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from exchange_sim.analysis.sweep_data import Metric, Sweep, value_label
from exchange_sim.analysis.sweep_stats import Comparison, mean_ci
from exchange_sim.core.errors import InputError
from exchange_sim.core.units import NS_PER_S, parse_duration_ns

MAX_SERIES = 6
COLOURS = ("#1f6fb4", "#d0473a", "#2a9d8f", "#7b3fa0", "#e09f3e", "#6b6b6b")
COLS = 4


def numeric_levels(sweep: Sweep, key: str, levels: Sequence[str]) -> tuple[list[float], str] | None:
    """The levels as x positions, when they are all numbers or durations (ticks keep the values
    as written), and "not to scale" when values far apart are drawn evenly spaced instead."""
    raw = {}
    for values in sweep.points.values():
        raw[value_label(values[key])] = values[key]
    if any(level not in raw for level in levels):
        return None
    items = [raw[level] for level in levels]
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in items):
        xs = [float(v) for v in items]
    elif all(isinstance(v, str) for v in items):
        try:
            xs = [parse_duration_ns(v, key) / NS_PER_S for v in items]
        except InputError:
            return None
    else:
        return None
    ordered = sorted(xs)
    span = ordered[-1] - ordered[0]
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    if span > 0 and min(gaps) < 0.2 * span:  # 0, 50k, 1M: evenly spaced, in value order
        ranks = {x: i for i, x in enumerate(ordered)}
        return [float(ranks[x]) for x in xs], "not to scale"
    return xs, ""


def _tick(label: str) -> str:
    """1000000 as 1M, 50000 as 50k; anything else as written."""
    try:
        value = float(label)
    except ValueError:
        return label
    if abs(value) >= 1e6:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:g}k"
    return label


def _axis_unit(metric: Metric, asset: str) -> str:
    return {"money": asset, "s": "ms", "count": "count", "fraction": "%", "ratio": "x"}.get(
        metric.unit, metric.unit
    )


def _scale(metric: Metric) -> float:
    return {"s": 1000.0, "fraction": 100.0}.get(metric.unit, 1.0)


def _grid(n: int) -> tuple[Figure, list]:
    rows = max(1, math.ceil(n / COLS))
    fig = Figure(figsize=(13.0, 3.0 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, COLS, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _compact(ax) -> None:
    def label(value: float, _pos) -> str:
        size = abs(value)
        if size >= 1e6:
            return f"{value / 1e6:g}M"
        if size >= 1e4:
            return f"{value / 1e3:g}k"
        return f"{value:g}"

    ax.yaxis.set_major_formatter(FuncFormatter(label))


def _x_axis(ax, key: str, levels: Sequence[str], numeric) -> None:
    ticks = [_tick(level) for level in levels]
    if numeric is None:
        long = max(len(t) for t in ticks) > 9 or len(levels) > 5
        ticks = [t.replace(" (", "\n(") for t in ticks]  # market\n(initial_balance=0)
        ax.set_xticks(range(len(levels)), ticks, fontsize=8 if long else None)
        if long:
            ax.tick_params(axis="x", labelrotation=35)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
                label.set_rotation_mode("anchor")
        ax.set_xlim(-0.5, len(levels) - 0.5)
    else:
        ax.set_xticks(numeric[0], ticks, rotation=30 if len(levels) > 5 else 0)
    ax.set_xlabel(".".join(key.split(".")[-2:]) if len(key) > 34 else key, fontsize=8.5)


def _draw(ax, xs, stats, colour: str, label: str, numeric: bool, offset: float) -> None:
    mean = np.array([s[0] for s in stats])
    low = np.array([s[1] for s in stats])
    high = np.array([s[2] for s in stats])
    if numeric:
        ax.plot(xs, mean, marker="o", ms=4, color=colour, label=label, lw=1.6)
        ax.fill_between(xs, low, high, color=colour, alpha=0.18, lw=0)
    else:
        x = np.arange(len(xs)) + offset
        err = np.vstack([mean - low, high - mean])
        err = np.where(np.isnan(err), 0.0, err)
        ax.errorbar(x, mean, yerr=err, fmt="o", ms=5, color=colour, label=label, capsize=3)


def _series(sweep: Sweep, comparison: Comparison) -> tuple[np.ndarray, list[str], bool]:
    """Per-run series label (the stratum), the series in order, and whether they were pooled."""
    frame = sweep.frame
    keys = comparison.strata_keys
    strata = np.array(
        ["; ".join(f"{k}={value_label(sweep.points[p][k])}" for k in keys) for p in frame["point"]],
        dtype=object,
    )
    order = list(dict.fromkeys(strata))
    if len(order) > MAX_SERIES:
        return np.full(len(frame), "", dtype=object), [""], True
    return strata, order, False


def metric_figure(sweep: Sweep, comparison: Comparison, metrics: Sequence[Metric]) -> Figure:
    """Each metric's mean across seeds (ok runs) at each value of the factor, 95 % band."""
    key, levels = comparison.factor, list(comparison.levels)
    numeric = numeric_levels(sweep, key, levels)
    labels, ok = comparison.run_levels(sweep), sweep.ok()
    strata, order, pooled = _series(sweep, comparison)
    fig, axes = _grid(len(metrics))
    asset = sweep.settlement_asset()
    for ax, metric in zip(axes, metrics, strict=True):
        values = metric.values(sweep.frame) * _scale(metric)
        if _all_zero(values[ok]):
            _zero(ax, metric, key)
            continue
        for i, stratum in enumerate(order):
            stats = []
            for level in levels:
                mask = ok & (labels == level) & (strata == stratum) & ~np.isnan(values)
                stats.append(mean_ci(values[mask].tolist()))
            offset = (i - (len(order) - 1) / 2) * 0.12
            xs = numeric[0] if numeric else levels
            _draw(ax, xs, stats, COLOURS[i % len(COLOURS)], stratum, numeric is not None, offset)
        ax.set_title(metric.label, fontsize=10)
        ax.set_ylabel(_axis_unit(metric, asset), fontsize=8.5)
        _x_axis(ax, key + (f" ({numeric[1]})" if numeric and numeric[1] else ""), levels, numeric)
        _compact(ax)
    title = f"Metrics against {key}: mean over seeds, 95 % confidence band"
    _finish(fig, axes, title + (" (pooled over the other factors)" if pooled else ""))
    return fig


def difference_figure(sweep: Sweep, comparison: Comparison, metrics: Sequence[Metric]) -> Figure:
    """Each metric's mean paired difference (value - baseline, same seed) with its 95 % CI."""
    key = comparison.factor
    levels = [level for level in comparison.levels if level != comparison.baseline]
    strata = list(dict.fromkeys(row.stratum for row in comparison.rows))
    pooled = len(strata) > MAX_SERIES
    fig, axes = _grid(len(metrics))
    asset = sweep.settlement_asset()
    for ax, metric in zip(axes, metrics, strict=True):
        scale = _scale(metric)
        if _all_zero(metric.values(sweep.frame)[sweep.ok()]):
            _zero(ax, metric, key)
            continue
        shown = strata[:MAX_SERIES]
        for i, stratum in enumerate(shown):
            rows = {
                r.value: r
                for r in comparison.rows
                if r.metric == metric.name and r.stratum == stratum
            }
            stats = [
                (rows[v].mean_diff * scale, rows[v].ci_low * scale, rows[v].ci_high * scale)
                for v in levels
            ]
            offset = (i - (len(shown) - 1) / 2) * 0.12
            _draw(ax, levels, stats, COLOURS[i % len(COLOURS)], stratum, False, offset)
        ax.axhline(0.0, color="#444444", lw=0.9)
        ax.set_title(metric.label, fontsize=10)
        ax.set_ylabel(f"difference ({_axis_unit(metric, asset)})", fontsize=8.5)
        _x_axis(ax, key, levels, None)
        _compact(ax)
    title = f"Paired difference against {key} = {comparison.baseline} (same seed): mean, 95 % CI"
    _finish(fig, axes, title + (f" (first {MAX_SERIES} strata)" if pooled else ""))
    return fig


def _all_zero(values: np.ndarray) -> bool:
    finite = values[~np.isnan(values)]
    return bool(len(finite)) and not finite.any()


def _zero(ax, metric: Metric, key: str) -> None:
    """A metric that is 0 in every run: said in words, no empty axes."""
    ax.set_title(metric.label, fontsize=10)
    ax.text(0.5, 0.5, "0 in every run", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel(".".join(key.split(".")[-2:]) if len(key) > 34 else key, fontsize=8.5)


def _finish(fig: Figure, axes: list, title: str) -> None:
    fig.suptitle(title, fontsize=11.5, fontweight="bold")
    handles, labels = [], []
    for ax in axes:  # the first axes with series (a metric that is 0 everywhere has none)
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            break
    if any(labels):
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3))
