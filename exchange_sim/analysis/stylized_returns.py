"""Stylized facts of returns: heavy tails, negative skew, volatility clustering, aggregation.

Returns are log returns ``r_k = ln(p_k / p_{k-1})`` of a price sampled on a fixed grid
(``p_k`` = the last trade at or before ``k x grid``; :func:`~exchange_sim.analysis.
stylized_stats.grid_sample`), computed inside each run and pooled across runs (a return never
spans two runs). The perpetual's traded price decides each fact; the index's numbers on the same
grid are reported beside it for comparison. The criteria are stated in :data:`CRITERIA` and in
``docs/stylized_facts.md``.
"""

from __future__ import annotations

import math

import numpy as np

from exchange_sim.analysis.stylized_common import fact, fmt_num
from exchange_sim.analysis.stylized_read import RunSeries
from exchange_sim.analysis.stylized_stats import (
    GAUSSIAN_3SIGMA,
    beyond_sigma_share,
    grid_sample,
    grid_times,
    hill,
    log_returns,
    moments,
    pooled_acf,
)
from exchange_sim.core.units import format_duration

TARGETS = {
    "heavy_tails": "tail index of |r| 2-5 (BTC ~3 recently, ~2 earlier); excess kurtosis > 0 "
    "(market_events.md sec. 3, 2.10)",
    "negative_skew": "BTC 1-min returns: skewness negative below ~1 day (sec. 3)",
    "volatility_clustering": "ACF of |r| positive and slowly decaying; ACF of r ~ 0 (sec. 3; "
    "Cont 2001)",
    "aggregational_gaussianity": "kurtosis shrinks toward 0 as the sampling interval grows "
    "(Cont 2001, sec. 2.10)",
}
CRITERIA = {
    "heavy_tails": "excess kurtosis > 2 x sqrt(24/n) (significant) and Hill alpha in [2, 5]",
    "negative_skew": "skewness < -2 x sqrt(6/n) (significantly negative)",
    "volatility_clustering": "at >= 1/4 of the lags 1..L: acf(|r|) > 2/sqrt(n) and "
    "acf(|r|) - |acf(r)| > 2/sqrt(n)",
    "aggregational_gaussianity": "|excess kurtosis| on the coarsest grid < on the finest grid",
}


def returns_by_run(runs: list[RunSeries], grid_ns: int, which: str) -> list[np.ndarray]:
    """Log returns of each run's perpetual trade price (``which="perp"``) or index on the grid."""
    out = []
    for run in runs:
        times = grid_times(grid_ns, run.end_ns)
        if which == "perp":
            samples = grid_sample(run.trade_ts, run.trade_price, times)
        else:
            samples = grid_sample(run.index_ts, run.index_price, times)
        out.append(log_returns(samples))
    return out


def _describe(parts: list[np.ndarray], tail_fraction: float) -> dict:
    """Moments, Hill index and 3-sigma share of the pooled returns (``None`` fields: too few)."""
    pooled = np.concatenate(parts) if parts else np.zeros(0)
    stats = moments(pooled)
    tail = hill(pooled, tail_fraction)
    share = beyond_sigma_share(pooled)
    return {
        "returns": len(pooled),
        "zero_share": None if stats is None else stats["zero_share"],
        "std": None if stats is None else stats["std"],
        "skewness": None if stats is None else stats["skewness"],
        "skewness_se": None if stats is None else stats["skewness_se"],
        "excess_kurtosis": None if stats is None else stats["excess_kurtosis"],
        "kurtosis_se": None if stats is None else stats["kurtosis_se"],
        "hill_alpha": None if tail is None else tail["alpha"],
        "hill_k": None if tail is None else tail["k"],
        "hill_nonzero": int(np.count_nonzero(pooled)),
        "beyond_3sigma_share": share,
        "gaussian_3sigma_share": GAUSSIAN_3SIGMA,
    }


def _tails(perp: dict, index: dict, label: str) -> dict:
    kurt, se, alpha = perp["excess_kurtosis"], perp["kurtosis_se"], perp["hill_alpha"]
    headline = (
        f"kurt {fmt_num(kurt)}, Hill {fmt_num(alpha)}, >3sd {fmt_num(perp['beyond_3sigma_share'])}"
    )
    measured = {"grid": label, **perp, "index": index}
    if kurt is None or alpha is None:
        why = "too few returns" if kurt is None else "too few non-zero returns for Hill"
        note = f"{why} on the {label} grid (Hill needs k >= 10, i.e. >= 200 non-zero returns)"
        return fact(measured, TARGETS["heavy_tails"], None, note, headline)
    significant = kurt > 2 * se
    in_range = 2.0 <= alpha <= 5.0
    note = CRITERIA["heavy_tails"] + (
        f"; kurtosis {'is' if significant else 'is not'} significant, alpha "
        f"{'inside' if in_range else 'outside'} [2, 5]"
    )
    return fact(measured, TARGETS["heavy_tails"], significant and in_range, note, headline)


