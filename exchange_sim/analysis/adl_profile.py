"""A run's liquidation and ADL time profile, beside Hyperliquid's of 2025-10-10.

The published figures are those of ``market_events.md`` §1.7, Hyperliquid table (a community
replay of the on-chain fills of 21:15-21:27 UTC; the equity / unrealised-PnL median from the
companion analysis it cites; the 40-minute core from Amberdata's market-wide data). Every figure
is defined in ``docs/metrics.md`` ("ADL profile"); in short:

* A **liquidation** is one fill on a liquidated account's side, whatever took the other side, as
  in the published fill data: a ``liquidation_fill`` of a liquidation order (not a fund or vault
  unwind), a ``takeover`` (the backstop vault or fund took the position: Hyperliquid logs its
  backstop closes as liquidation fills) and the bankrupt side of every ``adl`` (Hyperliquid logs
  each ADL fill with a liquidated twin). Its notional is ``size x price x money_per_tick_lot`` of
  its own perpetual (a line's ``instrument``: the profile spans every perpetual of the venue);
  an inverse contract's is ``size x k / price`` in the base asset
  (:mod:`exchange_sim.analysis.valuation`: a fill valued as its order's side, a takeover as the
  position taken, an ADL and its twin both as the deleveraged position's lots closed).
* An **ADL** is one ``adl`` event (one deleveraged position closed in part or in full).
* Seconds are whole seconds since the run's start (``ts // 1e9``); the published clock starts at
  21:15:00 UTC, so only differences (the delay, durations) compare directly.

:class:`AdlProfile` takes the events one at a time in log order and keeps, per event, one integer
(the liquidation its cause chain leads to, as :mod:`exchange_sim.analysis.cascade` does), plus per
liquidation a timestamp and a notional, per second a few counters and per ADL a few numbers: never
the events. :func:`profile_run_dir` streams a run directory's verified log
(:func:`~exchange_sim.events.reader.iter_log`); :func:`comparison` lays a result beside the
published figures. Nothing reads the wall clock.
"""

from __future__ import annotations

import math
import os
import statistics
import tomllib
from array import array
from collections.abc import Iterable
from decimal import Decimal

from exchange_sim.analysis.cascade import VENUE_TAGS
from exchange_sim.analysis.metrics import perpetual_scales, scale_from_config
from exchange_sim.analysis.metrics_liquidation import UNWIND_PURPOSES
from exchange_sim.analysis.valuation import fill_notional, position_notional
from exchange_sim.core.errors import DataError
from exchange_sim.core.units import NS_PER_S, Scale
from exchange_sim.events.reader import iter_log

LAGS = (-2, -1, 0, 1, 2)
"""Lags of the per-second correlation, seconds: ``k`` pairs liquidations of second ``t`` with
ADLs of second ``t + k`` (``k > 0``: the ADLs come later)."""
LEVERAGE_BUCKETS = (("0-1x", 1), ("1-3x", 3), ("3-5x", 5), ("5-10x", 10), (">10x", None))
"""The published leverage buckets, upper bound included: 1x exactly is ``0-1x``, 10x is
``5-10x``. An account with equity <= 0 has unbounded leverage (``>10x``)."""
CORE_SHARE = (7, 10)
"""The share of liquidation notional the core window holds (Amberdata: 70 % in 40 minutes)."""

