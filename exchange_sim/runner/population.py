"""Building participants from their configs and connecting them to the venue.

:func:`populate` is the ``populate`` callback of :class:`~exchange_sim.venue.venue.Venue`: for
each participant config, in the config's order, it opens the participant's accounts on the venue
(with their margin mode and leverage), connects each account to the gateway with the
participant's link latency, and subscribes it to the market data it watches. Participants then
act only through the venue's interfaces: commands over their links (orders, cancels, deposits,
top-ups) and the reports and market data the venue sends back. Their starting money is a
``Deposit`` they send at t = 0, which counts when it arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exchange_sim.agents.arbitrageur import BasisArbitrageur
from exchange_sim.agents.config import (
    BasisArbitrageurConfig,
    LeveragedTraderConfig,
    MarketMakerConfig,
)
from exchange_sim.agents.flow_config import InformedTraderConfig, SpotArbitrageurConfig
from exchange_sim.agents.informed import InformedTrader
from exchange_sim.agents.leveraged import LeveragedTraderGroup
from exchange_sim.agents.market_maker import MarketMaker
from exchange_sim.agents.noise import NoiseTraderGroup
from exchange_sim.agents.spot_arbitrageur import SpotArbitrageur
from exchange_sim.core.errors import ConfigError
from exchange_sim.runner.population_makers import BUILDERS
from exchange_sim.runner.trader_population import TRADER_CONFIGS, add_trader


class Place:
    """Where a participant trades: a perpetual (the instrument, or one of ``perpetuals[]`` by
    symbol) or one spot market (its gateway, feed and how accounts are opened there)."""

    __slots__ = ("feed", "gateway", "ledger", "log", "spot", "valuation")

    def __init__(self, venue, market: str, key: str) -> None:
        perpetual = venue.perpetuals.extra.get(market) if market else venue.instrument
        # What its orders' lots are worth: its perpetual's grid (a spot market's is the
        # instrument's).
        self.valuation = (perpetual.scale if perpetual is not None else venue.scale).valuation
        # Where its participants' own events go: its perpetual's log (another perpetual's tags
        # each line with its symbol, so the line is read on that perpetual's grid).
        self.log = perpetual.log if perpetual is not None else venue.log
        if perpetual is not None:
            self.spot = False
            self.gateway, self.feed, self.ledger = (
                perpetual.gateway,
                perpetual.feed,
                perpetual.ledger,
            )
            return
        spot = venue.spot_markets.get(market)
        if spot is None:
            known = ", ".join(venue.spot_markets) or "none"
            raise ConfigError(key, market, f"no such spot market (spot_markets: {known})")
        self.spot = True
        self.gateway, self.feed, self.ledger = spot.gateway, spot.feed, spot.ledger

    def open(self, account: int, isolated: bool, leverage: int, cfg) -> None:
        if self.spot:
            self.ledger.open_account(account, cfg.name, cfg.KIND)
        else:
            self.ledger.open_account(account, isolated, leverage, cfg.name, cfg.KIND)


def _reference_feed(venue, cfg, key: str):
    """What a maker centres on: the index subscription (of the perpetual it trades, or the
    instrument's for a spot market), or the fundamental value's."""
    if getattr(cfg, "reference", "index") == "fundamental":
        if venue.fundamental is None:
            raise ConfigError(key, "fundamental", "needs fundamental.enabled = true")
        return venue.fundamental.subscribe
    perpetual = venue.perpetuals.extra.get(getattr(cfg, "market", ""))
    return (perpetual.feed if perpetual is not None else venue.feed).subscribe_index


def add_participant(venue, cfg, key: str = "participants") -> list:
    """Create ``cfg``'s participant(s) on ``venue``; return the objects to ``start()``."""
    ids = venue.ids
    ledger = venue.ledger
    place = Place(venue, getattr(cfg, "market", ""), f"{key}.market")
    gateway, feed = place.gateway, place.feed
    next_order_id = ids.counter("order")
    prefix = f"participant/{cfg.name}"
    request = venue.sampler(cfg.latency.request, f"{prefix}/request")
    response = venue.sampler(cfg.latency.response, f"{prefix}/response")
    builder = BUILDERS.get(type(cfg))
    if builder is not None:
        reference = _reference_feed(venue, cfg, f"{key}.reference")
        return builder(venue, cfg, request, response, next_order_id, prefix, place, reference)
    if isinstance(cfg, TRADER_CONFIGS):
        return add_trader(venue, cfg, next_order_id, request, response)
    if isinstance(cfg, MarketMakerConfig):
        account = ids.next("account")
        place.open(account, False, cfg.leverage, cfg)
        maker = MarketMaker(venue.env, gateway, cfg, account, next_order_id)
        gateway.connect(maker, request, response)
        _reference_feed(venue, cfg, f"{key}.reference")(
            maker.on_index, venue.sampler(cfg.index_latency, f"{prefix}/index_latency")
        )
        return [maker]
    if isinstance(cfg, BasisArbitrageurConfig):
        account = ids.next("account")
        ledger.open_account(account, False, cfg.leverage, cfg.name, cfg.KIND)
        arbitrageur = BasisArbitrageur(venue.env, gateway, cfg, account, next_order_id)
        gateway.connect(arbitrageur, request, response)
        feed.subscribe_index(
            arbitrageur.on_index,
            venue.sampler(cfg.observation_latency, f"{prefix}/index_latency"),
        )
        feed.subscribe(
            arbitrageur.on_snapshot, venue.sampler(cfg.observation_latency, f"{prefix}/feed")
        )
        return [arbitrageur]
    if isinstance(cfg, InformedTraderConfig):
        account = ids.next("account")
        place.open(account, False, cfg.leverage, cfg)
        trader = InformedTrader(venue.env, gateway, cfg, account, next_order_id, place.spot)
        gateway.connect(trader, request, response)
        if venue.fundamental is None:
            raise ConfigError(f"{key}.kind", cfg.KIND, "needs fundamental.enabled = true")
        venue.fundamental.subscribe(
            trader.on_fundamental, venue.sampler(cfg.fundamental_latency, f"{prefix}/fundamental")
        )
        feed.subscribe(trader.on_snapshot, venue.sampler(cfg.feed_latency, f"{prefix}/feed"))
        return [trader]
    if isinstance(cfg, SpotArbitrageurConfig):
        spot = Place(venue, cfg.spot_market, f"{key}.spot_market")
        perp_account, spot_account = ids.next("account"), ids.next("account")
        place.open(perp_account, False, cfg.leverage, cfg)
        spot.open(spot_account, False, cfg.leverage, cfg)
        arb = SpotArbitrageur(
            venue.env, cfg, gateway, spot.gateway, perp_account, spot_account, next_order_id
        )
        gateway.connect(arb.perp_leg, request, response)
        spot.gateway.connect(
            arb.spot_leg,
            venue.sampler(cfg.spot_latency.request, f"{prefix}/spot_request"),
            venue.sampler(cfg.spot_latency.response, f"{prefix}/spot_response"),
        )
        observe = cfg.observation_latency
        feed.subscribe(arb.on_perp_snapshot, venue.sampler(observe, f"{prefix}/perp_feed"))
        spot.feed.subscribe(arb.on_spot_snapshot, venue.sampler(observe, f"{prefix}/spot_feed"))
        return [arb]
    shared = getattr(cfg, "accounts_of", "")
    if shared:
        home_ledger, accounts = venue.group_accounts[shared]
    else:
        accounts = [ids.next("account") for _ in range(cfg.count)]
    rng = venue.rng.stream(f"{prefix}/flow")
    group: LeveragedTraderGroup | NoiseTraderGroup
    if isinstance(cfg, LeveragedTraderConfig):
        group = LeveragedTraderGroup(
            venue.env,
            gateway,
            place.log,
            cfg,
            accounts,
            next_order_id,
            rng,
            venue.sampler(cfg.response.reaction_latency, f"{prefix}/reaction"),
            place.valuation,
            venue.rng.stream(f"{prefix}/life") if cfg.life_cycle else None,
        )
        isolated = cfg.margin_mode == "isolated"
        ledger = place.ledger
        for account in accounts:
            if shared:
                venue.perpetuals.link(
                    home_ledger,
                    home_ledger.accounts[account],
                    ledger,
                    isolated,
                    group.leverage[account],
                    cfg.name,
                    cfg.KIND,
                )
            else:
                ledger.open_account(account, isolated, group.leverage[account], cfg.name, cfg.KIND)
        venue.group_accounts[cfg.name] = (ledger, accounts)
        feed.subscribe_index(
            group.on_index, venue.sampler(cfg.observation_latency, f"{prefix}/index_latency")
        )
        if group.life is not None and cfg.trigger_price == "last_trade":
            feed.subscribe(
                group.life.on_trades,
                venue.sampler(cfg.observation_latency, f"{prefix}/trades"),
                trades=True,
            )
    else:
        for account in accounts:
            place.open(account, False, cfg.leverage, cfg)
        group = NoiseTraderGroup(
            venue.env, gateway, cfg, accounts, next_order_id, rng, market_orders_as_ioc=place.spot
        )
        feed.subscribe(group.on_snapshot, venue.sampler(cfg.feed_latency, f"{prefix}/feed"))
    gateway.connect_group(group, accounts, request, response)
    return [group]


def populate(participants) -> Callable[[Any], list]:
    """The venue's ``populate`` callback for a tuple of participant configs."""

    def build(venue) -> list:
        starts: list = []
        for i, config in enumerate(participants):
            starts.extend(add_participant(venue, config, f"participants[{i}]"))
        return starts

    return build
