"""A preset's run, and positions held in its ledger: what the venue-formula tests price.

``run(preset)`` builds the :class:`~exchange_sim.venue.venue.Venue` a run of that preset builds
(config through ``load_data``, tiers through ``build_tiers``, the ledger wired to the mark service
and the risk monitor); ``position`` opens an account in its ledger and applies fills, so the
account's ``liquidation_price`` and ``bankruptcy_price`` are the ones the run's risk monitor
indexes. Not a test module.
"""

from __future__ import annotations

import functools
import itertools

from hypothesis import strategies as st

from exchange_sim.accounts.liquidation_price import LONG, SHORT
from exchange_sim.events.log import MemoryLog
from exchange_sim.runner.config import load_data
from exchange_sim.runner.simulate import build_venue
from exchange_sim.venue.venue import Venue

INSTRUMENT = {"tick_size": "0.01", "lot_size": "0.001", "money_decimals": 6}
"""Tick 0.01, lot 0.001, 6 money decimals: one tick on one lot is 10 minor units."""

MARGINS = {
    # §2.1: the ETHUSDT bracket of the API example (75x, cap 10,000, MMR 0.65 %, cum 0), W2.
    "eth_bracket": {
        "brackets": [
            {
                "notional_floor": "0",
                "notional_cap": "10000",
                "max_leverage": 75,
                "maintenance_rate": "0.0065",
                "maintenance_amount": "0",
            }
        ]
    },
    # W7: one Bybit tier with MMR 0.5 % (up to 100x).
    "bybit_w7": {
        "brackets": [
            {
                "notional_floor": "0",
                "notional_cap": "1000000000",
                "max_leverage": 100,
                "maintenance_rate": "0.005",
                "maintenance_amount": "0",
            }
        ]
    },
    # W13, W14: dYdX mid-cap tier (§2.5): IMF 10 % (10x), MMF 5 %.
    "dydx_mid_cap": {
        "brackets": [
            {
                "notional_floor": "0",
                "notional_cap": "1000000000000",
                "max_leverage": 10,
                "maintenance_rate": "0.05",
                "maintenance_amount": "0",
            }
        ]
    },
    # §3.2 example: MM 0.5 %, IM 1 % (100x) in the base tier; the example's MM has no exit
    # taker fee (its 99.50 is EP x (1 - (1 % - 0.5 %))), so the preset's fee term is left out.
    "bitmex_example": {"base_maintenance_rate": "0.005", "trigger_rate_added": "0"},
}


@functools.cache
def run(preset: str, margin: str | None = None, instrument: tuple = ()) -> Venue:
    """The simulation a run of ``preset`` builds (``margin`` names an override in MARGINS). With
    ``instrument`` items (another grid) the run has no participants: their default prices and
    sizes need not fit that grid, and the venue does not depend on them."""
    data: dict = {"venue": {"preset": preset}, "instrument": dict(INSTRUMENT, **dict(instrument))}
    if instrument:
        data["participants"] = []
    if margin is not None:
        data["margin"] = MARGINS[margin]
    return build_venue(load_data(data), MemoryLog())


SCALE = run("binance").scale
M = SCALE.money_per_tick_lot


def usd(text: str) -> int:
    return SCALE.money_minor(text, "test")


def px(text: str) -> int:
    return SCALE.price_ticks(text, "test")


def lots(text: str) -> int:
    return SCALE.size_lots(text, "test")


_ids = itertools.count(10**9)  # clear of the ids the run gives its participants


def position(
    sim: Venue,
    side: int,
    fills,
    *,
    deposit: int,
    isolated: bool = False,
    leverage: int = 20,
    adjust: int = 0,
    mark: int | None = None,
):
    """A new account of ``sim``'s ledger: ``deposit``, then ``fills`` ((price ticks, lots), no
    fee) on ``side``, then ``adjust`` (either sign) moved into its collateral as a funding
    payment would be (the wallet in cross mode, the isolated margin in isolated mode). ``mark``
    is the run's mark price while this happens (``None``: before the first mark)."""
    ledger = sim.ledger
    sim.mark.price = mark
    account = ledger.open_account(next(_ids), isolated=isolated, leverage=leverage)
    if deposit > 0:
        ledger.deposit(0, account.account_id, deposit, None)
    for price, lots in fills:
        ledger.apply_fill(0, 0, account, side, price, lots, 0)
    if adjust:
        ledger.adjust_collateral(0, account.account_id, adjust, 0)
    return account


def _bounds(tiers) -> tuple[int, ...]:
    """Notionals where the tier model's tiers start (a step model: base, then ten steps)."""
    floors = getattr(tiers, "floors", None)
    if floors is not None:
        return floors
    return (0, tiers.base_risk_limit, tiers.base_risk_limit + 10 * tiers.step)


@st.composite
def holdings(draw, tiers, modes=(False, True)):
    """Keyword arguments of :func:`position` for a position as a run builds it: one or two fills
    on one side (the first sized to land in a drawn tier, so every tier is reached) at a
    leverage the tier model allows, the initial margin deposited, then a random payment into
    the collateral (a loss, funding, a top-up); and a mark."""
    side = draw(st.sampled_from([LONG, SHORT]))
    isolated = draw(st.sampled_from(modes))
    bounds = _bounds(tiers)
    tier = draw(st.integers(0, len(bounds) - 1))
    low = bounds[tier]
    high = bounds[tier + 1] if tier + 1 < len(bounds) else 2 * low + 10**9
    price = draw(st.integers(1, 10**7))
    size = max(1, draw(st.integers(low, high)) // (price * M))
    fills = [(price, size)]
    if draw(st.booleans()):  # a second fill, its notional within the tier's span too (money
        second = draw(st.integers(1, 10**7))  # in the log must stay within 64 bits)
        fills.append((second, draw(st.integers(1, max(1, min(size, high // (second * M)))))))
    notional = sum(p * q * M for p, q in fills)
    leverage = draw(st.integers(1, tiers.max_leverage(notional)))
    im = sum(tiers.initial_margin(p * q * M, leverage) for p, q in fills)
    return dict(
        side=side,
        fills=fills,
        deposit=im,
        isolated=isolated,
        leverage=leverage,
        adjust=draw(st.integers(-(im + notional // 4), notional)),
        mark=draw(st.integers(1, 10**7)),
    )
