"""Fixtures of the matching tests: an engine writing to a MemoryLog."""

from __future__ import annotations

import pytest

from exchange_sim.events.log import MemoryLog
from exchange_sim.matching import MatchingConfig, MatchingEngine


@pytest.fixture
def make_engine():
    """``make_engine(**config) -> (engine, log)`` with ``MatchingConfig(**config)``."""

    def make(**config) -> tuple[MatchingEngine, MemoryLog]:
        log = MemoryLog()
        return MatchingEngine(log, MatchingConfig(**config)), log

    return make
