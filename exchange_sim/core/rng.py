"""Named random streams derived from one root seed.

Each component asks for its own stream by a stable name (``"latency/mm-1/request"``). The stream's
seed is ``SeedSequence(root_seed, spawn_key=<words of sha256(name)>)``, so a stream depends only on
the root seed and its name: adding a component, or asking for streams in another order, never
changes another component's draws. There is no global or unseeded generator anywhere.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> tuple[int, ...]:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class RngStreams:
    """Factory of independent, reproducible ``numpy.random.Generator`` streams."""

    __slots__ = ("_issued", "root_seed")

    def __init__(self, root_seed: int) -> None:
        if root_seed < 0:
            raise ValueError("root seed must be non-negative")
        self.root_seed = root_seed
        self._issued: set[str] = set()

    def stream(self, name: str) -> np.random.Generator:
        """The generator for ``name``. Each name may be issued once per run (no hidden sharing)."""
        if name in self._issued:
            raise ValueError(f"RNG stream {name!r} was already issued in this run")
        self._issued.add(name)
        seq = np.random.SeedSequence(self.root_seed, spawn_key=_name_key(name))
        return np.random.Generator(np.random.PCG64(seq))
