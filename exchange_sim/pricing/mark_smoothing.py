"""Smoothing over a venue's mark rule (pure, integer): a median or an EMA of the rule's values.

The venue rules of :mod:`.mark` already smooth some of their inputs: Binance and OKX average the
basis over ``basis_window`` (exchange_mechanics.md §1.1, §1.4), Hyperliquid keeps EMAs of the
basis and of ``median(bid, ask, last)`` (§1.6); BitMEX, dYdX, ``index`` and ``last_trade`` do not
smooth at all.
:class:`SmoothedMark` wraps any of them and smooths the value it publishes:

* ``median``: the median of the rule's values of the last ``window`` (every update whose time is
  within ``(now - window, now]``), the lower median for an even count: a one-sample wick moves
  it only when the window holds fewer than three samples;
* ``ema``: ``ema += weight x (value - ema)`` per update, kept exactly as a fraction over
  ``RATE_SCALE`` and rounded to the nearest tick (ties toward +inf) like every mark.

The wrapped rule still sees every input and keeps its own state; ``determined_by`` is the rule's
(the mark service names the cause among its inputs); ``components`` is ``None`` (a smoothed
value is not the sum of the rule's parts). Venues that smooth the whole mark this way are not
documented (an assumption, docs/mechanics.md).
"""

from __future__ import annotations

from collections import deque

import attrs

from exchange_sim.core.units import NS_PER_S, RATE_SCALE
from exchange_sim.pricing.mark import round_nearest

SMOOTHING_KINDS = ("none", "median", "ema")


@attrs.frozen(kw_only=True)
class MarkSmoothingConfig:
    kind: str = attrs.field(
        default="none",
        metadata={
            "choices": SMOOTHING_KINDS,
            "help": "none, median of the rule's values over window, or EMA with weight",
        },
    )
    window: int = attrs.field(
        default=3 * NS_PER_S,
        metadata={"unit": "duration", "min": 1, "help": "median: span of values kept"},
    )
    weight: int = attrs.field(
        default=300_000_000,
        metadata={
            "unit": "rate",
            "min": 1,
            "max": 1_000_000_000,
            "help": "ema: weight of the newest value per mark update",
        },
    )

    def __attrs_post_init__(self) -> None:
        if self.kind not in SMOOTHING_KINDS:
            raise ValueError(f"kind must be one of {', '.join(SMOOTHING_KINDS)}")


class SmoothedMark:
    """A mark rule whose published value is the median or EMA of ``inner``'s (module doc)."""

    __slots__ = ("_config", "_ema", "_samples", "components", "inner")

    def __init__(self, inner, config: MarkSmoothingConfig) -> None:
        self.inner = inner
        self._config = config
        self._samples: deque[tuple[int, int]] = deque()
        self._ema: int | None = None
        """The EMA times ``RATE_SCALE`` (exact between updates)."""
        self.components = None

    @property
    def determined_by(self) -> frozenset[str]:
        return self.inner.determined_by

    def set_funding(self, rate_ppb: int, next_funding_ts_ns: int, interval_ns: int) -> None:
        self.inner.set_funding(rate_ppb, next_funding_ts_ns, interval_ns)

    def update(self, now_ns, index_ticks, best_bid, best_ask, last_trade) -> int:
        value = self.inner.update(now_ns, index_ticks, best_bid, best_ask, last_trade)
        config = self._config
        if config.kind == "ema":
            if self._ema is None:
                self._ema = value * RATE_SCALE
            else:
                self._ema += (value * RATE_SCALE - self._ema) * config.weight // RATE_SCALE
            return round_nearest(self._ema, RATE_SCALE)
        samples = self._samples
        samples.append((now_ns, value))
        start = now_ns - config.window
        while samples[0][0] <= start:
            samples.popleft()
        ordered = sorted(value for _, value in samples)
        return ordered[(len(ordered) - 1) // 2]
