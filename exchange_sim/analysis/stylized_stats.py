"""Sample statistics behind the stylized facts (pure numpy; no run, no log, no unit).

Every function takes plain arrays and returns plain floats or ``None`` when the sample is too
small for the statistic to mean anything; the thresholds are module constants so the facts and
their docs quote the same numbers. Definitions (``docs/stylized_facts.md``):

* :func:`grid_sample`: the last value at or before each grid time (previous tick);
* :func:`moments`: population skewness ``m3 / m2^1.5`` and excess kurtosis ``m4 / m2^2 - 3``;
* :func:`hill`: the Hill estimator of the tail index of ``|r|`` on the top ``k`` order
  statistics, ``k = floor(fraction x n)`` of the ``n`` non-zero values;
* :func:`pooled_acf`: the autocorrelation of several series at once (one mean and variance over
  all of them, lagged pairs never crossing from one series into the next);
* :func:`loglog_fit`: the least-squares line ``ln y = ln Y + delta ln x`` with the standard
  error of ``delta``.
"""

from __future__ import annotations

import math

import numpy as np

MIN_RETURNS = 30
"""Fewer returns than this: no moment, skew or 3-sigma share is reported."""
MIN_TAIL = 10
"""The Hill estimator needs at least this many order statistics above its threshold."""
GAUSSIAN_3SIGMA = math.erfc(3 / math.sqrt(2))
"""Share of a Gaussian sample beyond 3 standard deviations of its mean (0.27 %)."""


def grid_times(period_ns: int, end_ns: int) -> np.ndarray:
    """The grid ``period, 2 period, ...`` up to and including ``end_ns`` (int64 ns)."""
    return np.arange(1, end_ns // period_ns + 1, dtype="int64") * period_ns


def grid_sample(ts: np.ndarray, values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The last of ``values`` (in ``ts`` order, ``ts`` sorted) with ``ts <= t`` for each grid
    time ``t``, as float64; NaN before the first value."""
    where = np.searchsorted(ts, times, side="right") - 1
    out = np.full(len(times), np.nan)
    have = where >= 0
    out[have] = np.asarray(values, dtype="float64")[where[have]]
    return out


def log_returns(samples: np.ndarray) -> np.ndarray:
    """``ln(p_k / p_{k-1})`` between consecutive grid samples that both exist."""
    samples = np.asarray(samples, dtype="float64")
    returns = np.diff(np.log(samples))
    return returns[np.isfinite(returns)]


def moments(returns: np.ndarray) -> dict | None:
    """``n``, mean, standard deviation (population), skewness and excess kurtosis of a sample;
    ``None`` below :data:`MIN_RETURNS` returns or when every return is the same."""
    r = np.asarray(returns, dtype="float64")
    n = len(r)
    if n < MIN_RETURNS:
        return None
    centred = r - r.mean()
    m2 = float(np.mean(centred**2))
    if m2 == 0.0:
        return None
    m3, m4 = float(np.mean(centred**3)), float(np.mean(centred**4))
    return {
        "n": n,
        "mean": float(r.mean()),
        "std": math.sqrt(m2),
        "skewness": m3 / m2**1.5,
        "excess_kurtosis": m4 / m2**2 - 3.0,
        "skewness_se": math.sqrt(6.0 / n),
        "kurtosis_se": math.sqrt(24.0 / n),
        "zero_share": float(np.mean(r == 0.0)),
    }


def beyond_sigma_share(returns: np.ndarray, sigmas: float = 3.0) -> float | None:
    """Share of returns farther than ``sigmas`` standard deviations from their mean."""
    r = np.asarray(returns, dtype="float64")
    if len(r) < MIN_RETURNS:
        return None
    std = r.std()
    if std == 0.0:
        return None
    return float(np.mean(np.abs(r - r.mean()) > sigmas * std))


def hill(values: np.ndarray, fraction: float = 0.05) -> dict | None:
    """Hill tail index of ``|values|``: with the ``n`` non-zero magnitudes sorted in decreasing
    order ``x_1 >= x_2 >= ...`` and ``k = floor(fraction x n)``,
    ``alpha = k / sum_{i<=k} ln(x_i / x_{k+1})``. Zeros are left out (a price on a tick grid
    returns exactly 0 often; they say nothing about the tail). ``None`` when ``k`` is below
    :data:`MIN_TAIL` or the top ``k`` all tie with the threshold."""
    x = np.abs(np.asarray(values, dtype="float64"))
    x = np.sort(x[x > 0])[::-1]
    k = math.floor(fraction * len(x))
    if k < MIN_TAIL:
        return None
    threshold = x[k]
    total = float(np.sum(np.log(x[:k] / threshold)))
    if total <= 0.0:
        return None
    return {"alpha": k / total, "k": k, "n_nonzero": len(x), "threshold": float(threshold)}


def pooled_acf(series: list[np.ndarray], max_lag: int) -> np.ndarray | None:
    """Autocorrelation at lags ``1..max_lag`` of several series pooled: the mean and variance
    are those of all values together; the covariance at lag ``l`` sums ``(x_t - mean)(x_{t+l} -
    mean)`` over pairs inside one series and divides by the total count (the usual biased
    estimator, so a single series gives the textbook ACF). ``None`` when the pooled sample is
    shorter than ``5 x max_lag`` or constant."""
    parts = [np.asarray(s, dtype="float64") for s in series if len(s)]
    if not parts:
        return None
    values = np.concatenate(parts)
    n = len(values)
    if n < 5 * max_lag:
        return None
    mean = values.mean()
    variance = float(np.mean((values - mean) ** 2))
    if variance == 0.0:
        return None
    acf = np.zeros(max_lag)
    for part in parts:
        centred = part - mean
        for lag in range(1, min(max_lag, len(part) - 1) + 1):
            acf[lag - 1] += float(np.dot(centred[:-lag], centred[lag:]))
    return acf / (n * variance)


def loglog_fit(x: np.ndarray, y: np.ndarray) -> dict | None:
    """Least squares ``ln y = ln Y + delta ln x`` over positive pairs: ``delta``, ``Y``, the
    standard error of ``delta`` (``None`` with two points) and R^2; ``None`` with fewer than two
    distinct ``x``."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    keep = (x > 0) & (y > 0)
    lx, ly = np.log(x[keep]), np.log(y[keep])
    n = len(lx)
    if len(set(lx.tolist())) < 2:
        return None
    mx, my = lx.mean(), ly.mean()
    sxx = float(np.sum((lx - mx) ** 2))
    delta = float(np.sum((lx - mx) * (ly - my))) / sxx
    residuals = ly - my - delta * (lx - mx)
    ssr, sst = float(np.sum(residuals**2)), float(np.sum((ly - my) ** 2))
    se = math.sqrt(ssr / (n - 2) / sxx) if n > 2 else None
    return {
        "delta": delta,
        "Y": math.exp(my - delta * mx),
        "delta_se": se,
        "r2": 1.0 - ssr / sst if sst > 0 else 1.0,
        "n": n,
    }
