"""Correlated index paths of a venue's perpetuals (pure): correlated Brownian shocks and common
jumps shared by every perpetual's GBM index (``[index_correlation]``, off by default).

Model (an assumption, docs/mechanics.md "Correlated index paths"): perpetual ``i``'s log index is

    log S_i(t) = log S_i(0) + (mu_i - sigma_i^2 / 2) t + sigma_i W_i(t) + beta_i J(t) + N_i(t)

with ``W`` a vector of standard Brownian motions whose increments have the configured correlation
matrix ``C`` (``dW = L z sqrt(dt)``, ``L L^T = C``, ``z`` independent standard normals), ``J`` the
sum of the common jumps' log sizes (Poisson-timed with normal log sizes, and scheduled jumps of
relative size ``size``: ``log(1 + size)``), ``beta_i`` each perpetual's exposure to a common jump
and ``N_i`` the perpetual's own compound-Poisson jumps (its ``jump_*`` keys, drawn from its own
stream as before). :class:`CommonShocks` advances ``W`` and ``J`` to every time any perpetual
samples (simulation time is non-decreasing, so the union of the sampling times is too), drawing
from one RNG stream; each :class:`CorrelatedGbmPath` reads its component. Prices land on the tick
grid through :func:`~exchange_sim.core.rounding.quantize_price`, like an independent GBM's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

import attrs
import numpy as np

from exchange_sim.config.loader import FieldProblem
from exchange_sim.core.rounding import quantize_price
from exchange_sim.core.units import NS_PER_DAY, Scale
from exchange_sim.pricing.index import YEAR_NS, GbmIndex

PSD_TOLERANCE = 1e-9
"""How far below zero a pivot of the Cholesky factorisation may fall (rounding of the decimal
entries) before the matrix is refused as not positive semi-definite."""


@attrs.frozen(kw_only=True)
class CommonJump:
    """A scheduled jump of every perpetual's index at once."""

    at: int = attrs.field(default=0, metadata={"unit": "duration", "min": 0, "help": "time"})
    size: Decimal = attrs.field(
        default=Decimal("-0.1"),
        metadata={
            "unit": "decimal",
            "min": Decimal("-0.99"),
            "max": 100,
            "help": "relative change of an index with beta 1 (-0.1 = a 10 % fall)",
        },
    )


def semidefinite_cholesky(matrix: list[list[float]]) -> list[list[float]] | None:
    """A lower-triangular ``L`` with ``L L^T = matrix`` for a symmetric positive semi-definite
    matrix (a zero pivot, e.g. a correlation of 1, gives a zero column), or None when the
    matrix is not positive semi-definite (within :data:`PSD_TOLERANCE`)."""
    n = len(matrix)
    factor = [[0.0] * n for _ in range(n)]
    for j in range(n):
        pivot = matrix[j][j] - sum(factor[j][k] ** 2 for k in range(j))
        if pivot < -PSD_TOLERANCE:
            return None
        diagonal = math.sqrt(max(pivot, 0.0))
        factor[j][j] = diagonal
        for i in range(j + 1, n):
            rest = matrix[i][j] - sum(factor[i][k] * factor[j][k] for k in range(j))
            if diagonal > PSD_TOLERANCE:
                factor[i][j] = rest / diagonal
            elif abs(rest) > PSD_TOLERANCE:
                return None
    return factor


