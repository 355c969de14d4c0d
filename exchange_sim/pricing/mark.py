"""Mark price rules per venue (pure, integer).

Each rule is a small stateful object that declares the inputs it reads (``INPUTS``, a subset of
``index`` (the index or oracle), ``touch`` (best bid and ask, or their mid) and ``trade`` (the
last trade price)), so the mark service can name as a ``mark_price``'s cause only an input the
rule actually read::

    rule.set_funding(rate_ppb, next_funding_ts_ns, interval_ns)   # from the funding schedule
    rule.update(now_ns, index_ticks, best_bid, best_ask, last_trade) -> mark_ticks

``index_ticks`` is the venue's index (oracle for Hyperliquid and dYdX); ``best_bid``,
``best_ask`` and ``last_trade`` are ticks or ``None`` (empty side, no trade yet). Call
``update`` whenever an input changes (or at least at each sampling point): between calls the
inputs are taken as held, which is how missed sampling points are filled.

Internally every candidate price is an exact fraction ``(num, den)`` with ``den > 0``; medians
compare fractions exactly by cross-multiplication. The single rounding is the final one, to the
**nearest** tick with ties toward +inf: the mark is not money and is the same for longs and
shorts, so no side is favoured; rounding to nearest keeps the bias under half a tick. The only
non-integer step is the Hyperliquid EMA's decay factor ``exp(-t/tau)``, computed once at build
time with :class:`decimal.Decimal` (correctly rounded, platform independent) to integer ppb.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal, localcontext
from typing import Protocol

from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.pricing.mark_config import (
    BinanceMarkConfig,
    BitmexMarkConfig,
    HyperliquidMarkConfig,
    LastTradeMarkConfig,
    MarkRuleConfig,
    OkxMarkConfig,
)

Frac = tuple[int, int]


def round_nearest(num: int, den: int) -> int:
    """``num / den`` (``den > 0``) to the nearest integer, ties toward +inf."""
    return div_round(2 * num + den, 2 * den, DOWN)


def median3(a: Frac, b: Frac, c: Frac) -> Frac:
    """The median of three fractions with positive denominators, compared exactly."""

    def lt(x: Frac, y: Frac) -> bool:
        return x[0] * y[1] < y[0] * x[1]

    if lt(a, b):
        if lt(b, c):
            return b
        return c if lt(a, c) else a
    if lt(a, c):
        return a
    return c if lt(b, c) else b


INDEX = frozenset(("index",))
INDEX_TOUCH = frozenset(("index", "touch"))
TRADE = frozenset(("trade",))
TOUCH_TRADE = frozenset(("touch", "trade"))
EXTERNAL: frozenset[str] = frozenset()


def _equal(x: Frac, y: Frac) -> bool:
    return x[0] * y[1] == y[0] * x[1]


def sources_of(value: Frac, candidates) -> frozenset[str]:
    """The inputs behind every candidate ``(fraction, sources)`` equal to ``value``: the inputs
    that determined a median (ties: each tied candidate determines it alone)."""
    found: frozenset[str] = frozenset()
    for fraction, sources in candidates:
        if _equal(fraction, value):
            found |= sources
    return found


def _mean2(a: Frac, b: Frac) -> Frac:
    return (a[0] * b[1] + b[0] * a[1], 2 * a[1] * b[1])


class MarkRule(Protocol):
    determined_by: frozenset[str]
    components: dict[str, Frac] | None

    def set_funding(self, rate_ppb: int, next_funding_ts_ns: int, interval_ns: int) -> None: ...
    def update(
        self,
        now_ns: int,
        index_ticks: int,
        best_bid: int | None,
        best_ask: int | None,
        last_trade: int | None,
    ) -> int: ...


class _FundingBasis:
    """Holds the funding inputs; ``price1`` = ``index x (1 + rate x time_until / interval)``."""

    __slots__ = ("components", "determined_by", "interval_ns", "next_funding_ts_ns", "rate_ppb")
    INPUTS: frozenset[str] = INDEX

    def __init__(self) -> None:
        self.determined_by: frozenset[str] = INDEX
        """The inputs the last ``update``'s value came from (a subset of ``INPUTS``): for a
        median, the candidate it picked; for a mean or a sum, all of its terms."""
        self.components: dict[str, Frac] | None = None
        """Where a rule can say it: the last value split into an additive part per input it came
        from (``Index + MA(basis)``: ``index`` the index, ``touch`` the basis average), so the
        mark service can tell which input moved the mark; ``None``: not split."""
        self.rate_ppb = 0
        self.next_funding_ts_ns = 0
        self.interval_ns = 0

    def set_funding(self, rate_ppb: int, next_funding_ts_ns: int, interval_ns: int) -> None:
        self.rate_ppb = rate_ppb
        self.next_funding_ts_ns = next_funding_ts_ns
        self.interval_ns = interval_ns

    def price1(self, now_ns: int, index_ticks: int) -> Frac:
        interval = self.interval_ns
        if interval <= 0 or self.rate_ppb == 0:
            return (index_ticks, 1)
        until = self.next_funding_ts_ns - now_ns
        until = 0 if until < 0 else (interval if until > interval else until)
        den = RATE_SCALE * interval
        return (index_ticks * (den + self.rate_ppb * until), den)


class BinanceMark(_FundingBasis):
    """Binance USDⓈ-M / COIN-M perpetual (exchange_mechanics.md §1.1).

    ``Mark = Median(Price1, Price2, last price)``, ``Price1 = Index x (1 + LastFundingRate x
    TimeUntilFunding / interval)`` (the doc's ``/8`` hours, generalised to the symbol's funding
    interval, §1.1 [uncertain]), ``Price2 = Index + MA(basis)``, basis sample ``(Bid1 + Ask1)/2 -
    Index`` taken at each multiple of ``cadence_ns``, MA over the last ``window_samples`` samples
    (30 one-second points since 2025-09). Basis samples are kept in half ticks (exact). With no
    sample yet, ``Price2 = Index``; with no trade yet, the last price is replaced by ``Price1``.
    """

    INPUTS = frozenset(("index", "touch", "trade"))
    __slots__ = ("_held", "_last_grid", "_sampled_last", "_samples", "_sum", "cadence_ns", "window")

    def __init__(self, window_samples: int, cadence_ns: int) -> None:
        super().__init__()
        self.window = window_samples
        self.cadence_ns = cadence_ns
        self._samples: deque[int] = deque()
        self._sum = 0
        self._last_grid: int | None = None
        self._sampled_last = False
        self._held: int | None = None

    def _push(self, value: int) -> None:
        samples = self._samples
        if len(samples) == self.window:
            self._sum -= samples.popleft()
        samples.append(value)
        self._sum += value

    def _sample(self, now_ns: int, basis: int | None) -> None:
        """Record the grid points in ``(last call, now]``: held basis before now, current at now."""
        grid, offset = divmod(now_ns, self.cadence_ns)
        on_grid = offset == 0
        last = self._last_grid
        if last is not None and grid == last:
            if on_grid and basis is not None:
                if self._sampled_last:  # a later update at the same sampling instant wins
                    self._sum += basis - self._samples[-1]
                    self._samples[-1] = basis
                else:
                    self._push(basis)
                    self._sampled_last = True
        else:
            if last is not None and self._held is not None:
                held_points = grid - last - (1 if on_grid else 0)
                for _ in range(min(held_points, self.window)):
                    self._push(self._held)
            self._sampled_last = on_grid and basis is not None
            if self._sampled_last:
                self._push(basis)  # type: ignore[arg-type]
            self._last_grid = grid
        self._held = basis

    def update(
        self,
        now_ns: int,
        index_ticks: int,
        best_bid: int | None,
        best_ask: int | None,
        last_trade: int | None,
    ) -> int:
        basis = None
        if best_bid is not None and best_ask is not None:
            basis = best_bid + best_ask - 2 * index_ticks
        self._sample(now_ns, basis)
        p1 = self.price1(now_ns, index_ticks)
        count = len(self._samples)
        p2 = (2 * count * index_ticks + self._sum, 2 * count) if count else (index_ticks, 1)
        p3 = (last_trade, 1) if last_trade is not None else p1
        median = median3(p1, p2, p3)
        self.determined_by = sources_of(
            median,
            (
                (p1, INDEX),
                (p2, INDEX_TOUCH if count else INDEX),
                (p3, TRADE if last_trade is not None else INDEX),
            ),
        )
        if _equal(median, p2) and count:
            self.components = {"index": (index_ticks, 1), "touch": (self._sum, 2 * count)}
        elif _equal(median, p3) and last_trade is not None:
            self.components = {"trade": p3}
        else:
            self.components = {"index": p1}
        return round_nearest(*median)


class OkxMark(BinanceMark):
    """OKX, 2020-era text (exchange_mechanics.md §1.4): ``Mark = Index + MA(mid - Index)``.

    Binance's Price 2 on its own, without the median against Price 1 and the last price.
    """

    INPUTS = frozenset(("index", "touch"))
    __slots__ = ()

    def update(self, now_ns, index_ticks, best_bid, best_ask, last_trade) -> int:
        if best_bid is not None and best_ask is not None:
            self._sample(now_ns, best_bid + best_ask - 2 * index_ticks)
        else:
            self._sample(now_ns, None)
        count = len(self._samples)
        if not count:
            self.determined_by = INDEX
            self.components = {"index": (index_ticks, 1)}
            return index_ticks
        self.determined_by = INDEX_TOUCH
        self.components = {"index": (index_ticks, 1), "touch": (self._sum, 2 * count)}
        return round_nearest(2 * count * index_ticks + self._sum, 2 * count)


class BitmexMark(_FundingBasis):
    """BitMEX Fair Price Marking, perpetual (exchange_mechanics.md §1.2):
    ``Mark = Index x (1 + FundingRate x TimeUntilFunding / FundingInterval)``."""

    INPUTS = frozenset(("index",))
    __slots__ = ()

    def update(
        self,
        now_ns: int,
        index_ticks: int,
        best_bid: int | None,
        best_ask: int | None,
        last_trade: int | None,
    ) -> int:
        return round_nearest(*self.price1(now_ns, index_ticks))


def decay_ppb(interval_ns: int, timescale_ns: int) -> int:
    """``exp(-interval / timescale)`` in ppb, rounded to nearest (Decimal, 40 digits)."""
    with localcontext() as ctx:
        ctx.prec = 40
        value = (Decimal(-interval_ns) / Decimal(timescale_ns)).exp() * RATE_SCALE
        return int(value.to_integral_value())


def pow_ppb(factor_ppb: int, steps: int) -> int:
    """``(factor / 1e9) ** steps`` in ppb by repeated squaring, each product rounded DOWN."""
    result = RATE_SCALE
    base = factor_ppb
    while steps:
        if steps & 1:
            result = div_round(result * base, RATE_SCALE, DOWN)
        steps >>= 1
        if steps:
            base = div_round(base * base, RATE_SCALE, DOWN)
    return result


class IntegerEma:
    """Hyperliquid's EMA ``num/den`` (§1.6) on a grid of ``interval_ns``: after ``t = k x
    interval`` since the previous sample, ``num <- num e^(-t/tau) + sample t`` and ``den <- den
    e^(-t/tau) + t``; ``e^(-t/tau)`` is the precomputed ppb factor to the power ``k``. Samples at
    the same grid point as the previous one are ignored (``t = 0``)."""

    __slots__ = ("_decay", "_interval", "_last_grid", "den", "num")

    def __init__(self, interval_ns: int, timescale_ns: int) -> None:
        self._interval = interval_ns
        self._decay = decay_ppb(interval_ns, timescale_ns)
        self._last_grid: int | None = None
        self.num = 0
        self.den = 0

    def add(self, now_ns: int, sample: int) -> None:
        grid = now_ns // self._interval
        steps = 1 if self._last_grid is None else grid - self._last_grid
        if steps <= 0:
            return
        self._last_grid = grid
        factor = pow_ppb(self._decay, steps)
        t = steps * self._interval
        self.num = div_round(self.num * factor, RATE_SCALE, DOWN) + sample * t
        self.den = div_round(self.den * factor, RATE_SCALE, DOWN) + t

    def value(self) -> Frac | None:
        return (self.num, self.den) if self.den > 0 else None


class HyperliquidMark(_FundingBasis):
    """Hyperliquid (exchange_mechanics.md §1.6): ``Mark = median`` of

    1. ``oracle + EMA_150s(mid - oracle)`` (``mid - oracle`` kept in half ticks);
    2. ``median(best bid, best ask, last trade)`` (absent unless all three exist);
    3. the external perp mid (weighted median of other venues, set by
       :meth:`set_external_mid`; absent while ``None``).

    When exactly two exist, the 30 s EMA of input 2 joins them; with two inputs in the end their
    mean is used, with one that input. The index passed to ``update`` is the oracle.
    """

    INPUTS = frozenset(("index", "touch", "trade"))
    __slots__ = ("_fallback_ema", "_mark_ema", "external_mid")

    def __init__(
        self, sample_interval_ns: int, mark_timescale_ns: int, fallback_timescale_ns: int
    ) -> None:
        super().__init__()
        self._mark_ema = IntegerEma(sample_interval_ns, mark_timescale_ns)
        self._fallback_ema = IntegerEma(sample_interval_ns, fallback_timescale_ns)
        self.external_mid: int | None = None

    def set_external_mid(self, mid_ticks: int | None) -> None:
        self.external_mid = mid_ticks

    def update(
        self,
        now_ns: int,
        index_ticks: int,
        best_bid: int | None,
        best_ask: int | None,
        last_trade: int | None,
    ) -> int:
        inputs: list[Frac] = []
        sources: list[frozenset[str]] = []
        ema = self._mark_ema
        if best_bid is not None and best_ask is not None:
            ema.add(now_ns, best_bid + best_ask - 2 * index_ticks)
        ema_value = ema.value()
        if ema_value is None:
            inputs.append((index_ticks, 1))
            sources.append(INDEX)
        else:
            num, den = ema_value
            inputs.append((2 * index_ticks * den + num, 2 * den))
            sources.append(INDEX_TOUCH)
        if best_bid is not None and best_ask is not None and last_trade is not None:
            book = median3((best_bid, 1), (best_ask, 1), (last_trade, 1))
            self._fallback_ema.add(now_ns, book[0])
            inputs.append(book)
            sources.append(TRADE if book[0] == last_trade else frozenset(("touch",)))
        if self.external_mid is not None:
            inputs.append((self.external_mid, 1))
            sources.append(EXTERNAL)
        if len(inputs) == 2:
            fallback = self._fallback_ema.value()
            if fallback is not None:
                inputs.append(fallback)
                sources.append(TOUCH_TRADE)
        if len(inputs) == 3:
            median = median3(*inputs)
            self.determined_by = sources_of(median, zip(inputs, sources, strict=True))
            return round_nearest(*median)
        if len(inputs) == 2:
            self.determined_by = sources[0] | sources[1]
            return round_nearest(*_mean2(*inputs))
        self.determined_by = sources[0]
        return round_nearest(*inputs[0])


class OracleMark(_FundingBasis):
    """The index itself. dYdX v4 has no separate mark: the oracle price is used (§1.5); also the
    plain-index baseline."""

    INPUTS = frozenset(("index",))
    __slots__ = ()

    def update(
        self,
        now_ns: int,
        index_ticks: int,
        best_bid: int | None,
        best_ask: int | None,
        last_trade: int | None,
    ) -> int:
        return index_ticks


class LastTradeMark(_FundingBasis):
    """Naive baseline: the last trade price (the index until the first trade); no protection
    against a thin-book spike, which is what the venue rules above are for (§1)."""

    INPUTS = frozenset(("index", "trade"))
    __slots__ = ()

    def update(
        self,
        now_ns: int,
        index_ticks: int,
        best_bid: int | None,
        best_ask: int | None,
        last_trade: int | None,
    ) -> int:
        if last_trade is None:
            self.determined_by = INDEX
            return index_ticks
        self.determined_by = TRADE
        return last_trade


def build_mark_rule(config: MarkRuleConfig) -> MarkRule:
    """A fresh rule (with its own state) for ``config``."""
    if isinstance(config, BinanceMarkConfig):  # OKX's config is a Binance config with its KIND
        rule = OkxMark if isinstance(config, OkxMarkConfig) else BinanceMark
        return rule(config.basis_window // config.basis_cadence, config.basis_cadence)
    if isinstance(config, BitmexMarkConfig):
        return BitmexMark()
    if isinstance(config, HyperliquidMarkConfig):
        return HyperliquidMark(
            config.ema_sample_interval, config.mark_ema_timescale, config.fallback_ema_timescale
        )
    if isinstance(config, LastTradeMarkConfig):
        return LastTradeMark()
    return OracleMark()
