"""A perpetual with a tick and lot of its own (``[[perpetuals]]`` ``tick_size`` / ``lot_size``):
its table and its traders' prices and sizes are read on its grid, written back on it, and the
run trades, replays and reports on it. ``altcoin_cascade``: BTC on 0.1 / 0.001, ALT on 0.0001 /
1."""

from __future__ import annotations

import os
from decimal import Decimal

import orjson
import pytest

from exchange_sim.core.errors import ConfigError
from exchange_sim.replay.audit import replay
from exchange_sim.replay.redrive import redrive
from exchange_sim.runner.api import run
from exchange_sim.runner.config import load_data, read_toml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCENARIOS = os.path.join(ROOT, "configs", "scenarios")
ALTCOIN = os.path.join(SCENARIOS, "altcoin_cascade.toml")


def _load(*overrides: str):
    return load_data(read_toml(ALTCOIN), SCENARIOS, overrides)


def test_perpetual_table_is_read_on_its_own_grid():
    """ALT's index points (2.0 USDT) are 20,000 of its 0.0001 ticks; BTC's (50,000) are 500,000
    of the instrument's 0.1 ticks."""
    config = _load().config
    assert config.perpetuals[0].index.process.points[0].price == 20_000
    assert config.index.process.points[0].price == 500_000


def test_traders_of_a_perpetual_are_read_on_its_grid():
    """The ALT maker's 20,000 ALT a level are 20,000 lots of 1 ALT; the BTC maker's 1 BTC is
    1,000 lots of 0.001 BTC; the ALT maker's half spread (0.001 USDT) is 10 of ALT's ticks."""
    makers = {p.name: p for p in _load().config.participants}
    assert makers["mm_alt"].level_size == 20_000
    assert makers["mm"].level_size == 1_000
    assert makers["mm_alt"].half_spread == 10


def test_a_price_on_the_perpetuals_grid_but_not_the_instruments_is_accepted():
    """1.9601 USDT is off BTC's 0.1 grid but on ALT's: accepted in ALT's table."""
    loaded = _load("perpetuals.0.index.process.points.3.price=1.9601")
    assert loaded.config.perpetuals[0].index.process.points[3].price == 19_601


def test_a_price_off_the_perpetuals_grid_is_refused_naming_the_key():
    """1.96005 USDT is off ALT's 0.0001 grid: refused, naming the key and the tick."""
    with pytest.raises(ConfigError, match=r"perpetuals\[0\]\.index\.process\.points\[3\]\.price"):
        _load("perpetuals.0.index.process.points.3.price=1.96005")


def test_resolved_config_is_written_on_each_grid():
    """The resolved config (``config.toml``) reads back to the same config."""
    loaded = _load()
    again = load_data(loaded.to_data(), SCENARIOS)
    assert again.config == loaded.config
    assert again.scale_of("ALTUSDT").tick_size == loaded.scale_of("ALTUSDT").tick_size


def test_a_perpetual_on_its_own_grid_cannot_take_a_spot_index():
    """Spot markets trade on the instrument's grid: an index built from them would be in the
    wrong ticks, so the combination is refused, naming the key."""
    with pytest.raises(ConfigError, match=r"perpetuals\[0\]\.index\.process\.kind"):
        _load(
            'spot_markets=[{name="ALTSPOT"}]',
            'perpetuals.0.index.process={kind="spot", sources=[{market="ALTSPOT", weight=1}]}',
        )


def test_a_perpetual_table_without_a_symbol_is_read_on_its_own_grid():
    """A ``[[perpetuals]]`` table that writes no symbol is the default one (ETHUSDT), and its
    prices are read on its own grid: 3,000 USDT on a 0.01 tick is 300,000 ticks."""
    data = {
        "participants": [],
        "perpetuals": [
            {
                "tick_size": "0.01",
                "index": {"process": {"kind": "scripted", "points": [{"at": "0s", "price": 3000}]}},
            }
        ],
    }
    loaded = load_data(data)
    assert loaded.config.perpetuals[0].index.process.points[0].price == 300_000
    assert loaded.scale_of("ETHUSDT").tick_size == loaded.config.perpetuals[0].tick_size


