"""The run directory: one directory per run holding the resolved config, the log and results.

**Claimed, then written, then renamed.** A run first *claims* its directory ``X`` by creating
its hidden temporary sibling ``.X.tmp-run`` with one ``os.mkdir``: the name is derived from ``X``
alone, so two runs (two processes, two machines on one filesystem) aiming at the same ``X``
cannot both succeed, and the one that fails gets a clear error (``--out``) or moves on to the next
free name (the default ``runs/<name>-s<seed>-<n>``). The run writes into the claimed temporary
directory, and only when it has finished renames it to ``X``, so a directory named like a run is
always complete. A run that crashes (or is interrupted) renames its temporary directory to
``X.failed`` with ``error.txt`` inside, or to ``X.failed-2``, ``-3``... when that exists already:
no run deletes or overwrites a directory it did not create, and none leaves its temporary
directory behind (only a killed process can). With ``run.amplification`` the counterfactual
baseline (:mod:`.counterfactual`) is written to ``<dir>/baseline/``.

Bad input writes nothing: :func:`~exchange_sim.runner.preflight.preflight` runs before any directory
(or parent of one) is created, and an ``InputError`` met later anyway (a CSV changed since the
preflight) removes the temporary directory (and the parents it created) instead of leaving
``<dir>.failed``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import socket
import traceback

import orjson

from exchange_sim.config import toml_out
from exchange_sim.core.errors import ConfigError, InputError, RunInterrupted, RunIOError
from exchange_sim.runner.config import LoadedConfig
from exchange_sim.runner.counterfactual import amplification, baseline_config
from exchange_sim.runner.preflight import preflight
from exchange_sim.runner.simulate import simulate

WRITE_BUFFER_BYTES = 1 << 20
TEMP_SUFFIX = ".tmp-run"
OWNER_FILE = "claim.json"
"""Inside a temporary run directory while its run is alive: the host and pid that claimed it, so
``exchange-sim clean`` can tell a killed run's leftover from a run still being written."""
FREE_SPACE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
"""Write errors after which the partial log is removed (it is what filled the disk or hit the
limit) rather than kept in ``X.failed``."""


class Claim:
    """A run directory claimed for one run: ``final`` is where it will be, ``temp`` the hidden
    sibling this run created (and only it may remove), ``created_parents`` the ancestors it made."""

    __slots__ = ("created_parents", "final", "temp")

    def __init__(self, final: str, temp: str, created_parents: list[str]) -> None:
        self.final = final
        self.temp = temp
        self.created_parents = created_parents


def temp_name(final: str) -> str:
    """The hidden temporary sibling of run directory ``final`` (its claim)."""
    return os.path.join(os.path.dirname(final), f".{os.path.basename(final)}{TEMP_SUFFIX}")


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


def _remove_empty(directories: list[str]) -> None:
    for directory in directories:
        try:
            os.rmdir(directory)
        except OSError:
            return


def _try_claim(final: str) -> Claim | None:
    """Claim ``final`` (absolute); ``None`` when it, or its claim, exists already."""
    if os.path.lexists(final):
        return None
    created = _missing_parents(final)
    try:
        os.makedirs(os.path.dirname(final), exist_ok=True)
    except OSError as exc:
        _remove_empty(created)
        raise ConfigError("--out", final, f"cannot create: {exc.strerror or exc}") from None
    temp = temp_name(final)
    try:
        os.mkdir(temp)
    except FileExistsError:
        _remove_empty(created)
        return None
    except OSError as exc:
        _remove_empty(created)
        raise ConfigError("--out", final, f"cannot create: {exc.strerror or exc}") from None
    if os.path.lexists(final):  # finished by another run between our check and our claim
        os.rmdir(temp)
        _remove_empty(created)
        return None
    _write_owner(temp)
    return Claim(final, temp, created)


def _write_owner(temp: str) -> None:
    with open(os.path.join(temp, OWNER_FILE), "w", encoding="utf-8") as handle:
        json.dump({"host": socket.gethostname(), "pid": os.getpid()}, handle)


