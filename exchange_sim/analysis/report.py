"""The HTML report of one run: what happened, in one look.

:func:`write_report` writes ``RUN_DIR/report/report.html`` and the figures beside it as PNGs. The
page is self-contained (images embedded as base64 ``data:`` URIs, inline CSS, no script and no
link anywhere) so it opens from disk or an e-mail attachment. Top: the run's key figures (from
``summary.json`` and the log); then the figures of :mod:`exchange_sim.analysis.plots` (a figure
with nothing to draw is replaced by one line saying so); then the event counts. The same run
directory always gives the same bytes: no clock or path is written, PNGs carry no software or
date metadata, and every ordering is fixed. A run with several perpetuals is reported for the
first (the instrument), then has a table of every perpetual's key figures, an overview figure and
each other perpetual's figures (:mod:`~exchange_sim.analysis.report_perpetuals`).
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Mapping, Sequence
from itertools import repeat
from typing import overload

import matplotlib
import numpy as np
import pandas as pd

from exchange_sim.analysis import cascade as cascade_tree
from exchange_sim.analysis import plots, report_perpetuals
from exchange_sim.analysis.depth import BOOK_TYPES
from exchange_sim.analysis.frames import FIELD_UNITS, Run, load_run
from exchange_sim.analysis.metrics import perpetual_scale
from exchange_sim.analysis.report_html import page
from exchange_sim.core.contract import lots_value

REPORT_TYPES = (
    *BOOK_TYPES,
    "run_start",
    "index_price",
    "mark_price",
    "position",
    "margin_check",
    "liquidation_triggered",
    "liquidation_started",
    "liquidation_order",
    "liquidation_fill",
    "liquidation_finished",
    "takeover",
    "adl",
    "insurance_fund",
    "vault",
    "bad_debt",
    "funding_rate",
    "collateral_price",
)
"""The event types the report reads (the rest of the log is only counted and verified)."""

_MISSING = {
    "price": "no index, mark or trade events",
    "liquidated_notional": "no liquidation fills, takeovers or ADL in this run",
    "cascade": "no liquidations in this run",
    "open_interest": "no position events",
    "fund_vault": "no insurance fund or vault events in this run",
    "depth": "no resting orders to rebuild a book from",
    "delays": "no margin checks or liquidation starts",
    "funding": "no funding_rate events (no funding interval ended in this run)",
}


class EventsView(Sequence):
    """The log as :func:`exchange_sim.analysis.cascade.generations` takes it (events by ``seq``),
    without a dict per line in memory: ``view[seq]`` is a read-only mapping that looks its fields
    up on access, ``seq``, ``type`` and ``cause`` from the run's skeleton (every line) and, for the
    loaded types, ``ts`` and every exact field from their frames."""

    def __init__(self, run: Run) -> None:
        skeleton = run.skeleton
        assert skeleton is not None  # the report loads its run with_skeleton=True
        names, self._codes, self._causes = skeleton
        self._names = names
        self._row = np.zeros(len(self._codes), dtype="int64")
        self._columns: dict[str, dict[str, np.ndarray]] = {}
        for kind, frame in run.frames.items():
            self._row[frame.seq.to_numpy()] = np.arange(len(frame))
            fields = ["ts", *(f for f, _ in FIELD_UNITS[kind])]
            self._columns[kind] = {f: _exact(frame[f]) for f in fields}

    def __len__(self) -> int:
        return len(self._codes)

    def __iter__(self):
        return map(_Event, repeat(self), range(len(self._codes)))

    @overload
    def __getitem__(self, seq: int) -> _Event: ...

    @overload
    def __getitem__(self, seq: slice) -> list[_Event]: ...

    def __getitem__(self, seq: int | slice) -> _Event | list[_Event]:
        if isinstance(seq, slice):  # as a Sequence must
            return [_Event(self, i) for i in range(len(self._codes))[seq]]
        if not 0 <= seq < len(self._codes):
            raise IndexError(seq)
        return _Event(self, seq)

    def field(self, seq: int, key: str):
        kind = self._names[self._codes[seq]]
        if key == "type":
            return kind
        if key == "seq":
            return seq
        if key == "cause":
            cause = self._causes[seq]
            return None if cause < 0 else cause
        values = self._columns.get(kind, {}).get(key)
        if values is None:
            raise KeyError(key)
        value = values[self._row[seq]]
        return value.item() if isinstance(value, np.generic) else value

    def keys_of(self, seq: int) -> tuple[str, ...]:
        kind = self._names[self._codes[seq]]
        return ("seq", "type", "cause", *self._columns.get(kind, ()))


class _Event(Mapping):
    """One event of an :class:`EventsView`, fields read on access."""

    __slots__ = ("_seq", "_view")

    def __init__(self, view: EventsView, seq: int) -> None:
        self._view, self._seq = view, seq

    def __getitem__(self, key: str):
        return self._view.field(self._seq, key)

    def __iter__(self):
        return iter(self._view.keys_of(self._seq))

    def __len__(self) -> int:
        return len(self._view.keys_of(self._seq))


def _exact(column: pd.Series) -> np.ndarray:
    """Values as numpy, nullable ints as objects with ``None`` (never NaN floats)."""
    if isinstance(column.dtype, pd.Int64Dtype):
        return column.to_numpy(dtype=object, na_value=None)
    return column.to_numpy()


class ReportData:
    """A loaded run plus the derived series the figures and the headline share."""

    def __init__(self, run: Run, instrument: str | None = None) -> None:
        """``instrument``: another perpetual's symbol, whose events (and only those) this view's
        frames hold; ``None``, the first perpetual's (the instrument's)."""
        self.run = run
        self.summary = run.summary or {}
        self.instrument = instrument
        inst = run.config.get("instrument", {})
        self.settle = str(inst.get("settlement_asset", "settlement"))
        symbol = instrument or str(inst.get("symbol", ""))
        self.symbol = symbol
        # Another perpetual may have a tick and lot of its own.
        self.scale = perpetual_scale(run.config, instrument, run.scale)
        if self.scale.inverse:  # XBTUSD: priced in USD, sized in contracts, settled in XBT
            self.quote = symbol[len(self.settle) :] if symbol.startswith(self.settle) else "quote"
            self.base = "contracts"
        else:
            self.quote = self.settle
            self.base = symbol[: -len(self.settle)] if symbol.endswith(self.settle) else "base"
        start = run["run_start"]
        ends = [int(frame.ts.max()) for frame in run.frames.values() if len(frame)]
        self.duration_ns = int(self.summary.get("sim_time_ns") or 0) or (
            int(start.duration_ns.iloc[0]) if len(start) else max(ends, default=1)
        )
        self.duration_s = self.duration_ns / 1e9

    def __getitem__(self, kind: str) -> pd.DataFrame:
        """The frame of ``kind``; events only of this view's perpetual (spot markets' events are
        in the run too, under their own ``market``; other perpetuals' under their
        ``instrument``, a null ``instrument`` being the first's)."""
        frame = self.run[kind]
        if self.run.instruments and len(frame):
            if self.instrument is None:
                frame = frame[frame.instrument.isna()]
            else:
                frame = frame[frame.instrument == self.instrument]
        if "market" in frame.columns and len(frame):
            frame = frame[frame.market == self.symbol]
        return frame

    def notional(self, price_ticks, size_lots, sides=None) -> np.ndarray:
        """Exact notional in settlement units (floats only at the last step): ``price x lots x
        m``, or an inverse contract's ``lots x k / price`` in the base asset, each row valued as
        a position of its side in ``sides`` (``lots_value``: a long's UP, a short's DOWN; no
        ``sides``, or a side 0, a short's)."""
        prices = np.asarray(price_ticks, dtype=object)
        sizes = np.abs(np.asarray(size_lots, dtype=object))
        scale = self.scale
        if not scale.inverse:
            minor = prices * sizes * scale.money_per_tick_lot
        else:
            valuation = scale.valuation
            signs = np.zeros(len(prices), dtype=int) if sides is None else np.asarray(sides)
            minor = np.array(
                [
                    lots_value(valuation, int(side), int(lots), int(price))
                    for side, lots, price in zip(signs, sizes, prices, strict=True)
                ],
                dtype=object,
            )
        return np.asarray(minor, dtype=float) / 10**scale.money_decimals

    def for_perpetual(self, symbol: str) -> ReportData:
        """The same run seen through another perpetual's events."""
        return ReportData(self.run, symbol)

    @functools.cached_property
    def flows(self) -> pd.DataFrame:
        """Notional closed out of liquidated accounts: ``time_s, side (1 long, -1 short),
        channel (book, takeover, adl), notional``. An inverse notional is valued as the metrics
        value it (:mod:`exchange_sim.analysis.valuation`): a book fill as its order's side, a
        takeover as the position taken, an ADL as the deleveraged position's lots closed."""
        parts = []
        fills, orders = self["liquidation_fill"], self["liquidation_order"]
        fills = fills[~fills.purpose.isin(("fund_unwind", "vault_unwind"))]
        if len(fills):
            side = fills.order_id.map(orders.set_index("order_id").side).fillna(0)
            parts.append((fills.time_s, -side, "book", fills.price_ticks, fills.size_lots, -side))
        over = self["takeover"]
        if len(over):
            sides = np.sign(over.position_lots)
            parts.append(
                (over.time_s, sides, "takeover", over.price_ticks, over.position_lots, sides)
            )
        adl = self["adl"]
        if len(adl):
            trig = self["liquidation_triggered"][["seq", "account_id", "position_lots"]]
            joined = pd.merge_asof(
                adl[["seq", "time_s", "counterparty", "price", "size"]],
                trig.rename(columns={"account_id": "counterparty"}),
                on="seq",
                by="counterparty",
            )
            sides = np.sign(joined.position_lots.fillna(0))
            # The deleveraged position's side (an inverse ADL's value; linear ignores it).
            closed = np.sign(adl.position_lots) if self.scale.inverse else None
            parts.append((joined.time_s, sides, "adl", joined.price, joined["size"], closed))
        frames = [
            pd.DataFrame(
                {
                    "time_s": t,
                    "side": np.asarray(s, dtype="int64"),
                    "channel": c,
                    "notional": self.notional(p, q, v),
                }
            )
            for t, s, c, p, q, v in parts
        ]
        if not frames:
            return pd.DataFrame(columns=["time_s", "side", "channel", "notional"])
        return pd.concat(frames, ignore_index=True)

    @functools.cached_property
    def open_interest(self) -> pd.DataFrame | None:
        """Long open interest (base units) after each position event."""
        pos = self["position"]
        if not len(pos):
            return None
        longs = pos.position_lots.clip(lower=0)
        before = longs.groupby(pos.account_id).shift(fill_value=0)
        lots = (longs - before).cumsum()
        return pd.DataFrame({"time_s": pos.time_s, "long_base": lots * float(self.scale.lot_size)})

    @functools.cached_property
    def cascade(self) -> pd.DataFrame | None:
        """The whole venue's ``liquidation_triggered`` rows (every perpetual's, whichever view
        this is: a cascade's generations cross instruments) with their ``generation``, ``parent``
        seq and ``perpetual`` (its symbol), as ``summary.json``'s ``metrics.cascade`` counts
        them."""
        liq = self.run["liquidation_triggered"]
        if not len(liq):
            return None
        first = str(self.run.config.get("instrument", {}).get("symbol", ""))
        if self.run.instruments:
            perpetual = liq.instrument.where(liq.instrument.notna(), first).astype(str)
        else:
            perpetual = pd.Series(first, index=liq.index)
        events = EventsView(self.run)
        gens = cascade_tree.generations(events)
        parent = cascade_tree.parents(events)
        return liq.assign(
            generation=liq.seq.map(gens).astype("int64"),
            parent=liq.seq.map(parent).astype("float64"),
            perpetual=perpetual,
        )


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def render_figures(data: ReportData) -> list[tuple[str, str, bytes | None]]:
    """``(stem, caption, PNG bytes or None)`` for every figure, in page order."""
    result: list[tuple[str, str, bytes | None]] = []
    with matplotlib.rc_context(plots.STYLE):
        for stem, build, caption in plots.FIGURES:
            fig = build(data)
            result.append((stem, caption, None if fig is None else _png(fig)))
    return result


