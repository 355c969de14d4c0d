"""Read one run directory into the series the stylized facts need, streaming its log once.

:func:`read_run` checks the directory (``config.toml`` and ``events.jsonl`` must exist;
``summary.json`` is optional), takes the instrument's scale and symbol from the config and streams
the log with :func:`~exchange_sim.events.reader.iter_log` (verified line by line: ``seq``, the
``run_end`` count and digest). It keeps only what the facts use, never the events:

* the perpetual's trades (``market`` = the symbol; spot markets are skipped): time, price, size;
* the index (``index_price``): time, price;
* the perpetual's book, replayed by :class:`~exchange_sim.analysis.metrics_book.StreamingBook`
  and sampled every ``book_period_ns`` (the state after every event with ``ts <= t``): best
  bid and ask, and the resting lots within 1 % of the reference price, which is the mid when
  both sides rest and else the last trade;
* forced closures: ``liquidation_triggered`` (time, signed position, notional at the trigger
  mark), and the times of ``liquidation_fill``, ``adl`` and ``takeover``;
* ``funding_rate`` (interval end, rate) and ``premium_sample`` (time, premium);
* the metaorders of execution agents (:func:`exchange_sim.analysis.impact.metaorders`).

With several perpetuals these are the first perpetual's (the instrument's): a line another
perpetual wrote (it carries ``instrument``) is skipped, as its prices are on its own grid and of
another asset. Prices stay in ticks, sizes in lots, times in ns; :class:`RunSeries` carries the
scale.
"""

from __future__ import annotations

import os

import attrs
import numpy as np

from exchange_sim.analysis.frames import load_scale, read_meta
from exchange_sim.analysis.impact import Metaorder, metaorders
from exchange_sim.analysis.metrics_book import BOOK_EVENTS, DEPTH_BAND_PPB, StreamingBook
from exchange_sim.analysis.valuation import position_notional
from exchange_sim.core.errors import DataError
from exchange_sim.core.units import RATE_SCALE, Scale
from exchange_sim.events.reader import iter_log

_FORCED_TIMES = ("liquidation_fill", "adl", "takeover")


@attrs.define
class BookSamples:
    """The perpetual's book every ``period_ns``: ``times`` (ns), ``bid``/``ask`` (ticks, NaN on
    an empty side), ``ref`` (ticks: the mid, else the last trade, else NaN) and the lots
    resting within the depth band of ``ref`` on each side (``bid_lots``, ``ask_lots``)."""

    period_ns: int
    times: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    ref: np.ndarray
    bid_lots: np.ndarray
    ask_lots: np.ndarray


@attrs.define
class RunSeries:
    """What :func:`read_run` kept of one run (ticks, lots, ns; see the module doc)."""

    path: str
    scenario: str
    seed: int | None
    symbol: str
    scale: Scale
    end_ns: int
    summary: dict | None
    trade_ts: np.ndarray
    trade_price: np.ndarray
    trade_size: np.ndarray
    index_ts: np.ndarray
    index_price: np.ndarray
    book: BookSamples
    liq_ts: np.ndarray
    liq_position: np.ndarray
    liq_notional: np.ndarray
    forced_ts: np.ndarray
    funding_end_ts: np.ndarray
    funding_rate_ppb: np.ndarray
    premium_ts: np.ndarray
    premium_ppb: np.ndarray
    metaorders: list[Metaorder]


def check_run_dir(path: str) -> None:
    """A run directory must exist and hold ``config.toml`` and ``events.jsonl``; otherwise a
    :class:`DataError` names the path."""
    if not os.path.isdir(path):
        raise DataError(path, path, "no such run directory")
    for name in ("config.toml", "events.jsonl"):
        if not os.path.isfile(os.path.join(path, name)):
            raise DataError(path, name, f"not a run directory (no {name})")


