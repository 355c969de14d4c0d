"""Block draws from a numpy stream, handed out one Python number at a time (cheap on hot paths)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

BLOCK = 1024


class BlockDraws:
    """``next()`` returns the next value of ``draw_block(rng, BLOCK)``, refilled as needed."""

    __slots__ = ("_block", "_draw_block", "_rng")

    def __init__(
        self, rng: np.random.Generator, draw_block: Callable[[np.random.Generator, int], np.ndarray]
    ) -> None:
        self._rng = rng
        self._draw_block = draw_block
        self._block: list = []

    def next(self):
        block = self._block
        if not block:
            block.extend(self._draw_block(self._rng, BLOCK)[::-1].tolist())
        return block.pop()