SOURCE = "market_events.md"
_ONSET = "§1.7 Hyperliquid: ADL onset"
_BURST = "§1.7 Hyperliquid: Burstiness"
_BURST_DOC = "§1.7 Hyperliquid: Burstiness (its CASCADE_TIMING_ANALYSIS.md)"
_RATIO = "§1.7 Hyperliquid: ADL/liquidation ratio"
_CLOSURES = "§1.7 Hyperliquid: Forced closures in 12 min"
_WHO = "§1.7 Hyperliquid: Who got ADL'd"
_WINNERS = "§1.7 Hyperliquid: Winner over-collateralisation"
_MARKET = "§1.7 Market-wide: Time concentration (Amberdata)"
UNITS = ("s", "count", "corr", "share", "signed_share", "x", "ratio")
"""How a figure reads: seconds, a count, a correlation, a share (1.0 = 100 %), a signed share,
a leverage multiple, a plain ratio."""
PUBLISHED: tuple[tuple[str, str, str, float | None, str, str], ...] = (
    # (result key, measure, unit, published value, as published, row of §1.7)
    ("first_liquidation_s", "first liquidation, s", "s", 3, "T+3 s", _ONSET),
    ("first_adl_s", "first ADL, s", "s", 62, "T+62 s", _ONSET),
    ("delay_s", "first liquidation -> first ADL, s", "s", 61, "~61 s", _ONSET),
    ("liquidations_before_first_adl", "liquidations before the first ADL", "count", 710, "710",
     _ONSET),
    ("correlation.active_lag_0", "corr lag 0 (seconds with events)", "corr", 0.945, "0.945",
     _BURST),
    ("correlation.lag_-2", "corr lag -2 (every second)", "corr", None, "-", _BURST),
    ("correlation.lag_-1", "corr lag -1 (every second)", "corr", None, "-", _BURST),
    ("correlation.lag_0", "corr lag 0 (every second)", "corr", 0.945, "0.945", _BURST),
    ("correlation.lag_1", "corr lag +1 (every second)", "corr", 0.045, "0.045", _BURST_DOC),
    ("correlation.lag_2", "corr lag +2 (every second)", "corr", 0.043, "0.043", _BURST_DOC),
    ("shared_seconds", "seconds with liquidations and ADL", "count", 100, "100", _BURST_DOC),
    ("order_causal_share", "shared s: each ADL after its liquidation", "share", 1.0, "every",
     _BURST),
    ("order_batch_share", "shared s: no liquidation after an ADL", "share", 1.0, "every", _BURST),
    ("adl_to_liquidation_notional", "ADL / liquidation notional", "share", 0.381, "38.1 %",
     _RATIO),
    ("deleveraged.fills", "ADL fills", "count", 34983, "34,983", _CLOSURES),
    ("deleveraged.accounts", "deleveraged accounts", "count", 19337, "19,337", _WHO),
    ("deleveraged.profitable_share", "ADL'd in profit (uPnL > 0)", "share", 0.945, "94.5 %",
     _WHO),
    ("deleveraged.closed_profit_share", "ADL'd closed at a profit", "share", 0.994, "99.4 %",
     _WHO),
    ("deleveraged.median_upnl_fraction", "median uPnL / entry notional", "signed_share", 0.50,
     "+50 %", _WHO),
    ("deleveraged.leverage.0-1x", "leverage 0-1x", "share", 0.849, "84.9 %", _WHO),
    ("deleveraged.leverage.1-3x", "leverage 1-3x", "share", 0.086, "8.6 %", _WHO),
    ("deleveraged.leverage.3-5x", "leverage 3-5x", "share", 0.022, "2.2 %", _WHO),
    ("deleveraged.leverage.5-10x", "leverage 5-10x", "share", 0.021, "2.1 %", _WHO),
    ("deleveraged.leverage.>10x", "leverage >10x", "share", 0.022, "2.2 %", _WHO),
    ("deleveraged.median_leverage", "median leverage", "x", 0.19, "0.18-0.20x", _WHO),
    ("deleveraged.equity_over_upnl_median", "winners' equity / uPnL, median", "ratio", 4.41,
     "4.41", _WINNERS),
    ("cascade.first_to_last_liquidation_s", "first -> last liquidation, s", "s", 720, "12 min",
     _CLOSURES),
    ("cascade.core_window_s", "shortest span with 70 % of liq. notional, s", "s", 2400, "40 min",
     _MARKET),
)  # fmt: skip
"""Each compared figure: result key (dots go down nested dicts), measure, unit (:data:`UNITS`),
published value (``None``: not published), the published text and the row of ``market_events.md``
it comes from. The lag +1, +2 correlations and the 100 shared seconds are from the replay's
``CASCADE_TIMING_ANALYSIS.md``, which §1.7 cites (its lag sign is not stated; read here as ADL
after liquidations). The 12 minutes is the replay's window (its fills run from T+3 s to T+717 s);
the 40 minutes is Amberdata's market-wide core (70 % of $9.89B across venues), not Hyperliquid's."""


