"""Correlated GBM index paths and common jumps across a venue's perpetuals
(``[index_correlation]``)."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import NS_PER_S, Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.pricing.correlation import (
    CommonJump,
    CommonShocks,
    CorrelatedGbmPath,
    IndexCorrelationConfig,
    semidefinite_cholesky,
)
from exchange_sim.pricing.index import GbmIndex
from exchange_sim.runner.config import load_toml_text
from exchange_sim.runner.simulate import build_venue

SCALE = Scale.build(Decimal("0.01"), Decimal("0.001"), 6, "instrument")
MATRIX3 = ((1, Decimal("0.7"), Decimal("-0.3")), (Decimal("0.7"), 1, 0), (Decimal("-0.3"), 0, 1))
STEPS = 20_000
TOLERANCE = 0.03
"""Sample correlation of 20,000 one-second log-returns: its standard error is about
``(1 - rho^2) / sqrt(20,000)``, at most 0.0071; 0.03 is over four standard errors (seed fixed)."""


def _matrix(rows) -> tuple[tuple[Decimal, ...], ...]:
    return tuple(tuple(Decimal(x) for x in row) for row in rows)


def _paths(config: IndexCorrelationConfig, gbms: list[GbmIndex], seed: int = 7):
    shocks = CommonShocks(config, len(gbms), np.random.default_rng(seed))
    return [
        CorrelatedGbmPath(gbm, SCALE, np.random.default_rng(100 + i), shocks, i)
        for i, gbm in enumerate(gbms)
    ]


def _log_returns(paths, steps: int) -> np.ndarray:
    prices = np.array([[p.price_at(k * NS_PER_S) for p in paths] for k in range(steps + 1)])
    return np.diff(np.log(prices.astype(float)), axis=0)


def test_sample_correlation_of_log_returns_matches_the_matrix():
    """Over 20,000 one-second steps each pair's sample correlation of log-returns is within
    TOLERANCE of the configured entry (volatilities differ per perpetual)."""
    config = IndexCorrelationConfig(enabled=True, matrix=_matrix(MATRIX3))
    gbms = [
        GbmIndex(start_price=5_000_000, volatility_annual=Decimal("0.6")),
        GbmIndex(start_price=300_000, volatility_annual=Decimal("0.9")),
        GbmIndex(start_price=15_000, volatility_annual=Decimal("1.2")),
    ]
    sample = np.corrcoef(_log_returns(_paths(config, gbms), STEPS), rowvar=False)
    for i in range(3):
        for j in range(i):
            assert abs(sample[i][j] - float(MATRIX3[i][j])) < TOLERANCE, (i, j, sample[i][j])


def test_a_scheduled_common_jump_moves_every_index_at_the_same_instant():
    """With no volatility, a jump of -10 % at 10 s leaves both indices flat before 10 s and moves
    both at 10 s: beta 1 by x0.9, beta 2 by x0.81."""
    config = IndexCorrelationConfig(
        enabled=True,
        betas=(Decimal(1), Decimal(2)),
        jumps=(CommonJump(at=10 * NS_PER_S, size=Decimal("-0.1")),),
    )
    flat = Decimal(0)
    gbms = [
        GbmIndex(start_price=5_000_000, volatility_annual=flat),
        GbmIndex(start_price=300_000, volatility_annual=flat),
    ]
    btc, eth = _paths(config, gbms)
    before = 10 * NS_PER_S - 1
    assert (btc.price_at(before), eth.price_at(before)) == (5_000_000, 300_000)
    assert (btc.price_at(10 * NS_PER_S), eth.price_at(10 * NS_PER_S)) == (4_500_000, 243_000)


def test_poisson_common_jumps_move_every_index_together():
    """Poisson-timed common jumps (no volatility): every step where one index moves, the other
    moves too, by the same log size times its beta."""
    config = IndexCorrelationConfig(
        enabled=True,
        betas=(Decimal(1), Decimal("1.5")),
        jump_intensity_per_day=Decimal(8640),  # one every 10 s on average
        jump_std=Decimal("0.01"),
    )
    flat = Decimal(0)
    gbms = [
        GbmIndex(start_price=5_000_000, volatility_annual=flat),
        GbmIndex(start_price=5_000_000, volatility_annual=flat),
    ]
    returns = _log_returns(_paths(config, gbms), 500)
    moved = np.abs(returns) > 1e-5
    assert moved[:, 0].sum() > 20
    assert (moved[:, 0] == moved[:, 1]).all()
    both = moved[:, 0]
    assert np.allclose(returns[both, 1], 1.5 * returns[both, 0], rtol=1e-3, atol=2e-6)


def test_the_matrix_moves_the_other_paths_and_not_the_first():
    """A different correlation changes the second perpetual's path; the first's row of the
    Cholesky factor is (1, 0, ...), so its path is the same for any matrix."""
    gbms = [GbmIndex(start_price=5_000_000), GbmIndex(start_price=300_000)]

    def run(rho: str):
        config = IndexCorrelationConfig(enabled=True, matrix=_matrix(((1, rho), (rho, 1))))
        paths = _paths(config, gbms)
        return [[p.price_at(k * NS_PER_S) for p in paths] for k in range(50)]

    low, high = run("0.1"), run("0.9")
    assert [row[0] for row in low] == [row[0] for row in high]
    assert [row[1] for row in low] != [row[1] for row in high]


def test_a_singular_matrix_has_a_factor():
    """A correlation of 1 is positive semi-definite: the factor has a zero column and
    reproduces the matrix."""
    factor = semidefinite_cholesky([[1.0, 1.0], [1.0, 1.0]])
    assert factor is not None
    product = np.array(factor) @ np.array(factor).T
    assert np.allclose(product, [[1, 1], [1, 1]])


# -- config ----------------------------------------------------------------------------------
TWO_GBM = """
[run]
duration = "20s"
[index.process]
kind = "gbm"
start_price = 50000
[[perpetuals]]
symbol = "ETHUSDT"
[perpetuals.index.process]
kind = "gbm"
start_price = 3000
"""


def _load(extra: str = "", *overrides: str):
    return load_toml_text(TWO_GBM + extra, "", overrides)


def _index_events(loaded):
    log = MemoryLog()
    build_venue(loaded, log).run("test")
    return [
        (e.get("instrument"), e["ts_source"], e["price"])
        for e in log.events
        if e["type"] == "index_price"
    ]


@pytest.mark.parametrize(
    ("section", "key", "problem"),
    [
        ("matrix = [[1, 0.5], [0.4, 1]]", "index_correlation.matrix[1][0]", "symmetric"),
        ("matrix = [[1, 0.5], [0.5, 0.9]]", "index_correlation.matrix[1][1]", "diagonal"),
        ("matrix = [[1, 0.5, 0], [0.5, 1, 0]]", "index_correlation.matrix[0]", "square"),
        (
            "matrix = [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]",
            "index_correlation.matrix",
            "semi-definite",
        ),
        ("matrix = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]", "index_correlation.matrix", "one row"),
        ("matrix = [[1, 1.5], [1.5, 1]]", "index_correlation.matrix[0][1]", ""),
        ("betas = [1]", "index_correlation.betas", "one entry"),
    ],
)
def test_a_bad_correlation_config_names_the_key(section, key, problem):
    """Each malformed matrix or list is one ConfigError naming its key."""
    with pytest.raises(ConfigError) as caught:
        _load(f"[index_correlation]\nenabled = true\n{section}\n")
    assert key in str(caught.value) and problem in str(caught.value)


def test_correlation_needs_gbm_paths():
    """A perpetual whose index is not GBM is refused, naming its process kind."""
    with pytest.raises(ConfigError, match=r"perpetuals\[0\]\.index\.process\.kind"):
        text = TWO_GBM.replace('kind = "gbm"\nstart_price = 3000', 'kind = "scripted"')
        load_toml_text(text + "[index_correlation]\nenabled = true\n", "")


def test_off_by_default_the_venue_runs_as_before():
    """A config with the section written but disabled gives the same index events as one
    without it (no stream is issued, no path is replaced)."""
    written = _load("[index_correlation]\nenabled = false\nmatrix = [[1, 0.5], [0.5, 1]]\n")
    assert _index_events(written) == _index_events(_load())


def test_a_venue_with_correlation_and_a_common_jump_moves_both_indices_at_once():
    """In a run, a common jump at 10 s shows in both perpetuals' first index sample at 10 s."""
    loaded = _load(
        "[index_correlation]\nenabled = true\nmatrix = [[1, 0.8], [0.8, 1]]\n"
        'jumps = [{ at = "10s", size = -0.2 }]\n'
    )
    events = _index_events(loaded)
    for symbol in (None, "ETHUSDT"):
        prices = {ts: price for sym, ts, price in events if sym == symbol}
        step = math.log(prices[10 * NS_PER_S] / prices[9 * NS_PER_S])
        assert step < math.log(0.85), (symbol, step)


def test_a_bad_matrix_on_the_command_line_is_one_line_and_exit_2(cli, tmp_path):
    """Through the CLI a malformed matrix (a row too short) is refused with exit 2 and one line
    naming the key."""
    config = tmp_path / "c.toml"
    config.write_text(TWO_GBM + "[index_correlation]\nenabled = true\nmatrix = [[1, 0.5], [0.5]]\n")
    status, _out, err = cli("validate", str(config))
    assert status == 2 and err.count("\n") == 1
    assert "index_correlation.matrix" in err
