"""The matching log: declared event schema, book rebuild from events, and the config section."""

from __future__ import annotations

import pytest

from exchange_sim.config.loader import load_section
from exchange_sim.core.errors import ConfigError
from exchange_sim.events.types import COMMON_FIELDS
from exchange_sim.matching import BUY, FOK, IOC, SELL, MatchingConfig, Order, rebuild_book
from exchange_sim.matching.event_types import EVENTS
from tests.record_shape import misshapen

COMMON = {name for name, _ in COMMON_FIELDS}


def busy_session(engine) -> None:
    """A sequence touching every event type: rests, sweeps, IOC/FOK, STP, amends, cancels."""
    engine.reference_price = lambda: 100
    submit = engine.submit
    submit(0, Order(1, 1, SELL, 101, 3), None)
    submit(0, Order(2, 2, SELL, 101, 2), None)
    submit(0, Order(3, 3, SELL, 103, 4), None)
    submit(0, Order(4, 4, BUY, 99, 5), None)
    submit(0, Order(5, 5, BUY, 98, 5, post_only=True), None)
    submit(1, Order(6, 6, BUY, 102, 4), None)  # 3 @ 101 from order 1, 1 @ 101 from order 2
    submit(2, Order(7, 2, BUY, 101, 3), None)  # meets own order 2: STP cancels the taker
    submit(3, Order(8, 7, SELL, None, 2, tif=IOC), None)  # 2 @ 99 from order 4
    submit(4, Order(9, 8, BUY, 110, 9, tif=FOK), None)  # only 5 lots inside the band: expires
    submit(5, Order(10, 9, SELL, 0, 1), None)  # rejected: price out of range
    engine.amend(6, 4, 4, None, 3, None)  # 5 -> 3 lots (2 filled): keeps priority
    engine.amend(7, 5, 5, 97, 6, None)  # loses priority
    engine.amend(8, 4, 4, 103, None, None)  # crosses: 1 @ 101 from order 2
    engine.cancel(9, 1, 1, None)  # order 1 is filled: unknown
    engine.amend(9, 1, 1, 100, None, None)  # unknown
    engine.cancel_all(10, 3, None)
    submit(11, Order(11, 1, SELL, 99, 1), None)


def test_every_event_carries_exactly_its_declared_fields(make_engine):
    """Each emitted event's payload keys equal the fields declared for its type."""
    engine, log = make_engine(price_band_ppb=100_000_000)
    busy_session(engine)
    declared = {event.name: event.field_names for event in EVENTS}
    for event in log.events:
        assert set(event) - COMMON == declared[event["type"]], event


def test_every_event_has_its_declared_keys_in_declaration_order(make_engine):
    """Each line the engine builds at the call site: seq, ts, type, cause, then exactly the
    declared fields of its type, in declaration order (a dropped or swapped key fails)."""
    engine, log = make_engine(price_band_ppb=100_000_000)
    busy_session(engine)
    assert misshapen(log.events) == []


def test_session_emits_every_declared_type(make_engine):
    """The busy session reaches every declared event type (so the schema test covers them all)."""
    engine, log = make_engine(price_band_ppb=100_000_000)
    busy_session(engine)
    assert {e["type"] for e in log.events} == {event.name for event in EVENTS}


def test_rebuilt_book_equals_live_book(make_engine):
    """Replaying the session's events reproduces every resting order and queue position."""
    engine, log = make_engine(price_band_ppb=100_000_000)
    busy_session(engine)
    rebuilt = rebuild_book(log.events)
    assert rebuilt.difference(engine.book) is None
    rebuilt.check_invariants()


def test_rebuild_replays_priority_loss_of_an_amend(make_engine):
    """An amend that loses priority puts the order behind the others in the rebuilt book too."""
    engine, log = make_engine()
    engine.submit(0, Order(1, 1, BUY, 100, 5), None)
    engine.submit(0, Order(2, 2, BUY, 100, 5), None)
    engine.amend(1, 1, 1, None, 6, None)
    engine.submit(2, Order(3, 3, SELL, 100, 2), None)
    rebuilt = rebuild_book(log.events)
    assert [(o.order_id, o.remaining_lots) for o in rebuilt.bids[100]] == [(2, 3), (1, 6)]
    assert rebuilt.same_as(engine.book)


def test_config_band_written_as_rate_becomes_ppb():
    """price_band_ppb written as 0.05 (5 %) loads as 50,000,000 parts per billion."""
    config = load_section(MatchingConfig, {"price_band_ppb": "0.05"}, "matching", None)
    assert config.price_band_ppb == 50_000_000


@pytest.mark.parametrize(
    "data",
    [
        {"stp": "cancel_everything"},
        {"min_price_ticks": 0},
        {"min_price_ticks": 10, "max_price_ticks": 9},
        {"price_band_ppb": "-0.01"},
        {"tick": 1},
    ],
)
def test_config_rejects_bad_values(data):
    """Unknown STP modes, non-positive or inverted price bounds, negative bands and unknown keys."""
    with pytest.raises(ConfigError):
        load_section(MatchingConfig, data, "matching", None)


def test_side_constants_are_signed_units():
    """BUY and SELL are +1 and -1 so side * size is a signed position change."""
    assert (BUY, SELL) == (1, -1)
    assert FOK != IOC