def _skew(perp: dict, index: dict, label: str) -> dict:
    skew, se = perp["skewness"], perp["skewness_se"]
    measured = {
        "grid": label,
        "returns": perp["returns"],
        "skewness": skew,
        "skewness_se": se,
        "index_skewness": index["skewness"],
    }
    headline = f"skew {fmt_num(skew)} (se {fmt_num(se, '.2g')})"
    if skew is None:
        note = f"fewer than 30 returns on the {label} grid"
        return fact(measured, TARGETS["negative_skew"], None, note, headline)
    holds = skew < -2 * se
    sign = "negative" if skew < 0 else "positive" if skew > 0 else "zero"
    note = f"{CRITERIA['negative_skew']}; measured {sign}" + (
        "" if holds or skew > 0 else ", within 2 se of 0"
    )
    return fact(measured, TARGETS["negative_skew"], holds, note, headline)


def _clustering(parts: list[np.ndarray], index_parts, label: str, max_lag: int) -> dict:
    acf_r = pooled_acf(parts, max_lag)
    acf_abs = pooled_acf([np.abs(p) for p in parts], max_lag)
    n = int(sum(len(p) for p in parts))
    index_abs = pooled_acf([np.abs(p) for p in index_parts], max_lag)
    measured: dict = {"grid": label, "returns": n, "lags": max_lag}
    if acf_r is None or acf_abs is None:
        note = f"needs >= {5 * max_lag} non-constant returns on the {label} grid (has {n})"
        return fact(measured, TARGETS["volatility_clustering"], None, note, "n/a")
    band = 2 / math.sqrt(n)
    clustered = (acf_abs > band) & (acf_abs - np.abs(acf_r) > band)
    needed = math.ceil(max_lag / 4)
    measured.update(
        band=band,
        acf_abs=[float(v) for v in acf_abs],
        acf_r=[float(v) for v in acf_r],
        lags_clustered=int(clustered.sum()),
        lags_needed=needed,
        acf_r_within_band=int((np.abs(acf_r) <= band).sum()),
        index_acf_abs=None if index_abs is None else [float(v) for v in index_abs],
    )
    headline = (
        f"acf|r| lag1 {acf_abs[0]:.2f}, lag{max_lag} {acf_abs[-1]:.2f}; acf r lag1 "
        f"{acf_r[0]:.2f}; {int(clustered.sum())}/{max_lag} lags"
    )
    holds = bool(clustered.sum() >= needed)
    note = CRITERIA["volatility_clustering"].replace("L", str(max_lag)) + (
        f"; band {band:.3f}; acf(r) inside the band at {measured['acf_r_within_band']} lags"
    )
    return fact(measured, TARGETS["volatility_clustering"], holds, note, headline)


def return_facts(
    runs: list[RunSeries], grids_ns: list[int], tail_fraction: float, max_lag: int
) -> dict[str, dict]:
    """The return facts for each grid (keys ``heavy_tails_1s``, ...) and the aggregation fact."""
    facts: dict[str, dict] = {}
    kurtosis: list[tuple[str, float | None]] = []
    for grid in grids_ns:
        label = format_duration(grid)
        parts = returns_by_run(runs, grid, "perp")
        index_parts = returns_by_run(runs, grid, "index")
        perp, index = _describe(parts, tail_fraction), _describe(index_parts, tail_fraction)
        facts[f"heavy_tails_{label}"] = _tails(perp, index, label)
        facts[f"negative_skew_{label}"] = _skew(perp, index, label)
        facts[f"volatility_clustering_{label}"] = _clustering(parts, index_parts, label, max_lag)
        kurtosis.append((label, perp["excess_kurtosis"]))
    facts["aggregational_gaussianity"] = _aggregation(kurtosis)
    return facts


def _aggregation(kurtosis: list[tuple[str, float | None]]) -> dict:
    known = [(label, k) for label, k in kurtosis if k is not None]
    measured = {"excess_kurtosis_by_grid": dict(kurtosis)}
    headline = ", ".join(f"{label} {fmt_num(k)}" for label, k in kurtosis)
    target = TARGETS["aggregational_gaussianity"]
    if len(kurtosis) < 2 or len(known) < 2:
        note = "needs the kurtosis on two grids (give two grids, each with >= 30 returns)"
        return fact(measured, target, None, note, headline)
    finest, coarsest = known[0], known[-1]
    holds = abs(coarsest[1]) < abs(finest[1])
    note = f"{CRITERIA['aggregational_gaussianity']} ({finest[0]} vs {coarsest[0]})"
    return fact(measured, target, holds, note, headline)
