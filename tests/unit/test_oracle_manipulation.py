"""Oracle manipulation: a participant pushes one thin spot source of the index down to liquidate a
leveraged long crowd (configs/scenarios/oracle_manipulation.toml).

The index rule decides what the push does (exchange_mechanics.md §1.1: a source more than the
band from the median of all sources gets weight 0; §1.6: a (weighted) median). The pure tests use
the scenario's weights (3, 3, 2, the thin source last) on exact prices; the run tests run the
scenario, shortened (48 s, 30 longs, the manipulator closing at 46 s), under three rules and read
the counts from the log.
"""

from __future__ import annotations

import itertools
import os
from fractions import Fraction as F

import pytest

import exchange_sim as es
from exchange_sim.core.errors import InputError
from exchange_sim.markets.index_rule import combine

SCENARIO = os.path.join(
    os.path.dirname(__file__), "..", "..", "configs", "scenarios", "oracle_manipulation.toml"
)
SHORT = ("run.duration=48s", "participants.longs.count=30", "participants.manipulator.close_at=46s")
START_TICKS = 500_000  # 50,000.0 USDT, the fundamental's start
WEIGHTS = [F(3), F(3), F(2)]
BAND_5PCT, BAND_2PCT = 50_000_000, 20_000_000

# -- the rules on a pushed source (pure) ---------------------------------------------------------


def test_a_pushed_source_exactly_at_the_band_keeps_its_weight():
    """Deep sources at 10,000, the thin one pushed to 9,500: exactly 5 % (500) below the median,
    not more, so it keeps its weight 2 of 8 and moves the index by a quarter of its fall:
    (3 x 10,000 + 3 x 10,000 + 2 x 9,500) / 8 = 9,875 (the most a push can do under the band)."""
    value, used = combine([F(10_000), F(10_000), F(9_500)], WEIGHTS, "weighted_mean", BAND_5PCT)
    assert (value, used) == (F(9_875), [0, 1, 2])


def test_a_pushed_source_one_tick_beyond_the_band_gets_weight_zero():
    """The thin source at 9,499 is 501 below the median 10,000, more than the band (500): weight
    0, and the index is the deep sources' 10,000."""
    value, used = combine([F(10_000), F(10_000), F(9_499)], WEIGHTS, "weighted_mean", BAND_5PCT)
    assert (value, used) == (F(10_000), [0, 1])


def test_a_tight_band_admits_a_push_only_up_to_its_edge():
    """Band 2 % of 10,000 = 200: the thin source at 9,800 counts (index 9,950, a 0.5 % move);
    at 9,799 it is dropped (index 10,000)."""
    at_edge = combine([F(10_000), F(10_000), F(9_800)], WEIGHTS, "weighted_mean", BAND_2PCT)
    beyond = combine([F(10_000), F(10_000), F(9_799)], WEIGHTS, "weighted_mean", BAND_2PCT)
    assert at_edge == (F(9_950), [0, 1, 2])
    assert beyond == (F(10_000), [0, 1])


def test_without_an_outlier_rule_the_pushed_source_moves_the_index_by_its_weight():
    """No band: the thin source pushed 10 % down (9,000) takes the index 2.5 % down (9,750)."""
    value, used = combine([F(10_000), F(10_000), F(9_000)], WEIGHTS, "weighted_mean", 0)
    assert (value, used) == (F(9_750), [0, 1, 2])


@pytest.mark.parametrize("method", ["median", "weighted_median"])
def test_a_median_of_three_ignores_one_pushed_source(method):
    """A median of three sources (plain, or weighted with the thin source's 2 of 8) is a deep
    source's price however far the thin one is pushed."""
    value, _used = combine([F(10_000), F(10_010), F(5_000)], WEIGHTS, method, 0)
    assert value == F(10_000)


# -- the scenario under three rules --------------------------------------------------------------

RULES = {
    "no_outlier_rule": ("index.process.outlier_band_ppb=0",),
    "band_2pct": ("index.process.outlier_band_ppb=0.02",),
    "median": ("index.process.method=median",),
}