class MalformedEvent(ValueError):
    """``(problem, value)``: an event the profile cannot read (a missing field, a cause that is
    not an earlier seq)."""


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def _median(values: list[float]) -> float | None:
    """The median, ``None`` for no values or an unbounded one (``inf`` in the middle)."""
    if not values:
        return None
    middle = statistics.median(values)
    return middle if math.isfinite(middle) else None


def pearson(xs: list[int], ys: list[int]) -> float | None:
    """Pearson correlation of two equal-length series; ``None`` if either is constant or the
    series has fewer than two points."""
    n = len(xs)
    if n < 2:
        return None
    sx, sy = sum(xs), sum(ys)
    sxx = n * sum(x * x for x in xs) - sx * sx
    syy = n * sum(y * y for y in ys) - sy * sy
    if sxx == 0 or syy == 0:
        return None
    sxy = n * sum(x * y for x, y in zip(xs, ys, strict=True)) - sx * sy
    return sxy / math.sqrt(sxx * syy)


def lagged_correlation(
    liquidations: dict[int, int], adls: dict[int, int], lag: int, lo: int, hi: int
) -> float | None:
    """Correlation of liquidations in second ``t`` with ADLs in second ``t + lag``, over every
    second ``t`` of ``[lo, hi]`` with ``t + lag`` also in it (seconds without events count 0)."""
    seconds = range(max(lo, lo - lag), min(hi, hi - lag) + 1)
    xs = [liquidations.get(t, 0) for t in seconds]
    ys = [adls.get(t + lag, 0) for t in seconds]
    return pearson(xs, ys)


def leverage_bucket(notional: int, equity: int) -> str:
    """The published bucket of a position of ``notional`` backed by ``equity`` (exact: compares
    ``notional`` with ``bound x equity``)."""
    if equity <= 0:
        return LEVERAGE_BUCKETS[-1][0]
    for name, bound in LEVERAGE_BUCKETS:
        if bound is None or notional <= bound * equity:
            return name
    raise AssertionError("unreachable")


def shortest_window(
    times: list[int], weights: list[int], share: tuple[int, int]
) -> tuple[int, int, int] | None:
    """The shortest ``[times[i], times[j]]`` whose weights sum to at least ``share`` (num, den)
    of the total; the earliest of equal spans. ``times`` are non-decreasing. Returns ``(start,
    end, weight inside)`` or ``None`` when the total is 0."""
    total = sum(weights)
    num, den = share
    if total <= 0:
        return None
    best: tuple[int, int, int] | None = None
    inside = 0
    i = 0
    for j, weight in enumerate(weights):
        inside += weight
        while i < j and den * (inside - weights[i]) >= num * total:
            inside -= weights[i]
            i += 1
        if den * inside >= num * total:
            span = times[j] - times[i]
            if best is None or span < best[1] - best[0]:
                best = (times[i], times[j], inside)
    return best


