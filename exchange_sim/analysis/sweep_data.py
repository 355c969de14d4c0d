"""A sweep directory read back: its runs, their factor values, and the metrics compared.

A sweep directory (written by ``exchange-sim sweep``) holds ``points.json`` (one entry per factor
combination: ``{"point": i, "label": ..., "factors": {key: value}}``) and ``results.parquet``
(one row per run: ``point``, ``seed``, ``status``, ``error``, ``wall_s``, ``run_dir``, a
``factor:<key>`` column per factor key, then every ``summary.json`` value flattened with ``.``).
:func:`load_sweep` reads both; each run's factor values are taken from ``points.json`` by its
``point`` (so they keep their TOML types whatever the Parquet column holds).

:data:`METRICS` is the catalogue of what ``compare`` and the sweep report show, each a column of
``results.parquet`` (or, for the fund drawdown, two) with its unit. Anything missing from a sweep
(``amplification`` without ``run.amplification = true``) is skipped with a note, never guessed;
the whole venue's metrics (``venue_*``, several perpetuals only) are skipped silently.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

import attrs
import numpy as np
import pandas as pd

from exchange_sim.core.errors import InputError

FACTOR_PREFIX = "factor:"


@attrs.frozen
class Metric:
    """One compared quantity: ``columns`` of ``results.parquet``; with two columns the value is
    the first minus the second."""

    name: str
    label: str
    unit: str  # "money" (the settlement asset), "s", "count", "fraction", "ratio"
    columns: tuple[str, ...]

    def values(self, frame: pd.DataFrame) -> np.ndarray:
        """Per-run values as floats (NaN where the run has none)."""
        first = pd.to_numeric(frame[self.columns[0]], errors="coerce").to_numpy(float)
        if len(self.columns) == 1:
            return first
        second = pd.to_numeric(frame[self.columns[1]], errors="coerce").to_numpy(float)
        return first - second


def _m(name: str, label: str, unit: str, *columns: str) -> Metric:
    return Metric(name, label, unit, columns)


_LAT = "metrics.latency"
METRICS: tuple[Metric, ...] = (
    _m("bad_debt", "bad debt recorded", "money", "metrics.bad_debt.recorded"),
    _m("bad_debt_outstanding", "bad debt outstanding", "money", "metrics.bad_debt.outstanding"),
    _m(
        "fund_drawdown",
        "insurance fund drawdown (start - minimum)",
        "money",
        "metrics.insurance_fund.start",
        "metrics.insurance_fund.min",
    ),
    _m("adl_notional", "ADL notional", "money", "metrics.adl.notional"),
    _m("adl_accounts_hit", "accounts deleveraged by ADL", "count", "metrics.adl.accounts_hit"),
    _m("liquidated_notional", "liquidated notional", "money", "metrics.liquidations.notional"),
    _m("liquidations", "liquidations", "count", "metrics.liquidations.count"),
    _m("trader_losses", "trader realised losses", "money", "metrics.traders.realised_losses"),
    _m("trader_net_result", "trader net result", "money", "metrics.traders.net_result"),
    _m(
        "mark_drawdown",
        "mark max drawdown",
        "fraction",
        "metrics.prices.mark.max_drawdown.fraction",
    ),
    _m("amplification_perp", "amplification, perp", "ratio", "amplification.perp.ratio"),
    _m("amplification_mark", "amplification, mark", "ratio", "amplification.mark.ratio"),
    _m("amplification_index", "amplification, index", "ratio", "amplification.index.ratio"),
    _m("margin_check_p50", "margin check delay p50", "s", f"{_LAT}.margin_check_delay.p50"),
    _m("margin_check_p99", "margin check delay p99", "s", f"{_LAT}.margin_check_delay.p99"),
    _m("queue_wait_p50", "liquidation queue wait p50", "s", f"{_LAT}.queue_wait.p50"),
    _m("queue_wait_p99", "liquidation queue wait p99", "s", f"{_LAT}.queue_wait.p99"),
    _m("first_order_p99", "trigger to first order p99", "s", f"{_LAT}.trigger_to_first_order.p99"),
    _m("backlog_max", "liquidation backlog, max", "count", f"{_LAT}.backlog.max"),
    # A venue with several perpetuals: the whole venue (summary.json venue; every perpetual's
    # own figures are the perpetuals.<symbol>.metrics.* columns).
    _m("venue_liquidations", "liquidations, whole venue", "count", "venue.liquidations.count"),
    _m(
        "venue_liquidated_notional",
        "liquidated notional, whole venue",
        "money",
        "venue.liquidations.notional",
    ),
    _m("venue_adl_notional", "ADL notional, whole venue", "money", "venue.adl.notional"),
    _m(
        "venue_fund_change",
        "insurance funds' change, whole venue",
        "money",
        "venue.insurance_funds.change",
    ),
    _m("venue_bad_debt", "bad debt recorded, whole venue", "money", "venue.bad_debt.recorded"),
    _m(
        "venue_trader_net_result",
        "trader net result, whole venue",
        "money",
        "venue.traders.net_result",
    ),
)
VENUE_METRICS = tuple(m.name for m in METRICS if m.name.startswith("venue_"))
"""Only a venue with several perpetuals has them: absent from a sweep of one, without a note."""
METRIC_NAMES = tuple(metric.name for metric in METRICS)
KEY_METRICS = (
    "bad_debt",
    "fund_drawdown",
    "adl_notional",
    "adl_accounts_hit",
    "liquidated_notional",
    "trader_losses",
    "amplification_perp",
    "queue_wait_p99",
    "venue_liquidated_notional",
    "venue_trader_net_result",
)
"""The metrics the sweep report plots (the runs table and ``compare`` show all of them)."""


def value_label(value: object) -> str:
    """A factor value as the sweep file writes it: ``500ms``, ``1000000``, ``[10, "0ms"]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