@pytest.fixture(scope="module")
def runs():
    return {
        rule: es.run(SCENARIO, overrides=SHORT + overrides, keep_events=True)
        for rule, overrides in RULES.items()
    }


def _of_type(result, kind: str) -> list[dict]:
    return [e for e in result.events if e["type"] == kind]


def _index_min(result) -> int:
    return min(e["price"] for e in _of_type(result, "index_price"))


def _sweeps(result) -> list[tuple]:
    return [
        (e["ts"], e["lots"], e["limit_price_ticks"]) for e in _of_type(result, "manipulator_sweep")
    ]


def _accounts(result, participant: str) -> dict[str, int]:
    return {
        ("spot" if e["type"] == "spot_account_opened" else "perp"): e["account_id"]
        for e in result.events
        if e["type"] in ("account_opened", "spot_account_opened")
        and e["participant"] == participant
    }


def test_without_an_outlier_rule_the_push_moves_the_index_and_liquidates_longs(runs):
    """Plain weighted mean: the index falls more than 1.5 % and at least half of the 30 longs
    (40-75x) are liquidated."""
    result = runs["no_outlier_rule"]
    assert _index_min(result) < START_TICKS * 985 // 1000
    assert len(_of_type(result, "liquidation_triggered")) >= 15


@pytest.mark.parametrize("rule", ["band_2pct", "median"])
def test_an_outlier_band_or_a_median_holds_the_index_and_liquidates_nobody(runs, rule):
    """A 2 % outlier band (the pushed source is dropped) or a median: the index stays within
    0.5 % of its start and no account is liquidated."""
    result = runs[rule]
    assert _index_min(result) > START_TICKS * 995 // 1000
    assert _of_type(result, "liquidation_triggered") == []


def test_the_push_is_the_same_under_every_rule(runs):
    """The thin market does not read the index (its maker follows the fundamental), so the
    manipulator's sweeps are identical under the three rules, and each time its last trade
    printed more than 8 % below the start: only the rule differs."""
    sweeps = {rule: _sweeps(result) for rule, result in runs.items()}
    assert len(sweeps["median"]) >= 10
    assert sweeps["no_outlier_rule"] == sweeps["band_2pct"] == sweeps["median"]
    for result in runs.values():
        thin = [e["price_ticks"] for e in _of_type(result, "trade") if e["market"] == "spot-thin"]
        assert min(thin) < START_TICKS * 92 // 100


def test_sweeps_run_inside_the_window_to_a_limit_below_the_anchor(runs):
    """Every sweep is sent in [30 s, 45 s), sells, and its limit is the anchor (the bid seen at
    the push's start) times 0.9, rounded down."""
    for sweep in _of_type(runs["median"], "manipulator_sweep"):
        assert 30 * 10**9 <= sweep["ts"] < 45 * 10**9
        assert sweep["side"] == -1
        assert sweep["limit_price_ticks"] == sweep["anchor_price_ticks"] * 9 // 10


def test_the_manipulator_is_short_the_perpetual_until_it_closes(runs):
    """Under the band (no liquidation, no ADL) its perpetual position is -5 BTC from its open at
    2 s until its close at 46 s, then flat."""
    result = runs["band_2pct"]
    perp = _accounts(result, "manipulator")["perp"]
    positions = [
        (e["ts"], e["position_lots"])
        for e in _of_type(result, "position")
        if e["account_id"] == perp
    ]
    assert [p for ts, p in positions if ts < 46 * 10**9][-1] == -5_000
    assert all(ts >= 2 * 10**9 for ts, _ in positions)
    assert positions[-1] == (positions[-1][0], 0) and positions[-1][0] >= 46 * 10**9