class AdlProfile:
    """Feed events in log order with :meth:`add`; :meth:`result` gives the profile. ``scale``
    gives the valuation (notionals, leverage: linear or inverse) and the money unit; ``grids``
    the scale of each other perpetual with a tick or lot of its own (by symbol), so that a line
    tagged with its ``instrument`` is valued on that perpetual's grid (every perpetual settles
    in the instrument's money, so notionals add up across them)."""

    def __init__(self, scale: Scale, grids: dict[str, Scale] | None = None) -> None:
        self.scale = scale
        self.valuation = scale.valuation
        self._valuations = {symbol: own.valuation for symbol, own in (grids or {}).items()}
        self._order_sides: dict[int, int] | None = None if not scale.inverse else {}
        """Liquidation order id -> side (an inverse fill's value depends on it; linear: None)."""
        self.seed: int | None = None
        # Per event seq: the liquidation_triggered its cause chain reaches first, or -1.
        self._leads_to = array("q")
        self._venue_orders: dict[int, int] = {}
        self._trigger_account: dict[int, int] = {}
        self.first_trigger_ts: int | None = None
        # Liquidations (fills on a liquidated account's side), in log order.
        self.liq_ts = array("q")
        self.liq_notional: list[int] = []
        self.liq_per_second: dict[int, int] = {}
        self.liq_last_seq: dict[int, int] = {}  # second -> last non-ADL liquidation seq
        self.liq_before_first_adl = 0
        # ADLs.
        self.first_adl_ts: int | None = None
        self.adl_notional = 0
        self.adl_per_second: dict[int, int] = {}
        self.adl_first_seq: dict[int, int] = {}  # second -> first ADL seq
        self.adl_untraced: set[int] = set()  # seconds with an ADL not traced to its liquidation
        self.fills = 0
        self.accounts: set[int] = set()
        self.profitable = 0
        self.closed_profit = 0
        self.closed_seen = 0
        self.upnl_fractions: list[float] = []
        self.leverages: list[float] = []
        self.buckets = dict.fromkeys((name for name, _ in LEVERAGE_BUCKETS), 0)
        self.equity_over_upnl: list[float] = []
        self._pending_close: dict[int, int] = {}  # adl seq -> deleveraged account

    # -- input ----------------------------------------------------------------------------------
    def add(self, event: dict) -> None:
        """Take the next event; a malformed one raises :class:`MalformedEvent`."""
        try:
            self._add(event)
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            hint = ""
            if event.get("type") == "adl" and isinstance(exc, KeyError):
                hint = "; a log written before adl events carried the ranked position: rerun it"
            raise MalformedEvent(
                f"malformed {event.get('type')!r} event ({exc!r}){hint}", event
            ) from None

    def _add(self, event: dict) -> None:
        seq, kind, cause = event["seq"], event["type"], event["cause"]
        if seq != len(self._leads_to):
            raise MalformedEvent(f"seq out of order: expected {len(self._leads_to)}", seq)
        if cause is not None and (type(cause) is not int or not 0 <= cause < seq):
            raise MalformedEvent("cause must be null or an earlier seq", cause)
        leads = -1 if cause is None else self._leads_to[cause]
        if kind == "liquidation_triggered":
            leads = seq
            self._trigger_account[seq] = event["account_id"]
            if self.first_trigger_ts is None:
                self.first_trigger_ts = event["ts"]
        elif kind == "trade" and event["maker_tag"] in VENUE_TAGS:
            leads = self._venue_orders.get(event["maker_order_id"], leads)
        elif kind == "order_accepted" and event["tag"] in VENUE_TAGS:
            self._venue_orders[event["order_id"]] = leads
        elif kind == "liquidation_order" and self._order_sides is not None:
            self._order_sides[event["order_id"]] = event["side"]
        elif kind == "liquidation_fill":
            if event["purpose"] not in UNWIND_PURPOSES:
                self._liquidation(seq, event["ts"], self._fill_notional(event))
        elif kind == "takeover":
            notional = position_notional(
                self._valuation_of(event), event["position_lots"], event["price_ticks"]
            )
            self._liquidation(seq, event["ts"], notional)
        elif kind == "adl":
            self._adl(event, leads)
        elif kind == "position" and cause in self._pending_close:
            # An ADL moves two positions (the bankrupt side first); read the deleveraged one's.
            if self._pending_close[cause] == event["account_id"]:
                del self._pending_close[cause]
                self.closed_seen += 1
                self.closed_profit += event["realised_pnl"] > 0
        elif kind == "run_start":
            self.seed = event["seed"]
        self._leads_to.append(leads)

    def _fill_notional(self, e: dict) -> int:
        """A liquidation fill's notional: an inverse fill valued as its order's side (a fill
        whose order is not in the log as closing the position it leaves, else a long)."""
        sides = self._order_sides
        side = 1
        if sides is not None:
            side = sides.get(e["order_id"], 1 if e["position_lots"] < 0 else -1)
        return fill_notional(self._valuation_of(e), side, e["size_lots"], e["price_ticks"])

    def _valuation_of(self, event: dict):
        """The valuation of the perpetual ``event`` belongs to (its ``instrument``, else the
        instrument's)."""
        if not self._valuations:
            return self.valuation
        return self._valuations.get(event.get("instrument", ""), self.valuation)

    def _liquidation(self, seq: int, ts: int, notional: int, twin: bool = False) -> None:
        self.liq_ts.append(ts)
        self.liq_notional.append(notional)
        second = ts // NS_PER_S
        self.liq_per_second[second] = self.liq_per_second.get(second, 0) + 1
        if not twin:
            self.liq_last_seq[second] = seq
            if self.first_adl_ts is None:
                self.liq_before_first_adl += 1

    def _adl(self, e: dict, leads: int) -> None:
        seq, ts, account = e["seq"], e["ts"], e["account"]
        position = e["position_lots"]
        valuation = self._valuation_of(e)
        closed = position_notional(
            valuation, e["size"] if position >= 0 else -e["size"], e["price"]
        )
        second = ts // NS_PER_S
        if self.first_adl_ts is None:
            self.first_adl_ts = ts
        self.adl_notional += closed
        self.adl_per_second[second] = self.adl_per_second.get(second, 0) + 1
        self.adl_first_seq.setdefault(second, seq)
        if leads < 0 or self._trigger_account.get(leads) != e["counterparty"]:
            self.adl_untraced.add(second)
        self._liquidation(seq, ts, closed, twin=True)
        # Who was deleveraged, as the ranking saw the position.
        self.fills += 1
        upnl, entry, equity = e["unrealised_pnl"], e["entry_notional"], e["equity"]
        notional = position_notional(valuation, position, e["mark_price"])
        self.profitable += upnl > 0
        if entry > 0:
            self.upnl_fractions.append(upnl / entry)
        self.buckets[leverage_bucket(notional, equity)] += 1
        self.leverages.append(notional / equity if equity > 0 else math.inf)
        if account not in self.accounts:
            self.accounts.add(account)
            if equity > 0 and upnl > 0:
                self.equity_over_upnl.append(equity / upnl)
        self._pending_close[seq] = account

    # -- output ---------------------------------------------------------------------------------
    def result(self) -> dict:
        """The profile as a JSON-ready dict (seconds as floats since the run's start; shares as
        fractions; ``None`` where a figure is undefined, e.g. no ADL)."""
        seconds = self._seconds
        first_liq = self.liq_ts[0] if self.liq_ts else None
        last_liq = self.liq_ts[-1] if self.liq_ts else None
        liq_notional = sum(self.liq_notional)
        shared = sorted(set(self.liq_per_second) & set(self.adl_per_second))
        causal = sum(1 for s in shared if s not in self.adl_untraced)
        batch = sum(1 for s in shared if self.liq_last_seq.get(s, -1) < self.adl_first_seq[s])
        core = shortest_window(list(self.liq_ts), self.liq_notional, CORE_SHARE)
        delay = (
            None
            if first_liq is None or self.first_adl_ts is None
            else seconds(self.first_adl_ts - first_liq)
        )
        fills = self.fills
        return {
            "seed": self.seed,
            "liquidations": len(self.liq_ts),
            "liquidation_notional": self._money(liq_notional),
            "adls": fills,
            "adl_notional": self._money(self.adl_notional),
            "first_trigger_s": seconds(self.first_trigger_ts),
            "first_liquidation_s": seconds(first_liq),
            "first_adl_s": seconds(self.first_adl_ts),
            "delay_s": delay,
            "liquidations_before_first_adl": (
                self.liq_before_first_adl if self.first_adl_ts is not None else None
            ),
            "correlation": self._correlations(),
            "shared_seconds": len(shared),
            "order_causal_share": _ratio(causal, len(shared)),
            "order_batch_share": _ratio(batch, len(shared)),
            "adl_to_liquidation_notional": _ratio(self.adl_notional, liq_notional),
            "deleveraged": {
                "fills": fills,
                "accounts": len(self.accounts),
                "profitable_share": _ratio(self.profitable, fills),
                "closed_profit_share": _ratio(self.closed_profit, self.closed_seen),
                "median_upnl_fraction": _median(self.upnl_fractions),
                "leverage": {name: _ratio(n, fills) for name, n in self.buckets.items()},
                "leverage_counts": dict(self.buckets),
                "median_leverage": _median(self.leverages),
                "equity_over_upnl_median": _median(self.equity_over_upnl),
                "equity_over_upnl_accounts": len(self.equity_over_upnl),
            },
            "cascade": {
                "first_to_last_liquidation_s": (
                    None if first_liq is None or last_liq is None else seconds(last_liq - first_liq)
                ),
                "core_window_s": None if core is None else seconds(core[1] - core[0]),
                "core_window_start_s": None if core is None else seconds(core[0]),
                "core_window_end_s": None if core is None else seconds(core[1]),
                "core_window_share": None if core is None else core[2] / liq_notional,
            },
        }

    def _correlations(self) -> dict:
        liq, adl = self.liq_per_second, self.adl_per_second
        result: dict = {}
        if not liq or not adl:
            result = {f"lag_{lag}": None for lag in LAGS}
            result["active_lag_0"] = None
            result["seconds"] = 0
            return result
        lo, hi = min(min(liq), min(adl)), max(max(liq), max(adl))
        for lag in LAGS:
            result[f"lag_{lag}"] = lagged_correlation(liq, adl, lag, lo, hi)
        active = sorted(set(liq) | set(adl))
        result["active_lag_0"] = pearson(
            [liq.get(s, 0) for s in active], [adl.get(s, 0) for s in active]
        )
        result["seconds"] = hi - lo + 1
        result["active_seconds"] = len(active)
        return result

    @staticmethod
    def _seconds(ns: int | None) -> float | None:
        return None if ns is None else ns / NS_PER_S

    def _money(self, minor: int) -> float:
        return float(Decimal(minor).scaleb(-self.scale.money_decimals))


