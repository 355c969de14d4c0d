"""The fundamental value process: the exogenous driver of a market that makes its own prices.

Every ``cadence`` the latent value takes a geometric-Brownian step (its own RNG stream); at each
scheduled news item's own time it jumps by the item's relative size (after the step when both
fall on one instant, so the value a news item causes is the news item's price). A change is
logged as ``fundamental_price`` (cause null: root kind ``fundamental_move``; after a jump, the
``news`` event), and each subscriber hears of it after its own latency (in the AGENT phase). No
venue publishes the fundamental: prices move only when participants who watch it trade on what
they see, and the rest of the market learns it from prices. Work runs in the INDEX phase
(exogenous inputs first at an instant).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from exchange_sim.core.rounding import quantize_price
from exchange_sim.core.units import NS_PER_DAY, RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.kernel.latency import LatencySampler
from exchange_sim.markets.config import FundamentalConfig

YEAR_NS = 365 * NS_PER_DAY


class FundamentalUpdate(NamedTuple):
    """The fundamental value as a subscriber receives it."""

    ts_source: int
    """When it moved, ns."""
    price_ticks: int
    seq: int
    """The ``fundamental_price`` event (a reaction names it as its cause)."""


class FundamentalValue:
    """The process (see the module docstring); ``price`` is the current value in ticks."""

    __slots__ = (
        "_config",
        "_env",
        "_log",
        "_log_price",
        "_news",
        "_rng",
        "_subscribers",
        "_tick",
        "price",
    )

    def __init__(self, env, log, config: FundamentalConfig, tick_size, rng: np.random.Generator):
        self._env = env
        self._log = log
        self._config = config
        self._rng = rng
        self._tick = float(tick_size)
        self._log_price = math.log(config.start_price * self._tick)
        self._news = list(config.news)
        self._subscribers: list[tuple[Callable, LatencySampler]] = []
        self.price: int | None = None

    def subscribe(
        self, handler: Callable[[int, FundamentalUpdate], None], latency: LatencySampler
    ) -> None:
        """Deliver ``handler(receive_ns, FundamentalUpdate)`` ``latency`` after each change."""
        self._subscribers.append((handler, latency))

    def start(self) -> None:
        self._env.call_at(0, Phase.INDEX, self._step)

    def _step(self, _payload) -> None:
        """A GBM step over the cadence just elapsed, then the news due now; news due before the
        next step is scheduled at its own time."""
        env, config = self._env, self._config
        now = env.now
        env.call_at(config.cadence, Phase.INDEX, self._step)
        if now > 0 and config.volatility_annual:
            years = config.cadence / YEAR_NS
            vol = float(config.volatility_annual)
            self._log_price += -0.5 * vol * vol * years + vol * math.sqrt(years) * float(
                self._rng.standard_normal()
            )
        cause = self._jump(now)
        for item in self._news:
            if item.at >= now + config.cadence:
                break
            if item.at > now:
                env.call_at(item.at - now, Phase.INDEX, self._news_due)
        self._publish(now, cause)

    def _news_due(self, _payload) -> None:
        """News between two steps, at its own time."""
        now = self._env.now
        cause = self._jump(now)
        if cause is not None:
            self._publish(now, cause)

    def _jump(self, now: int) -> int | None:
        """Apply every news item due by ``now``; return the last ``news`` event's seq."""
        cause = None
        news = self._news
        while news and news[0].at <= now:
            item = news.pop(0)
            self._log_price += math.log1p(float(item.jump))
            jump_ppb = int(item.jump * RATE_SCALE)
            cause = self._log.emit(
                now,
                "news",
                None,
                headline=item.headline,
                jump_ppb=jump_ppb,
                price=quantize_price(math.exp(self._log_price), self._tick),
            )
        return cause

    def _publish(self, now: int, cause: int | None) -> None:
        """Log the value if it changed (or news moved it) and deliver it to subscribers."""
        env = self._env
        price = quantize_price(math.exp(self._log_price), self._tick)
        if price == self.price and cause is None:
            return
        self.price = price
        seq = self._log.emit_record(
            {"seq": 0, "ts": now, "type": "fundamental_price", "cause": cause, "price": price}
        )
        update = FundamentalUpdate(now, price, seq)
        for handler, latency in self._subscribers:
            env.call_at(latency.draw(), Phase.AGENT, _deliver, (env, handler, update))


def _deliver(payload) -> None:
    env, handler, update = payload
    handler(env.now, update)
