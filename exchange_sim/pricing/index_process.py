"""The SimPy process that samples an index path on a cadence and publishes it after a latency.

Sampling happens at multiples of ``cadence``; each sample reaches the venue ``oracle_latency``
later, in the ``INDEX`` phase. An external index (no path) publishes only what a driver pushes with
:meth:`IndexPublisher.push`. A path built from spot markets may have no price (no live source:
nothing is published) and names the spot event its sample came from (``path.cause``), which becomes
the ``index_price``'s cause; an exogenous path's samples have no cause. A sample that arrives after
a newer one (possible with random latency) is stale and is dropped without an event: the venue never
moves its index backwards in source time.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.events.log import EventLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import LatencySampler

IndexListener = Callable[[int, int, int], None]
"""Called as ``listener(now_ns, index_price_ticks, event_seq)`` after each publication."""


class IndexPublisher:
    """Holds the venue's current index price and tells listeners when it changes."""

    __slots__ = (
        "_env",
        "_latency",
        "_log",
        "_path",
        "cadence_ns",
        "latest_source_ts",
        "listeners",
        "paused",
        "price",
    )

    def __init__(
        self, env: PhasedEnvironment, path, cadence_ns: int, latency: LatencySampler, log: EventLog
    ) -> None:
        self._env = env
        self._path = path
        self._latency = latency
        self._log = log
        self.cadence_ns = cadence_ns
        self.listeners: list[IndexListener] = []
        self.price: int | None = None
        self.latest_source_ts = -1
        self.paused = False
        """While true (an oracle outage) samples are dropped: the venue keeps its last index."""

    def current(self) -> int | None:
        """The price now (ticks), ``None`` before the first."""
        return self.price

    def start(self) -> None:
        path = self._path
        if getattr(path, "external", False):
            if path.start_price:
                self.push(0, path.start_price)
            return
        self._env.process(self._run())

    def push(self, delay_ns: int, price: int) -> None:
        """Publish ``price`` (ticks, >= 1) ``delay_ns`` from now in the INDEX phase, sampled at
        its source then (the driver applies any oracle latency itself)."""
        if price < 1:
            raise ValueError(f"an index price must be at least one tick, got {price}")
        at = self._env.now + delay_ns
        self._env.call_at(delay_ns, Phase.INDEX, self._publish, (price, at, None))

    def _run(self):
        env = self._env
        path = self._path
        while True:
            source_ts = env.now
            price = path.price_at(source_ts)
            if price is not None:
                delay = self._latency.draw()
                cause = getattr(path, "cause", None)
                env.call_at(delay, Phase.INDEX, self._publish, (price, source_ts, cause))
            yield env.at(self.cadence_ns, Phase.INDEX)

    def _publish(self, sample: tuple[int, int, int | None]) -> None:
        price, source_ts, cause = sample
        if self.paused:
            return
        if source_ts <= self.latest_source_ts:
            return
        self.latest_source_ts = source_ts
        self.price = price
        # Sim time is integer ns (PhasedEnvironment); simpy's stubs say int | float.
        now = self._env.now
        seq = self._log.emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "index_price",
                "cause": cause,
                "price": price,
                "ts_source": source_ts,
            }
        )
        for listener in self.listeners:
            listener(now, price, seq)
