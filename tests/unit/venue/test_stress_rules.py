"""The stress policies' pure rules: move window, volatility, margin factor, throttle gap, ADL cap,
mark smoothing, and their config's refusals."""

from __future__ import annotations

import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.liquidation.adl_cap import AdlCapConfig, allocate_capped_ranked, cap_lots
from exchange_sim.liquidation.apportion import allocate_ranked
from exchange_sim.pricing.mark_smoothing import MarkSmoothingConfig, SmoothedMark
from exchange_sim.runner.api import load_config
from exchange_sim.venue.stress_rules import (
    MoveWindow,
    ReturnWindow,
    largest_share_ppb,
    margin_factor_ppb,
    throttle_gap_ns,
    tripped,
    worth_applying,
)

S = 1_000_000_000
B = 1_000_000_000  # one in ppb


def test_move_window_measures_fall_from_the_high_within_the_window():
    """The fall is measured from the highest mark still in the window (10 % from 1,000)."""
    window = MoveWindow(10 * S)
    for t, price in ((0, 950), (S, 1_000), (2 * S, 980), (3 * S, 900)):
        window.add(t, price)
    assert window.move_ppb(900) == 100_000_000


def test_move_window_forgets_marks_older_than_the_window():
    """A high exactly one window old has left it: the fall is measured from the later 980."""
    window = MoveWindow(10 * S)
    window.add(0, 1_000)
    window.add(S, 980)
    window.add(10 * S, 931)
    assert window.move_ppb(931) == 50_000_000


def test_move_window_measures_rise_from_the_low():
    """A rise from the window's low counts as well (900 to 990: 10 %)."""
    window = MoveWindow(60 * S)
    window.add(0, 900)
    window.add(S, 990)
    assert window.move_ppb(990) == 100_000_000


def test_breaker_trips_only_on_more_than_the_threshold():
    """Equal to the threshold does not trip; one ppb more does."""
    assert not tripped(50_000_000, 50_000_000)
    assert tripped(50_000_001, 50_000_000)


def test_return_window_volatility_is_root_of_summed_squared_returns():
    """Two 1 % returns give sqrt(2) % (14,142,135 ppb); they drop out after the window."""
    window = ReturnWindow(10 * S)
    window.add(0, 1_000)
    window.add(S, 1_010)
    window.add(2 * S, 1_000)
    # -0.990099 % rounds down (toward -inf) to -9,900,991 ppb
    assert window.volatility_ppb(2 * S) == int((10_000_000**2 + 9_900_991**2) ** 0.5)
    assert window.volatility_ppb(12 * S) == 0


def test_margin_factor_takes_the_larger_term_and_caps_it():
    """1 + max(20 x (3 % - 1 %), 2 x (60 % - 50 %)) = 1.4, capped at 3; nothing below the
    thresholds."""
    args = (10_000_000, 20 * B, 500_000_000, 2 * B, 3 * B)
    assert margin_factor_ppb(30_000_000, 600_000_000, *args) == 1_400_000_000
    assert margin_factor_ppb(30_000_000, 900_000_000, *args) == 1_800_000_000
    assert margin_factor_ppb(500_000_000, 0, *args) == 3 * B
    assert margin_factor_ppb(10_000_000, 500_000_000, *args) == B


def test_margin_factor_applied_only_on_a_large_enough_change_or_back_to_one():
    """A change smaller than the minimum is not applied; a return to exactly 1 always is."""
    assert not worth_applying(1_050_000_000, B, 100_000_000)
    assert worth_applying(1_100_000_000, B, 100_000_000)
    assert worth_applying(B, 1_050_000_000, 100_000_000)
    assert not worth_applying(B, B, 100_000_000)


def test_largest_share_of_open_interest():
    """The largest |position|, long or short, over one side's open interest (a 40-lot short of
    60 lots: 2/3, rounded down)."""
    assert largest_share_ppb([10, -40, 20, 30, -20], 60) == 666_666_666
    assert largest_share_ppb([], 0) == 0


def test_throttle_gap_falls_with_depth_within_its_bounds():
    """Full depth: 1 / max throughput; half depth: twice the gap; thin: 1 / min throughput."""
    assert throttle_gap_ns(1_000, 1_000, 10, 1) == S // 10
    assert throttle_gap_ns(500, 1_000, 10, 1) == S // 5
    assert throttle_gap_ns(10, 1_000, 10, 1) == S
    assert throttle_gap_ns(0, 1_000, 10, 2) == S // 2


