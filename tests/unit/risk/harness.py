"""A small venue for risk-monitor tests: the real assembly
(:class:`exchange_sim.venue.venue.Venue`) built from a config dict, its mark driven by a script.

Grid: tick 1, lot 1, no decimals (one tick on one lot is one minor unit); one bracket of 1 %
maintenance up to 50x (:data:`TIERS`) unless a test gives another ``[margin]`` table; no fees.

Prices: an external index that the script pushes (INDEX phase) and the ``index`` mark rule ticking
every :data:`MARK_CADENCE`, so each scripted price is the mark in the MARK phase of its instant
(script times are multiples of the cadence). The risk monitor is the real one, configured by the
keyword arguments (its ``[risk]`` table). The liquidation engine is the real one too, with a
processing latency of an hour: an account the monitor hands over stays queued for the whole test
(these tests are about when the monitor notices, not how the engine closes).

Account ids: the venue opens the insurance fund's account (1); tests use ids from 10 up. Accounts
are set up through the ledger at t = 0 before the run (test scaffolding); later deposits and
withdrawals travel through the gateway from a connected participant.
"""

from __future__ import annotations

from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.kernel.latency import ConstantLatency
from exchange_sim.runner.api import load_config
from exchange_sim.venue.venue import Venue as RealVenue

MS = 1_000_000
MARK_CADENCE = 10 * MS
# One bracket, 1 % maintenance up to 50x.
TIERS = {
    "kind": "brackets",
    "brackets": [
        {
            "notional_floor": 0,
            "notional_cap": 10**15,
            "max_leverage": 50,
            "maintenance_rate": "0.01",
            "maintenance_amount": 0,
        }
    ],
}


class Quiet:
    """A participant that ignores every report: lets a test send commands for an account."""

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id

    def on_order_update(self, now, seq, update) -> None:
        pass

    def on_fill(self, now, seq, fill) -> None:
        pass


LINEAR = {"tick_size": 1, "lot_size": 1, "money_decimals": 0}
INVERSE = {**LINEAR, "contract": "inverse", "contract_value": 10**8}
"""An inverse grid with ``k = 10**8``: ``Q`` lots at ``P`` are worth ``Q x 10**8 / P``."""


def config_data(
    check_latency_ns: int, notify_latency_ns: int, margin: dict, risk: dict, instrument=LINEAR
) -> dict:
    """The venue's config as parsed TOML (``risk``: the other keys of ``[risk]``)."""
    return {
        "instrument": instrument,
        "index": {"process": {"kind": "external"}},
        "mark": {"cadence": f"{MARK_CADENCE}ns", "rule": {"kind": "index"}},
        "margin": margin,
        "fees": {"maker_fee_ppb": 0, "taker_fee_ppb": 0},
        "risk": {
            "margin_check_latency": {"kind": "constant", "value": f"{check_latency_ns}ns"},
            "notify_latency": {"kind": "constant", "value": f"{notify_latency_ns}ns"},
            **risk,
        },
        "liquidation": {"processing_latency": "1h"},
        "funding": {"enabled": False},
        "participants": [],
    }


class Venue:
    """The real venue of :func:`config_data` and the helpers the risk tests share."""

    def __init__(
        self, check_latency_ns=0, notify_latency_ns=0, margin=TIERS, instrument=LINEAR, **risk
    ) -> None:
        self.loaded = load_config(
            config_data(check_latency_ns, notify_latency_ns, margin, risk, instrument)
        )
        self.log = MemoryLog()
        self.venue = venue = RealVenue(self.loaded, self.log)
        self.env = venue.env
        self.ledger = venue.ledger
        self.mark = venue.mark
        self.risk = venue.risk
        self.gateway = venue.gateway
        self.liquidation = venue.liquidation
        self._started = False

    # -- set-up ----------------------------------------------------------------------------
    def long(self, account_id: int, lots: int, price: int, wallet: int):
        """An account holding a long (filled against an outside account not in the ledger)."""
        ledger = self.ledger
        account = ledger.open_account(account_id, leverage=50)
        ledger.deposit(0, account_id, wallet, None)
        ledger.apply_fill(0, 0, account, 1, price, lots, 0)
        return account

    def short(self, account_id: int, lots: int, price: int, wallet: int):
        """An account holding a short (filled against an outside account not in the ledger)."""
        ledger = self.ledger
        account = ledger.open_account(account_id, leverage=50)
        ledger.deposit(0, account_id, wallet, None)
        ledger.apply_fill(0, 0, account, -1, price, lots, 0)
        return account

    def connect(self, participant, request_ns: int = 0, response_ns: int = 0) -> None:
        """Connect ``participant`` to the gateway over constant-latency legs."""
        prefix = f"test/{participant.account_id}"
        self.gateway.connect(
            participant,
            self.venue.sampler(ConstantLatency(value=request_ns), f"{prefix}/request"),
            self.venue.sampler(ConstantLatency(value=response_ns), f"{prefix}/response"),
        )

    def send_at(self, t_ns: int, account_id: int, command) -> None:
        """At ``t_ns`` (AGENT phase) the account's connected participant sends ``command``."""
        self.env.call_at(
            t_ns - self.env.now,
            Phase.AGENT,
            lambda _e: self.gateway.send(account_id, command, None),
        )

    def schedule(self, points: list[tuple[int, int]]) -> None:
        """The index (and so the mark) is ``price`` from each ``(t_ns, price)``."""
        for t, price in points:
            assert t % MARK_CADENCE == 0 and t >= self.env.now, t
            self.venue.index.push(t - self.env.now, price)

    def falling(self, start: int, ticks_per_step: int, step_ns: int, steps: int, floor: int):
        """A mark that falls ``ticks_per_step`` every ``step_ns`` down to ``floor``."""
        points = [(0, start)]
        for i in range(1, steps + 1):
            points.append((i * step_ns, max(floor, start - i * ticks_per_step)))
        self.schedule(points)

    # -- running and reading ---------------------------------------------------------------
    def run(self, until_ns: int) -> None:
        """Start the venue's processes (the first time) and run to ``until_ns``."""
        if not self._started:
            self._started = True
            self.venue.start()
        self.env.run_until(until_ns)

    def events(self, type_: str) -> list[dict]:
        return self.log.of_type(type_)
