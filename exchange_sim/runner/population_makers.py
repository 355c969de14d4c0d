"""Building the adaptive market maker and the execution agent (see :mod:`.population`).

Each opens one account with its own leverage, connects it to the gateway with its link latency
and subscribes it to the index and to market data (one level of depth and the trade channel),
each with its own latency; its starting money is a ``Deposit`` it sends itself.
"""

from __future__ import annotations

from exchange_sim.agents.adaptive_maker import AdaptiveMaker
from exchange_sim.agents.execution import ExecutionAgent
from exchange_sim.agents.maker_config import AdaptiveMakerConfig, ExecutionConfig


def _account(venue, cfg) -> int:
    account = venue.ids.next("account")
    venue.ledger.open_account(account, False, cfg.leverage, cfg.name, cfg.KIND)
    return account


def _subscribe(venue, agent, cfg, prefix: str) -> None:
    venue.feed.subscribe_index(
        agent.on_index, venue.sampler(cfg.index_latency, f"{prefix}/index_latency")
    )
    venue.feed.subscribe(
        agent.on_feed,
        venue.sampler(cfg.feed_latency, f"{prefix}/feed"),
        depth_levels=1,
        trades=True,
    )


def add_adaptive_maker(venue, cfg: AdaptiveMakerConfig, request, response, next_order_id, prefix):
    account = _account(venue, cfg)
    maker = AdaptiveMaker(
        venue.env,
        venue.gateway,
        venue.log,
        cfg,
        account,
        next_order_id,
        venue.scale.money_per_tick_lot,
    )
    venue.gateway.connect(maker, request, response)
    _subscribe(venue, maker, cfg, prefix)
    return [maker]


def add_execution(venue, cfg: ExecutionConfig, request, response, next_order_id, prefix):
    account = _account(venue, cfg)
    agent = ExecutionAgent(
        venue.env,
        venue.gateway,
        venue.log,
        cfg,
        account,
        next_order_id,
        venue.scale.money_per_tick_lot,
    )
    venue.gateway.connect(agent, request, response)
    _subscribe(venue, agent, cfg, prefix)
    return [agent]


BUILDERS = {AdaptiveMakerConfig: add_adaptive_maker, ExecutionConfig: add_execution}
"""Participant config class -> builder ``(venue, cfg, request, response, next_order_id,
prefix) -> objects to start``."""