def test_the_budget_caps_what_a_push_sells():
    """With a 20,000 USDT budget the manipulator's spot sales total at most 20,000 USDT of
    notional (fills at or below the bid its budget was counted at), and every sweep leaves a
    budget of at least 0."""
    result = es.run(
        SCENARIO,
        overrides=("run.duration=40s", "participants.manipulator.budget=20000"),
        keep_events=True,
    )
    spot = _accounts(result, "manipulator")["spot"]
    sold = sum(
        e["price_ticks"] * e["size_lots"]
        for e in _of_type(result, "spot_fill")
        if e["account_id"] == spot and e["side"] == -1
    )
    money_per_tick_lot = 100  # tick 0.1 x lot 0.001 x 10^6 minor units
    assert 0 < sold * money_per_tick_lot <= 20_000 * 10**6
    assert all(e["budget_left_minor"] >= 0 for e in _of_type(result, "manipulator_sweep"))


def test_repeated_pushes_each_run_in_their_own_window():
    """Two pushes (at 10 s and 25 s, 5 s each): sweeps numbered 0 fall in [10 s, 15 s), sweeps
    numbered 1 in [25 s, 30 s), and each push has its own budget."""
    result = es.run(
        SCENARIO,
        overrides=(
            "run.duration=32s",
            "participants.manipulator.push_start=10s",
            "participants.manipulator.push_window=5s",
            "participants.manipulator.pushes=2",
            "participants.manipulator.push_every=15s",
            "participants.manipulator.budget=30000",
        ),
        keep_events=True,
    )
    sweeps = _of_type(result, "manipulator_sweep")
    windows = {0: (10, 15), 1: (25, 30)}
    assert {e["push"] for e in sweeps} == {0, 1}
    for sweep in sweeps:
        low, high = windows[sweep["push"]]
        assert low * 10**9 <= sweep["ts"] < high * 10**9
    first_of_second = next(e for e in sweeps if e["push"] == 1)
    assert first_of_second["budget_left_minor"] > 20_000 * 10**6  # a fresh budget


