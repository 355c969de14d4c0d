"""Stylized facts around the forced flow (funding after a cascade, the rebound when it stops)
and the square-root impact of execution agents' metaorders.

* **Cascades.** Forced-flow events are ``liquidation_triggered``, ``liquidation_fill``, ``adl``
  and ``takeover``. They are cut into episodes wherever two in a row are more than
  ``cascade_gap`` apart; an episode's size is the notional of its ``liquidation_triggered``
  events at their trigger mark. The *main cascade* is the largest (the first on a tie). Its
  direction is down when long notional >= short notional (longs forced to sell), else up.
* **Funding after the cascade**: the first ``funding_rate`` whose interval ends at or after the
  cascade's end, against the last one that ended at or before its start. With no funding
  interval ending after the cascade (runs shorter than the interval), the mean ``premium_sample``
  after the cascade against the mean before it stands in (the premium is what the rate
  averages); ``basis`` says which was used.
* **Rebound**: from the perpetual's trough (its lowest trade from the cascade's start to its
  last forced event; the highest for an up cascade) to its last trade ``rebound`` seconds after
  that last forced event, as a log move in the direction opposite to the cascade; *excess* is
  that minus the index's move over the same span.
* **Impact**: finished metaorders pooled from every run; ``delta`` and ``Y`` from
  :func:`exchange_sim.analysis.impact.impact_exponent` (``impact = Y x size^delta``; size in base
  units here), with its standard error and R^2.
"""

from __future__ import annotations

import numpy as np

from exchange_sim.analysis.impact import impact_exponent
from exchange_sim.analysis.stylized_common import (
    fact,
    fmt_num,
    fmt_pct,
    majority,
    runs_headline,
)
from exchange_sim.analysis.stylized_read import RunSeries
from exchange_sim.analysis.stylized_stats import grid_sample, loglog_fit
from exchange_sim.core.units import RATE_SCALE

DELTA_RANGE = (0.3, 0.7)
"""Square-root impact holds when the fitted exponent lies in this range (see the docs)."""
MIN_METAORDERS = 3
"""The fit needs at least this many finished metaorders with a positive impact..."""
MIN_SIZE_SPAN = 2.0
"""...whose largest filled size is at least this multiple of the smallest."""

TARGETS = {
    "funding_after_cascade": "funding turns negative after a long-liquidation cascade (pro-"
    "cyclical carry): Mar 2020 2-h rate at the -0.375 % cap; Oct 2025 ~-0.1 %/8 h (sec. 2.4, "
    "1.1, 1.7)",
    "rebound_after_forced_flow": "a rebound once forced flow stops: flash crash recovered most "
    "of the drop in ~20 min; BTC rebounded during BitMEX's pause (sec. 2.12, 1.1)",
    "square_root_impact": "impact ~ Y sigma sqrt(Q/V): delta ~ 0.5 (0.489 +- 0.0015 TSE; holds "
    "on BTC over 4 decades), Y ~ O(1) (sec. 2.9, 3)",
}
CRITERIA = {
    "funding_after_cascade": "after a down cascade: rate (or premium) after < 0 and < before "
    "(signs mirrored after an up cascade)",
    "rebound_after_forced_flow": "rebound > 0 and excess over the index > 0",
    "square_root_impact": f"fitted delta in [{DELTA_RANGE[0]}, {DELTA_RANGE[1]}] over >= "
    f"{MIN_METAORDERS} metaorders whose sizes span a factor >= {MIN_SIZE_SPAN:g}",
}


def cascades(run: RunSeries, gap_ns: int) -> list[dict]:
    """The run's forced-flow episodes (module doc), in time order."""
    ts = run.forced_ts
    if len(ts) == 0:
        return []
    cuts = np.flatnonzero(np.diff(ts) > gap_ns)
    starts, ends = np.r_[ts[0], ts[cuts + 1]], np.r_[ts[cuts], ts[-1]]
    episodes = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        inside = (run.liq_ts >= start) & (run.liq_ts <= end)
        long = inside & (run.liq_position > 0)
        long_notional = float(run.liq_notional[long].sum())
        notional = float(run.liq_notional[inside].sum())
        episodes.append(
            {
                "start_s": start / 1e9,
                "end_s": end / 1e9,
                "start_ns": start,
                "end_ns": end,
                "liquidations": int(inside.sum()),
                "notional": notional,
                "direction": -1 if long_notional >= notional - long_notional else 1,
            }
        )
    return episodes


