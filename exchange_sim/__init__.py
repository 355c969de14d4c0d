"""exchange_sim: a discrete-event simulator of a crypto perpetual-futures exchange.

Built to study liquidation cascades. The stable public API (see README.md, "Python API")::

    import exchange_sim as es

    config = es.load_config("configs/scenarios/cascade.toml", overrides=["run.duration=60s"])
    result = es.run(config, seed=3)
    result.summary["liquidations_triggered"]

Names are loaded on first use, so ``import exchange_sim`` (and importing config classes) stays
light: nothing heavier than the config layer is imported until a run is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_config": "exchange_sim.runner.api",
    "run": "exchange_sim.runner.api",
    "RunResult": "exchange_sim.runner.api",
    "run_sweep": "exchange_sim.runner.api",
    "load_results": "exchange_sim.runner.api",
    "build_venue": "exchange_sim.runner.simulate",
    "LoadedConfig": "exchange_sim.runner.config",
    "SimConfig": "exchange_sim.runner.config",
    "Venue": "exchange_sim.venue.venue",
    "ExchangeSimError": "exchange_sim.core.errors",
    "InputError": "exchange_sim.core.errors",
    "ConfigError": "exchange_sim.core.errors",
    "DataError": "exchange_sim.core.errors",
    "SimulationError": "exchange_sim.core.errors",
}

__all__ = [
    "ConfigError",
    "DataError",
    "ExchangeSimError",
    "InputError",
    "LoadedConfig",
    "RunResult",
    "SimConfig",
    "SimulationError",
    "Venue",
    "__version__",
    "build_venue",
    "load_config",
    "load_results",
    "run",
    "run_sweep",
]

if TYPE_CHECKING:
    from exchange_sim.core.errors import (
        ConfigError,
        DataError,
        ExchangeSimError,
        InputError,
        SimulationError,
    )
    from exchange_sim.runner.api import RunResult, load_config, load_results, run, run_sweep
    from exchange_sim.runner.config import LoadedConfig, SimConfig
    from exchange_sim.runner.simulate import build_venue
    from exchange_sim.venue.venue import Venue


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'exchange_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
