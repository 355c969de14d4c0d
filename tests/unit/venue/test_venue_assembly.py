"""The venue assembly: who hears of what, in which order, is a decision that shows."""

from __future__ import annotations

from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.runner.api import load_config
from exchange_sim.venue.messages import Deposit, SubmitOrder
from exchange_sim.venue.venue import Venue

MS = 1_000_000

CONFIG = {
    "run": {"duration": "1s"},
    "instrument": {"tick_size": 1, "lot_size": 1, "money_decimals": 0},
    "index": {"process": {"kind": "external", "start_price": 100}},
    "mark": {"rule": {"kind": "index"}, "cadence": "1ms"},
    "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
    "funding": {"enabled": False},
    "participants": [],
}


class Trader:
    """Records the fill reports it receives."""

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id
        self.fills = []

    def on_order_update(self, now, seq, update) -> None:
        return None

    def on_fill(self, now, seq, fill) -> None:
        self.fills.append(fill)


def _venue() -> tuple[Venue, Trader, Trader]:
    venue = Venue(load_config(CONFIG), MemoryLog())
    fixed = LatencySampler(ConstantLatency(value=MS), None)
    traders = []
    for account_id in (101, 102):
        venue.ledger.open_account(account_id, leverage=10)
        trader = Trader(account_id)
        venue.gateway.connect(trader, fixed, fixed)
        venue.gateway.send(account_id, Deposit(100_000), None)
        traders.append(trader)
    return venue, *traders


def test_a_fill_report_shows_the_position_the_trade_left():
    """The ledger hears of a trade before the gateway reports it, so each party's fill report
    carries its position after the trade (a maker resting 5 lots, a taker buying 3)."""
    venue, maker, taker = _venue()
    venue.start()
    venue.env.call_at(
        2 * MS, 70, lambda _: venue.gateway.send(101, SubmitOrder(1, -1, 100, 5), None)
    )
    venue.env.call_at(
        4 * MS, 70, lambda _: venue.gateway.send(102, SubmitOrder(2, 1, None, 3), None)
    )
    venue.env.run_until(20 * MS)
    (maker_fill,) = maker.fills
    (taker_fill,) = taker.fills
    assert (maker_fill.position_lots, taker_fill.position_lots) == (-3, 3)
    assert venue.ledger.accounts[101].size_lots == -3


def test_the_mark_service_hears_order_events_after_the_gateway_and_the_feed():
    """The wiring follows the documented order (a change of order is a change of the model)."""
    venue, _, _ = _venue()
    engine, ledger, mark = venue.engine, venue.ledger, venue.mark
    trade = [listener.__self__ for listener in engine.trade_listeners]
    assert trade == [ledger, venue.gateway, venue.feed, mark, venue.liquidation.desk]
    order = [listener.__self__ for listener in engine.order_listeners]
    assert order == [venue.gateway, venue.feed, mark]
    assert [listener.__self__ for listener in venue.index.listeners] == [mark, venue.feed]


def test_the_public_liquidation_stream_reports_every_forced_fill(repo_root):
    """A subscriber to the liquidation stream hears of each liquidation_fill: side of the venue's
    order, price and size, naming the fill's seq."""
    import os

    from exchange_sim.runner.simulate import build_venue

    path = os.path.join(repo_root, "configs", "scenarios", "cascade.toml")
    log = MemoryLog()
    venue = build_venue(load_config(path, ["run.duration=80s"]), log)
    heard = []
    venue.feed.subscribe_liquidations(
        lambda now, notice: heard.append(notice), LatencySampler(ConstantLatency(value=MS), None)
    )
    venue.run("test")
    fills = {e["seq"]: e for e in log.of_type("liquidation_fill")}
    assert fills and len(heard) == len(fills)
    for notice in heard:
        fill = fills[notice.seq]
        assert (notice.price_ticks, notice.size_lots) == (fill["price_ticks"], fill["size_lots"])
        assert notice.ts_exchange == fill["ts"]