@attrs.frozen(kw_only=True)
class IndexCorrelationConfig:
    """Correlation and common jumps of the perpetuals' GBM index paths, over the perpetuals in
    order ``[instrument, perpetuals...]``."""

    enabled: bool = attrs.field(
        default=False,
        metadata={"help": "correlate the perpetuals' GBM index paths (every index must be gbm)"},
    )
    matrix: tuple[tuple[Decimal, ...], ...] = attrs.field(
        default=(),
        metadata={
            "unit": "decimal",
            "min": -1,
            "max": 1,
            "help": "correlation matrix of the index log-returns, one row per perpetual "
            "[instrument, perpetuals...]: symmetric, unit diagonal, positive semi-definite "
            "(empty = independent)",
        },
    )
    betas: tuple[Decimal, ...] = attrs.field(
        default=(),
        metadata={
            "unit": "decimal",
            "min": -100,
            "max": 100,
            "help": "each perpetual's exposure to a common jump, multiplying its log size "
            "(empty = 1 each)",
        },
    )
    jump_intensity_per_day: Decimal = attrs.field(
        default=Decimal(0),
        metadata={
            "unit": "decimal",
            "min": 0,
            "max": 10_000,
            "help": "expected common jumps a day",
        },
    )
    jump_mean: Decimal = attrs.field(
        default=Decimal(0),
        metadata={"unit": "decimal", "min": -10, "max": 10, "help": "mean log size of a jump"},
    )
    jump_std: Decimal = attrs.field(
        default=Decimal("0.02"),
        metadata={"unit": "decimal", "min": 0, "max": 10, "help": "std deviation of its log size"},
    )
    jumps: tuple[CommonJump, ...] = attrs.field(
        default=(),
        metadata={"help": "scheduled common jumps: a list of {at, size} tables"},
    )

    def __attrs_post_init__(self) -> None:
        rows = self.matrix
        n = len(rows)
        for i, row in enumerate(rows):
            if len(row) != n:
                raise FieldProblem(f"matrix[{i}]", list(row), f"expected {n} entries (square)")
            if row[i] != 1:
                raise FieldProblem(f"matrix[{i}][{i}]", row[i], "the diagonal must be 1")
            for j in range(i):
                if row[j] != rows[j][i]:
                    raise FieldProblem(
                        f"matrix[{i}][{j}]", row[j], f"must equal matrix[{j}][{i}] (symmetric)"
                    )
        if n and semidefinite_cholesky(self.float_matrix()) is None:
            raise FieldProblem("matrix", self.float_matrix(), "not positive semi-definite")
        times = [jump.at for jump in self.jumps]
        if times != sorted(times):
            raise FieldProblem("jumps", times, "must be in non-decreasing time order")

    def float_matrix(self) -> list[list[float]]:
        return [[float(x) for x in row] for row in self.matrix]

    def check_perpetuals(self, processes: Sequence[tuple[str, object]]) -> None:
        """Refuse a config the perpetuals cannot run: ``processes`` is ``(key, process)`` for
        each perpetual in order (the key names its ``index.process``)."""
        if not self.enabled:
            return
        n = len(processes)
        if self.matrix and len(self.matrix) != n:
            raise FieldProblem(
                "index_correlation.matrix",
                len(self.matrix),
                f"needs one row per perpetual: {n} (instrument and perpetuals)",
            )
        if self.betas and len(self.betas) != n:
            raise FieldProblem(
                "index_correlation.betas", list(self.betas), f"needs one entry per perpetual: {n}"
            )
        for key, process in processes:
            if not isinstance(process, GbmIndex):
                kind = getattr(process, "KIND", "?")
                raise FieldProblem(f"{key}.kind", kind, "index_correlation needs gbm index paths")