def test_pushing_up_buys_the_source_to_a_limit_above_the_anchor():
    """direction = "up": the sweeps buy, to the anchor (the ask seen) times 1.1 rounded up, the
    thin market prints more than 8 % above the start, and the perpetual position is long."""
    result = es.run(
        SCENARIO,
        overrides=(
            *SHORT,
            "participants.manipulator.direction=up",
            "participants.manipulator.base_deposit=0",
            "participants.manipulator.spot_deposit=300000",
            "participants.manipulator.close_at=0s",
        ),
        keep_events=True,
    )
    sweeps = _of_type(result, "manipulator_sweep")
    assert sweeps
    for sweep in sweeps:
        assert sweep["side"] == 1
        assert sweep["limit_price_ticks"] == -(-sweep["anchor_price_ticks"] * 11 // 10)
    thin = [e["price_ticks"] for e in _of_type(result, "trade") if e["market"] == "spot-thin"]
    assert max(thin) > START_TICKS * 108 // 100
    perp = _accounts(result, "manipulator")["perp"]
    last = [e for e in _of_type(result, "position") if e["account_id"] == perp][-1]
    assert last["position_lots"] == 5_000


def test_overlapping_pushes_are_refused():
    """pushes = 2 with push_every shorter than push_window is a config error naming the table."""
    with pytest.raises(InputError, match="push_every"):
        es.load_config(
            SCENARIO,
            overrides=(
                "participants.manipulator.pushes=2",
                "participants.manipulator.push_every=5s",
            ),
        )


def _sweep_fills(result) -> list[tuple[dict, int]]:
    """Each sweep with the lots its order filled (its order is the one accepted with the sweep
    as cause; its fills are the trades it took)."""
    orders = {
        e["cause"]: e["order_id"]
        for e in result.events
        if e["type"] == "order_accepted" and e.get("market") == "spot-thin"
    }
    taken: dict[int, int] = {}
    for trade in _of_type(result, "trade"):
        taken[trade["taker_order_id"]] = taken.get(trade["taker_order_id"], 0) + trade["size_lots"]
    return [(s, taken.get(orders[s["seq"]], 0)) for s in _of_type(result, "manipulator_sweep")]


def test_a_sweep_waits_for_the_previous_one_to_close():
    """On a 300 ms spot link each way a sweep takes 600 ms to close, so sweeps sent every 250 ms
    are at least 600 ms apart (one open at a time)."""
    result = es.run(
        SCENARIO,
        overrides=(
            "run.duration=40s",
            'participants.manipulator.spot_latency={request="300ms",response="300ms"}',
        ),
        keep_events=True,
    )
    times = [e["ts"] for e in _of_type(result, "manipulator_sweep")]
    assert len(times) >= 5
    assert min(b - a for a, b in itertools.pairwise(times)) >= 600 * 10**6


def test_lots_a_sweep_leaves_unfilled_go_back_to_the_budget():
    """Seeing the book 400 ms late it sizes sweeps from bids already taken, so some fill only in
    part; each sweep's budget left is the budget less, for every earlier sweep, its filled lots
    at its touch, less its own lots at its touch (money per tick-lot 100)."""
    result = es.run(
        SCENARIO,
        overrides=(
            "run.duration=40s",
            'participants.manipulator.observation_latency={kind="constant",value="400ms"}',
        ),
        keep_events=True,
    )
    sweeps = _sweep_fills(result)
    assert any(filled < sweep["lots"] for sweep, filled in sweeps)
    spent = 0
    for sweep, filled in sweeps:
        committed = spent + sweep["lots"] * sweep["touch_price_ticks"] * 100
        assert sweep["budget_left_minor"] == 200_000 * 10**6 - committed
        spent += filled * sweep["touch_price_ticks"] * 100


def test_a_sale_never_exceeds_the_base_it_holds():
    """With 0.5 BTC of base it sells exactly its 500 lots over the push, each sweep sized within
    what it still holds: the spot market rejects none of its orders."""
    result = es.run(
        SCENARIO,
        overrides=("run.duration=40s", "participants.manipulator.base_deposit=0.5"),
        keep_events=True,
    )
    spot = _accounts(result, "manipulator")["spot"]
    sold = sum(
        e["size_lots"]
        for e in _of_type(result, "spot_fill")
        if e["account_id"] == spot and e["side"] == -1
    )
    assert sold == 500
    rejected = [
        e
        for e in _of_type(result, "order_rejected")
        if e.get("market") == "spot-thin" and e["account_id"] == spot
    ]
    assert rejected == []


def test_a_sweep_still_open_when_the_next_push_starts_counts_for_its_own_push():
    """Back-to-back pushes (1 s each) on a 300 ms link, seeing the book 700 ms late: some sweeps
    sent late in one push close in the next, partly unfilled; their lots go back to no push's
    budget, so each push's budget left is its own budget less its own sweeps (as in the test
    above, per push)."""
    result = es.run(
        SCENARIO,
        overrides=(
            "run.duration=40s",
            "participants.manipulator.pushes=8",
            "participants.manipulator.push_window=1s",
            "participants.manipulator.push_every=1s",
            'participants.manipulator.spot_latency={request="300ms",response="300ms"}',
            'participants.manipulator.observation_latency={kind="constant",value="700ms"}',
        ),
        keep_events=True,
    )
    sweeps = _sweep_fills(result)
    next_push = [(30 + s["push"] + 1) * 10**9 for s, _ in sweeps]
    assert any(
        s["ts"] + 600 * 10**6 > start and filled < s["lots"]
        for (s, filled), start in zip(sweeps, next_push, strict=True)
    )
    spent: dict[int, int] = {}
    for sweep, filled in sweeps:
        before = spent.get(sweep["push"], 0)
        committed = before + sweep["lots"] * sweep["touch_price_ticks"] * 100
        assert sweep["budget_left_minor"] == 200_000 * 10**6 - committed
        spent[sweep["push"]] = before + filled * sweep["touch_price_ticks"] * 100


def test_a_push_that_starts_before_any_book_is_seen_does_not_happen():
    """A push at 0 s, before any bid on the thin market has reached it, sends nothing: no sweep
    in the whole push."""
    result = es.run(
        SCENARIO,
        overrides=("run.duration=12s", "participants.manipulator.push_start=0s"),
        keep_events=True,
    )
    assert _of_type(result, "manipulator_sweep") == []