def main_cascade(run: RunSeries, gap_ns: int) -> dict | None:
    found = cascades(run, gap_ns)
    return max(found, key=lambda c: c["notional"]) if found else None


def _public(cascade: dict) -> dict:
    keys = ("start_s", "end_s", "liquidations", "notional", "direction")
    return {key: cascade[key] for key in keys}


def _funding_row(run: RunSeries, gap_ns: int) -> tuple[dict, bool | None]:
    cascade = main_cascade(run, gap_ns)
    row: dict = {"run": run.path}
    if cascade is None:
        return {**row, "why": "no liquidation"}, None
    row["cascade"] = _public(cascade)
    start, end, sign = cascade["start_ns"], cascade["end_ns"], cascade["direction"]
    ends, rates = run.funding_end_ts, run.funding_rate_ppb / RATE_SCALE
    after_mask = ends >= end
    if after_mask.any():
        before = rates[ends <= start]
        row.update(
            basis="funding_rate",
            before=float(before[-1]) if len(before) else None,
            after=float(rates[after_mask][0]),
        )
    else:
        premium = run.premium_ppb / RATE_SCALE
        before, after = premium[run.premium_ts < start], premium[run.premium_ts >= end]
        if len(after) == 0:
            return {**row, "why": "no funding rate or premium sample after the cascade"}, None
        row.update(
            basis="premium_sample",
            before=float(before.mean()) if len(before) else None,
            after=float(after.mean()),
        )
    after = row["after"]
    holds = sign * after > 0 and (row["before"] is None or sign * (after - row["before"]) > 0)
    return row, holds


def funding_fact(runs: list[RunSeries], gap_ns: int) -> dict:
    """``funding_after_cascade`` (module doc)."""
    pairs = [_funding_row(run, gap_ns) for run in runs]
    rows = [row for row, _ in pairs]
    holds, tally = majority([h for _, h in pairs])
    headline = runs_headline(
        rows,
        "after",
        lambda r: f"{r['basis']}: {fmt_pct(r['before'])} -> {fmt_pct(r['after'])}",
        "after",
        fmt_pct,
    )
    bases = sorted({r["basis"] for r in rows if "basis" in r})
    note = f"{CRITERIA['funding_after_cascade']}; {tally}"
    if "premium_sample" in bases:
        note += "; premium samples stand in where no funding interval ended after the cascade"
    name = "funding_after_cascade"
    return fact({"runs": rows}, TARGETS[name], holds, note, headline)


def _last(ts: np.ndarray, values: np.ndarray, at: int) -> float:
    return float(grid_sample(ts, values, np.array([at], dtype="int64"))[0])


def _rebound_row(run: RunSeries, gap_ns: int, horizon_ns: int) -> tuple[dict, bool | None]:
    cascade = main_cascade(run, gap_ns)
    row: dict = {"run": run.path}
    if cascade is None:
        return {**row, "why": "no liquidation"}, None
    row["cascade"] = _public(cascade)
    start, stop, sign = cascade["start_ns"], cascade["end_ns"], cascade["direction"]
    later = stop + horizon_ns
    if later > run.end_ns:
        return {**row, "why": "the run ends before the rebound horizon"}, None
    inside = (run.trade_ts >= start) & (run.trade_ts <= stop)
    if not inside.any():
        return {**row, "why": "no perpetual trade during the cascade"}, None
    prices, times = run.trade_price[inside], run.trade_ts[inside]
    where = int(np.argmin(prices) if sign < 0 else np.argmax(prices))
    trough, trough_ts = float(prices[where]), int(times[where])
    after = _last(run.trade_ts, run.trade_price, later)
    first = _last(run.trade_ts, run.trade_price, start)
    index_then = _last(run.index_ts, run.index_price, trough_ts)
    index_after = _last(run.index_ts, run.index_price, later)
    rebound = -sign * float(np.log(after / trough))
    index_move = -sign * float(np.log(index_after / index_then))
    fall = first - trough if sign < 0 else trough - first
    tick = float(run.scale.tick_size)
    row.update(
        trough_time_s=trough_ts / 1e9,
        trough=trough * tick,
        forced_flow_stop_s=stop / 1e9,
        price_after=after * tick,
        rebound=rebound,
        index_move=index_move,
        excess=rebound - index_move if np.isfinite(index_move) else None,
        recovered_share=float(-sign * (after - trough) / fall) if fall > 0 else None,
    )
    excess = row["excess"]
    return row, bool(rebound > 0 and excess is not None and excess > 0)


