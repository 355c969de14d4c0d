"""Sweeps: many runs of one scenario over factors and seeds, with common random numbers, on a
process pool or a Dask cluster, into one ``results.parquet`` (``docs/sweeps.md``)."""

from exchange_sim.runner.sweep.engine import SweepOutcome, run_sweep
from exchange_sim.runner.sweep.results import load_results
from exchange_sim.runner.sweep.spec import SweepSpec, load_sweep

__all__ = ["SweepOutcome", "SweepSpec", "load_results", "load_sweep", "run_sweep"]
