"""Paired comparisons of a sweep's factor values on common random numbers.

Seed k is the same market at every point of a sweep, so the effect of changing one factor is
measured run by run: for each seed, the metric at a value minus the metric at the baseline value,
with every other factor held equal. :func:`compare` forms these paired differences; their mean
and its 95 % Student t confidence interval (:func:`mean_ci`) are the result. A pair needs both
runs ``ok`` and both values present; failed runs are counted, never imputed.

Pure functions of a loaded :class:`~exchange_sim.analysis.sweep_data.Sweep`: no I/O but
:func:`write_csv`, no clock, a fixed order everywhere, so the same sweep gives the same bytes.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence

import attrs
import numpy as np

from exchange_sim.analysis.sweep_data import Metric, Sweep, value_label
from exchange_sim.core.errors import InputError

T975 = (
    12.706204736,
    4.302652730,
    3.182446305,
    2.776445105,
    2.570581836,
    2.446911851,
    2.364624252,
    2.306004135,
    2.262157163,
    2.228138852,
    2.200985160,
    2.178812830,
    2.160368656,
    2.144786688,
    2.131449546,
    2.119905299,
    2.109815578,
    2.100922040,
    2.093024054,
    2.085963447,
    2.079613845,
    2.073873068,
    2.068657610,
    2.063898562,
    2.059538553,
    2.055529439,
    2.051830516,
    2.048407142,
    2.045229642,
    2.042272456,
)
"""The 0.975 quantile of Student's t for 1 to 30 degrees of freedom."""
Z975 = 1.959963984540054


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom: the table up to 30, the
    Cornish-Fisher expansion in 1/df above (error below 1e-6 there)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(T975):
        return T975[df - 1]
    z, v = Z975, float(df)
    return (
        z
        + (z**3 + z) / (4 * v)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * v**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * v**3)
        + (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / (92160 * v**4)
    )


