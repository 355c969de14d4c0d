"""The log tools on runs with a collateral asset (collateral_depeg, shortened): replay, re-drive,
frames and report, and the cascade's causal chain through the collateral price."""

from __future__ import annotations

import os
import shutil

import orjson
import pytest

from exchange_sim.analysis.cascade import build_tree
from exchange_sim.analysis.frames import load_run
from exchange_sim.analysis.report import write_report
from exchange_sim.replay.audit import replay
from exchange_sim.replay.collateral_checks import check_collateral_end
from exchange_sim.replay.inputs import RecordedInputs, RedriveError
from exchange_sim.replay.redrive import redrive
from exchange_sim.replay.state import Divergence
from exchange_sim.replay.view import state_lines
from exchange_sim.runner.api import run
from exchange_sim.venue.messages import Deposit

from .replay.conftest import caught_at, first_seq, forge, read_lines

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "configs", "scenarios", "collateral_depeg.toml")
SMALL = (
    "run.duration=55s",  # both dumps (30 s, 50 s) and the index fall (35-45 s)
    "participants.usde_longs.count=20",
    "participants.noise.count=5",
    # most of the dump after the index fall: the USDE price itself then finds the accounts
    'collateral.0.book.dumps=[{at="30s", units=200000}, {at="50s", units=600000}]',
)
ORACLE = (
    "collateral.0.price_source=oracle",
    'collateral.0.oracle=[{at="0s", price_ppb=1.0}, {at="40s", price_ppb=0.8}, '
    '{at="50s", price_ppb=0.6}]',
)


def _write(factory, name: str, *overrides: str) -> str:
    out = factory.mktemp(f"collateral-{name}") / "run"
    run(SCENARIO, overrides=(*SMALL, *overrides), out=str(out))
    return str(out)


@pytest.fixture(scope="module")
def book_run(tmp_path_factory) -> str:
    """The collateral valued by its own book: the dumps liquidate accounts through its price."""
    return _write(tmp_path_factory, "book")


@pytest.fixture
def copy_of(tmp_path):
    """``copy_of(run_dir)``: a copy to damage."""
    return lambda run_dir: shutil.copytree(run_dir, str(tmp_path / "copy"))


def _events(run_dir: str) -> list[dict]:
    return [orjson.loads(line) for line in read_lines(run_dir)]


def test_collateral_run_replays_consistent(book_run):
    """Every collateral event recomputed, the venue's conversion payments in the money identity,
    units conserved and summary.json's collateral section matched: consistent."""
    result = replay(book_run)
    assert result.status == "consistent", result.divergence or result.damage
    assert result.counts["collateral_converted"] > 0 and result.counts["collateral_price"] > 0


def test_oracle_priced_collateral_replays_consistent(tmp_path_factory):
    """A scripted oracle's prices (uncaused, at their times) replay consistent too."""
    run_dir = _write(tmp_path_factory, "oracle", *ORACLE)
    result = replay(run_dir)
    assert result.status == "consistent", result.divergence or result.damage


def test_forged_conversion_value_iscaught_at(book_run, copy_of):
    """A collateral_converted paying one minor unit more than the haircut value is divergent."""
    run_dir = copy_of(book_run)
    seq = first_seq(run_dir, "collateral_converted")
    forge(run_dir, seq, "value", lambda value: value + 1)
    caught_at(run_dir, seq, "value")


def test_forged_conversion_wallet_iscaught_at(book_run, copy_of):
    """A wallet after the conversion that is not the wallet plus the value is divergent."""
    run_dir = copy_of(book_run)
    seq = first_seq(run_dir, "collateral_converted")
    forge(run_dir, seq, "wallet", lambda wallet: wallet - 1)
    caught_at(run_dir, seq, "wallet")


def test_forged_deposit_value_iscaught_at(book_run, copy_of):
    """A collateral_deposit's value that is not floor(units x price x (1 - haircut))."""
    run_dir = copy_of(book_run)
    seq = first_seq(run_dir, "collateral_deposit")
    forge(run_dir, seq, "value", lambda value: value + 1)
    caught_at(run_dir, seq, "value")


def test_forged_collateral_price_iscaught_at(book_run, copy_of):
    """A book-sourced price that is not its trade's price times the book's tick."""
    run_dir = copy_of(book_run)
    seq = first_seq(run_dir, "collateral_price")
    forge(run_dir, seq, "price_ppb", lambda price: price - 1)
    caught_at(run_dir, seq, "price_ppb")


def test_forged_margin_check_equity_with_collateral_iscaught_at(book_run, copy_of):
    """A margin check after the depeg whose equity counts the collateral at par is divergent:
    the replay values it at the last published price."""
    run_dir = copy_of(book_run)
    converted = first_seq(run_dir, "collateral_converted")
    seq = converted - 2  # its liquidation_triggered's margin check
    event = _events(run_dir)[seq]
    assert event["type"] == "margin_check"
    forge(run_dir, seq, "equity", lambda equity: equity + 1)
    caught_at(run_dir, seq, "equity")


def test_forged_summary_units_arecaught_at(book_run, copy_of):
    """summary.json's collateral units taken by the venue, changed, are divergent at run_end."""
    run_dir = copy_of(book_run)
    path = os.path.join(run_dir, "summary.json")
    with open(path, "rb") as handle:
        summary = orjson.loads(handle.read())
    summary["collateral"]["USDE"]["units_taken_by_venue"] += 1
    with open(path, "wb") as handle:
        handle.write(orjson.dumps(summary))
    result = replay(run_dir)
    assert result.status == "divergent"
    assert result.divergence.field == "summary.collateral.USDE.units_taken_by_venue"


