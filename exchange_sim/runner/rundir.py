"""The run directory: one directory per run holding the resolved config, the log and results.

Written atomically: everything goes to a hidden temporary sibling first and is renamed into place
only when the run has finished, so a directory named like a run is always complete. A run that
crashes is renamed to ``<dir>.failed`` with ``error.txt`` inside (desmod-style), never to ``<dir>``.
With ``run.amplification`` the counterfactual baseline (:mod:`.counterfactual`) is written to
``<dir>/baseline/`` with its own ``config.toml``, ``events.jsonl`` and ``summary.json``.

Bad input writes nothing: :func:`~exchange_sim.runner.preflight.preflight` runs before any directory
(or parent of one) is created, and an ``InputError`` met later anyway (a CSV changed since the
preflight) removes the temporary directory instead of leaving ``<dir>.failed``.
"""

from __future__ import annotations

import os
import shutil
import traceback

import orjson

from exchange_sim.config import toml_out
from exchange_sim.core.errors import ConfigError, InputError
from exchange_sim.runner.config import LoadedConfig
from exchange_sim.runner.counterfactual import amplification, baseline_config
from exchange_sim.runner.preflight import preflight
from exchange_sim.runner.simulate import simulate

WRITE_BUFFER_BYTES = 1 << 20


def fresh_run_dir(root: str, name: str, seed: int) -> str:
    """``root/<name>-s<seed>-<n>`` with the smallest n not yet taken (no wall clock involved)."""
    n = 1
    while True:
        candidate = os.path.join(root, f"{name}-s{seed}-{n}")
        if not os.path.exists(candidate) and not os.path.exists(candidate + ".failed"):
            return candidate
        n += 1


class RunResult:
    __slots__ = ("directory", "summary")

    def __init__(self, directory: str, summary: dict) -> None:
        self.directory = directory
        self.summary = summary


def _missing_parents(path: str) -> list[str]:
    """The ancestors of ``path`` that do not exist yet, deepest first."""
    missing = []
    parent = os.path.dirname(path)
    while parent and not os.path.lexists(parent):
        missing.append(parent)
        up = os.path.dirname(parent)
        if up == parent:
            break
        parent = up
    return missing


def _make_temp_dir(out_dir: str) -> tuple[str, list[str]]:
    """Create ``out_dir``'s parents and its hidden temporary sibling; return the sibling and the
    parents created (deepest first), so a run refused later can remove them again."""
    parent = os.path.dirname(out_dir)
    temp_dir = os.path.join(parent, f".{os.path.basename(out_dir)}.tmp-{os.getpid()}")
    created = _missing_parents(out_dir)
    try:
        os.makedirs(parent, exist_ok=True)
        if os.path.exists(temp_dir):
            shutil.rmtree(temp_dir)
        os.makedirs(temp_dir)
    except OSError as exc:
        _remove_empty(created)
        raise ConfigError("--out", out_dir, f"cannot create: {exc.strerror or exc}") from None
    return temp_dir, created


def _remove_empty(directories: list[str]) -> None:
    for directory in directories:
        try:
            os.rmdir(directory)
        except OSError:
            return


def _write_summary(directory: str, summary: dict) -> None:
    with open(os.path.join(directory, "summary.json"), "wb") as handle:
        handle.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")


def _write_run(
    loaded: LoadedConfig,
    directory: str,
    progress: bool,
    write_summary=True,
    build=None,
    header: str = "",
) -> dict:
    """Run ``loaded`` into ``directory`` (config, log, and the summary unless told not to).
    ``build`` and ``header`` (comment lines atop config.toml): see :func:`execute`."""
    with open(os.path.join(directory, "config.toml"), "w", encoding="utf-8") as handle:
        handle.write(header + toml_out.dumps(_with_data_copies(loaded, directory)))
    path = os.path.join(directory, "events.jsonl")
    with open(path, "wb", buffering=WRITE_BUFFER_BYTES) as sink:
        summary, _ = simulate(loaded, sink, progress, build)
    if write_summary:
        _write_summary(directory, summary)
    return summary


def _with_data_copies(loaded: LoadedConfig, directory: str) -> dict:
    """The config to save in ``directory``: each data file copied to ``directory/data/`` and the
    config pointing at the copy (relative to config.toml), so the saved config reproduces the
    run from anywhere; the config hash reads the files' contents, so it does not change."""
    data = loaded.to_data()
    files = loaded.data_files()
    if files:
        os.makedirs(os.path.join(directory, "data"), exist_ok=True)
    for key, source in files.items():
        name = os.path.basename(source)
        shutil.copyfile(source, os.path.join(directory, "data", name))
        table = data
        for part in key[:-1]:
            table = table[part]
        table[key[-1]] = f"data/{name}"
    return data


def execute(
    loaded: LoadedConfig,
    out_dir: str,
    progress: bool = False,
    build=None,
    header: str = "",
    extra: dict[str, bytes] | None = None,
) -> RunResult:
    """Preflight, run, and write the run directory; return it with the run's summary.
    ``build(loaded, log)`` makes the venue (default: with the config's participants);
    ``header`` is written atop config.toml (TOML comments); ``extra`` maps file names to the
    bytes written next to the log."""
    preflight(loaded)
    out_dir = os.path.abspath(out_dir)
    if os.path.lexists(out_dir):
        raise ConfigError("--out", out_dir, "already exists; choose a new directory")
    temp_dir, created_parents = _make_temp_dir(out_dir)
    try:
        summary = _write_run(loaded, temp_dir, progress, False, build, header)
        for name, data in (extra or {}).items():
            with open(os.path.join(temp_dir, name), "wb") as handle:
                handle.write(data)
        if loaded.config.run.amplification:
            baseline_dir = os.path.join(temp_dir, "baseline")
            os.mkdir(baseline_dir)
            baseline = _write_run(baseline_config(loaded), baseline_dir, progress)
            summary["amplification"] = amplification(summary, baseline)
        _write_summary(temp_dir, summary)
    except InputError:
        shutil.rmtree(temp_dir, ignore_errors=True)
        _remove_empty(created_parents)
        raise
    except BaseException as exc:
        with open(os.path.join(temp_dir, "error.txt"), "w", encoding="utf-8") as handle:
            handle.write(traceback.format_exc())
        failed = out_dir + ".failed"
        if os.path.exists(failed):
            shutil.rmtree(failed)
        os.rename(temp_dir, failed)
        exc.add_note(f"traceback in {os.path.join(failed, 'error.txt')}")
        raise
    os.rename(temp_dir, out_dir)
    return RunResult(out_dir, summary)
