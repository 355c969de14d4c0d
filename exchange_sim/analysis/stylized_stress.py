"""Stylized facts of a stress episode, measured per run and combined by majority.

* **Windows.** On the book grid (``book_period``), ``p_k`` is the perpetual's last trade at or
  before ``t_k``. The *stress window* is the ``window`` (``W``) of steepest fall: the ``k``
  minimising ``ln(p_{k+W} / p_k)``, samples ``k..k+W``. The *calm samples* are those from ``W``
  on and before the stress window whose trailing move ``|ln(p_j / p_{j-W})|`` is at most the
  run's median trailing move: before the fall, and no more agitated than usual.
* **Spread** at a sample: ``(ask - bid) / mid``; infinite when a side of the book is empty.
  **Depth**: base units resting within 1 % of the mid (of the last trade when a side is empty),
  both sides.
* **Gap at the trough**: the perpetual's traded price at the trough of its maximum drawdown
  (trades, not the grid) against the last index at or before it, ``P / I - 1`` (signed);
  compared with the run's usual gap, the median ``|p_k / I_k - 1|`` on the book grid.

A fact holds over several runs when it holds in more than half of the runs that have data for
it (:func:`~exchange_sim.analysis.stylized_common.majority`). Criteria are in :data:`CRITERIA`
and ``docs/stylized_facts.md``.
"""

from __future__ import annotations

import numpy as np

from exchange_sim.analysis.stylized_common import (
    fact,
    fmt_num,
    fmt_pct,
    majority,
    runs_headline,
)
from exchange_sim.analysis.stylized_read import RunSeries
from exchange_sim.analysis.stylized_stats import grid_sample

SPREAD_WIDENING = 2.0
"""The spread widens when its stress median is at least this multiple of its calm median."""
DEPTH_COLLAPSE = 0.5
"""Depth collapses when its stress median is at most this fraction of its calm median."""
GAP_MULTIPLE = 3.0
"""The trough gap is a dislocation when at least this multiple of the run's usual gap."""
MIN_CALM = 3
"""Fewer calm samples than this: no calm level to compare with."""

TARGETS = {
    "spread_widening": "spread widens under stress: 100-BTC round trip 0.02 % -> 0.56 % in a "
    "~10 % dump (x28); hundreds of bp in Mar 2020 (sec. 3, 1.1)",
    "depth_collapse": "depth near the mid collapses: Binance 0.1 % depth 100 -> 1.2 BTC; Oct "
    "2025 books 'appear empty' near the mid (sec. 3, 1.7)",
    "perp_index_gap_at_trough": "the perp trades below spot/index at the low: ~5 % (Oct 2025), "
    "~$400 of $3,600 (Mar 2020) (sec. 1.7, 1.1)",
}
CRITERIA = {
    "spread_widening": f"median stress spread >= {SPREAD_WIDENING:g} x median calm spread",
    "depth_collapse": f"median stress depth <= {DEPTH_COLLAPSE:g} x median calm depth",
    "perp_index_gap_at_trough": f"gap at the trough < 0 and |gap| >= {GAP_MULTIPLE:g} x the "
    "run's median |gap|",
}


def price_on_book_grid(run: RunSeries) -> np.ndarray:
    return grid_sample(run.trade_ts, run.trade_price, run.book.times)


