"""Market-side metrics in one pass: price drawdowns, the state before the shock and at its trough
(open interest, book depth, spread), the recovery of the traded price, and funding.

**The shock** is the mark price's maximum drawdown. The mark is logged only when it changes, so a
peak lasts from its ``mark_price`` event until the next, lower one; "before" is the state at the
*end* of the peak: whenever the mark leaves its running peak, the state (open interest, book depth
near the mid) is snapshotted just before that lower ``mark_price`` event is applied. When a new
maximum drawdown is reached, the trough's snapshot is taken and paired with the saved one:
"before" and "trough". Each snapshot reads only the price levels within the depth band, so the
cost per mark update is O(levels in the band). Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.analysis.metrics_accounts import Accounts
from exchange_sim.analysis.metrics_book import BOOK_EVENTS, DEPTH_BAND_PPB, StreamingBook
from exchange_sim.analysis.metrics_stats import Drawdown, Out, ratio
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.matching.book import Book

RECOVERY_BAND_PPB = 10_000_000
"""The traded price has recovered when within 1 % (10^7 ppb) of the index."""


class Market:
    """Prices, shock snapshots, recovery and funding (prices ticks, sizes lots, money minor)."""

    def __init__(self, valuation, accounts: Accounts) -> None:
        self.valuation = valuation
        """``Scale.valuation`` (depth notionals): money per tick-lot, or an inverse contract."""
        self.accounts = accounts
        self.book = StreamingBook()
        """The mirror of the perpetual's book from its order events, or (once ``live_book`` is
        taken, at the first trade) a view of the engine's own book."""
        self.live_book: Book | None = None
        """The engine's book to read after the first trade (set by ``MetricsCollector.attach``)."""
        self.release_mirror: Callable[[], None] | None = None
        """Called when the mirror is dropped: the order events are no longer needed."""
        self.mirroring = True
        self.index = Drawdown()
        self.mark = Drawdown()
        self.last = Drawdown()
        self.index_price: int | None = None
        self.last_trade: int | None = None
        self.peak_snapshot: dict | None = None
        self.before: dict | None = None
        self.trough: dict | None = None
        self.oi_max = 0
        self.oi_max_ts = 0
        self.recovering = False  # a trough is set and the price has not come back yet
        self.recovered_ts: int | None = None
        self.recovered_reference: str | None = None
        self.trough_gap: tuple[int, int] | None = None  # (|price - index| as 2x ticks, 2 index)
        self.trough_reference: str | None = None
        self.funding_rates = 0
        self.funding_capped = 0
        self.rate_min: int | None = None
        self.rate_max: int | None = None
        self.settlements = 0
        self.payments = 0
        self.paid = 0
        self.received = 0
        self.residue = 0

    def handlers(self) -> dict:
        table = {
            "index_price": self.on_index,
            "mark_price": self.on_mark,
            "position": self.on_position,
            "funding_rate": self.on_funding_rate,
            "funding_payment": self.on_funding_payment,
            "funding_residue": self.on_funding_residue,
        }
        for kind in BOOK_EVENTS:
            table[kind] = self.on_book
        return table

    # -- prices and the shock ---------------------------------------------------------------
    def on_index(self, e: dict) -> None:
        self.index_price = e["price"]
        self.index.update(e["price"], e["ts"])
        if self.recovering:
            self._check_recovery(e["ts"])

    def on_book(self, e: dict) -> None:
        if self.mirroring:
            self.book.apply(e)
        if e["type"] == "trade":
            price = e["price_ticks"]
            self.last_trade = price
            self.last.update(price, e["ts"])
            if self.live_book is not None:
                self._take_live_book()
        if self.recovering and (self.last_trade is None or e["type"] == "trade"):
            self._check_recovery(e["ts"])

    def _take_live_book(self) -> None:
        """From the first trade on the mid is never read again (``_gap`` prefers the last
        trade), only the depth at the next ``mark_price``: the engine's book gives it."""
        self.book.book = self.live_book  # type: ignore[assignment]  # set: on_book checked
        self.live_book = None
        self.mirroring = False
        if self.release_mirror is not None:
            self.release_mirror()

    def on_position(self, e: dict) -> None:
        if self.accounts.long_lots > self.oi_max:
            self.oi_max, self.oi_max_ts = self.accounts.long_lots, e["ts"]

    def on_mark(self, e: dict) -> None:
        ts, price = e["ts"], e["price"]
        mark = self.mark
        if mark.last is not None and mark.last == mark.peak and price < mark.peak:
            # The mark leaves its running peak: the state now is the last one at the peak.
            self.peak_snapshot = self._snapshot(ts, mark.peak)
        _, new_trough = mark.update(price, ts)
        if new_trough:
            self.before = self.peak_snapshot
            self.trough = self._snapshot(ts, e["price"])
            self.recovering, self.recovered_ts, self.recovered_reference = True, None, None
            self.trough_gap = self._gap()
            self.trough_reference = self._reference()
            self._check_recovery(ts)

    def _snapshot(self, ts: int, mark: int) -> dict:
        return {
            "ts": ts,
            "mark": mark,
            "open_interest_lots": self.accounts.long_lots,
            "depth": self.book.depth_near_mid(self.valuation),
        }

    def _reference(self) -> str:
        return "last_trade" if self.last_trade is not None else "mid"

    def _gap(self) -> tuple[int, int] | None:
        """``(|2 price - 2 index|, 2 index)``: the traded price's distance from the index (the
        last trade, or the mid when nothing traded yet), both doubled to keep a mid exact."""
        index = self.index_price
        if index is None:
            return None
        price2: int | None
        if self.last_trade is not None:
            price2 = 2 * self.last_trade
        else:
            price2 = self.book.mid2()
            if price2 is None:
                return None
        return abs(price2 - 2 * index), 2 * index

    def _check_recovery(self, ts: int) -> None:
        gap = self._gap()
        if gap is not None and gap[0] * RATE_SCALE <= RECOVERY_BAND_PPB * gap[1]:
            self.recovering = False
            self.recovered_ts = ts
            self.recovered_reference = self._reference()

    # -- funding ----------------------------------------------------------------------------
    def on_funding_rate(self, e: dict) -> None:
        rate = e["rate_ppb"]
        self.funding_rates += 1
        self.funding_capped += e["capped"]
        self.rate_min = rate if self.rate_min is None else min(self.rate_min, rate)
        self.rate_max = rate if self.rate_max is None else max(self.rate_max, rate)

    def on_funding_payment(self, e: dict) -> None:
        amount = e["amount_minor"]
        self.payments += 1
        self.paid += max(-amount, 0)
        self.received += max(amount, 0)

    def on_funding_residue(self, e: dict) -> None:
        self.settlements += 1
        self.residue += e["residue_minor"]

    # -- results --------------------------------------------------------------------------------
    def prices(self, out: Out) -> dict:
        index_dd = self.index.fraction()
        result: dict = {
            "index": self.index.result(out),
            "mark": self.mark.result(out),
            "last_trade": self.last.result(out),
        }
        for name, series in (("mark", self.mark), ("last_trade", self.last)):
            value = None
            if index_dd:
                value = float(series.fraction() / index_dd)
            result[f"{name}_drawdown_over_index"] = value
        return result

    def _snapshot_result(self, out: Out, snap: dict | None) -> dict | None:
        if snap is None:
            return None
        depth = snap["depth"]
        result: dict = {}
        out.time(result, "time", snap["ts"])
        out.price(result, "mark", snap["mark"])
        out.price(result, "best_bid", depth["best_bid_ticks"])
        out.price(result, "best_ask", depth["best_ask_ticks"])
        out.price(result, "spread", depth["spread_ticks"])
        mid2 = depth["mid2_ticks"]
        result["mid"] = None if mid2 is None else float(out.scale.price_decimal(mid2) / 2)
        result["mid_x2_ticks"] = mid2
        spread = depth["spread_ticks"]
        result["spread_fraction"] = None if mid2 is None else ratio(2 * spread, mid2)
        out.size(result, "bid_depth", depth["bid_lots"])
        out.money(result, "bid_depth_notional", depth["bid_notional_minor"])
        out.size(result, "ask_depth", depth["ask_lots"])
        out.money(result, "ask_depth_notional", depth["ask_notional_minor"])
        return result

    def open_interest(self, out: Out) -> dict:
        result: dict = {}
        out.size(
            result, "before", None if self.before is None else self.before["open_interest_lots"]
        )
        out.size(
            result, "trough", None if self.trough is None else self.trough["open_interest_lots"]
        )
        out.size(result, "end", self.accounts.long_lots)
        out.size(result, "max", self.oi_max)
        out.time(result, "max_time", self.oi_max_ts if self.oi_max else None)
        return result

    def book_result(self, out: Out) -> dict:
        result: dict = {"band_fraction": DEPTH_BAND_PPB / RATE_SCALE}
        result["before"] = self._snapshot_result(out, self.before)
        result["trough"] = self._snapshot_result(out, self.trough)
        return result

    def recovery(self, out: Out) -> dict:
        trough_ts = None if self.trough is None else self.trough["ts"]
        result: dict = {"band_fraction": RECOVERY_BAND_PPB / RATE_SCALE}
        out.time(result, "trough_time", trough_ts)
        gap = self.trough_gap
        result["gap_at_trough_fraction"] = None if gap is None else ratio(gap[0], gap[1])
        result["reference_at_trough"] = self.trough_reference
        out.time(result, "recovered_time", self.recovered_ts)
        duration = None
        if self.recovered_ts is not None and trough_ts is not None:
            duration = self.recovered_ts - trough_ts
        out.time(result, "duration", duration)
        result["reference_at_recovery"] = self.recovered_reference
        return result

    def funding(self, out: Out) -> dict:
        result: dict = {"rates": self.funding_rates, "capped": self.funding_capped}
        out.rate(result, "rate_min", self.rate_min)
        out.rate(result, "rate_max", self.rate_max)
        result["settlements"] = self.settlements
        result["payments"] = self.payments
        out.money(result, "paid", self.paid)
        out.money(result, "received", self.received)
        out.money(result, "residue", self.residue)
        return result
