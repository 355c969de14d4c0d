"""A small market for the trader-group tests: the real venue built from a config dict, a deep
market maker quoting around an external index that the test pushes.

Grid: tick 1, lot 1, no money decimals (one tick on one lot is one minor unit); no fees; funding
off; the mark follows the index (rule ``index``) unless a test says otherwise. The index starts at
:data:`START` and moves only when the script pushes it (each push is published at once, in the
INDEX phase of its instant). Participants are the config's own (``participants``), built by the
run layer exactly as in a run.
"""

from __future__ import annotations

from exchange_sim.events.log import MemoryLog
from exchange_sim.runner.api import load_config
from exchange_sim.runner.simulate import build_venue

S = 1_000_000_000
MS = 1_000_000
START = 10_000

MAKER = {
    "kind": "market_maker",
    "name": "mm",
    "levels": 5,
    "half_spread": 1,
    "level_spacing": 1,
    "level_size": 10_000,
    "requote_threshold": 0,
    "deposit": 10**12,
    "leverage": 20,
}


def config(participants: list[dict], duration: str = "60s", **sections) -> dict:
    data = {
        "run": {"duration": duration},
        "instrument": {"tick_size": 1, "lot_size": 1, "money_decimals": 0},
        "index": {"process": {"kind": "external", "start_price": START}, "cadence": "1s"},
        "mark": {"rule": {"kind": "index"}, "cadence": "100ms"},
        "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
        "funding": {"enabled": False},
        "participants": participants,
    }
    data.update(sections)
    return data


class Market:
    """The venue of :func:`config`, an index script, and readers of its log."""

    def __init__(self, participants: list[dict], duration: str = "60s", **sections) -> None:
        self.loaded = load_config(config(participants, duration, **sections))
        self.log = MemoryLog()
        self.venue = build_venue(self.loaded, self.log)
        self.env = self.venue.env

    def index_path(self, points: list[tuple[int, int]]) -> None:
        """Publish ``price`` at each ``(t_ns, price)``."""
        for t, price in points:
            self.venue.index.push(t, price)

    def run(self, until_ns: int) -> MemoryLog:
        self.venue.start()
        self.env.run_until(until_ns)
        return self.log

    # -- reading the log -------------------------------------------------------------------------
    @property
    def events(self) -> list[dict]:
        return self.log.events

    def of_type(self, name: str) -> list[dict]:
        return self.log.of_type(name)

    def accounts_of(self, participant: str) -> list[int]:
        return [
            e["account_id"]
            for e in self.of_type("account_opened")
            if e["participant"] == participant
        ]

    def position(self, account_id: int) -> int:
        return self.venue.ledger.accounts[account_id].size_lots

    def orders_caused_by(self, seq: int) -> list[dict]:
        return [e for e in self.of_type("order_accepted") if e["cause"] == seq]

    def trades_of(self, account_ids) -> list[tuple[int, int]]:
        """``(ts, signed lots)`` of each trade side of ``account_ids`` (bought +, sold -)."""
        wanted = set(account_ids)
        out = []
        for e in self.of_type("trade"):
            if e["taker_account_id"] in wanted:
                out.append((e["ts"], e["aggressor_side"] * e["size_lots"]))
            if e["maker_account_id"] in wanted:
                out.append((e["ts"], -e["aggressor_side"] * e["size_lots"]))
        return out

    def participant(self, name: str):
        """The participant object (group or single account) built for config ``name``."""
        (found,) = [p for p in self.venue._starts if p._cfg.name == name]
        return found

    def index_events(self) -> dict[int, int]:
        """``seq -> price`` of every index_price."""
        return {e["seq"]: e["price"] for e in self.of_type("index_price")}
