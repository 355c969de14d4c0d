"""Named RNG streams and run-owned ids."""

from __future__ import annotations

import pytest

from exchange_sim.core.ids import IdSource
from exchange_sim.core.rng import RngStreams


def test_same_seed_and_name_give_same_draws():
    """A stream is a pure function of (root seed, name)."""
    a = RngStreams(7).stream("latency/mm")
    b = RngStreams(7).stream("latency/mm")
    assert a.integers(0, 10**9, 100).tolist() == b.integers(0, 10**9, 100).tolist()


def test_streams_do_not_depend_on_request_order():
    """Asking for other streams first does not shift a stream's draws."""
    first = RngStreams(7)
    first.stream("other")
    x = first.stream("index").random(5).tolist()
    y = RngStreams(7).stream("index").random(5).tolist()
    assert x == y


def test_different_names_are_independent():
    """Two names give different sequences under one seed."""
    streams = RngStreams(7)
    assert streams.stream("a").random(5).tolist() != streams.stream("b").random(5).tolist()


def test_different_seeds_differ():
    """The root seed changes every stream."""
    assert (
        RngStreams(1).stream("a").random(3).tolist() != RngStreams(2).stream("a").random(3).tolist()
    )


def test_a_stream_name_is_issued_once():
    """Two components can never share a stream by accident."""
    streams = RngStreams(1)
    streams.stream("a")
    with pytest.raises(ValueError, match="already issued"):
        streams.stream("a")


def test_ids_are_per_source_and_per_kind():
    """Each IdSource counts each kind from 1; two sources do not interfere."""
    one, two = IdSource(), IdSource()
    assert [one.next("order"), one.next("order"), one.next("account")] == [1, 2, 1]
    assert two.next("order") == 1
    issue = one.counter("order")
    assert issue() == 3
