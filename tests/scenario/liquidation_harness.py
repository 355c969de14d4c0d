"""A small venue for liquidation tests: the real assembly (:class:`exchange_sim.venue.venue.Venue`)
built from a config dict, plus set-up helpers.

Grid: tick 1, lot 1, no decimals, so one tick on one lot is one minor unit and the hand-computed
cases stay readable. Margin: one bracket of 1 % maintenance up to 50x (:data:`ONE_PERCENT`) unless
a test gives another ``[margin]`` table; no trading fees unless a test gives a ``[fees]`` table.

Prices: an external index that the test drives (:meth:`Venue.index_at`), and the ``index`` mark
rule ticking every :data:`MARK_CADENCE`: an index pushed at a multiple of the cadence (INDEX phase)
is the mark in the MARK phase of the same instant. The real risk monitor checks accounts (zero
latency; ``margin_call_ratio = 1``: no margin calls below liquidation; ``verify_with_sweep``: at
every mark a full scan must find no liquidatable account its trigger index missed) and hands
them to the real liquidation engine of the ``[liquidation]`` table (a :class:`LiquidationConfig`
is written out as that table).

Account ids: the venue opens the fund's account (1) and, with a ``vault`` stage, the vault's (2);
tests use ids from 10 up and the maker :data:`MAKER` (9). Accounts are set up through the ledger
at t = 0 before the run (test scaffolding, not participants); the maker's quotes go straight to
the matching engine.
"""

from __future__ import annotations

from decimal import Decimal

from exchange_sim.config.loader import dump_section
from exchange_sim.core.units import Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.liquidation import event_types
from exchange_sim.liquidation.config import LiquidationConfig
from exchange_sim.matching.orders import GTC, Order
from exchange_sim.runner.api import load_config
from exchange_sim.runner.event_catalog import validate_record
from exchange_sim.venue.venue import Venue as RealVenue