def _band_lots(book, ref2: int, band_ppb: int) -> tuple[int, int]:
    """Lots resting on each side at prices within ``band_ppb`` of ``ref2 / 2`` (exact bounds, as
    :meth:`StreamingBook.depth_near_mid`)."""
    low = -((-(RATE_SCALE - band_ppb) * ref2) // (2 * RATE_SCALE))
    high = ((RATE_SCALE + band_ppb) * ref2) // (2 * RATE_SCALE)
    bids = sum(book.bids[p].total_lots for p in book.bids.irange(low, high))
    asks = sum(book.asks[p].total_lots for p in book.asks.irange(low, high))
    return bids, asks


class _Sampler:
    """Samples a :class:`StreamingBook` on a fixed grid as the events go by."""

    def __init__(self, period_ns: int, band_ppb: int) -> None:
        self.period, self.band = period_ns, band_ppb
        self.next = period_ns
        self.rows: list[tuple] = []

    def until(self, ts: int, streaming: StreamingBook, last_trade: int | None) -> None:
        """Take every sample due before an event at ``ts`` is applied (grid times ``< ts``)."""
        while self.next < ts:
            book = streaming.book
            bid, ask = book.best_bid_ticks, book.best_ask_ticks
            mid2 = streaming.mid2()
            if mid2 is None and last_trade is not None and (bid is None or ask is None):
                mid2 = 2 * last_trade
            nan = float("nan")
            if mid2 is None:
                bid_lots = ask_lots = ref = nan
            else:
                bid_lots, ask_lots = _band_lots(book, mid2, self.band)
                ref = mid2 / 2
            bid_t, ask_t = (nan if bid is None else bid), (nan if ask is None else ask)
            self.rows.append((self.next, bid_t, ask_t, ref, bid_lots, ask_lots))
            self.next += self.period

    def result(self) -> BookSamples:
        columns = list(zip(*self.rows, strict=True)) if self.rows else [()] * 6
        times = np.array(columns[0], dtype="int64")
        rest = [np.array(c, dtype="float64") for c in columns[1:]]
        return BookSamples(self.period, times, *rest)


def read_run(path: str, book_period_ns: int, band_ppb: int = DEPTH_BAND_PPB) -> RunSeries:
    """Read the run directory ``path`` (see the module doc); bad input raises DataError."""
    check_run_dir(path)
    summary, config = read_meta(path)
    scale = load_scale(config, os.path.join(path, "config.toml"))
    symbol = str(config.get("instrument", {}).get("symbol", ""))
    valuation = scale.valuation
    trades: list[tuple[int, int, int]] = []
    index: list[tuple[int, int]] = []
    liqs: list[tuple[int, int, int]] = []
    forced: list[int] = []
    funding: list[tuple[int, int]] = []
    premium: list[tuple[int, int]] = []
    meta: list[dict] = []
    streaming = StreamingBook()
    sampler = _Sampler(book_period_ns, band_ppb)
    last_trade: int | None = None
    end_ns, scenario, seed = 0, "", None
    for event in iter_log(os.path.join(path, "events.jsonl")):
        kind, ts = event["type"], event["ts"]
        sampler.until(ts, streaming, last_trade)
        end_ns = max(end_ns, ts)
        if "instrument" in event:
            continue  # another perpetual's (module docstring)
        if kind in BOOK_EVENTS:
            if event["market"] != symbol:
                continue
            streaming.apply(event)
            if kind == "trade":
                last_trade = event["price_ticks"]
                trades.append((ts, last_trade, event["size_lots"]))
        elif kind == "index_price":
            index.append((ts, event["price"]))
        elif kind == "liquidation_triggered":
            lots = event["position_lots"]
            liqs.append((ts, lots, position_notional(valuation, lots, event["mark_price"])))
            forced.append(ts)
        elif kind in _FORCED_TIMES:
            forced.append(ts)
        elif kind == "funding_rate":
            funding.append((event["interval_end_ts"], event["rate_ppb"]))
        elif kind == "premium_sample":
            premium.append((ts, event["premium_ppb"]))
        elif kind == "metaorder":
            meta.append(event)
        elif kind == "run_start":
            end_ns, scenario, seed = event["duration_ns"], event["scenario"], event["seed"]
    sampler.until(end_ns + 1, streaming, last_trade)

    def arrays(rows: list[tuple], width: int) -> list[np.ndarray]:
        if not rows:
            return [np.zeros(0, dtype="int64") for _ in range(width)]
        return [np.array(column, dtype="int64") for column in zip(*rows, strict=True)]

    trade_ts, trade_price, trade_size = arrays(trades, 3)
    index_ts, index_price = arrays(index, 2)
    liq_ts, liq_position, _ = arrays(liqs, 3)
    funding_end, funding_rate = arrays(funding, 2)
    premium_ts, premium_ppb = arrays(premium, 2)
    return RunSeries(
        path=path,
        scenario=scenario,
        seed=seed,
        symbol=symbol,
        scale=scale,
        end_ns=end_ns,
        summary=summary,
        trade_ts=trade_ts,
        trade_price=trade_price,
        trade_size=trade_size,
        index_ts=index_ts,
        index_price=index_price,
        book=sampler.result(),
        liq_ts=liq_ts,
        liq_position=liq_position,
        liq_notional=np.array([n / 10**scale.money_decimals for *_, n in liqs], dtype="float64"),
        forced_ts=np.sort(np.array(forced, dtype="int64")),
        funding_end_ts=funding_end,
        funding_rate_ppb=funding_rate,
        premium_ts=premium_ts,
        premium_ppb=premium_ppb,
        metaorders=metaorders(meta),
    )