def mean_ci(values: Sequence[float]) -> tuple[float, float, float]:
    """``(mean, low, high)``: the mean and its 95 % t interval; NaN bounds below two values."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = math.fsum(values) / n
    if n == 1:
        return mean, math.nan, math.nan
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in values) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


@attrs.frozen
class Row:
    """One metric, one value against the baseline, within one stratum of the other factors."""

    factor: str
    stratum: str  # "key=value; ..." of the other factors held equal ("" when there are none)
    baseline: str
    value: str
    metric: str
    unit: str
    n_pairs: int
    baseline_mean: float
    value_mean: float
    mean_diff: float
    ci_low: float
    ci_high: float
    failed_excluded: int
    unpaired: int  # ok runs without an ok partner with a value (failed partner, or no value)


@attrs.frozen
class Comparison:
    factor: str
    baseline: str
    levels: tuple[str, ...]
    strata_keys: tuple[str, ...]
    tied: tuple[str, ...]  # factors zipped with this one (they change with it)
    point_level: dict  # point -> its level label
    rows: tuple[Row, ...]
    failed: int  # failed runs at the factor's values compared

    def run_levels(self, sweep: Sweep) -> np.ndarray:
        """Per-run level label."""
        return sweep.frame["point"].map(self.point_level).to_numpy(object)


def _tied(sweep: Sweep, factor: str) -> list[str]:
    """Other factors not crossed with ``factor``: their value combinations with it are not the
    full grid (a zipped ``keys = [...]`` group), so they change with it and are not held."""
    tied = []
    f_levels = {value_label(values[factor]) for values in sweep.points.values()}
    for key in sweep.factors:
        if key == factor:
            continue
        combos = {(value_label(v[factor]), value_label(v[key])) for v in sweep.points.values()}
        k_levels = {k for _, k in combos}
        if len(k_levels) > 1 and len(combos) < len(f_levels) * len(k_levels):
            tied.append(key)
    return tied


def point_levels(sweep: Sweep, factor: str, tied: Sequence[str]) -> dict[int, str]:
    """Each point's level of ``factor``: its value, followed by the tied factors' values where
    the value alone does not tell two levels apart (``market (initial_balance=0)``)."""
    by_value: dict[str, list[int]] = {}
    for point in sorted(sweep.points):
        by_value.setdefault(value_label(sweep.points[point][factor]), []).append(point)
    out = {}
    for label, points in by_value.items():
        differ = [
            key for key in tied if len({value_label(sweep.points[p][key]) for p in points}) > 1
        ]
        for p in points:
            extra = ", ".join(
                f"{key.rsplit('.', 1)[-1]}={value_label(sweep.points[p][key])}" for key in differ
            )
            out[p] = f"{label} ({extra})" if extra else label
    return out


def pick_baseline(levels: Sequence[str], baseline: str | None) -> str:
    if baseline is None:
        return levels[0]
    if baseline in levels:
        return baseline
    for level in levels:  # 1e6 for 1000000, 0.50 for 0.5
        try:
            if float(level) == float(baseline):
                return level
        except ValueError:
            continue
    raise InputError(
        "--baseline", baseline, f"not a value of the factor (values: {', '.join(levels)})"
    )


def compare(
    sweep: Sweep, factor: str, metrics: Sequence[Metric], baseline: str | None = None
) -> Comparison:
    """Paired differences of every ``metrics`` entry between ``factor``'s values and its
    ``baseline`` (default: its first value), per seed, within each combination of the other
    factors (zipped factors change with ``factor`` and are not held)."""
    tied = _tied(sweep, factor)
    per_point = point_levels(sweep, factor, tied)
    levels = list(dict.fromkeys(per_point[p] for p in sorted(per_point)))
    if len(levels) < 2:
        raise InputError("--by", factor, f"has one value only ({levels[0]}): nothing to compare")
    base = pick_baseline(levels, baseline)
    strata_keys = [
        k for k in sweep.factors if k != factor and k not in tied and len(sweep.levels(k)) > 1
    ]
    frame = sweep.frame
    labels = frame["point"].map(per_point).to_numpy(object)
    ok = sweep.ok()
    seeds = frame["seed"].to_numpy()
    stratum_of = np.array(
        [
            "; ".join(f"{k}={value_label(sweep.points[p][k])}" for k in strata_keys)
            for p in frame["point"]
        ],
        dtype=object,
    )
    strata = list(dict.fromkeys(stratum_of))  # in point order
    values = {metric.name: metric.values(frame) for metric in metrics}
    rows: list[Row] = []
    failed_total = int((~ok & np.isin(labels, levels)).sum())
    for stratum in strata:
        in_stratum = stratum_of == stratum
        base_rows = np.flatnonzero(in_stratum & (labels == base))
        for level in levels:
            if level == base:
                continue
            other_rows = np.flatnonzero(in_stratum & (labels == level))
            cell = np.concatenate([base_rows, other_rows])
            failed = int((~ok[cell]).sum())
            for metric in metrics:
                x = values[metric.name]
                b = _by_seed(base_rows, ok, x, seeds, factor, base, stratum)
                o = _by_seed(other_rows, ok, x, seeds, factor, level, stratum)
                paired = sorted(set(b) & set(o))
                diffs = [o[s] - b[s] for s in paired]
                mean, low, high = mean_ci(diffs)
                rows.append(
                    Row(
                        factor=factor,
                        stratum=stratum,
                        baseline=base,
                        value=level,
                        metric=metric.name,
                        unit=metric.unit,
                        n_pairs=len(paired),
                        baseline_mean=_mean([b[s] for s in paired]),
                        value_mean=_mean([o[s] for s in paired]),
                        mean_diff=mean,
                        ci_low=low,
                        ci_high=high,
                        failed_excluded=failed,
                        unpaired=len(b) + len(o) - 2 * len(paired),
                    )
                )
    return Comparison(
        factor,
        base,
        tuple(levels),
        tuple(strata_keys),
        tuple(tied),
        per_point,
        tuple(rows),
        failed_total,
    )


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if values else math.nan


def _by_seed(rows, ok, x, seeds, factor: str, level: str, stratum: str) -> dict[int, float]:
    """seed -> value of the ok runs among ``rows`` that have one; two runs on one seed in one
    cell cannot be paired and are bad input."""
    out: dict[int, float] = {}
    seen: set[int] = set()
    for i in rows:
        seed = int(seeds[i])
        if seed in seen:
            where = f" at {stratum}" if stratum else ""
            raise InputError(
                "results.parquet", seed, f"two runs with {factor}={level}{where} on the same seed"
            )
        seen.add(seed)
        if ok[i] and not math.isnan(x[i]):
            out[seed] = float(x[i])
    return out


CSV_COLUMNS = tuple(field.name for field in attrs.fields(Row))


def write_csv(rows: Sequence[Row], path: str) -> None:
    """The rows as CSV (floats in full precision, NaN as an empty cell), written whole."""
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow(["" if _nan(v) else v for v in attrs.astuple(row)])
    os.replace(tmp, path)


def _nan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


def fmt(value: float, unit: str) -> str:
    """A number for the table: money and counts with thousands separators, seconds in ms."""
    if _nan(value):
        return "-"
    if unit == "s":
        return f"{value * 1000:,.1f}"
    if unit in ("fraction", "ratio"):
        return f"{value:.4f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def unit_label(unit: str, asset: str) -> str:
    return {"money": asset, "s": "ms", "count": "", "fraction": "", "ratio": ""}.get(unit, unit)


def table(comparison: Comparison, asset: str) -> list[str]:
    """The comparison as aligned text: one block per value (and stratum of the other factors),
    one line per metric."""
    header = ["metric", "unit", "n", "baseline", "value", "mean diff", "95% CI", "failed"]
    blocks: dict[tuple[str, str], list[list[str]]] = {}
    for row in comparison.rows:
        ci = "-"
        if not _nan(row.ci_low):
            ci = f"[{fmt(row.ci_low, row.unit)}, {fmt(row.ci_high, row.unit)}]"
        cells = [row.metric, unit_label(row.unit, asset), str(row.n_pairs)]
        cells += [fmt(row.baseline_mean, row.unit), fmt(row.value_mean, row.unit)]
        cells += [fmt(row.mean_diff, row.unit), ci, str(row.failed_excluded)]
        blocks.setdefault((row.stratum, row.value), []).append(cells)
    every = [header, *(cells for rows in blocks.values() for cells in rows)]
    widths = [max(len(cells[i]) for cells in every) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        padded = (
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "  ".join(padded).rstrip()

    out = []
    for (stratum, value), rows in blocks.items():
        held = f" ({stratum})" if stratum else ""
        out += ["", f"{comparison.factor} = {value} vs {comparison.baseline}{held}", line(header)]
        out += [line(cells) for cells in rows]
    return out