def test_a_fundamental_reader_on_a_perpetual_with_its_own_grid_is_refused():
    """The fundamental value is priced on the instrument's grid: a maker centred on it cannot
    trade ALT's book (it would quote 1,000 times too low), so the config is refused."""
    with pytest.raises(ConfigError, match=r"participants\[1\]\.market"):
        _load(
            "fundamental.enabled=true",
            "fundamental.start_price=2",
            "participants.mm_alt.reference=fundamental",
        )


@pytest.fixture(scope="module")
def altcoin_run(tmp_path_factory) -> str:
    """altcoin_cascade with ALT in lots of 10 ALT, so that its money per tick-lot (0.0001 x 10 =
    1,000 minor units) differs from BTC's (0.1 x 0.001 = 100): a ledger on the wrong grid would
    value every ALT fill 10 times too low."""
    out = str(tmp_path_factory.mktemp("grids") / "run")
    run(ALTCOIN, overrides=("run.check=every-event", "perpetuals.0.lot_size=10"), out=out)
    return out


def _events(run_dir: str, kind: str) -> list[dict]:
    with open(os.path.join(run_dir, "events.jsonl"), "rb") as handle:
        return [e for e in map(orjson.loads, handle) if e["type"] == kind]


def test_each_perpetual_trades_on_its_grid(altcoin_run):
    """ALT's marks are near 20,000 of its ticks (2 USDT), BTC's near 500,000 (50,000 USDT); the
    run passes the invariant checker after every event and liquidates in both; an ALT fill's
    fee is the maker's 2 bp or the taker's 5 bp of its value on ALT's grid (price x lots x
    1,000)."""
    marks = _events(altcoin_run, "mark_price")
    alt = [e["price"] for e in marks if e.get("instrument") == "ALTUSDT"]
    btc = [e["price"] for e in marks if "instrument" not in e]
    assert 19_000 < alt[0] < 21_000 and 490_000 < btc[0] < 510_000
    triggered = _events(altcoin_run, "liquidation_triggered")
    assert {e.get("instrument") for e in triggered} == {None, "ALTUSDT"}
    fill = next(
        e
        for e in _events(altcoin_run, "position")
        if e.get("instrument") == "ALTUSDT" and e["fee"] > 0
    )
    value = fill["price_ticks"] * fill["size_lots"] * 1_000
    assert fill["fee"] in {-(-value * rate // 10**9) for rate in (200_000, 500_000)}


def _replays_and_redrives(run_dir: str, tmp_path) -> None:
    result = replay(run_dir)
    assert result.status == "consistent", result.divergence or result.damage
    again = redrive(run_dir, str(tmp_path / "again"))
    assert again.identical, again.first_difference


def test_run_on_two_grids_replays_and_redrives(altcoin_run, tmp_path):
    """The replay rebuilds ALT's ledger on its own grid; the re-drive reproduces the log."""
    _replays_and_redrives(altcoin_run, tmp_path)


def test_frames_read_each_perpetual_on_its_grid(altcoin_run):
    """The analysis frames give ALT's mark in USDT on its grid (about 2.0), BTC's on the
    instrument's (about 50,000)."""
    from exchange_sim.analysis.frames import load_run

    frame = load_run(altcoin_run).frames["mark_price"]
    alt = frame[frame.instrument == "ALTUSDT"].price_quote.iloc[0]
    btc = frame[frame.instrument.isna()].price_quote.iloc[0]
    assert 1.9 < alt < 2.1 and 49_000 < btc < 51_000


@pytest.fixture(scope="module")
def altcoin_life_run(tmp_path_factory) -> str:
    """altcoin_cascade with the ALT longs stopping out at a 3 % loss and an adaptive maker on
    ALT, so that participants trading ALT log their own ``trader_exit`` and ``maker_state``
    lines."""
    out = str(tmp_path_factory.mktemp("grids") / "life")
    data = read_toml(ALTCOIN)
    data["participants"].append(
        {
            "kind": "adaptive_maker",
            "name": "alt_amm",
            "market": "ALTUSDT",
            "initial_price": Decimal("2.0"),
            "deposit": 1_000_000,
            "levels": 3,
            "level_sizes": [Decimal(100)],
            "base_half_spread": Decimal("0.001"),
            "level_spacing": Decimal("0.001"),
        }
    )
    run(load_data(data, SCENARIOS, ("participants.5.stop_loss=0.03",)), out=out)
    return out


def test_a_group_on_another_perpetual_tags_its_decisions_with_it(altcoin_life_run):
    """Every ``trader_exit`` of the ALT longs carries ``instrument = "ALTUSDT"`` and its prices
    are ALT's ticks (near 20,000, not BTC's 500,000)."""
    exits = [e for e in _events(altcoin_life_run, "trader_exit") if e["participant"] == "alt_longs"]
    assert exits
    assert {e.get("instrument") for e in exits} == {"ALTUSDT"}
    assert all(15_000 < e["entry_price_ticks"] < 21_000 for e in exits)


def test_frames_read_another_perpetuals_decisions_on_its_grid(altcoin_life_run):
    """The frames give an ALT long's exit price in USDT on ALT's grid (about 2.0)."""
    from exchange_sim.analysis.frames import load_run

    frame = load_run(altcoin_life_run).frames["trader_exit"]
    alt = frame[frame.participant == "alt_longs"]
    assert len(alt) and alt.entry_price_quote.between(1.5, 2.1).all()


def test_a_maker_on_another_perpetual_tags_its_state_with_it(altcoin_life_run):
    """The ALT maker's ``maker_state`` lines carry ``instrument = "ALTUSDT"``."""
    lines = _events(altcoin_life_run, "maker_state")
    assert lines and {e.get("instrument") for e in lines} == {"ALTUSDT"}


def test_decisions_on_another_perpetual_replay_and_redrive(altcoin_life_run, tmp_path):
    """The replay reads the tagged decisions; the re-drive writes them again byte for byte."""
    _replays_and_redrives(altcoin_life_run, tmp_path)


def test_adl_profile_values_each_perpetuals_liquidations_on_its_grid(altcoin_run):
    """The ADL profile's liquidation notional is every takeover's and liquidation order fill's
    lots x price x money per tick-lot of its own perpetual: 1,000 minor units for ALT (0.0001
    USDT x 10 ALT), 100 for BTC (0.1 USDT x 0.001 BTC)."""
    from exchange_sim.analysis.adl_profile import profile_run_dir

    takeovers = _events(altcoin_run, "takeover")
    fills = [e for e in _events(altcoin_run, "liquidation_fill") if e["purpose"] == "reduce"]
    assert {e.get("instrument") for e in takeovers} == {None, "ALTUSDT"}
    per_tick_lot = {None: 100, "ALTUSDT": 1_000}
    expected = sum(
        abs(e["position_lots"]) * e["price_ticks"] * per_tick_lot[e.get("instrument")]
        for e in takeovers
    ) + sum(e["size_lots"] * e["price_ticks"] * per_tick_lot[e.get("instrument")] for e in fills)
    assert profile_run_dir(altcoin_run)["liquidation_notional"] == expected / 10**6


def test_stylized_series_are_the_first_perpetuals(altcoin_run):
    """The stylized facts read the instrument's index (BTC near 500,000 of its ticks, never
    ALT's near 20,000) and its liquidations only (ALT's carry ``instrument``)."""
    from exchange_sim.analysis.stylized_read import read_run

    series = read_run(altcoin_run, 10**9)
    assert len(series.index_price) and series.index_price.min() > 400_000
    btc = [e for e in _events(altcoin_run, "liquidation_triggered") if "instrument" not in e]
    assert len(series.liq_ts) == len(btc)


def _summary(run_dir: str) -> dict:
    with open(os.path.join(run_dir, "summary.json"), "rb") as handle:
        return orjson.loads(handle.read())


def test_offline_metrics_of_each_perpetual_are_the_runs(altcoin_run):
    """``metrics_from_run_dir`` reads each perpetual from its own lines on its own grid: the
    first's are the summary's ``metrics``, ALT's its ``perpetuals.ALTUSDT.metrics`` (but for
    the cascade, which only the run computes)."""
    from exchange_sim.analysis.metrics import metrics_from_run_dir

    summary = _summary(altcoin_run)
    for symbol, in_run in ((None, summary["metrics"]),
                           ("ALTUSDT", summary["perpetuals"]["ALTUSDT"]["metrics"])):  # fmt: skip
        offline = metrics_from_run_dir(altcoin_run, symbol)
        offline.pop("cascade")
        assert offline == {k: v for k, v in in_run.items() if k != "cascade"}