def test_redrive_reproduces_a_collateral_run(book_run, tmp_path):
    """No overrides: the log byte for byte (the books' scripted orders issued once, by the
    venue, with their recorded ids; the collateral deposits fed)."""
    result = redrive(book_run, str(tmp_path / "again"))
    assert result.identical, f"differs at line {result.first_difference}"


def test_counterfactual_price_source_feeds_the_book_once(book_run, tmp_path):
    """Valued at the redemption rate instead: the book's scripted orders appear once each (the
    venue's, not fed again), and the new run replays consistent."""
    out = str(tmp_path / "redemption")
    redrive(book_run, out, ("collateral.0.price_source=redemption",))

    def book_orders(run_dir: str) -> int:
        return sum(
            1
            for e in _events(run_dir)
            if e["type"] == "order_accepted" and e["market"] == "USDEUSDT"
        )

    assert book_orders(out) == book_orders(book_run)
    assert replay(out).status == "consistent"


def test_frames_convert_the_book_on_its_own_grid(book_run):
    """A USDEUSDT trade's price is ticks x tick_ppb USDT per USDE and its size lot_units USDE;
    the perpetual's keep the perpetual's scale."""
    trades = load_run(book_run, ["trade"])["trade"]
    book = trades[trades.market == "USDEUSDT"].iloc[0]
    assert book.price_quote == pytest.approx(book.price_ticks * 0.0001)
    assert book.size_base == book.size_lots  # 1 USDE per lot
    perp = trades[trades.market == "BTCUSDT"].iloc[0]
    assert perp.price_quote == pytest.approx(perp.price_ticks * 0.1)


def test_report_shows_the_collateral_card(book_run):
    """The report renders with a card naming the asset, its final price and the liquidations
    its price set off."""
    with open(write_report(book_run), encoding="utf-8") as handle:
        html = handle.read()
    liquidations = sum(1 for e in _events(book_run) if e["type"] == "liquidation_triggered")
    assert "Collateral USDE (book)" in html
    assert f"{liquidations} liquidations set off by its price" in html


def test_cascade_chain_runs_through_the_collateral_price(book_run):
    """A liquidation's causes lead margin_check <- collateral_price <- the USDEUSDT trade <- the
    seller's order (uncaused): the cascade puts it at generation 0, from a trader decision."""
    events = _events(book_run)
    seller = next(
        e["account_id"]
        for e in events
        if e["type"] == "spot_account_opened" and e["participant"] == "collateral_seller"
    )
    liq = next(e for e in events if e["type"] == "liquidation_triggered")
    chain = [liq]
    while chain[-1]["cause"] is not None:
        chain.append(events[chain[-1]["cause"]])
    assert [e["type"] for e in chain] == [
        "liquidation_triggered",
        "margin_check",
        "collateral_price",
        "trade",
        "order_accepted",
    ]
    assert chain[3]["market"] == "USDEUSDT"
    assert chain[4]["account_id"] == seller
    node = next(n for n in build_tree(events).liquidations if n.seq == liq["seq"])
    assert (node.generation, node.root_kind) == (0, "trader_decision")


def test_units_not_conserved_are_divergent(book_run):
    """At run_end, units held by accounts plus the venue's that differ from the units deposited
    are a divergence naming the asset."""
    st = replay(book_run).state
    account = next(a for a in st.ledger.accounts.values() if a.holdings)
    account.holdings["USDE"] += 1
    with pytest.raises(Divergence) as caught:
        check_collateral_end(st, {"seq": 7})
    assert caught.value.field == "collateral.USDE.units_held"


def test_until_shows_the_collateral_price(book_run):
    """``replay --until`` at a collateral_price prints the asset at that price."""
    seq = first_seq(book_run, "collateral_price")
    price = _events(book_run)[seq]["price_ppb"]
    lines = state_lines(replay(book_run, until=seq).state)
    assert any(line.startswith(f"collateral USDE: price {price} ppb") for line in lines)


def _rejected_collateral_log(tmp_path) -> str:
    lines = [
        {"seq": 0, "ts": 0, "type": "run_start", "cause": None},
        {
            "seq": 1,
            "ts": 0,
            "type": "deposit_rejected",
            "cause": None,
            "account_id": 1,
            "amount": 5,
            "reason": "collateral_needs_cross_margin",
        },
    ]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return str(path)


def test_rejected_collateral_deposit_is_fed_in_the_one_asset(tmp_path):
    """A deposit_rejected for a collateral reason is fed again as a deposit of the one accepted
    asset (the event does not name it)."""
    inputs = RecordedInputs(_rejected_collateral_log(tmp_path), "BTCUSDT", False, ("USDE",))
    inputs.header()
    assert inputs.next().command == Deposit(5, "deposit", "USDE")


def test_rejected_collateral_deposit_with_two_assets_cannot_be_redriven(tmp_path):
    """With two accepted assets the rejected deposit's asset is unknown: a RedriveError."""
    inputs = RecordedInputs(_rejected_collateral_log(tmp_path), "BTCUSDT", False, ("A", "B"))
    inputs.header()
    with pytest.raises(RedriveError, match="collateral asset"):
        inputs.next()


def test_trigger_logs_the_bankruptcy_price_at_the_collateral_price_now(book_run):
    """A liquidation_triggered of an account holding collateral logs the bankruptcy price with
    the collateral valued at its current price: the one its first liquidation order carries
    (the conversion pays the same value into the wallet), not the one of the account's last
    change, before the depeg."""
    pending: dict[int, int] = {}
    compared = 0
    for event in _events(book_run):
        if event["type"] == "liquidation_triggered":
            pending[event["account_id"]] = event["bankruptcy_price_ticks"]
        elif event["type"] == "liquidation_order" and event["account_id"] in pending:
            assert pending.pop(event["account_id"]) == event["bankruptcy_price_ticks"]
            compared += 1
    assert compared > 0
