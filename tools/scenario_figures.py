"""The figures the stress scenarios are read by, from finished run directories.

    python tools/scenario_figures.py RUN_DIR [RUN_DIR ...] [--json OUT]

One verified streaming pass over each run's ``events.jsonl`` (plus its ``summary.json``); prints a
block per run. Made for ``configs/scenarios/latency_storm.toml``, ``liquidity_withdrawal.toml``
and ``funding_squeeze.toml``, it reads any run:

* **margin-call race**: every ``margin_call_response`` that acted (``top_up`` or ``reduce``) is
  followed to what it sent (the ``deposit``, or the order's ``order_accepted`` /
  ``order_rejected``: the instant it *arrived*) and set against the account's first
  ``liquidation_triggered`` after the margin call: ``before_trigger`` (arrived first, in log
  order), ``while_queued`` (after the trigger, before the engine's ``liquidation_started``: a
  top-up then saves the account, outcome ``recovered``; a reduce is refused
  ``account_in_liquidation``) or ``after_start`` (the engine was already closing the account).
  ``late`` = ``while_queued + after_start``: answers that arrived after their account's
  liquidation was triggered. Also: margin calls *delivered* after the trigger, and answers given
  when the trader already knew it was flat (``ignore`` with position 0).
* **makers and the metaorder**: ``maker_state`` withdrawals (``cancel_all``) per maker, their
  times and reasons; the execution agent's ``metaorder`` start and end (filled size, VWAP,
  impact); interventions; the perpetual's lowest trade and its last.
* **funding**: every ``funding_rate`` (time and rate per interval, ``capped``), the number of
  settlements, and the liquidations whose causal chain starts at a ``funding_payment`` (the
  cascade tree's root kind, ``exchange_sim/analysis/cascade.py``), roots and fed ones.

With several perpetuals the race, the withdrawals and the cascade span the venue; the prices, the
metaorders and the funding rates are the first perpetual's (the instrument's): a trade, metaorder
or rate another perpetual wrote (it carries ``instrument``) is on its own grid and is left out.

Bad input (not a run directory, a damaged log) prints one line and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections import Counter, defaultdict

from exchange_sim.analysis.cascade import CascadeTree, MalformedEvent
from exchange_sim.core.errors import InputError
from exchange_sim.events.reader import iter_log
from exchange_sim.runner.config import load_config_file

ANSWERED = ("top_up", "reduce")
ARRIVALS = ("deposit", "order_accepted", "order_rejected")


def _race(calls, responses, arrivals, triggered, started, finished) -> dict:
    out: dict = {f"{a}_{k}": 0 for a in ANSWERED for k in ("before_trigger", "while_queued")}
    out.update({f"{a}_after_start": 0 for a in ANSWERED})
    out.update(top_up_saved=0, late=0, calls_delivered_after_trigger=0, ignored_already_flat=0)
    late_by: list[float] = []
    out["margin_calls"] = len(calls)
    out["responses"] = dict(Counter(r["action"] for r in responses.values()))
    for call_seq, (account, deliver_at) in calls.items():
        trigger = next((t for t in triggered[account] if t[0] > call_seq), None)
        if trigger is not None and trigger[1] < deliver_at:
            out["calls_delivered_after_trigger"] += 1
    for seq, response in responses.items():
        action = response["action"]
        if action not in ANSWERED:
            out["ignored_already_flat"] += response["position_lots"] == 0
            continue
        arrival = arrivals.get(seq)
        if arrival is None:
            continue
        account = response["account_id"]
        trigger = next((t for t in triggered[account] if t[0] > response["cause"]), None)
        if trigger is None or arrival[0] < trigger[0]:
            out[f"{action}_before_trigger"] += 1
            continue
        out["late"] += 1
        late_by.append((arrival[1] - trigger[1]) / 1e9)
        start = next((s for s in started[account] if s[0] > trigger[0]), None)
        if start is None or arrival[0] < start[0]:
            out[f"{action}_while_queued"] += 1
            end = next((f for f in finished[account] if f[0] > trigger[0]), None)
            if action == "top_up" and end is not None and end[1] == "recovered":
                out["top_up_saved"] += 1
        else:
            out[f"{action}_after_start"] += 1
    out["late_by_median_s"] = round(statistics.median(late_by), 3) if late_by else None
    out["late_by_max_s"] = round(max(late_by), 3) if late_by else None
    return out


_FIRST_PERPETUAL_ONLY = frozenset(("metaorder", "funding_rate", "trade"))


def figures(run_dir: str) -> dict:
    """The figures of one run directory (see the module docstring)."""
    config = load_config_file(os.path.join(run_dir, "config.toml")).config
    tick = float(config.instrument.tick_size)
    lot = float(config.instrument.lot_size)
    symbol_markets = {spot.name for spot in config.spot_markets}
    with open(os.path.join(run_dir, "summary.json"), "rb") as handle:
        summary = json.load(handle)

    tree = CascadeTree()
    names: dict[int, str] = {}
    calls: dict[int, tuple[int, int]] = {}
    responses: dict[int, dict] = {}
    aliases: dict[int, int] = {}  # a trader_exit a response caused -> that response
    arrivals: dict[int, tuple[int, int]] = {}
    triggered: dict[int, list] = defaultdict(list)
    started: dict[int, list] = defaultdict(list)
    finished: dict[int, list] = defaultdict(list)
    withdrawals: dict[str, dict] = {}
    metaorders: list[dict] = []
    interventions: list[tuple[float, str]] = []
    rates: list[tuple[float, float, int]] = []
    low: tuple[int, int] | None = None
    last_trade: int | None = None
    path = os.path.join(run_dir, "events.jsonl")
    for event in iter_log(path):
        try:
            tree.add(event)
        except MalformedEvent as exc:
            raise InputError(path, event.get("seq"), str(exc)) from None
        kind, seq, cause = event["type"], event["seq"], event["cause"]
        if kind == "account_opened":
            names[event["account_id"]] = event["participant"]
        elif kind == "margin_call":
            calls[seq] = (event["account_id"], event["deliver_at"])
        elif kind == "margin_call_response":
            responses[seq] = event
        elif kind == "trader_exit" and cause in responses:
            aliases[seq] = cause
        elif kind in ARRIVALS and cause is not None:
            response = aliases.get(cause, cause)
            if response in responses and response not in arrivals:
                arrivals[response] = (seq, event["ts"])
        elif kind == "liquidation_triggered":
            triggered[event["account_id"]].append((seq, event["ts"]))
        elif kind == "liquidation_started":
            started[event["account_id"]].append((seq, event["ts"]))
        elif kind == "liquidation_finished":
            finished[event["account_id"]].append((seq, event["outcome"]))
        elif kind == "maker_state" and event["action"] == "cancel_all":
            name = names.get(event["account_id"], str(event["account_id"]))
            entry = withdrawals.setdefault(name, {"count": 0, "times_s": [], "reasons": Counter()})
            entry["count"] += 1
            entry["times_s"].append(round(event["ts"] / 1e9, 2))
            entry["reasons"][event["reason"]] += 1
        elif "instrument" in event and kind in _FIRST_PERPETUAL_ONLY:
            continue  # another perpetual's price, size or rate (module docstring)
        elif kind == "metaorder" and event["phase"] in ("start", "end"):
            metaorders.append(_metaorder(event, names, tick, lot))
        elif kind == "intervention":
            interventions.append((event["ts"] / 1e9, event["action"]))
        elif kind == "funding_rate":
            rates.append((event["ts"] / 1e9, event["rate_ppb"] / 1e7, event["capped"]))
        elif kind == "trade" and event["market"] not in symbol_markets:
            last_trade = event["price_ticks"]
            if low is None or last_trade < low[0]:
                low = (last_trade, event["ts"])

    nodes = tree.liquidations
    funding_nodes = [node for node in nodes if node.root_kind == "funding_payment"]
    cascade = tree.summary()
    prices = summary["metrics"]["prices"]
    amplification = summary.get("amplification") or {}
    return {
        "run": run_dir,
        "scenario": summary["scenario"],
        "seed": summary["seed"],
        "wall_time_s": summary["wall_time_s"],
        "sim_time_s": summary["sim_time_s"],
        "liquidations": cascade["liquidations"],
        "roots_by_kind": {k: v for k, v in cascade["roots_by_kind"].items() if v},
        "fed_through_mark": cascade["fed_through_mark"],
        "deepest_generation": cascade["deepest_generation"],
        "drawdown_perp_pct": _pct(prices["last_trade"]["max_drawdown"]),
        "drawdown_index_pct": _pct(prices["index"]["max_drawdown"]),
        "amplification_perp": (amplification.get("perp") or {}).get("ratio"),
        "amplification_index": (amplification.get("index") or {}).get("ratio"),
        "race": _race(calls, responses, arrivals, triggered, started, finished),
        "withdrawals": {
            name: {**entry, "reasons": dict(entry["reasons"])}
            for name, entry in withdrawals.items()
        },
        "metaorders": metaorders,
        "interventions": interventions,
        "perp_low": None if low is None else {"price": low[0] * tick, "time_s": low[1] / 1e9},
        "perp_last": None if last_trade is None else last_trade * tick,
        "funding": {
            "settlements": summary["funding_settlements"],
            "rates_pct": [[t, r] for t, r, _ in rates],
            "capped": sum(c for _, _, c in rates),
            "liquidations_from_funding": len(funding_nodes),
            "roots_from_funding": sum(node.parent is None for node in funding_nodes),
        },
    }


def _pct(drawdown: dict | None) -> float | None:
    return None if drawdown is None else round(100 * drawdown["fraction"], 3)


def _metaorder(event: dict, names: dict, tick: float, lot: float) -> dict:
    out = {
        "who": names.get(event["account_id"], str(event["account_id"])),
        "phase": event["phase"],
        "time_s": event["ts"] / 1e9,
        "total": event["total_lots"] * lot,
        "arrival_price": event["arrival_price_ticks"] * tick,
    }
    if event["phase"] == "end":
        vwap = event["vwap_ticks"]
        out.update(
            filled=event["filled_lots"] * lot,
            vwap=None if vwap is None else vwap * tick,
            impact_pct=None if event["impact_ppb"] is None else event["impact_ppb"] / 1e7,
        )
    return out


def format_block(result: dict) -> str:
    """A few lines per run."""
    race = result["race"]
    funding = result["funding"]
    lines = [
        f"{result['run']}: {result['scenario']} seed {result['seed']}, "
        f"{result['sim_time_s']:.0f} s simulated in {result['wall_time_s']:.1f} s wall",
        f"  liquidations {result['liquidations']} (roots {result['roots_by_kind']}, "
        f"{result['fed_through_mark']} fed through the mark, deepest generation "
        f"{result['deepest_generation']}); drawdown perp {result['drawdown_perp_pct']} %, "
        f"index {result['drawdown_index_pct']} %; amplification perp "
        f"{result['amplification_perp']}, index {result['amplification_index']}",
    ]
    if race["margin_calls"]:
        lines.append(
            f"  margin calls {race['margin_calls']} ({race['calls_delivered_after_trigger']} "
            f"delivered after the trigger), answers {race['responses']}; "
            f"late {race['late']} (median {race['late_by_median_s']} s, max "
            f"{race['late_by_max_s']} s after the trigger)"
        )
        for action in ANSWERED:
            lines.append(
                f"    {action}: before trigger {race[f'{action}_before_trigger']}, while queued "
                f"{race[f'{action}_while_queued']}, after the engine started "
                f"{race[f'{action}_after_start']}"
            )
        lines.append(
            f"    top-ups that saved a queued account {race['top_up_saved']}; answered "
            f"when already flat {race['ignored_already_flat']}"
        )
    for name, entry in result["withdrawals"].items():
        lines.append(
            f"  {name}: {entry['count']} withdrawals {entry['reasons']} at "
            f"{', '.join(f'{t:g}' for t in entry['times_s'])} s"
        )
    for meta in result["metaorders"]:
        if meta["phase"] == "end":
            lines.append(
                f"  metaorder {meta['who']} end at {meta['time_s']:.2f} s: filled "
                f"{meta['filled']:.3f} of {meta['total']:.3f}, arrival {meta['arrival_price']}, "
                f"vwap {meta['vwap']}, impact {meta['impact_pct']} %"
            )
    if result["interventions"]:
        lines.append(f"  interventions {result['interventions']}")
    if result["perp_low"]:
        lines.append(
            f"  perp low {result['perp_low']['price']:.1f} at {result['perp_low']['time_s']:.2f} s,"
            f" last {result['perp_last']:.1f}"
        )
    if funding["rates_pct"]:
        shown = ", ".join(f"{t:.0f}s {r:+.4f}" for t, r in funding["rates_pct"])
        lines.append(
            f"  funding: {funding['settlements']} settlements, {funding['capped']} capped, "
            f"rates % per interval: {shown}"
        )
        lines.append(
            f"  liquidations whose chain starts at a funding payment: "
            f"{funding['liquidations_from_funding']} ({funding['roots_from_funding']} roots)"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scenario_figures", description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--json", metavar="OUT", help="also write every run's figures as JSON")
    args = parser.parse_args(argv)
    results = []
    for run_dir in args.runs:
        try:
            results.append(figures(run_dir))
        except (InputError, OSError, KeyError) as exc:
            print(f"scenario_figures: {run_dir}: {exc}", file=sys.stderr)
            return 2
        print(format_block(results[-1]))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