def profile(
    events: Iterable[dict],
    scale: Scale,
    path: str = "events",
    grids: dict[str, Scale] | None = None,
) -> dict:
    """The profile of a whole log (event dicts in log order, e.g. a stream; ``grids``: each
    other perpetual's own scale, :class:`AdlProfile`); a malformed event is a
    :class:`DataError` naming ``path:line``."""
    collector = AdlProfile(scale, grids)
    for line, event in enumerate(events, start=1):
        try:
            collector.add(event)
        except MalformedEvent as exc:
            problem, value = exc.args
            raise DataError(f"{path}:{line}", value, problem) from None
    return collector.result()


def profile_run_dir(path: str) -> dict:
    """:func:`profile` of a run directory: the scale from ``config.toml``, the log streamed and
    verified from ``events.jsonl``. Bad input raises :class:`DataError` naming the file."""
    if not os.path.isdir(path):
        raise DataError(path, path, "not a run directory")
    config_path = os.path.join(path, "config.toml")
    try:
        with open(config_path, "rb") as handle:
            config = tomllib.load(handle, parse_float=Decimal)
        scale = scale_from_config(config)
        grids = perpetual_scales(config, scale)
    except OSError as exc:
        raise DataError(config_path, config_path, f"cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise DataError(config_path, config_path, f"no usable [instrument] scale ({exc})") from None
    log_path = os.path.join(path, "events.jsonl")
    return profile(iter_log(log_path), scale, log_path, grids)


def lookup(result: dict, key: str):
    """The value at a dotted ``key`` of a result (``None`` when absent)."""
    value: object = result
    for part in _split(key):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _split(key: str) -> list[str]:
    # "deleveraged.leverage.>10x" and "correlation.lag_-1": dots separate, names never hold one.
    return key.split(".")


def comparison(results: list[dict]) -> list[dict]:
    """One row per published figure: the run values (one per result, in order), their median
    (``None`` for one run or none defined), the published value and text, and the source."""
    rows = []
    for key, measure, unit, published, text, where in PUBLISHED:
        values = [lookup(result, key) for result in results]
        defined = [v for v in values if v is not None]
        rows.append(
            {
                "key": key,
                "measure": measure,
                "unit": unit,
                "runs": values,
                "median": statistics.median(defined) if len(results) > 1 and defined else None,
                "published": published,
                "published_text": text,
                "source": f"{SOURCE} {where}",
            }
        )
    return rows
