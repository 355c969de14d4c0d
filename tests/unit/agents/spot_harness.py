"""A real venue (built from a config as runs build it) with one spot market named ``spot`` and a
"whale" account on the perpetual and on the spot market whose resting orders make both books.

Grid of the default instrument: tick 0.1 (50,000.0 = 500,000 ticks), lot 0.001. No fees on
either market; the index is external (500,000 ticks at t = 0, nothing else), so the mark stays at
500,000. Whale orders are placed on the engines directly, in the MATCH phase of the instant given.
"""

from __future__ import annotations

from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, GTC, SELL, Order
from exchange_sim.runner.api import load_config
from exchange_sim.runner.simulate import build_venue

S = 1_000_000_000
MS = 1_000_000
LINK_1MS = {
    "request": {"kind": "constant", "value": "1ms"},
    "response": {"kind": "constant", "value": "1ms"},
}


def venue_config(participants, fundamental=None) -> dict:
    config = {
        "run": {"duration": "60s"},
        "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
        "index": {"cadence": "1s", "process": {"kind": "external", "start_price": "50000.0"}},
        "spot_markets": [{"name": "spot", "maker_fee_ppb": 0, "taker_fee_ppb": 0}],
        "participants": participants,
    }
    if fundamental is not None:
        config["fundamental"] = fundamental
    return config


class SpotVenue:
    """The venue of :func:`venue_config`, its log, and the whale (see the module docstring)."""

    def __init__(self, participants, fundamental=None) -> None:
        self.log = MemoryLog()
        self.venue = venue = build_venue(
            load_config(venue_config(participants, fundamental)), self.log
        )
        self.env = venue.env
        self.spot = venue.spot_markets["spot"]
        self.whale = whale = venue.ids.next("account")
        venue.ledger.open_account(whale, False, 20, "whale", "test")
        venue.ledger.deposit(0, whale, 10**15, None)
        self.spot.ledger.open_account(whale, "whale", "test")
        self.spot.ledger.deposit(0, whale, 10**15, None)
        self.spot.ledger.deposit(0, whale, 10**6, None, asset="base")
        self._order_ids = iter(range(10**9, 2 * 10**9))

    def accounts(self, participant: str) -> dict[str, int]:
        """The participant's account ids by market (``perp`` or ``spot``)."""
        return {
            ("spot" if e["type"] == "spot_account_opened" else "perp"): e["account_id"]
            for e in self.log.events
            if e["type"] in ("account_opened", "spot_account_opened")
            and e["participant"] == participant
        }

    def book(self, at: int, market: str, bids, asks) -> None:
        """At ``at`` the whale cancels its orders on ``market`` (``perp`` or ``spot``) and rests
        ``bids`` and ``asks``, lists of ``(price_ticks, lots)``."""
        engine = self.venue.engine if market == "perp" else self.spot.engine

        def place(_payload) -> None:
            now = self.env.now
            engine.cancel_all(now, self.whale, None)
            for side, levels in ((BUY, bids), (SELL, asks)):
                for price, lots in levels:
                    order = Order(next(self._order_ids), self.whale, side, price, lots, tif=GTC)
                    engine.submit(now, order, None)

        self.env.call_at(at - self.env.now, Phase.MATCH, place)

    def run(self, until: int) -> None:
        self.venue.start()
        self.env.run_until(until)

    def orders(self, account: int) -> list[dict]:
        """The account's accepted orders, in order."""
        return [
            e
            for e in self.log.events
            if e["type"] == "order_accepted" and e["account_id"] == account
        ]

    def trades(self, account: int) -> list[dict]:
        """Trades the account took part in."""
        return [
            e
            for e in self.log.events
            if e["type"] == "trade" and account in (e["taker_account_id"], e["maker_account_id"])
        ]