def windows(run: RunSeries, window_ns: int) -> dict:
    """The stress window and the calm samples (indices into the book grid) of one run, or only
    ``{"why": reason}`` when the price never fell over a window."""
    period = run.book.period_ns
    steps = max(1, window_ns // period)
    price = price_on_book_grid(run)
    if len(price) <= steps:
        return {"why": "the run is shorter than one window"}
    logp = np.log(price)
    moves = logp[steps:] - logp[:-steps]  # moves[k]: from sample k to k + steps
    if not np.isfinite(moves).any():
        return {"why": "no traded price on the book grid"}
    k = int(np.nanargmin(moves))
    if not moves[k] < 0:
        return {"why": "the traded price never fell over a window"}
    trailing = np.abs(moves)  # trailing[j - steps]: the move ending at sample j
    median = float(np.nanmedian(trailing))
    calm = [j for j in range(steps, k) if trailing[j - steps] <= median]
    return {
        "stress": np.arange(k, k + steps + 1),
        "calm": np.array(calm, dtype="int64"),
        "stress_start_s": run.book.times[k] / 1e9,
        "stress_end_s": run.book.times[k + steps] / 1e9,
        "fall": float(np.expm1(moves[k])),
    }


def _spread_depth(run: RunSeries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per book sample: spread as a fraction of the mid (inf: a side empty; NaN: crossed or no
    reference), depth within the band (base units, both sides) and bid depth."""
    book = run.book
    two_sided = np.isfinite(book.bid) & np.isfinite(book.ask)
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.where(two_sided, (book.ask - book.bid) / book.ref, np.inf)
    spread[two_sided & ~(book.ask > book.bid)] = np.nan
    lot = float(run.scale.lot_size)
    return spread, (book.bid_lots + book.ask_lots) * lot, book.bid_lots * lot


def _median(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return None if len(values) == 0 else float(np.median(values))


def _ratio(stress: float | None, calm: float | None) -> float | None:
    if stress is None or calm is None:
        return None
    if calm == 0:
        return None if stress == 0 else float("inf")
    return stress / calm


def _book_row(run: RunSeries, window_ns: int) -> dict:
    found = windows(run, window_ns)
    row: dict = {"run": run.path}
    if "why" in found:
        return {**row, "why": found["why"]}
    if len(found["calm"]) < MIN_CALM:
        why = f"fewer than {MIN_CALM} calm samples before the fall"
        return {**row, "why": why, "stress_start_s": found["stress_start_s"]}
    spread, depth, bid_depth = _spread_depth(run)
    calm, stress = found["calm"], found["stress"]
    row.update(
        stress_start_s=found["stress_start_s"],
        stress_end_s=found["stress_end_s"],
        fall=found["fall"],
        calm_samples=len(calm),
        spread_calm=_median(spread[calm]),
        spread_stress=_median(spread[stress]),
        one_sided_stress_share=float(np.mean(np.isinf(spread[stress]))),
        depth_calm=_median(depth[calm]),
        depth_stress=_median(depth[stress]),
        bid_depth_calm=_median(bid_depth[calm]),
        bid_depth_stress=_median(bid_depth[stress]),
    )
    row["spread_ratio"] = _ratio(row["spread_stress"], row["spread_calm"])
    row["depth_ratio"] = _ratio(row["depth_stress"], row["depth_calm"])
    return row


def book_facts(runs: list[RunSeries], window_ns: int) -> dict[str, dict]:
    """``spread_widening`` and ``depth_collapse``: calm vs stress medians of each run."""
    rows = [_book_row(run, window_ns) for run in runs]
    out = {}
    for name, key, test in (
        ("spread_widening", "spread", lambda r: r >= SPREAD_WIDENING),
        ("depth_collapse", "depth", lambda r: r <= DEPTH_COLLAPSE),
    ):
        verdicts = [
            None if r.get(f"{key}_ratio") is None else test(r[f"{key}_ratio"]) for r in rows
        ]
        holds, tally = majority(verdicts)
        shown = fmt_pct if key == "spread" else fmt_num
        headline = runs_headline(
            rows,
            f"{key}_ratio",
            lambda r, key=key, shown=shown: (
                f"{shown(r.get(f'{key}_calm'))} -> "
                f"{shown(r.get(f'{key}_stress'))} (x{fmt_num(r.get(f'{key}_ratio'))})"
            ),
            "ratio",
        )
        whys = sorted({r["why"] for r in rows if "why" in r})
        note = f"{CRITERIA[name]}; {tally}" + (f"; no data: {', '.join(whys)}" if whys else "")
        unit = "fraction of mid" if key == "spread" else "base units within 1 % of mid"
        measured = {"unit": unit, "runs": rows}
        out[name] = fact(measured, TARGETS[name], holds, note, headline)
    return out


def _gap_row(run: RunSeries) -> dict:
    row: dict = {"run": run.path}
    if len(run.trade_ts) == 0 or len(run.index_ts) == 0:
        return {**row, "why": "no perpetual trade or no index"}
    price = run.trade_price.astype("float64")
    peak = np.maximum.accumulate(price)
    trough = int(np.argmin(price / peak))
    ts = int(run.trade_ts[trough])
    index = grid_sample(run.index_ts, run.index_price, np.array([ts]))[0]
    if np.isnan(index):
        return {**row, "why": "no index before the trough"}
    gap = float(price[trough] / index - 1)
    grid_index = grid_sample(run.index_ts, run.index_price, run.book.times)
    usual = _median(np.abs(price_on_book_grid(run) / grid_index - 1))
    row.update(
        trough_time_s=ts / 1e9,
        drawdown=float(1 - price[trough] / peak[trough]),
        price=float(price[trough]) * float(run.scale.tick_size),
        index=float(index) * float(run.scale.tick_size),
        gap=gap,
        usual_abs_gap=usual,
        gap_over_usual=_ratio(abs(gap), usual),
    )
    recovery = ((run.summary or {}).get("metrics") or {}).get("recovery") or {}
    row["summary_abs_gap_at_mark_trough"] = recovery.get("gap_at_trough_fraction")
    row["summary_mark_trough_time_s"] = recovery.get("trough_time")
    return row


def gap_fact(runs: list[RunSeries]) -> dict:
    """``perp_index_gap_at_trough`` (see the module doc)."""
    rows = [_gap_row(run) for run in runs]
    verdicts: list[bool | None] = []
    for row in rows:
        if "gap" not in row:
            verdicts.append(None)
            continue
        usual = row["usual_abs_gap"] or 0.0
        verdicts.append(row["gap"] < 0 and abs(row["gap"]) >= GAP_MULTIPLE * usual)
    holds, tally = majority(verdicts)
    headline = runs_headline(
        rows,
        "gap",
        lambda r: (
            f"{fmt_pct(r['gap'])} at {fmt_num(r['trough_time_s'])} s "
            f"(usual {fmt_pct(r['usual_abs_gap'])})"
        ),
        "gap",
        fmt_pct,
    )
    note = (
        f"{CRITERIA['perp_index_gap_at_trough']}; {tally}; summary.json's "
        "recovery.gap_at_trough_fraction (unsigned, at the mark's trough) is given beside it"
    )
    name = "perp_index_gap_at_trough"
    return fact({"runs": rows}, TARGETS[name], holds, note, headline)
