"""A funding rate fixed ahead of its timestamp (OKX §6.5: the rate of 07:59 is paid at 08:00).

Grid and helpers as in ``test_funding_scheduler``. Rule: the OKX preset with a 1 h interval and
1-minute samples of ``(mid - index) / index``. Book 1 until 59.5 min: bid 10,010, ask 10,030, mid
10,020, premium +0.2 % = 2,000,000 ppb; book 2 after: bid 9,970, ask 9,990, mid 9,980, -0.2 %.

* Fixed at 59 min (``rate_fixed_before = 1 min``): the 59 samples of minutes 1-59, all +0.2 %:
  F_8h = 2,000,000, paid for 1 h: 2,000,000 / 8 = **250,000 ppb** (cap 0.375 % not hit).
* Computed at 60 min: the 60th sample (-0.2 %) joins: mean floor((59 x 2e6 - 2e6) / 60) =
  1,933,333, / 8 = floor(241,666.6) = 241,666 ppb. The rule must pay the first.
"""

from __future__ import annotations

import attrs
import pytest

from exchange_sim.core.units import NS_PER_HOUR, NS_PER_MIN, NS_PER_S
from exchange_sim.funding.config import OKX, FundingRule
from exchange_sim.kernel.environment import Phase
from tests.unit.funding.test_funding_scheduler import Venue, set_book

H, MIN, S = NS_PER_HOUR, NS_PER_MIN, NS_PER_S
MARK = 10_000
FIXED_RATE = 250_000
RATE_AT_TIMESTAMP = 241_666


def okx_venue(rate_fixed_before: int):
    rule = attrs.evolve(OKX, interval=H, rate_fixed_before=rate_fixed_before)
    venue = Venue(rule, mark=MARK)
    set_book(venue.book, [(10_010, 5)], [(10_030, 5)])
    venue.at(
        59 * MIN + 30 * S, Phase.MATCH, lambda: set_book(venue.book, [(9_970, 5)], [(9_990, 5)])
    )
    venue.position(1, 10, MARK)
    venue.position(2, -10, MARK)
    return venue


def test_okx_preset_fixes_the_rate_one_minute_ahead():
    """The OKX funding preset fixes its rate 60 s before each timestamp (§6.5)."""
    assert OKX.rate_fixed_before == MIN


def test_rate_paid_is_the_one_computed_a_minute_before_the_timestamp():
    """Paid at 1 h: the rate of the samples up to 59 min (250,000 ppb), not 241,666."""
    venue = okx_venue(MIN)
    venue.run(H + 1)
    payments = venue.of_type("funding_payment")
    assert {e["ts"] for e in payments} == {H}
    assert {e["rate_ppb"] for e in payments} == {FIXED_RATE}
    # long 10 lots at 10,000 x 10 cents/tick-lot: 1,000,000 cents x 250,000 ppb = 250 cents paid
    assert {e["account"]: e["amount_minor"] for e in payments} == {1: -250, 2: 250}


def test_fixing_is_logged_at_the_fix_and_causes_the_payments():
    """One funding_rate event at 59 min over (0, 59 min], 59 samples; payments cite it."""
    venue = okx_venue(MIN)
    venue.run(H + 1)
    (rate,) = venue.of_type("funding_rate")
    assert rate["ts"] == 59 * MIN
    assert (rate["interval_start_ts"], rate["interval_end_ts"]) == (0, 59 * MIN)
    assert (rate["sample_count"], rate["rate_ppb"]) == (59, FIXED_RATE)
    assert {e["cause"] for e in venue.of_type("funding_payment")} == {rate["seq"]}


def test_samples_after_the_fix_count_toward_the_next_rate():
    """The next rate (fixed at 1 h 59 min) averages the samples of (59 min, 1 h 59 min]: 60."""
    venue = okx_venue(MIN)
    venue.run(2 * H + 1)
    _, second = venue.of_type("funding_rate")
    assert second["ts"] == 2 * H - MIN
    assert (second["interval_start_ts"], second["sample_count"]) == (59 * MIN, 60)
    assert second["average_premium_ppb"] == -2_000_000


def test_without_a_lead_the_rate_is_computed_at_the_timestamp():
    """rate_fixed_before = 0: the 60 samples up to 1 h, rate 241,666 ppb, logged at 1 h."""
    venue = okx_venue(0)
    venue.run(H + 1)
    (rate,) = venue.of_type("funding_rate")
    assert (rate["ts"], rate["sample_count"], rate["rate_ppb"]) == (H, 60, RATE_AT_TIMESTAMP)


def test_mark_rule_hears_the_fixed_rate_at_the_timestamp():
    """The mark rule is told the fixed rate at 1 h (the funding time), for the next interval."""
    venue = okx_venue(MIN)
    venue.run(H + 1)
    assert venue.mark.rule.calls == [(0, H, H), (FIXED_RATE, 2 * H, H)]


def test_a_lead_of_a_whole_interval_is_rejected():
    """rate_fixed_before must be shorter than the interval."""
    with pytest.raises(ValueError, match="rate_fixed_before"):
        FundingRule(interval=H, rate_fixed_before=H)


def test_a_lead_with_a_settlement_delay_is_rejected():
    """A rate fixed ahead is paid at the timestamp: no settlement delay with it."""
    with pytest.raises(ValueError, match="settlement_delay"):
        FundingRule(interval=H, rate_fixed_before=MIN, settlement_delay=15 * S)