def _drop_owner(temp: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(os.path.join(temp, OWNER_FILE))


def claim_dir(out_dir: str) -> Claim:
    """Claim ``out_dir`` for a run; an existing directory (or one being written) is bad input."""
    final = os.path.abspath(out_dir)
    if os.path.lexists(final):
        raise ConfigError("--out", out_dir, "already exists; choose a new directory")
    claim = _try_claim(final)
    if claim is None:
        raise ConfigError("--out", out_dir, "already exists or is being written by another run")
    return claim


def claim_fresh_dir(root: str, name: str, seed: int) -> Claim:
    """Claim ``root/<name>-s<seed>-<n>`` with the smallest free n (no wall clock involved);
    parallel runs of the same config and seed each get their own n."""
    n = 1
    while True:
        final = os.path.abspath(os.path.join(root, f"{name}-s{seed}-{n}"))
        if not os.path.lexists(final + ".failed"):
            claim = _try_claim(final)
            if claim is not None:
                return claim
        n += 1


def release(claim: Claim) -> None:
    """Give a claim back: remove the temporary directory this run created, and its parents."""
    shutil.rmtree(claim.temp, ignore_errors=True)
    _remove_empty(claim.created_parents)


def move_failed(claim: Claim) -> str:
    """Rename the claim's temporary directory to ``<final>.failed`` (or ``.failed-2``, ...:
    never over an existing directory); return where it went."""
    n = 1
    while True:
        target = claim.final + (".failed" if n == 1 else f".failed-{n}")
        if not os.path.lexists(target):
            try:
                os.rename(claim.temp, target)
                return target
            except OSError:
                if not os.path.lexists(target):
                    raise
        n += 1


class RunResult:
    __slots__ = ("directory", "summary")

    def __init__(self, directory: str, summary: dict) -> None:
        self.directory = directory
        self.summary = summary


class _NullSink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        return len(data)


def _write_summary(directory: str, summary: dict) -> None:
    with open(os.path.join(directory, "summary.json"), "wb") as handle:
        handle.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")


def _write_run(
    loaded: LoadedConfig,
    directory: str,
    progress: bool,
    write_summary=True,
    keep_events=True,
    build=None,
    header: str = "",
) -> dict:
    """Run ``loaded`` into ``directory`` (config, log unless not kept, and the summary unless told
    not to). ``build`` and ``header`` (comment lines atop config.toml): see :func:`execute`."""
    with open(os.path.join(directory, "config.toml"), "w", encoding="utf-8") as handle:
        handle.write(header + toml_out.dumps(_with_data_copies(loaded, directory)))
    if keep_events:
        path = os.path.join(directory, "events.jsonl")
        with open(path, "wb", buffering=WRITE_BUFFER_BYTES) as sink:
            summary, _ = simulate(loaded, sink, progress, build)
    else:
        summary, _ = simulate(loaded, _NullSink(), progress, build)
    if write_summary:
        _write_summary(directory, summary)
    return summary


def _with_data_copies(loaded: LoadedConfig, directory: str) -> dict:
    """The config to save in ``directory``: each data file copied to ``directory/data/`` (once
    when several perpetuals read it; renamed when two files share a name) and the config
    pointing at the copy (relative to config.toml), so the saved config reproduces the
    run from anywhere; the config hash reads the files' contents, so it does not change."""
    data = loaded.to_data()
    files = loaded.data_files()
    if files:
        os.makedirs(os.path.join(directory, "data"), exist_ok=True)
    copied: dict[str, str] = {}  # name in data/ -> the file it copies
    for key, source in files.items():
        base = name = os.path.basename(source)
        number = 0
        while copied.get(name, source) != source:  # another file of the same name
            number += 1
            name = f"{number}_{base}"
        if name not in copied:
            copied[name] = source
            shutil.copyfile(source, os.path.join(directory, "data", name))
        table = data
        for part in key[:-1]:
            table = table[part]
        table[key[-1]] = f"data/{name}"
    return data


def execute(
    loaded: LoadedConfig,
    out: str | Claim,
    progress: bool = False,
    keep_events: bool = True,
    build=None,
    header: str = "",
    extra: dict[str, bytes] | None = None,
    check_participants: bool = True,
) -> RunResult:
    """Preflight, claim, run, and write the run directory; return it with the run's summary.

    ``out`` is a path (preflight and claim happen here) or a :class:`Claim` made after the caller's
    own preflight. ``keep_events=False`` writes no ``events.jsonl`` (the summary is the same).
    ``build(loaded, log)`` makes the venue (default: with the config's participants);
    ``header`` is written atop config.toml (TOML comments); ``extra`` maps file names to the
    bytes written next to the log; ``check_participants`` false skips the preflight's checks of
    the participants (a re-drive: they never act)."""
    if not isinstance(out, Claim):
        preflight(loaded, check_participants)
        out = claim_dir(out)
    claim = out
    temp_dir = claim.temp
    try:
        summary = _write_run(loaded, temp_dir, progress, False, keep_events, build, header)
        for name, data in (extra or {}).items():
            with open(os.path.join(temp_dir, name), "wb") as handle:
                handle.write(data)
        if loaded.config.run.amplification:
            baseline_dir = os.path.join(temp_dir, "baseline")
            os.mkdir(baseline_dir)
            baseline = _write_run(
                baseline_config(loaded), baseline_dir, progress, True, keep_events
            )
            summary["amplification"] = amplification(summary, baseline)
        _write_summary(temp_dir, summary)
    except InputError:
        release(claim)
        raise
    except (KeyboardInterrupt, RunInterrupted) as exc:
        name = exc.signal_name if isinstance(exc, RunInterrupted) else "SIGINT"
        failed = _fail(
            claim,
            f"interrupted by {name}: events.jsonl holds the log up to the interruption (no\n"
            "run_end line: `exchange-sim replay` reports it as truncated at its last seq)\n",
        )
        exc.add_note(f"the partial run is in {failed}")
        raise
    except OSError as exc:
        removed = exc.errno in FREE_SPACE_ERRNOS and _remove_log(temp_dir)
        problem = exc.strerror or str(exc)
        kept = "its partial log removed to free the space" if removed else "with its partial log"
        failed = _fail(claim, f"I/O error: {problem} ({exc.filename or temp_dir})\n{kept}\n")
        raise RunIOError(failed, f"{problem}; the run stopped, {kept}") from None
    except BaseException as exc:
        failed = _fail(claim, traceback.format_exc())
        exc.add_note(f"traceback in {os.path.join(failed, 'error.txt')}")
        raise
    _drop_owner(temp_dir)
    os.rename(temp_dir, claim.final)
    return RunResult(claim.final, summary)


def _fail(claim: Claim, text: str) -> str:
    """Write ``error.txt`` (best effort: the disk may be full) and move the run to ``.failed``."""
    _drop_owner(claim.temp)
    try:
        with open(os.path.join(claim.temp, "error.txt"), "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError:
        pass
    return move_failed(claim)


def _remove_log(directory: str) -> bool:
    removed = False
    for root, _, files in os.walk(directory):
        if "events.jsonl" in files:
            os.remove(os.path.join(root, "events.jsonl"))
            removed = True
    return removed
