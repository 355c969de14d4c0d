"""The run layer, on top of everything: the root config, preflight, the run directory, the public
Python API (:mod:`exchange_sim.runner.api`) and the participants built around a venue."""
