"""Building the adaptive market maker and the execution agent (see :mod:`.population`).

Each opens one account with its own leverage on the market it trades (the perpetual, or for the
adaptive maker a spot market), connects it to that market's gateway with its link latency and
subscribes it to its reference price (the index, or the fundamental value) and to that market's
data (one level of depth and the trade channel), each with its own latency; its starting money
(and base inventory on spot) is a ``Deposit`` it sends itself.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.agents.adaptive_maker import AdaptiveMaker
from exchange_sim.agents.execution import ExecutionAgent
from exchange_sim.agents.maker_config import AdaptiveMakerConfig, ExecutionConfig


def _account(venue, cfg, place) -> int:
    account = venue.ids.next("account")
    place.open(account, False, cfg.leverage, cfg)
    return account


def _subscribe(venue, agent, cfg, prefix: str, place, reference) -> None:
    reference(agent.on_index, venue.sampler(cfg.index_latency, f"{prefix}/index_latency"))
    place.feed.subscribe(
        agent.on_feed,
        venue.sampler(cfg.feed_latency, f"{prefix}/feed"),
        depth_levels=1,
        trades=True,
    )


def add_adaptive_maker(
    venue, cfg: AdaptiveMakerConfig, request, response, next_order_id, prefix, place, reference
) -> list:
    account = _account(venue, cfg, place)
    maker = AdaptiveMaker(
        venue.env,
        place.gateway,
        place.log,
        cfg,
        account,
        next_order_id,
        place.valuation,
    )
    place.gateway.connect(maker, request, response)
    _subscribe(venue, maker, cfg, prefix, place, reference)
    return [maker]


def add_execution(
    venue, cfg: ExecutionConfig, request, response, next_order_id, prefix, place, reference
) -> list:
    account = _account(venue, cfg, place)
    agent = ExecutionAgent(
        venue.env,
        place.gateway,
        place.log,
        cfg,
        account,
        next_order_id,
        place.valuation,
    )
    place.gateway.connect(agent, request, response)
    _subscribe(venue, agent, cfg, prefix, place, reference)
    return [agent]


# Each builder takes (venue, cfg, request, response, next_order_id, prefix, place, reference).
BUILDERS: dict[type, Callable[..., list]] = {
    AdaptiveMakerConfig: add_adaptive_maker,
    ExecutionConfig: add_execution,
}
"""Participant config class -> builder ``(venue, cfg, request, response, next_order_id, prefix,
place, reference) -> objects to start`` (``place``: the market it trades; ``reference``: the
subscription its reference price comes from)."""