def render_perpetual_figures(data: ReportData):
    """The overview's PNG (``None`` for one perpetual) and each other perpetual's figures
    (:func:`~exchange_sim.analysis.report_perpetuals.render_others`)."""
    with matplotlib.rc_context(plots.STYLE):
        fig = report_perpetuals.overview(data)
        return (
            None if fig is None else _png(fig),
            report_perpetuals.render_others(data, _png),
        )


def write_report(run_dir: str) -> str:
    """Write ``RUN_DIR/report/report.html`` (self-contained) and its PNGs; return the HTML path."""
    run = load_run(run_dir, REPORT_TYPES, with_skeleton=True)
    data = ReportData(run)
    figures = render_figures(data)
    perpetuals = render_perpetual_figures(data)
    out = os.path.join(run.path, "report")
    os.makedirs(out, exist_ok=True)
    drawn = [*figures, ("perpetuals", "", perpetuals[0])]
    drawn += [figure for _, others in perpetuals[1] for figure in others]
    for stem, _, png in drawn:
        path = os.path.join(out, f"{stem}.png")
        if png is not None:
            with open(path, "wb") as handle:
                handle.write(png)
        elif os.path.exists(path):
            os.remove(path)
    html_path = os.path.join(out, "report.html")
    with open(html_path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(page(data, figures, _MISSING, perpetuals))
    return html_path
