"""The analysis of an inverse (coin-margined, XBTUSD) run: notionals are ``lots x k / price`` in
the base asset (rounded as the ledger rounds a position's value: a long's UP, a short's DOWN; a
fill's: a buy's DOWN, a sell's UP) and open PnL is the ledger's, checked by hand arithmetic on a
real run and on hand-made events (``docs/metrics.md``, "Inverse contracts")."""

from __future__ import annotations

import io
import json
import os
import tomllib
from decimal import Decimal

import numpy as np
import pytest

import exchange_sim as es
from exchange_sim.analysis import plots
from exchange_sim.analysis.adl_profile import profile_run_dir
from exchange_sim.analysis.frames import load_run, load_scale
from exchange_sim.analysis.metrics import metrics_from_run_dir, scale_from_config
from exchange_sim.analysis.metrics_accounts import Accounts
from exchange_sim.analysis.metrics_book import StreamingBook
from exchange_sim.analysis.metrics_columns import AccountState
from exchange_sim.analysis.metrics_liquidation import Liquidations
from exchange_sim.analysis.report import REPORT_TYPES, ReportData
from exchange_sim.analysis.stylized_read import read_run
from exchange_sim.core.contract import InverseContract
from exchange_sim.core.units import NS_PER_S, Scale
from exchange_sim.events.log import EventLog
from exchange_sim.runner.api import run
from exchange_sim.runner.simulate import build_venue

K = 2 * 10**10
"""XBTUSD with lots of 100 one-USD contracts, tick 0.5 USD, satoshis: ``100 x 1 x 10^8 / 0.5``."""

XBTUSD = """
[run]
name = "xbtusd_inverse"
duration = "100s"

[instrument]
symbol = "XBTUSD"
settlement_asset = "XBT"
contract = "inverse"
contract_value = 1
tick_size = 0.5
lot_size = 100
money_decimals = 8

[index]
cadence = "1s"
oracle_latency = { kind = "uniform", low = "50ms", high = "250ms" }

[index.process]
kind = "scripted"
interpolation = "linear"
points = [
  { at = "0s", price = 50000 },
  { at = "40s", price = 50000 },
  { at = "70s", price = 46000 },
  { at = "100s", price = 46000 },
]

[risk]
margin_check_latency = { kind = "uniform", low = "100ms", high = "500ms" }

[liquidation]
processing_latency = "200ms"
throughput = 10

[liquidation.insurance_fund]
initial_balance = 1

[[participants]]
kind = "market_maker"
name = "mm"
levels = 10
half_spread = 1.0
level_spacing = 2.0
level_size = 50000
requote_threshold = 0
deposit = 1000

[[participants]]
kind = "noise"
name = "noise"
count = 20
limit_lifetime = "3s"
size_min = 100
size_max = 20000
deposit = 100

[[participants]]
kind = "leveraged"
name = "longs"
count = 150
deposit = 0.02
leverages = [15, 20, 25, 30, 35, 40, 45, 50]
long_fraction = 0.9
position_fraction = 0.9
entry_start = "2s"
entry_end = "20s"
"""
"""A BitMEX XBTUSD cascade: longs liquidated (book, fund takeovers), shorts deleveraged."""


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def position_value(position_lots: int, price: int) -> int:
    """By hand: ``|Q| k / P``, a long's rounded UP, a short's DOWN."""
    if position_lots > 0:
        return ceil_div(position_lots * K, price)
    return -position_lots * K // price


@pytest.fixture(scope="module")
def xbt_run(tmp_path_factory) -> tuple[str, dict, list[dict]]:
    """The XBTUSD run: (run directory, summary, events)."""
    base = tmp_path_factory.mktemp("xbtusd")
    config = base / "xbtusd.toml"
    config.write_text(XBTUSD)
    result = run(str(config), out=str(base / "run"), keep_events=True)
    return result.directory, result.summary, result.events


@pytest.fixture(scope="module")
def metrics(xbt_run) -> dict:
    return metrics_from_run_dir(xbt_run[0])


SHORTS_SQUEEZED = (
    XBTUSD.replace("price = 46000", "price = 54000")
    .replace("long_fraction = 0.9", "long_fraction = 0.1")
    .replace('name = "longs"', 'name = "shorts"')
)
"""The same venue with the price rising 8 % against mostly short traders: shorts liquidated."""


@pytest.fixture(scope="module")
def squeeze_run(tmp_path_factory) -> tuple[str, list[dict]]:
    """The short squeeze: (run directory, events)."""
    base = tmp_path_factory.mktemp("xbtusd_up")
    config = base / "xbtusd_up.toml"
    config.write_text(SHORTS_SQUEEZED)
    result = run(str(config), out=str(base / "run"), keep_events=True)
    return result.directory, result.events


