"""Funding on the whole venue (the real assembly, built from a config dict): index publisher,
engine, ledger, mark service, risk monitor, liquidation engine, gateway, feed, the funding
scheduler and the basis arbitrageur (connected as a run connects its participants).

Grid: tick 1, lot 0.1, cents (10 cents per tick-lot); one bracket 20x / MMR 2.5 %; default fees
(2 / 5 bp); index 10,000 published every second. Funding: the Binance preset on a 1 h interval
(5 s samples, linear weights, 15 s delay, at mark).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

import attrs

from exchange_sim.config.loader import dump_section
from exchange_sim.core.units import NS_PER_HOUR, NS_PER_S, Scale
from exchange_sim.events.log import MemoryLog
from exchange_sim.funding.config import BINANCE, FundingConfig
from exchange_sim.matching.orders import BUY, GTC, SELL, Order
from exchange_sim.runner.api import load_config
from exchange_sim.runner.population import add_participant
from exchange_sim.venue.venue import Venue as RealVenue

H, S, MS = NS_PER_HOUR, NS_PER_S, 1_000_000
SCALE = Scale.build(Decimal(1), Decimal("0.1"), 2, "instrument")
INDEX = 10_000
# Opened in this order before the venue's own accounts (the insurance fund's is the next id).
WHALE, LONG, ARB = 1, 2, 3
RULE = attrs.evolve(BINANCE, interval=H)
RICH_BIDS = [(10_040, 4), (10_030, 4), (10_020, 4), (10_010, 4), (10_000, 10)]
ASKS = [(10_050, 10)]
ONE_MS = {"kind": "constant", "value": "1ms"}


def config_data(mark_rule: dict, participants: list[dict]) -> dict:
    """The venue's config as parsed TOML."""
    return {
        "instrument": {"tick_size": 1, "lot_size": "0.1", "money_decimals": 2},
        "index": {
            "cadence": "1s",
            "process": {"kind": "scripted", "points": [{"at": "0s", "price": INDEX}]},
        },
        "mark": {"cadence": "1s", "rule": mark_rule},
        "margin": {
            "kind": "brackets",
            "brackets": [
                {
                    "notional_floor": 0,
                    "notional_cap": 10**13,
                    "max_leverage": 20,
                    "maintenance_rate": "0.025",
                }
            ],
        },
        "funding": dump_section(FundingConfig(rule=RULE), SCALE),
        "participants": participants,
    }


class Venue:
    """The real venue of :func:`config_data`: the whale (quoting a rich book) and the long are
    opened first, then the config's participants are added as a run adds them."""

    def __init__(self, mark_rule: dict, participants: list[dict] = ()) -> None:
        self.loaded = load_config(config_data(mark_rule, list(participants)))
        self.log = MemoryLog()
        self.participants: list = []
        self.venue = venue = RealVenue(self.loaded, self.log, self._populate)
        self.env, self.ledger, self.engine = venue.env, venue.ledger, venue.engine
        self.funding = venue.funding
        self.ledger.deposit(0, WHALE, 10**12, None)
        for side, levels in ((BUY, RICH_BIDS), (SELL, ASKS)):
            for price, lots in levels:
                order = Order(venue.ids.next("order"), WHALE, side, price, lots, tif=GTC)
                self.engine.submit(0, order, None)

    def _populate(self, venue) -> list:
        for expected in (WHALE, LONG):
            account = venue.ids.next("account")
            assert account == expected
            venue.ledger.open_account(account, leverage=20)
        for cfg in self.loaded.config.participants:
            self.participants.extend(add_participant(venue, cfg))
        return self.participants

    def run(self, until):
        """Start the venue (participants, index, mark, funding, risk) and run to ``until``."""
        self.venue.start()
        self.env.run_until(until)


def test_funding_payment_liquidates_through_the_risk_monitor():
    """The rich book makes impact bid 10,040 (4 lots = 401,600 cents >= IMN 400,000): P = 0.4 %,
    F_8h = 0.4 % - 0.05 % = 0.35 %, hourly 437,500 ppb. The long (10 lots at 10,000, wallet
    MM + 1 = 25,001) pays ceil(1,000,000 x 437,500 / 1e9) = 438 at 1 h + 15 s; the risk monitor
    checks it with that payment as cause and triggers its liquidation."""
    venue = Venue({"kind": "index"})
    ledger = venue.ledger
    ledger.deposit(0, LONG, 25_001, None)
    ledger.apply_fill(0, 0, ledger.accounts[LONG], BUY, INDEX, 10, 0)
    ledger.apply_fill(0, 0, ledger.accounts[WHALE], SELL, INDEX, 10, 0)
    venue.run(H + 20 * S)
    (rate,) = venue.log.of_type("funding_rate")
    assert rate["rate_ppb"] == 437_500
    (payment,) = [e for e in venue.log.of_type("funding_payment") if e["account"] == LONG]
    assert (payment["ts"], payment["amount_minor"]) == (H + 15 * S, -438)
    (check,) = [e for e in venue.log.of_type("margin_check") if e["cause"] == payment["seq"]]
    assert check["outcome"] == "liquidate"
    (triggered,) = venue.log.of_type("liquidation_triggered")
    assert (triggered["account_id"], triggered["cause"]) == (LONG, check["seq"])
    # The real venue's identity also counts the insurance fund and its seed: the venue's
    # liquidation engine now acts on the long (its fee goes to the fund).
    held, put_in = venue.venue.money_identity()
    assert held == put_in


ARBITRAGEUR = {
    "kind": "arbitrageur",
    "name": "arb",
    "threshold": "0.002",
    "clip_size": "0.5",  # 5 lots
    "max_position": "1.2",  # 12 lots
    "check_interval": "10s",
    "leverage": 10,
    # 10**9 cents, sent at t = 0: it counts when it arrives, 1 ms later, long before the first
    # check at 10 s.
    "deposit": "10000000",
    "observation_latency": ONE_MS,
    "latency": {"request": ONE_MS, "response": ONE_MS},
}


def arb_venue():
    venue = Venue({"kind": "binance"}, [ARBITRAGEUR])
    (arb,) = venue.participants
    assert arb.account_id == ARB
    return venue, arb


def test_arbitrageur_selling_shrinks_the_funding_premium():
    """The arbitrageur sells at 10 s, 20 s and 30 s; each 5 s premium sample is no higher than the
    one before, and the last is below the first (0.4 % before it sold)."""
    venue, arb = arb_venue()
    venue.run(2 * 60 * S)
    premiums = [e["premium_ppb"] for e in venue.log.of_type("premium_sample")]
    assert premiums[0] == 4_000_000
    assert all(later <= earlier for earlier, later in pairwise(premiums))
    assert premiums[-1] < premiums[0]
    assert venue.ledger.accounts[ARB].size_lots == -12
    assert arb.position_lots == -12


def test_arbitrageur_short_collects_funding_and_money_is_conserved():
    """With the book still rich the rate is positive: the long whale pays and the arbitrageur's
    short receives; accounts + fees + fund + funding residue equal the deposits and the fund's
    seed exactly."""
    venue, _ = arb_venue()
    venue.run(H + 20 * S)
    (rate,) = venue.log.of_type("funding_rate")
    assert rate["rate_ppb"] > 0
    paid = {e["account"]: e["amount_minor"] for e in venue.log.of_type("funding_payment")}
    assert paid[ARB] > 0
    assert paid[WHALE] < 0
    assert sum(paid.values()) + venue.funding.residue_balance == 0
    held, put_in = venue.venue.money_identity()
    assert held == put_in
