"""Leveraged entries that retry (``entry_retries``): the unfilled part is sent again after
``entry_retry_delay``, at most ``entry_retries`` times, caused by the expiry it answers.

Market: :mod:`trader_harness` (tick 1, lot 1, no fees, index 10,000). A trader with deposit
10,000 at 10x and position_fraction 0.9 wants floor(90,000 / 10,000) = 9 lots.
"""

from __future__ import annotations

import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.api import load_config
from tests.unit.agents.trader_harness import MAKER, START, Market, S

THIN = MAKER | {"levels": 2, "level_size": 3}
"""6 lots on the ask side: a 9-lot entry fills 6 and its remainder expires."""


def leveraged(**changes) -> dict:
    values = {
        "kind": "leveraged",
        "name": "lev",
        "count": 1,
        "deposit": 10_000,
        "leverages": [10],
        "long_fraction": 1,
        "position_fraction": "0.9",
        "entry_start": "1s",
        "entry_end": "2s",
    }
    values.update(changes)
    return values


def test_an_entry_that_expired_in_part_is_completed_by_a_retry():
    """The 9-lot entry fills 6 against a thin book and 3 lots expire; after the retry delay
    (cause: the order_expired) the rest is sized again at the index the trader sees then
    (10,001 from 2 s: floor(90,000 / 10,001) = 8 lots, less the 6 held = 2) and fills against
    the requoted book."""
    market = Market([THIN, leveraged(entry_retries=2, entry_retry_delay="1s")])
    market.index_path([(2 * S, START + 1)])
    market.run(10 * S)
    (account,) = market.accounts_of("lev")
    assert market.position(account) == 8
    (expired,) = [e for e in market.of_type("order_expired") if e["account_id"] == account]
    (retry,) = market.orders_caused_by(expired["seq"])
    assert retry["size_lots"] == 2 and retry["ts"] >= expired["ts"] + S


def test_without_retries_the_expired_part_stays_unfilled():
    """entry_retries = 0 (the default): the same entry ends at 6 lots."""
    market = Market([THIN, leveraged()])
    market.index_path([(2 * S, START + 1)])
    market.run(10 * S)
    (account,) = market.accounts_of("lev")
    assert market.position(account) == 6


def test_an_entry_is_sent_at_most_one_plus_entry_retries_times():
    """With no ask at all every entry expires: 1 + 3 entry orders, then the trader stops."""
    market = Market([leveraged(entry_retries=3, entry_retry_delay="1s")])
    market.run(20 * S)
    (account,) = market.accounts_of("lev")
    orders = [e for e in market.of_type("order_accepted") if e["account_id"] == account]
    assert len(orders) == 4
    assert market.position(account) == 0


def test_entry_retries_are_refused_with_the_life_cycle():
    """entry_retries applies to the plain entry only: with a life-cycle key it is a ConfigError."""
    with pytest.raises(ConfigError, match="entry_retries"):
        load_config({"participants": [leveraged(entry_retries=1, holding="fixed")]})
