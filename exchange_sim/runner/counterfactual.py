"""Amplification as a counterfactual: the same run without forced closures.

With ``run.amplification = true`` a run is followed by its **baseline**: the same config and
seed with ``risk.forced_closures = false`` (accounts past maintenance are left as they are). Every
RNG stream is named by its consumer (:mod:`exchange_sim.core.rng`), so the two runs draw the same
random numbers wherever their histories agree (common random numbers): the difference between
them is what forced closures did. The summary's ``amplification`` compares the two runs' maximum
drawdowns (``docs/metrics.md``, prices): ``perp`` the last traded price, ``mark`` the mark, and
``index`` the venue's index; ``ratio`` = drawdown with forced closures / without (``None`` when
the baseline never fell). With several perpetuals ``perpetuals.<symbol>`` holds the same three
for each other perpetual (from its own ``metrics.prices``).
"""

from __future__ import annotations

from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.config import LoadedConfig, load_data

BASELINE_OVERRIDES = ("risk.forced_closures=false", "run.amplification=false")
"""What the baseline changes (everything else, seed included, is the run's own config)."""

SERIES = (("perp", "last_trade"), ("mark", "mark"), ("index", "index"))
"""Amplification name -> price series of ``metrics.prices``."""


def check_amplification(loaded: LoadedConfig) -> None:
    """A baseline that changes nothing is not a counterfactual."""
    config = loaded.config
    if config.run.amplification and not config.risk.forced_closures:
        raise ConfigError(
            "run.amplification",
            "true",
            "needs risk.forced_closures = true (the baseline is the run without them)",
        )


def baseline_config(loaded: LoadedConfig) -> LoadedConfig:
    """The counterfactual's config: ``loaded`` with :data:`BASELINE_OVERRIDES`."""
    return load_data(loaded.to_data(), loaded.base_dir, BASELINE_OVERRIDES)


def _drawdown(metrics: dict, series: str) -> float | None:
    prices = metrics["prices"][series]
    return prices["max_drawdown"]["fraction"] if prices.get("max_drawdown") else None


def _ratios(metrics: dict, baseline: dict) -> dict:
    """``perp``, ``mark``, ``index``: each series' drawdown with and without forced closures."""
    result = {}
    for name, series in SERIES:
        with_closures = _drawdown(metrics, series)
        without = _drawdown(baseline, series)
        ratio = None
        if with_closures is not None and without:
            ratio = with_closures / without
        result[name] = {"drawdown": with_closures, "baseline_drawdown": without, "ratio": ratio}
    return result


def amplification(summary: dict, baseline: dict) -> dict:
    """The ``amplification`` table of ``summary`` against its ``baseline`` summary."""
    result: dict = {
        "baseline_overrides": list(BASELINE_OVERRIDES),
        "baseline_log_digest_sha256": baseline["log_digest_sha256"],
    }
    result |= _ratios(summary["metrics"], baseline["metrics"])
    perpetuals = summary.get("perpetuals") or {}
    if perpetuals:
        result["perpetuals"] = {
            symbol: _ratios(section["metrics"], baseline["perpetuals"][symbol]["metrics"])
            for symbol, section in perpetuals.items()
        }
    cascade = summary["metrics"].get("cascade") or {}
    result["liquidations"] = summary.get("liquidations_triggered", 0)
    result["deepest_generation"] = cascade.get("deepest_generation", 0)
    result["baseline_accounts_past_maintenance"] = baseline["accounts_past_maintenance_left"]
    return result