class CommonShocks:
    """The shared Brownian vector ``W`` and common jump sum ``J`` (module docstring), advanced
    to each sampling time; one RNG stream, the factor computed once."""

    __slots__ = (
        "_factor",
        "_jump_mean",
        "_jump_std",
        "_jumps",
        "_last_t",
        "_next_jump",
        "_rng",
        "_scheduled",
        "betas",
        "jump_log",
        "w",
    )

    def __init__(self, config: IndexCorrelationConfig, size: int, rng: np.random.Generator):
        if config.matrix:
            factor = semidefinite_cholesky(config.float_matrix())
            assert factor is not None  # the config refuses a matrix without one
        else:
            factor = [[1.0 if i == j else 0.0 for j in range(size)] for i in range(size)]
        self._factor = factor
        self.betas = [float(b) for b in config.betas] if config.betas else [1.0] * size
        self._jumps = float(config.jump_intensity_per_day)
        self._jump_mean = float(config.jump_mean)
        self._jump_std = float(config.jump_std)
        self._scheduled = [(jump.at, math.log1p(float(jump.size))) for jump in config.jumps]
        self._next_jump = 0
        self._rng = rng
        self._last_t = 0
        self.w = [0.0] * size
        self.jump_log = 0.0

    def advance(self, t_ns: int) -> None:
        """Move ``W`` and ``J`` to ``t_ns`` (no earlier than the last call)."""
        dt_ns = t_ns - self._last_t
        if dt_ns > 0:
            self._last_t = t_ns
            root_years = math.sqrt(dt_ns / YEAR_NS)
            z = self._rng.standard_normal(len(self.w))
            for i, row in enumerate(self._factor):
                self.w[i] += root_years * sum(row[k] * float(z[k]) for k in range(i + 1))
            if self._jumps > 0:
                count = int(self._rng.poisson(self._jumps * dt_ns / NS_PER_DAY))
                if count:
                    sizes = self._rng.normal(self._jump_mean, self._jump_std, count)
                    self.jump_log += float(np.sum(sizes))
        scheduled = self._scheduled
        while self._next_jump < len(scheduled) and scheduled[self._next_jump][0] <= t_ns:
            self.jump_log += scheduled[self._next_jump][1]
            self._next_jump += 1


class CorrelatedGbmPath:
    """Perpetual ``component``'s GBM index driven by :class:`CommonShocks` (module docstring);
    its own jumps (``jump_*`` of its :class:`GbmIndex`) come from its own stream."""

    __slots__ = (
        "_component",
        "_drift",
        "_jump_mean",
        "_jump_std",
        "_jumps",
        "_last_t",
        "_log_start",
        "_own_jumps",
        "_rng",
        "_shocks",
        "_tick",
        "_vol",
    )

    def __init__(
        self,
        config: GbmIndex,
        scale: Scale,
        rng: np.random.Generator,
        shocks: CommonShocks,
        component: int,
    ) -> None:
        self._tick = float(scale.tick_size)
        self._log_start = math.log(config.start_price * self._tick)
        self._vol = float(config.volatility_annual)
        self._drift = float(config.drift_annual)
        self._jumps = float(config.jump_intensity_per_day)
        self._jump_mean = float(config.jump_mean)
        self._jump_std = float(config.jump_std)
        self._rng = rng
        self._shocks = shocks
        self._component = component
        self._last_t = 0
        self._own_jumps = 0.0

    def price_at(self, t_ns: int) -> int:
        shocks = self._shocks
        shocks.advance(t_ns)
        dt_ns = t_ns - self._last_t
        if dt_ns > 0:
            self._last_t = t_ns
            if self._jumps > 0:
                count = int(self._rng.poisson(self._jumps * dt_ns / NS_PER_DAY))
                if count:
                    sizes = self._rng.normal(self._jump_mean, self._jump_std, count)
                    self._own_jumps += float(np.sum(sizes))
        i, vol = self._component, self._vol
        log_price = (
            self._log_start
            + (self._drift - 0.5 * vol * vol) * (t_ns / YEAR_NS)
            + vol * shocks.w[i]
            + shocks.betas[i] * shocks.jump_log
            + self._own_jumps
        )
        return quantize_price(math.exp(log_price), self._tick)


def build_shocks(config, rng_root) -> CommonShocks | None:
    """The venue's shared shocks (stream ``index/common``) when ``index_correlation.enabled``;
    None otherwise (no stream is issued, so every other stream and path is unchanged)."""
    correlation: IndexCorrelationConfig = config.index_correlation
    if not correlation.enabled:
        return None
    size = 1 + len(config.perpetuals)
    return CommonShocks(correlation, size, rng_root.stream("index/common"))