def test_adl_cap_rounds_down_and_takes_the_smaller_cap():
    """One third of 10 lots is 3 (down); a 2,000 notional cap at 300 (x 1) allows 6."""
    config = AdlCapConfig(enabled=True, max_fraction=B // 3, max_notional=2_000)
    assert cap_lots(config, 10, 300, 1) == 3
    assert cap_lots(AdlCapConfig(enabled=True, max_fraction=B, max_notional=2_000), 10, 300, 1) == 6


class _Entry:
    def __init__(self, account_id: int, lots: int) -> None:
        self.account_id = account_id
        self.closable_lots = lots


def test_capped_walk_passes_the_excess_to_the_next_ranked_account():
    """Half of each position: 10 of 20, 5 of 10, then 5 of 40 cover 20 lots; uncapped the first
    account alone would."""
    queue = [_Entry(1, 20), _Entry(2, 10), _Entry(3, 40)]
    config = AdlCapConfig(enabled=True, max_fraction=B // 2)
    assert allocate_capped_ranked(config, queue, 20, 100, 1) == [(1, 10), (2, 5), (3, 5)]
    assert allocate_ranked(queue, 20) == [(1, 20)]


def test_capped_walk_leaves_what_the_queue_cannot_take():
    """Each account gives at most half: 15 of 40 lots are allocated."""
    queue = [_Entry(1, 20), _Entry(2, 10)]
    config = AdlCapConfig(enabled=True, max_fraction=B // 2)
    assert allocate_capped_ranked(config, queue, 40, 100, 1) == [(1, 10), (2, 5)]


class _Rule:
    determined_by = frozenset(("index",))

    def update(self, now, index, bid, ask, last):
        return index


def test_median_smoothing_uses_the_window_and_the_lower_median():
    """Window 2 s at 0.5 s updates: four values; a lone 940 is outvoted, two 940s of four
    values give the lower median, 940."""
    rule = SmoothedMark(_Rule(), MarkSmoothingConfig(kind="median", window=2 * S))
    marks = [rule.update(t * S // 2, p, None, None, None) for t, p in enumerate((1_000,) * 3)]
    assert rule.update(3 * S // 2, 940, None, None, None) == 1_000
    assert rule.update(2 * S, 940, None, None, None) == 940
    assert marks == [1_000] * 3


def test_ema_smoothing_moves_by_its_weight():
    """Weight 0.3: from 1,000 a value of 900 moves the mark to 970."""
    rule = SmoothedMark(_Rule(), MarkSmoothingConfig(kind="ema", weight=300_000_000))
    assert rule.update(0, 1_000, None, None, None) == 1_000
    assert rule.update(S, 900, None, None, None) == 970


@pytest.mark.parametrize(
    ("stress", "key"),
    [
        ({"circuit_breaker": {"action": "pause"}}, "stress.circuit_breaker.action"),
        ({"liquidation_throttle": {"min_throughput": 5, "max_throughput": 2}}, "min_throughput"),
        ({"mark_smoothing": {"kind": "mean"}}, "stress.mark_smoothing.kind"),
        ({"dynamic_margin": {"vol_slope": "0.0000000001"}}, "vol_slope"),
        ({"adl_cap": {"max_fraction": 0}}, "stress.adl_cap.max_fraction"),
        ({"circuit_breaker": {"window": 5}}, "stress.circuit_breaker.window"),
    ],
)
def test_bad_stress_config_is_refused_naming_the_key(stress, key):
    """Each bad value is a ConfigError naming its key."""
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config({"stress": stress})


def test_dynamic_margin_cadence_counts_in_the_step_budget_only_when_on():
    """Off, the policy's cadence adds no step to the estimate; on, 60 s / 10 s = 6."""
    from exchange_sim.runner.budget import estimate_steps

    off, _ = estimate_steps(load_config({}).config)
    on, rows = estimate_steps(load_config({"stress": {"dynamic_margin": {"enabled": True}}}).config)
    assert on - off == 6
    assert ("stress.dynamic_margin.cadence", "10s", 6) in rows