@attrs.frozen
class Sweep:
    """A sweep directory's runs: ``frame`` is ``results.parquet`` sorted by (point, seed);
    ``factors`` the factor keys in the sweep's order; ``points`` point -> {key: value}."""

    path: str
    frame: pd.DataFrame
    factors: tuple[str, ...]
    points: dict[int, dict]
    point_labels: dict[int, str]

    def levels(self, key: str) -> list[str]:
        """The labels of ``key``'s values, in the order the points first use them."""
        seen: dict[str, None] = {}
        for point in sorted(self.points):
            seen.setdefault(value_label(self.points[point][key]), None)
        return list(seen)

    def ok(self) -> np.ndarray:
        return (self.frame["status"] == "ok").to_numpy(bool)

    def settlement_asset(self) -> str:
        column = self.frame.get("settlement_asset")
        if column is None or column.dropna().empty:
            return "money"
        return str(column.dropna().iloc[0])

    def available(self, names: Sequence[str] | None = None) -> tuple[list[Metric], list[str]]:
        """The catalogue metrics (or ``names``: catalogue names or raw columns) present in the
        results, and one note per metric skipped because its columns are missing or empty."""
        chosen: list[Metric] = []
        if names is None:
            chosen = list(METRICS)
        else:
            catalogue = {metric.name: metric for metric in METRICS}
            for name in names:
                if name in catalogue:
                    chosen.append(catalogue[name])
                elif name in self.frame.columns:
                    chosen.append(Metric(name, name, "", (name,)))
                else:
                    raise InputError(
                        "--metrics",
                        name,
                        "not a metric nor a results.parquet column (metrics: "
                        + ", ".join(METRIC_NAMES)
                        + ")",
                    )
        present, absent, empty = [], [], []
        for metric in chosen:
            if any(c not in self.frame.columns for c in metric.columns):
                if names is not None or metric.name not in VENUE_METRICS:
                    absent.append(metric.name)
            elif np.isnan(metric.values(self.frame)).all():
                empty.append(metric.name)
            else:
                present.append(metric)
        notes = []
        if absent:
            hint = ""
            if any(name.startswith("amplification") for name in absent):
                hint = " (amplification needs run.amplification = true in the sweep's [set])"
            notes.append(f"skipped, not in the results: {', '.join(absent)}{hint}")
        if empty:
            notes.append(f"skipped, no run has a value: {', '.join(empty)}")
        return present, notes


def is_sweep_dir(path: str) -> bool:
    return all(os.path.isfile(os.path.join(path, n)) for n in ("results.parquet", "points.json"))


def load_sweep(path: str) -> Sweep:
    """Read a sweep directory; a missing or malformed file is an :class:`InputError`."""
    if not os.path.isdir(path):
        raise InputError("SWEEP_DIR", path, "no such directory")
    if not is_sweep_dir(path):
        raise InputError(
            "SWEEP_DIR", path, "not a sweep directory (no results.parquet and points.json)"
        )
    points_path = os.path.join(path, "points.json")
    try:
        with open(points_path, encoding="utf-8") as handle:
            raw_points = json.load(handle)
        points = {int(p["point"]): dict(p["factors"]) for p in raw_points}
        point_labels = {int(p["point"]): str(p.get("label", p["point"])) for p in raw_points}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(points_path, "points.json", f"cannot read: {exc}") from None
    try:
        frame = pd.read_parquet(os.path.join(path, "results.parquet"))
    except Exception as exc:  # pyarrow raises many types for a damaged file
        raise InputError(
            os.path.join(path, "results.parquet"), path, f"cannot read: {exc}"
        ) from None
    for column in ("point", "seed", "status"):
        if column not in frame.columns:
            raise InputError("results.parquet", column, "missing column")
    unknown = sorted(set(frame["point"]) - set(points))
    if unknown:
        raise InputError("results.parquet", int(unknown[0]), "point not in points.json")
    frame = frame.sort_values(["point", "seed"], kind="stable").reset_index(drop=True)
    factors = [c.removeprefix(FACTOR_PREFIX) for c in frame.columns if c.startswith(FACTOR_PREFIX)]
    for values in points.values():
        factors += [key for key in values if key not in factors]
    for point, values in points.items():
        missing = [key for key in factors if key not in values]
        if missing:
            raise InputError("points.json", point, f"point has no value for {missing[0]}")
    return Sweep(path, frame, tuple(factors), points, point_labels)


def resolve_factor(sweep: Sweep, name: str) -> str:
    """``name`` as one of the sweep's factor keys: the key, ``factor:<key>`` or a unique suffix."""
    name = name.removeprefix(FACTOR_PREFIX)
    if name in sweep.factors:
        return name
    matches = [key for key in sweep.factors if key.endswith(name)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(sweep.factors) or "none"
    problem = "matches several factors" if matches else "not a factor of this sweep"
    raise InputError("--by", name, f"{problem} (factors: {known})")
