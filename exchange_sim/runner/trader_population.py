"""Building the strategy traders (trend followers, dip buyers, carry traders, the liquidation
hunter, the oracle manipulator) and connecting them to the venue; called by
:func:`~exchange_sim.runner.population.add_participant` for their kinds.

As for every participant, accounts are opened here (owner: the config's name, role: its kind),
each account is connected to the gateway with the participant's link latency, and the groups
subscribe to the market data they watch with their observation latency; starting money is the
``Deposit`` each sends in ``start()``. A group's thresholds are drawn from its own RNG stream
(``participant/<name>/flow``).
"""

from __future__ import annotations

from exchange_sim.agents.carry import CarryTraderGroup
from exchange_sim.agents.dip_buyer import DipBuyerGroup
from exchange_sim.agents.hunter import LiquidationHunter
from exchange_sim.agents.manipulator import OracleManipulator
from exchange_sim.agents.trader_config import (
    CarryTraderConfig,
    DipBuyerConfig,
    LiquidationHunterConfig,
    OracleManipulatorConfig,
    TrendFollowerConfig,
)
from exchange_sim.agents.trend import TrendFollowerGroup

TRADER_CONFIGS = (
    TrendFollowerConfig,
    DipBuyerConfig,
    CarryTraderConfig,
    LiquidationHunterConfig,
    OracleManipulatorConfig,
)
_GROUPS: dict[type, type[TrendFollowerGroup] | type[DipBuyerGroup] | type[CarryTraderGroup]] = {
    TrendFollowerConfig: TrendFollowerGroup,
    DipBuyerConfig: DipBuyerGroup,
    CarryTraderConfig: CarryTraderGroup,
}


def add_trader(venue, cfg, next_order_id, request, response) -> list:
    """Create ``cfg``'s hunter or group on ``venue``; return the objects to ``start()``."""
    ids, gateway, ledger, feed = venue.ids, venue.gateway, venue.ledger, venue.feed
    prefix = f"participant/{cfg.name}"

    def observed(channel: str):
        return venue.sampler(cfg.observation_latency, f"{prefix}/{channel}")

    if isinstance(cfg, LiquidationHunterConfig):
        account = ids.next("account")
        ledger.open_account(account, False, cfg.leverage, cfg.name, cfg.KIND)
        hunter = LiquidationHunter(venue.env, gateway, venue.log, cfg, account, next_order_id)
        gateway.connect(hunter, request, response)
        feed.subscribe(
            hunter.on_market, observed("feed"), depth_levels=cfg.depth_levels, trades=True
        )
        feed.subscribe_liquidations(hunter.on_liquidation, observed("liquidations"))
        return [hunter]
    if isinstance(cfg, OracleManipulatorConfig):
        return [_add_manipulator(venue, cfg, next_order_id, request, response, prefix)]
    accounts = [ids.next("account") for _ in range(cfg.count)]
    for account in accounts:
        ledger.open_account(account, False, cfg.leverage, cfg.name, cfg.KIND)
    group = _GROUPS[type(cfg)](
        venue.env,
        gateway,
        venue.log,
        cfg,
        accounts,
        next_order_id,
        venue.rng.stream(f"{prefix}/flow"),
        venue.scale.valuation,
    )
    if isinstance(group, CarryTraderGroup):  # built from a CarryTraderConfig
        feed.subscribe_index(group.on_index, observed("index_latency"))
        feed.subscribe(group.on_snapshot, observed("feed"))
    elif cfg.price_source == "index":
        feed.subscribe_index(group.on_index, observed("index_latency"))
    else:
        feed.subscribe(group.on_trades, observed("feed"), trades=True)
    gateway.connect_group(group, accounts, request, response)
    return [group]


def _add_manipulator(venue, cfg, next_order_id, request, response, prefix: str):
    """The manipulator's perpetual and spot accounts, links and its view of the spot book it
    pushes (the config check has made sure ``cfg.spot_market`` exists)."""
    ids, spot = venue.ids, venue.spot_markets[cfg.spot_market]
    perp_account, spot_account = ids.next("account"), ids.next("account")
    venue.ledger.open_account(perp_account, False, cfg.leverage, cfg.name, cfg.KIND)
    spot.ledger.open_account(spot_account, cfg.name, cfg.KIND)
    manipulator = OracleManipulator(
        venue.env,
        venue.log,
        cfg,
        venue.gateway,
        spot.gateway,
        perp_account,
        spot_account,
        next_order_id,
        venue.scale.valuation,
    )
    venue.gateway.connect(manipulator.perp_leg, request, response)
    spot.gateway.connect(
        manipulator.spot_leg,
        venue.sampler(cfg.spot_latency.request, f"{prefix}/spot_request"),
        venue.sampler(cfg.spot_latency.response, f"{prefix}/spot_response"),
    )
    spot.feed.subscribe(
        manipulator.on_spot_view,
        venue.sampler(cfg.observation_latency, f"{prefix}/spot_feed"),
        depth_levels=cfg.depth_levels,
    )
    return manipulator
