"""Which event a ``mark_price`` names: the input that moved it (exchange_sim.venue.mark_service).

A venue with an external index the test pushes and no participants; a whale account trades
straight into the engine (grid: tick 1, lot 1, no fees). The mark is computed every second.
"""

from __future__ import annotations

import exchange_sim as es
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL, Order
from exchange_sim.runner.simulate import build_venue

S = 1_000_000_000
MS = 1_000_000


class Market:
    def __init__(self, rule: dict) -> None:
        config = {
            "instrument": {"tick_size": 1, "lot_size": 1, "money_decimals": 0},
            "index": {"process": {"kind": "external"}},
            "mark": {"cadence": "1s", "rule": rule},
            "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
            "funding": {"enabled": False},
            "participants": [],
        }
        self.log = MemoryLog()
        self.venue = venue = build_venue(es.load_config(config), self.log)
        self.env = venue.env
        self.accounts = []
        for _ in range(2):
            account = venue.ids.next("account")
            venue.ledger.open_account(account, False, 100, "whale", "test")
            venue.ledger.deposit(0, account, 10**15, None)
            self.accounts.append(account)
        self._ids = iter(range(1, 10**9))

    def order(self, at: int, side: int, price: int, lots: int, tif: str = "GTC", who: int = 0):
        def submit(_payload):
            order = Order(next(self._ids), self.accounts[who], side, price, lots, tif=tif)
            self.venue.engine.submit(self.env.now, order, None)

        self.env.call_at(at - self.env.now, Phase.MATCH, submit)

    def index(self, at: int, price: int) -> None:
        self.venue.index.push(at - self.env.now, price)

    def run(self, until: int) -> None:
        self.venue.start()
        self.env.run_until(until)

    def mark_at(self, ts: int) -> dict:
        return next(e for e in self.log.of_type("mark_price") if e["ts"] == ts)

    def cause_of(self, event: dict) -> dict:
        return self.log.events[event["cause"]]


def test_a_last_price_mark_names_the_order_that_moved_the_price_most():
    """Last-trade mark. Between the marks at 1 s and 2 s one order sweeps asks 1,001 to 1,005
    (five trades, a move of 5 from 1,000) and a later one lot trades at 1,004 (a move of 1): the
    2 s mark names the sweep's last trade, not the later one."""
    m = Market({"kind": "last_trade"})
    m.index(0, 1_000)
    m.order(100 * MS, SELL, 1_000, 1)
    m.order(100 * MS, BUY, 1_000, 1, IOC, who=1)
    for price in range(1_001, 1_006):
        m.order(1_100 * MS, SELL, price, 1)
    m.order(1_200 * MS, BUY, 1_005, 5, IOC, who=1)
    m.order(1_300 * MS, BUY, 1_004, 1)
    m.order(1_300 * MS, SELL, 1_004, 1, IOC, who=1)
    m.run(2_500 * MS)
    cause = m.cause_of(m.mark_at(2 * S))
    sweep = [t for t in m.log.of_type("trade") if t["ts"] == 1_200 * MS]
    assert len(sweep) == 5 and cause == sweep[-1]


def binance_market() -> Market:
    """Binance rule with a 10 s basis window; a book of 999 / 1,001 around an index of 1,000 from
    the start (a zero basis): the mark is Price 2 = index + MA(basis)."""
    m = Market({"kind": "binance", "basis_window": "10s", "basis_cadence": "1s"})
    m.index(0, 1_000)
    m.order(0, BUY, 999, 100)
    m.order(0, SELL, 1_001, 100)
    return m


def test_binance_mark_names_the_index_when_the_index_moved_it():
    """At 3 s the index rises to 1,010 and the book stays (no trade: the last price is Price 1):
    the mark moves with the index alone, and names the index_price."""
    m = binance_market()
    m.index(3 * S, 1_010)
    m.run(3_500 * MS)
    assert m.cause_of(m.mark_at(3 * S))["type"] == "index_price"


def test_binance_mark_names_the_book_change_when_the_book_moved_it():
    """The index stays at 1,000. At 2.5 s the book is replaced 80 lower (919 / 921, through an
    empty book: the new mid is compared with the last one); at 2.6 s one lot trades at 919 (the
    last price, so the median is Price 2) and at 2.7 s a deeper bid rests. Price 2 falls by its
    basis average and not by its index part, so the 3 s mark names the book event that moved the
    mid most: the ask at 921 that completed the new touch."""
    m = binance_market()

    def move_book(_payload):
        m.venue.engine.cancel_all(m.env.now, m.accounts[0], None)

    m.env.call_at(2_500 * MS, Phase.MATCH, move_book)
    m.order(2_500 * MS, BUY, 919, 100)
    m.order(2_500 * MS, SELL, 921, 100)
    m.order(2_600 * MS, SELL, 919, 1, IOC, who=1)
    m.order(2_700 * MS, BUY, 918, 5)
    m.run(3_500 * MS)
    mark = m.mark_at(3 * S)
    cause = m.cause_of(mark)
    assert 919 < mark["price"] < 1_000
    assert (cause["type"], cause["ts"], cause["price_ticks"]) == ("order_accepted", 2_500 * MS, 921)
