"""Hand-made run directories for the stylized-facts tests.

:class:`LogWriter` collects events with exactly the fields the simulator logs (each checked
against ``exchange_sim.runner.event_catalog``), sorts them by time, numbers them and writes a run
directory a reader accepts: ``events.jsonl`` (``seq``, ``run_end`` count and digest),
``config.toml`` (the instrument) and, when given, ``summary.json``.

Scale: tick 0.01, lot 0.001, 6 money decimals; a price of 50,000 is 5,000,000 ticks, so a
return of 1e-3 is 5,000 ticks and the tick grid barely rounds it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import orjson

from exchange_sim.analysis.stylized import stylized_facts
from exchange_sim.runner.event_catalog import event_types, validate_record

S = 1_000_000_000
SYMBOL = "BTCUSDT"
P0 = 5_000_000
"""50,000 in ticks of 0.01."""
CONFIG = """[run]
name = "synthetic"
seed = 1

[instrument]
symbol = "BTCUSDT"
settlement_asset = "USDT"
tick_size = 0.01
lot_size = 0.001
money_decimals = 6
"""
REGISTRY = event_types()
_META_FIELDS = (
    "child_lots",
    "order_id",
    "arrival_price_ticks",
    "best_bid_ticks",
    "best_ask_ticks",
    "index_ticks",
    "filled_lots",
    "notional_minor",
    "vwap_ticks",
    "impact_ticks",
    "impact_ppb",
)


class LogWriter:
    """A log being written by hand; :meth:`write` turns it into a run directory."""

    def __init__(self, duration_s: float) -> None:
        self.duration_ns = round(duration_s * S)
        self.events: list[dict] = []
        self.next_id = 1

    def emit(self, ts: int, kind: str, **fields) -> None:
        event = {"seq": 0, "ts": int(ts), "type": kind, "cause": None, **fields}
        problem = validate_record(event, REGISTRY)
        assert problem is None, problem
        self.events.append(event)

    # -- prices --------------------------------------------------------------------------------
    def trade(self, ts: int, price: int, size: int = 1, market: str = SYMBOL) -> None:
        trade_id = self.next_id
        self.next_id += 1
        self.emit(ts, "trade", market=market, trade_id=trade_id, maker_order_id=-trade_id,
                  taker_order_id=-trade_id - 10**9, maker_account_id=1, taker_account_id=2,
                  price_ticks=int(price), size_lots=size, aggressor_side=1, maker_tag="",
                  taker_tag="")  # fmt: skip

    def trades_every_second(self, prices) -> None:
        """One trade a second, at 0 s, 1 s, ...: the 1 s grid then sees exactly these prices."""
        for k, price in enumerate(prices):
            self.trade(k * S, int(price))

    def index(self, ts: int, price: int) -> None:
        self.emit(ts, "index_price", price=int(price), ts_source=ts)

    # -- the book ------------------------------------------------------------------------------
    def order(self, ts: int, order_id: int, side: int, price: int, size: int) -> None:
        self.emit(ts, "order_accepted", market=SYMBOL, order_id=order_id, account_id=1,
                  side=side, price_ticks=price, size_lots=size, tif="GTC", post_only=True,
                  reduce_only=False, tag="", ts_sent=ts)  # fmt: skip

    def cancel(self, ts: int, order_id: int, side: int, price: int, remaining: int) -> None:
        self.emit(ts, "order_cancelled", market=SYMBOL, order_id=order_id, account_id=1,
                  side=side, price_ticks=price, remaining_lots=remaining,
                  reason="user")  # fmt: skip

    # -- forced flow and funding ---------------------------------------------------------------
    def liquidation(self, ts: int, position_lots: int, mark: int, account: int = 9) -> None:
        self.emit(ts, "liquidation_triggered", account_id=account, mark_price=mark,
                  position_lots=position_lots, equity=0, maintenance_margin=1, shortfall=1,
                  bankruptcy_price_ticks=None)  # fmt: skip

    def liquidation_fill(self, ts: int, price: int, size: int, account: int = 9) -> None:
        self.emit(ts, "liquidation_fill", account_id=account, order_id=0, purpose="liquidation",
                  price_ticks=price, size_lots=size, bankruptcy_price_ticks=None, fund_delta=0,
                  position_lots=0)  # fmt: skip

    def funding_rate(self, end_ts: int, rate_ppb: int) -> None:
        self.emit(end_ts, "funding_rate", interval_start_ts=end_ts - 10 * S,
                  interval_end_ts=end_ts, sample_count=1, average_premium_ppb=rate_ppb,
                  interest_ppb=0, formula_rate_ppb=rate_ppb, uncapped_rate_ppb=rate_ppb,
                  rate_ppb=rate_ppb, cap_ppb=None, capped=0)  # fmt: skip

    def premium(self, ts: int, premium_ppb: int) -> None:
        self.emit(ts, "premium_sample", bid_ticks=None, ask_ticks=None, reference="index",
                  reference_ticks=P0, index_ticks=P0, premium_ppb=premium_ppb)  # fmt: skip

    def metaorder(self, account: int, start: int, end: int, lots: int, impact_ppb: int) -> None:
        """A finished sell metaorder of ``lots`` with the given impact (start and end events)."""
        base = {"account_id": account, "side": -1, "style": "twap", "total_lots": lots}
        self.emit(start, "metaorder", phase="start", **base,
                  **{**dict.fromkeys(_META_FIELDS), "arrival_price_ticks": P0})  # fmt: skip
        vwap = P0 - math.ceil(P0 * impact_ppb / 10**9)
        end_fields = {**dict.fromkeys(_META_FIELDS), "arrival_price_ticks": P0,
                      "filled_lots": lots, "notional_minor": vwap * lots * 10,
                      "vwap_ticks": vwap, "impact_ticks": P0 - vwap,
                      "impact_ppb": impact_ppb}  # fmt: skip
        self.emit(end, "metaorder", phase="end", **base, **end_fields)

    # -- output --------------------------------------------------------------------------------
    def write(self, run_dir, summary: dict | None = None) -> str:
        run_dir = str(run_dir)
        os.makedirs(run_dir, exist_ok=True)
        with open(os.path.join(run_dir, "config.toml"), "w", encoding="utf-8") as handle:
            handle.write(CONFIG)
        if summary is not None:
            with open(os.path.join(run_dir, "summary.json"), "w", encoding="utf-8") as handle:
                json.dump(summary, handle)
        start = {"seq": 0, "ts": 0, "type": "run_start", "cause": None, "schema_version": 1,
                 "package_version": "0", "seed": 1, "config_sha256": "0" * 64,
                 "scenario": "synthetic", "duration_ns": self.duration_ns}  # fmt: skip
        ordered = [start, *sorted(self.events, key=lambda e: e["ts"])]
        digest = hashlib.sha256()
        with open(os.path.join(run_dir, "events.jsonl"), "wb") as handle:
            for seq, event in enumerate(ordered):
                line = orjson.dumps({**event, "seq": seq}) + b"\n"
                digest.update(line)
                handle.write(line)
            end = {"seq": len(ordered), "ts": self.duration_ns, "type": "run_end", "cause": None,
                   "event_count": len(ordered), "digest_sha256": digest.hexdigest()}  # fmt: skip
            handle.write(orjson.dumps(end) + b"\n")
        return run_dir


def prices_from_returns(returns: np.ndarray, start: int = P0) -> np.ndarray:
    """Tick prices ``start x exp(cumsum(returns))`` (rounded), ``start`` first."""
    return np.rint(start * np.exp(np.concatenate(([0.0], np.cumsum(returns))))).astype("int64")


def garch(n: int, seed: int, alpha: float = 0.15, beta: float = 0.8) -> np.ndarray:
    """GARCH(1,1) returns of unconditional standard deviation 1e-3."""
    rng = np.random.default_rng(seed)
    omega = 1e-6 * (1 - alpha - beta)
    out, var = np.empty(n), 1e-6
    for t in range(n):
        out[t] = math.sqrt(var) * rng.standard_normal()
        var = omega + alpha * out[t] ** 2 + beta * var
    return out


def returns_run(tmp_path, name: str, returns: np.ndarray) -> str:
    """A run whose perpetual trades once a second along ``returns`` (no index)."""
    log = LogWriter(len(returns) + 1)
    log.trades_every_second(prices_from_returns(returns))
    return log.write(tmp_path / name)


def facts_of(paths, **options) -> dict:
    """The ``facts`` of :func:`~exchange_sim.analysis.stylized.stylized_facts` on one run
    directory or a list of them."""
    return stylized_facts(list(paths) if isinstance(paths, list) else [paths], **options)["facts"]


def gap_run(tmp_path, name: str, index_follows: bool) -> str:
    """The perpetual trades at P0 +/- 1 tick, then at 0.95 P0 at 60 s and P0 after; the index is
    P0 throughout (or follows the perpetual's trough when ``index_follows``)."""
    log = LogWriter(100)
    prices = [P0 + (1 if t % 2 else -1) for t in range(100)]
    prices[60] = P0 * 95 // 100
    log.trades_every_second(prices)
    for t in range(100):
        log.index(t * S, prices[60] if index_follows and t == 60 else P0)
    return log.write(tmp_path / name)