def of_type(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


# -- the scale ------------------------------------------------------------------------------------


def test_an_inverse_instrument_table_builds_the_inverse_scale():
    """``contract = "inverse"`` gives ``inverse_k = lot x contract value x 10^decimals / tick``
    and no money per tick-lot."""
    table = {
        "tick_size": Decimal("0.5"),
        "lot_size": Decimal("100"),
        "money_decimals": 8,
        "contract": "inverse",
        "contract_value": Decimal("1"),
    }
    scale = Scale.from_instrument_table(table, "instrument")
    assert (scale.inverse_k, scale.money_per_tick_lot) == (K, 0)


def test_a_table_without_contract_is_linear():
    """A config written before inverse contracts (no ``contract``) builds the linear grid."""
    table = {"tick_size": Decimal("0.1"), "lot_size": Decimal("0.001"), "money_decimals": 6}
    scale = Scale.from_instrument_table(table, "instrument")
    assert (scale.money_per_tick_lot, scale.inverse_k) == (100, 0)


def test_metrics_and_frames_read_the_inverse_scale_of_a_run(xbt_run, metrics):
    """The metrics' and the frames' scale of the run are inverse, and the metrics' ``scale``
    block records the contract and ``k``."""
    with open(os.path.join(xbt_run[0], "config.toml"), "rb") as handle:
        config = tomllib.load(handle, parse_float=Decimal)
    assert scale_from_config(config).inverse_k == K
    assert load_scale(config, "config.toml").inverse_k == K
    assert metrics["scale"]["contract"] == "inverse"
    assert metrics["scale"]["inverse_k"] == K


def test_a_linear_runs_scale_block_has_no_contract_keys(cascade_run):
    """A linear run's metrics ``scale`` block is as before inverse contracts (byte-identical
    metrics): no ``contract`` or ``inverse_k``."""
    with open(os.path.join(cascade_run, "summary.json"), encoding="utf-8") as handle:
        scale = json.load(handle)["metrics"]["scale"]
    assert set(scale) == {"tick_size", "lot_size", "money_decimals", "money_per_tick_lot"}


# -- notionals of a real run ----------------------------------------------------------------------


def test_notional_at_trigger_is_the_position_value_at_the_mark(xbt_run, metrics):
    """``liquidations.notional`` is ``Σ |Q| k / mark`` over the triggers (longs UP), by hand,
    in the metrics from the run directory and in the run's own summary."""
    triggers = of_type(xbt_run[2], "liquidation_triggered")
    expected = sum(position_value(e["position_lots"], e["mark_price"]) for e in triggers)
    assert triggers and expected > 0
    assert metrics["liquidations"]["notional_minor"] == expected
    assert xbt_run[1]["metrics"]["liquidations"]["notional_minor"] == expected


def test_adl_notional_is_the_deleveraged_positions_value_at_the_adl_price(xbt_run, metrics):
    """``adl.notional`` is ``Σ size k / price`` of the deleveraged positions (shorts here,
    rounded DOWN), by hand; the ADL profile counts the same."""
    adls = of_type(xbt_run[2], "adl")
    assert adls and all(e["position_lots"] < 0 for e in adls)
    expected = sum(e["size"] * K // e["price"] for e in adls)
    assert metrics["adl"]["notional_minor"] == expected
    assert metrics["liquidations"]["deleveraged"]["notional_minor"] == expected
    assert profile_run_dir(xbt_run[0])["adl_notional"] == float(Decimal(expected).scaleb(-8))


def test_adl_closed_open_pnl_by_hand(xbt_run, metrics):
    """``adl.closed_unrealised_pnl``: per ADL, the closed lots' open PnL at the last mark before
    it, a short's ``floor(size k / mark) - entry removed`` (the entry its position event
    removed), by hand."""
    mark, pending, expected = None, {}, 0
    for e in xbt_run[2]:
        if e["type"] == "mark_price":
            mark = e["price"]
        elif e["type"] == "adl":
            assert e["position_lots"] < 0
            pending[e["seq"]] = (e["account"], e["size"], e["entry_notional"], mark)
        elif e["type"] == "position" and e["cause"] in pending:
            account, size, entry_before, at = pending[e["cause"]]
            if e["account_id"] == account:
                removed = entry_before - e["entry_notional"]
                expected += size * K // at - removed
                del pending[e["cause"]]
    assert not pending and expected != 0
    assert metrics["adl"]["closed_unrealised_pnl_minor"] == expected


def test_takeover_and_book_fill_notionals_by_hand(xbt_run, metrics):
    """A takeover is the taken position's value at the transfer price; a book fill of a
    liquidation order is its fill's value (a sell's UP), by hand, in the metrics and in the ADL
    profile's liquidation notional."""
    events = xbt_run[2]
    sides = {e["order_id"]: e["side"] for e in of_type(events, "liquidation_order")}
    taken = sum(
        position_value(e["position_lots"], e["price_ticks"]) for e in of_type(events, "takeover")
    )
    book = 0
    for e in of_type(events, "liquidation_fill"):
        if e["purpose"] in ("fund_unwind", "vault_unwind"):
            continue
        lots_k = e["size_lots"] * K
        book += ceil_div(lots_k, e["price_ticks"]) if sides[e["order_id"]] < 0 else 0
    assert taken > 0 and book > 0
    assert metrics["liquidations"]["taken_over"]["notional_minor"] == taken
    assert metrics["liquidations"]["closed_through_book"]["notional_minor"] == book
    # The ADL profile's liquidations: these, and each ADL's liquidated twin (as the ADL).
    twins = sum(e["size"] * K // e["price"] for e in of_type(events, "adl"))
    total = profile_run_dir(xbt_run[0])["liquidation_notional"]
    assert total == float(Decimal(book + taken + twins).scaleb(-8))


def test_depth_notional_of_the_run_is_in_coin(metrics):
    """The book's depth within 1 % of the mid is valued in XBT: within 1 % of ``lots x k /
    mid`` on each side."""
    before = metrics["book"]["before"]
    mid = before["mid_x2_ticks"] / 2
    for side in ("bid", "ask"):
        lots = before[f"{side}_depth_lots"]
        assert lots > 0
        assert before[f"{side}_depth_notional_minor"] == pytest.approx(lots * K / mid, rel=0.011)


# -- open PnL -------------------------------------------------------------------------------------


def test_a_long_open_pnl_is_entry_less_its_value_rounded_up():
    """A long of 3 lots entered for 1,200,000 sat, at 50,001 ticks: ``entry - ceil(3 k / P)``."""
    state = AccountState()
    state.position, state.entry = 3, 1_200_000
    value = ceil_div(3 * K, 50_001)  # 60_000_000_000 / 50_001 = 1_199_976.02, UP: 1_199_977
    assert state.unrealised(50_001, InverseContract(K)) == 1_200_000 - value == 23


def test_a_short_open_pnl_is_its_value_rounded_down_less_entry():
    """A short of 3 lots entered for 1,199,000 sat, at 50,001 ticks: ``floor(3 k / P) - entry``."""
    state = AccountState()
    state.position, state.entry = -3, 1_199_000
    assert state.unrealised(50_001, InverseContract(K)) == 3 * K // 50_001 - 1_199_000 == 976


def test_open_pnl_and_money_in_accounts_equal_the_ledgers(tmp_path):
    """Replayed from the log, every account's open PnL at the final mark and the sum of
    ``collateral + side x entry value`` are the inverse ledger's."""
    config = tmp_path / "xbtusd.toml"
    config.write_text(XBTUSD)
    loaded = es.load_config(str(config), ["run.duration=60s"])
    log = EventLog(io.BytesIO())
    venue = build_venue(loaded, log)
    scale = loaded.config.instrument.scale()
    accounts = Accounts(scale.valuation)
    for kind, handler in accounts.handlers().items():
        log.observe(handler, (kind,))
    venue.run(es.__version__)
    ledger = venue.ledger
    mark = ledger.mark_price()
    held = [a for a in ledger.accounts.values() if a.size_lots]
    assert any(a.size_lots > 0 for a in held) and any(a.size_lots < 0 for a in held)
    for account in held:
        replayed = accounts.unrealised(account.account_id, mark)
        assert replayed == ledger.unrealised_pnl(account, mark)
    assert accounts.money_in_accounts() == ledger.money_in_accounts()


def test_adl_upnl_before_is_the_ledgers_logged_upnl(xbt_run):
    """Each deleveraged position's open PnL, as the metrics value it from its entry, equals the
    ``unrealised_pnl`` the ledger logged on its ``adl`` event."""
    adls = of_type(xbt_run[2], "adl")
    for e in adls:
        state = AccountState()
        state.position, state.entry = e["position_lots"], e["entry_notional"]
        assert state.unrealised(e["mark_price"], InverseContract(K)) == e["unrealised_pnl"]


# -- hand-made events -----------------------------------------------------------------------------


def test_a_liquidation_fill_is_valued_as_its_orders_side():
    """A sell of 7 lots at 99,999 ticks is worth ``ceil(7 k / P)``; a buy ``floor``."""
    liquidations = Liquidations(InverseContract(K), None)
    for order_id, side in ((1, -1), (2, 1)):
        liquidations.on_order(
            {
                "ts": 0,
                "account_id": order_id,
                "order_id": order_id,
                "side": side,
                "purpose": "close",
            }
        )
    fill = {"purpose": "close", "price_ticks": 99_999, "size_lots": 7, "position_lots": 0}
    liquidations.on_fill(fill | {"order_id": 1})
    assert liquidations.book_close[2] == ceil_div(7 * K, 99_999)
    liquidations.on_fill(fill | {"order_id": 2})
    assert liquidations.book_close[2] == ceil_div(7 * K, 99_999) + 7 * K // 99_999


def test_a_short_liquidation_at_its_trigger_is_valued_down():
    """A short of 5 lots triggered at mark 99,999 is worth ``floor(5 k / 99,999)``."""
    liquidations = Liquidations(InverseContract(K), None)
    liquidations.on_triggered(
        {"ts": NS_PER_S, "account_id": 1, "position_lots": -5, "mark_price": 99_999}
    )
    assert liquidations.sides["shorts"][2] == 5 * K // 99_999


def test_book_depth_values_bids_down_and_asks_up():
    """Resting depth within 1 % of the mid: bids at a buy's value (DOWN), asks at a sell's (UP)."""
    book = StreamingBook()
    for order_id, side, price in ((1, 1, 99_999), (2, -1, 100_001)):
        book.apply(
            {
                "type": "order_accepted",
                "order_id": order_id,
                "account_id": 1,
                "side": side,
                "price_ticks": price,
                "size_lots": 3,
                "tif": "GTC",
                "tag": "",
            }
        )
    depth = book.depth_near_mid(InverseContract(K))
    assert depth["bid_notional_minor"] == 3 * K // 99_999
    assert depth["ask_notional_minor"] == ceil_div(3 * K, 100_001)


# -- figures --------------------------------------------------------------------------------------


def test_report_flows_are_in_coin_and_match_the_metrics(xbt_run, metrics):
    """The report's liquidated-notional flows are the metrics' XBT notionals (takeover and ADL
    channels), and its labels name USD prices and contract sizes."""
    data = ReportData(load_run(xbt_run[0], REPORT_TYPES, with_skeleton=True))
    assert (data.settle, data.quote, data.base) == ("XBT", "USD", "contracts")
    flows = data.flows
    minor = {
        channel: int(np.rint(flows[flows.channel == channel].notional * 10**8).sum())
        for channel in ("takeover", "adl", "book")
    }
    liquidations = metrics["liquidations"]
    assert minor["takeover"] == liquidations["taken_over"]["notional_minor"]
    assert minor["adl"] == metrics["adl"]["notional_minor"]
    assert minor["book"] == liquidations["closed_through_book"]["notional_minor"]


def test_stylized_series_notional_at_trigger_is_in_coin(xbt_run, metrics):
    """The stylized-facts reader's notionals at the trigger sum to the metrics' (in XBT)."""
    series = read_run(xbt_run[0], NS_PER_S)
    total = int(np.rint(series.liq_notional * 10**8).sum())
    assert total == metrics["liquidations"]["notional_minor"]


def test_short_liquidations_are_valued_down_at_the_trigger(squeeze_run):
    """Shorts liquidated in a squeeze: each notional at the trigger is ``floor(|Q| k / mark)``,
    by hand, in the metrics (shorts) and in the stylized-facts reader's series."""
    triggers = of_type(squeeze_run[1], "liquidation_triggered")
    assert triggers and all(e["position_lots"] < 0 for e in triggers)
    values = [-e["position_lots"] * K // e["mark_price"] for e in triggers]
    shorts = metrics_from_run_dir(squeeze_run[0])["liquidations"]["shorts"]
    assert shorts["notional_minor"] == sum(values)
    series = read_run(squeeze_run[0], NS_PER_S)
    assert np.rint(series.liq_notional * 10**8).astype(int).tolist() == values


def test_figures_label_prices_in_usd_and_notionals_in_xbt(xbt_run, metrics):
    """The price figure's axis is in USD, the liquidated-notional figure's in XBT with its
    legend totals to the hundredth of an XBT (the takeover channel's, from the metrics)."""
    data = ReportData(load_run(xbt_run[0], REPORT_TYPES, with_skeleton=True))
    assert plots.price(data).axes[0].get_ylabel() == "price (USD)"
    figure = plots.liquidated_notional(data)
    assert figure.axes[0].get_ylabel() == "notional per second (XBT)"
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    taken = metrics["liquidations"]["taken_over"]["notional"]
    assert f"longs: taken over ({taken:,.2f} XBT)" in labels