S = 1_000_000_000
MAKER = 9
MARK_CADENCE = S // 2
GRID = {"tick_size": 1, "lot_size": 1, "money_decimals": 0}
SCALE = Scale.build(Decimal(1), Decimal(1), 0, "instrument")
ONE_PERCENT = {
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
NO_FEES = {"maker_fee_ppb": 0, "taker_fee_ppb": 0}
REGISTRY = {e.name: e for e in event_types.EVENTS}


def rate(ppb: int) -> str:
    """A ppb rate as the decimal fraction a config file holds."""
    return format(Decimal(ppb).scaleb(-9), "f")


def config_data(
    liquidation,
    *,
    margin=ONE_PERCENT,
    fees=NO_FEES,
    band_ppb: int = 0,
    fund: int | None = 10_000,
    risk: dict | None = None,
) -> dict:
    """The venue's config as parsed TOML. ``liquidation``: a :class:`LiquidationConfig` or its
    table; ``fund`` (minor units) replaces its insurance fund's seed unless ``None``."""
    if isinstance(liquidation, LiquidationConfig):
        liquidation = dump_section(liquidation, SCALE)
    else:
        liquidation = dict(liquidation)
    if fund is not None:
        liquidation["insurance_fund"] = {"initial_balance": fund}
    return {
        "instrument": GRID,
        "index": {"process": {"kind": "external"}},
        "mark": {"cadence": f"{MARK_CADENCE}ns", "rule": {"kind": "index"}},
        "matching": {"price_band_ppb": rate(band_ppb)},
        "margin": margin,
        "fees": fees,
        "risk": risk if risk is not None else {"margin_call_ratio": 1},
        "liquidation": liquidation,
        "funding": {"enabled": False},
        "participants": [],
    }


class Venue:
    """The real venue of :func:`config_data` and the helpers the liquidation tests share.

    ``risk_monitor=False`` puts the (still wired) risk monitor in sweep mode with an hour's
    interval: it never checks during a test, so only the test hands accounts over.
    """

    def __init__(
        self,
        config,
        *,
        tiers=ONE_PERCENT,
        fees=NO_FEES,
        band_ppb: int = 0,
        fund: int | None = 10_000,
        risk_monitor: bool = True,
    ) -> None:
        risk = {"margin_call_ratio": 1, "verify_with_sweep": True}
        if not risk_monitor:
            risk.update(mode="sweep", sweep_interval="1h")
        data = config_data(config, margin=tiers, fees=fees, band_ppb=band_ppb, fund=fund, risk=risk)
        self.loaded = load_config(data)
        self.log = MemoryLog()
        self.venue = venue = RealVenue(self.loaded, self.log)
        self.env = venue.env
        self.ledger = venue.ledger
        self.engine = venue.engine
        self.mark = venue.mark
        self.risk = venue.risk
        self.liquidation = venue.liquidation
        self.fund = self.liquidation.fund
        self.vault = self.liquidation.vault
        self.fund_account = self.liquidation.waterfall.fund_account_id
        self._started = False
        self.ledger.open_account(MAKER, leverage=50)
        self.ledger.deposit(0, MAKER, 10**12, None)
        self.identity_checks = 0
        self.liquidation.after_step.append(self.check_identity)

    def check_identity(self, now: int) -> None:
        """After every liquidation step: money is conserved and open interest is balanced."""
        held, put_in = self.venue.money_identity()
        assert held == put_in, (now, held, put_in)
        longs, shorts = self.ledger.open_interest_lots()
        assert longs == shorts
        self.identity_checks += 1

    # -- set-up ----------------------------------------------------------------------------
    def account(self, account_id: int, wallet: int, isolated: bool = False):
        account = self.ledger.open_account(account_id, isolated=isolated, leverage=50)
        if wallet:
            self.ledger.deposit(0, account_id, wallet, None)
        return account

    def pair(self, long_id: int, short_id: int, lots: int, price: int) -> None:
        """Open ``lots`` between two accounts at ``price``, fee-free (a trade done earlier)."""
        ledger = self.ledger
        ledger.apply_fill(0, 0, ledger.accounts[long_id], 1, price, lots, 0)
        ledger.apply_fill(0, 0, ledger.accounts[short_id], -1, price, lots, 0)

    def quote(self, side: int, price: int, lots: int, account_id: int = MAKER) -> Order:
        order = Order(self.venue.ids.next("order"), account_id, side, price, lots, tif=GTC)
        self.engine.submit(self.env.now, order, None)
        return order

    def quote_at(self, t_ns: int, side: int, price: int, lots: int, account_id: int = MAKER):
        self.env.call_at(
            t_ns - self.env.now, Phase.MATCH, lambda _e: self.quote(side, price, lots, account_id)
        )

    def index_at(self, t_ns: int, price: int) -> None:
        """The index is ``price`` from ``t_ns`` (INDEX phase), and so is the mark from the MARK
        phase of the same instant (``t_ns`` must be a mark tick)."""
        assert t_ns % MARK_CADENCE == 0 and t_ns >= self.env.now, t_ns
        self.venue.index.push(t_ns - self.env.now, price)

    # -- running and reading ---------------------------------------------------------------
    def run(self, until_ns: int) -> None:
        """Start the venue's processes (the first time) and run to ``until_ns``."""
        if not self._started:
            self._started = True
            self.venue.start()
        self.env.run_until(until_ns)

    def events(self, type_: str) -> list[dict]:
        return self.log.of_type(type_)

    def assert_events_valid(self) -> None:
        """Every liquidation event in the log matches its declared schema."""
        for event in self.log.events:
            if event["type"] in REGISTRY:
                assert validate_record(event, REGISTRY) is None, event

    def acct(self, account_id: int):
        return self.ledger.accounts[account_id]

    def state(self, account_id: int) -> tuple[int, int, int]:
        """(position lots, entry notional, wallet)."""
        a = self.ledger.accounts[account_id]
        return a.size_lots, a.entry_notional, a.wallet


def cause_chain(log: MemoryLog, seq: int) -> list[str]:
    """Event types from ``seq`` back to the first event without a cause."""
    by_seq = {e["seq"]: e for e in log.events}
    types = []
    while seq is not None:
        event = by_seq[seq]
        types.append(event["type"])
        seq = event["cause"]
    return types
