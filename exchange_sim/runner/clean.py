"""Leftovers of killed runs: temporary run directories whose process is gone.

A run writes into its claimed hidden sibling ``.X.tmp-run`` and renames it when it finishes or
fails (:mod:`.rundir`); only a process killed outright (SIGKILL, a power cut) leaves one behind.
The claim holds ``claim.json`` with the host and pid of its run: a temporary directory is a
leftover when that file is missing or unreadable, or names this host and a pid that no longer
runs. One claimed on another host is never called a leftover (its process cannot be checked
from here). ``exchange-sim run`` reports leftovers next to its output; ``exchange-sim clean``
removes them.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket

from exchange_sim.runner.rundir import OWNER_FILE, TEMP_SUFFIX


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_leftover(temp_dir: str) -> bool:
    """``temp_dir`` (a ``.X.tmp-run`` directory) belongs to no live run on this host."""
    try:
        with open(os.path.join(temp_dir, OWNER_FILE), encoding="utf-8") as handle:
            owner = json.load(handle)
        host, pid = owner["host"], owner["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    if host != socket.gethostname():
        return False
    return not (type(pid) is int and pid > 0 and _alive(pid))


def _size(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def find_leftovers(root: str, recursive: bool = True) -> list[tuple[str, int]]:
    """``(path, bytes)`` of every leftover temporary run directory under ``root``, sorted."""
    found: list[tuple[str, int]] = []
    if not os.path.isdir(root):
        return found
    for here, dirs, _ in os.walk(root):
        for name in sorted(dirs):
            if name.startswith(".") and name.endswith(TEMP_SUFFIX):
                path = os.path.join(here, name)
                if is_leftover(path):
                    found.append((path, _size(path)))
        dirs[:] = [d for d in dirs if not d.endswith(TEMP_SUFFIX)] if recursive else []
    return sorted(found)


def remove_leftovers(root: str) -> list[tuple[str, int]]:
    """Remove every leftover under ``root``; return what was removed."""
    found = find_leftovers(root)
    for path, _ in found:
        shutil.rmtree(path, ignore_errors=True)
    return found