def rebound_fact(runs: list[RunSeries], gap_ns: int, horizon_ns: int) -> dict:
    """``rebound_after_forced_flow`` (module doc)."""
    pairs = [_rebound_row(run, gap_ns, horizon_ns) for run in runs]
    rows = [row for row, _ in pairs]
    holds, tally = majority([h for _, h in pairs])
    headline = runs_headline(
        rows,
        "rebound",
        lambda r: (
            f"{fmt_pct(r['rebound'])} (index {fmt_pct(r['index_move'])}) "
            f"{horizon_ns / 1e9:g} s after {fmt_num(r['forced_flow_stop_s'])} s"
        ),
        "rebound",
        fmt_pct,
    )
    note = f"{CRITERIA['rebound_after_forced_flow']}; {tally}"
    name = "rebound_after_forced_flow"
    return fact({"runs": rows}, TARGETS[name], holds, note, headline)


def _volume(run: RunSeries, start: int, end: int) -> int:
    inside = (run.trade_ts >= start) & (run.trade_ts <= end)
    return int(run.trade_size[inside].sum())


def impact_fact(runs: list[RunSeries]) -> dict:
    """``square_root_impact``: every finished metaorder of every run, fitted together."""
    rows, orders = [], []
    for run in runs:
        lot = float(run.scale.lot_size)
        for order in run.metaorders:
            if order.end_ts is None or order.filled_lots == 0 or order.impact_ppb is None:
                continue
            volume = _volume(run, order.start_ts, order.end_ts)
            orders.append((order, lot))
            rows.append(
                {
                    "run": run.path,
                    "account_id": order.account_id,
                    "side": order.side,
                    "size": order.filled_lots * lot,
                    "impact": order.impact_fraction,
                    "duration_s": (order.end_ts - order.start_ts) / 1e9,
                    "participation": order.filled_lots / volume if volume else None,
                }
            )
    # (impact_ppb is not None: orders holds only finished, measured metaorders)
    usable = [(o, lot) for o, lot in orders if o.impact_ppb is not None and o.impact_ppb > 0]
    sizes = [o.filled_lots * lot for o, lot in usable]
    span = max(sizes) / min(sizes) if sizes else None
    measured: dict = {
        "metaorders": len(rows),
        "positive_impact": len(usable),
        "size_span": span,
        "orders": rows,
    }
    target = TARGETS["square_root_impact"]
    if len(usable) < MIN_METAORDERS or span is None or span < MIN_SIZE_SPAN:
        note = (
            f"needs >= {MIN_METAORDERS} finished metaorders with a positive impact whose sizes "
            f"span a factor >= {MIN_SIZE_SPAN:g} (has {len(usable)}, span "
            f"{fmt_num(span)}); pool runs that sweep the execution agent's total_size"
        )
        return fact(measured, target, None, note, "n/a")
    lots = {lot for _, lot in usable}
    exponent = impact_exponent(o for o, _ in usable) if len(lots) == 1 else None
    fit = loglog_fit(
        np.array([o.filled_lots * lot for o, lot in usable]),
        np.array([o.impact_fraction for o, _ in usable]),
    )
    assert fit is not None  # sizes spanning a factor >= MIN_SIZE_SPAN are two distinct x at least
    delta = fit["delta"] if exponent is None else exponent[0]
    measured.update(delta=delta, Y=fit["Y"], delta_se=fit["delta_se"], r2=fit["r2"])
    holds = DELTA_RANGE[0] <= delta <= DELTA_RANGE[1]
    headline = (
        f"delta {delta:.3g} (se {fmt_num(fit['delta_se'])}), Y {fit['Y']:.3g}, n {len(usable)}"
    )
    dropped = len(rows) - len(usable)
    note = CRITERIA["square_root_impact"] + (
        f"; {dropped} metaorder(s) with impact <= 0 left out of the log fit" if dropped else ""
    )
    return fact(measured, target, holds, note, headline)
