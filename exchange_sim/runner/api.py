"""The public Python API: load a config, run it, get the results back.

Everything the command line does goes through here (the CLI is a thin layer on it)::

    import exchange_sim as es

    config = es.load_config("configs/scenarios/cascade.toml", overrides=["run.duration=30s"])
    result = es.run(config, seed=7, keep_events=True)      # no run directory unless out=...
    result.summary["liquidations_triggered"], len(result.events)

    outcome = es.run_sweep("configs/sweeps/fund_size.toml", seeds=4, out="sweeps/fund")
    es.load_results(outcome.directory)                      # one row per run (pandas)

A config is a path to a TOML file, a TOML string, a dict (parsed TOML), or an already loaded
:class:`~exchange_sim.runner.config.LoadedConfig`; overrides are ``"key=value"`` strings as for
``--set``. Bad input raises :class:`~exchange_sim.core.errors.InputError` naming the key and the
value, before anything runs. The same config and seed give the same log, byte for byte, whether
it is written to a run directory or kept in memory.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from exchange_sim.runner.config import LoadedConfig, load_config_file, load_data, load_toml_text
from exchange_sim.runner.counterfactual import amplification, baseline_config
from exchange_sim.runner.preflight import preflight
from exchange_sim.runner.rundir import Claim, execute
from exchange_sim.runner.simulate import simulate
from exchange_sim.runner.sweep import load_results, run_sweep

__all__ = ["RunResult", "load_config", "load_results", "read_events", "run", "run_sweep"]

ConfigSource = str | os.PathLike | Mapping | LoadedConfig


class RunResult:
    """What a run returns: its ``summary`` (the ``summary.json`` dict), the log's ``digest``
    (sha256 of every line before ``run_end``), the ``events`` as dicts when asked for
    (``keep_events=True``; else ``None``) and the run ``directory`` when one was written."""

    __slots__ = ("digest", "directory", "events", "summary")

    def __init__(
        self, summary: dict, digest: str, events: list[dict] | None, directory: str | None
    ) -> None:
        self.summary = summary
        self.digest = digest
        self.events = events
        self.directory = directory

    def __repr__(self) -> str:
        where = self.directory or "in memory"
        return (
            f"RunResult({self.summary.get('scenario')!r}, seed {self.summary.get('seed')}, {where})"
        )


def load_config(source: ConfigSource, overrides: Iterable[str] = ()) -> LoadedConfig:
    """Resolve a config strictly: ``source`` is a TOML file path, a TOML string (any text with a
    newline, ``=`` or ``[``), a dict of parsed TOML, or a loaded config (whose overrides are
    re-applied to its resolved data). ``overrides`` are ``key=value`` strings as for ``--set``."""
    overrides = tuple(overrides)
    if isinstance(source, LoadedConfig):
        if not overrides:
            return source
        return load_data(source.to_data(), source.base_dir, overrides)
    if isinstance(source, Mapping):
        return load_data(_plain(source), os.getcwd(), overrides)
    if isinstance(source, os.PathLike):
        return load_config_file(os.fspath(source), overrides)
    if isinstance(source, str):
        if any(mark in source for mark in ("\n", "=", "[")):
            return load_toml_text(source, os.getcwd(), overrides)
        return load_config_file(source, overrides)
    raise TypeError(f"a config is a path, TOML text, a dict or a LoadedConfig, not {source!r}")


def _plain(data: Mapping) -> dict:
    """A deep copy of ``data`` as plain dicts and lists (overrides mutate it)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            out[key] = _plain(value)
        elif isinstance(value, list | tuple):
            out[key] = [_plain(v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[key] = value
    return out


class _HashingNullSink(io.RawIOBase):
    """Accepts the log's bytes and keeps nothing (a run with neither directory nor events)."""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)


def run(
    config: ConfigSource,
    *,
    seed: int | None = None,
    overrides: Iterable[str] = (),
    out: str | os.PathLike | Claim | None = None,
    keep_events: bool = False,
    progress: bool = False,
) -> RunResult:
    """Run a config once and return its :class:`RunResult`.

    ``seed`` overrides ``run.seed``; ``overrides`` are ``key=value`` strings. With ``out`` a run
    directory is written there (it must not exist, or is a
    :class:`~exchange_sim.runner.rundir.Claim`
    made after a preflight; see :mod:`exchange_sim.runner.rundir`);
    without it nothing touches the disk. ``keep_events`` returns every log line as a dict;
    ``progress`` shows a progress bar on stderr once the run has taken about two seconds. With
    ``run.amplification`` the counterfactual baseline runs too (its log is kept only in a run
    directory, under ``baseline/``) and the summary gains ``amplification``.
    """
    overrides = tuple(overrides)
    if seed is not None:
        overrides += (f"run.seed={int(seed)}",)
    loaded = load_config(config, overrides)
    if out is not None:
        result = execute(loaded, out if isinstance(out, Claim) else os.fspath(out), progress)
        events = (
            read_events(os.path.join(result.directory, "events.jsonl")) if keep_events else None
        )
        return RunResult(
            result.summary, result.summary["log_digest_sha256"], events, result.directory
        )
    preflight(loaded)
    buffer = io.BytesIO() if keep_events else None
    sink = buffer if buffer is not None else _HashingNullSink()
    summary, digest = simulate(loaded, sink, progress)
    if loaded.config.run.amplification:
        baseline, _ = simulate(baseline_config(loaded), _HashingNullSink(), progress)
        summary["amplification"] = amplification(summary, baseline)
    events = None
    if buffer is not None:  # keep_events
        events = [orjson.loads(line) for line in buffer.getvalue().splitlines()]
    return RunResult(summary, digest, events, None)


def read_events(path: str) -> list[dict]:
    """Every line of an ``events.jsonl`` as a dict (no verification: see
    :func:`exchange_sim.events.reader.read_log` for that)."""
    with open(path, "rb") as handle:
        return [orjson.loads(line) for line in handle]
