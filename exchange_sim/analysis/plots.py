"""The report's figures: each function takes a loaded run and returns a Figure, or ``None`` when
the run holds nothing to draw (the report then says so in one line instead of an empty plot).

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot, no global
backend, nothing shown), titled, with units on every axis and time in seconds. Colours are fixed
across figures: longs (bids, buys) :data:`LONG`, shorts (asks, sells) :data:`SHORT`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import LinearSegmentedColormap, PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from exchange_sim.analysis.depth import BOOK_TYPES, bucket, sample_depth
from exchange_sim.core.units import NS_PER_S

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

LONG, SHORT = "#1f6fb4", "#d0473a"
INDEX, MARK, LAST, NEUTRAL = "#6b6b6b", "#7b3fa0", "#2a9d8f", "#444444"
WIDE, HALF = (13.0, 4.4), (6.4, 3.8)
STYLE: dict[RcKeyType, Any] = {
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
}


def _figure(size, cols: int = 1, **kwargs):
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(1, cols, **kwargs)
    return fig, axes


def _time_axis(ax, run) -> None:
    ax.set_xlim(0, run.duration_s)
    ax.set_xlabel("time (s)")


def decimals_for_step(step: float, least: int, most: int) -> int:
    """The fewest decimals, within ``[least, most]``, that write ``step`` exactly: 2.5 needs 1,
    0.25 needs 2, 0.125 needs 3, 5 needs 0 (a float's last-bit noise, as in 0.30000000000000004,
    is not a decimal)."""
    if not step > 0:
        return least
    for decimals in range(least, most + 1):
        if abs(round(step, decimals) - step) <= step * 1e-9:
            return decimals
    return most


def step_decimals(ax, least: int, most: int) -> int:
    """The decimals the y axis's tick step needs, within ``[least, most]``: enough to write the
    step exactly, so ticks every 2.5 read 2.5, 5.0, 7.5 (not 2, 5, 8)."""
    ticks = ax.get_yticks()
    step = float(np.min(np.diff(ticks))) if len(ticks) > 1 else 1.0
    return decimals_for_step(step, least, most)


def _thousands(ax) -> None:
    """Readable y tick labels: 1,250,000 rather than 1.25e6, with as many decimals as the tick
    step needs to be written exactly (an altcoin at 2 with ticks every 0.0025 shows 1.9975,
    2.0000, not 2, 2; ticks every 2.5 show 2.5, 5.0, not 2, 5)."""
    ax.yaxis.set_major_formatter(StrMethodFormatter(f"{{x:,.{step_decimals(ax, 0, 8)}f}}"))


def _title_and_legend(fig, ax, title: str, ncols: int) -> None:
    """The title on top and the legend in a row under the plot: never over the data."""
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        legend = fig.legend(loc="outside lower center", ncols=ncols)
        for handle in legend.legend_handles:  # tiny scatter dots still show in the legend
            if isinstance(handle, PathCollection):
                handle.set_sizes([30])


def price(run) -> Figure | None:
    """Index, mark and last trade over time; liquidations (at trigger time and mark) and ADLs."""
    index, mark, trade = run["index_price"], run["mark_price"], run["trade"]
    if not (len(index) or len(mark) or len(trade)):
        return None
    fig, ax = _figure(WIDE)
    for frame, colour, width, name in ((index, INDEX, 1.8, "index"), (mark, MARK, 1.3, "mark")):
        if len(frame):  # each price holds until the next, the last one until the run's end
            times = np.r_[frame.time_s, run.duration_s]
            values = np.r_[frame.price_quote, frame.price_quote.iloc[-1]]
            ax.step(times, values, where="post", color=colour, lw=width, label=name)
    if len(trade):
        ax.scatter(
            trade.time_s,
            trade.price_quote,
            s=2,
            color=LAST,
            alpha=0.5,
            lw=0,
            label="last trade (each fill)",
        )
    adl = run["adl"]
    if len(adl):
        ax.scatter(
            adl.time_s,
            adl.price_quote,
            s=14,
            marker="x",
            color="black",
            lw=0.7,
            alpha=0.6,
            zorder=4,
            label=f"ADL close price ({len(adl)})",
        )
    liq = run["liquidation_triggered"]
    for sign, colour, marker, name in ((1, LONG, "v", "long"), (-1, SHORT, "^", "short")):
        part = liq[np.sign(liq.position_lots) == sign]
        ax.scatter(
            part.time_s,
            part.mark_price_quote,
            s=42,
            marker=marker,
            color=colour,
            edgecolor="white",
            linewidth=0.5,
            zorder=5,
            label=f"{name} liquidation triggered ({len(part)})",
        )
    _time_axis(ax, run)
    _thousands(ax)
    ax.set_ylabel(f"price ({run.quote})")
    title = "Index, mark and last trade price, with liquidations (at the mark) and ADL"
    _title_and_legend(fig, ax, title, 6)
    return fig


def liquidated_notional(run) -> Figure | None:
    """Notional closed out of liquidated accounts per second, by side and by channel (book fills,
    holder takeovers, ADL), stacked."""
    flows = run.flows
    if not len(flows):
        return None
    fig, ax = _figure(WIDE)
    flows = flows.assign(second=np.floor(flows.time_s).astype(int))
    table = flows.pivot_table(
        index="second", columns=["side", "channel"], values="notional", aggfunc="sum"
    ).fillna(0.0)
    bottom = np.zeros(len(table))
    decimals = 2 if run.scale.inverse else 0  # a coin's units are few (XBT), a quote's many
    channels = (("book", 1.0, "book fills"), ("takeover", 0.6, "taken over"), ("adl", 0.32, "ADL"))
    for side, colour, name in ((1, LONG, "longs"), (-1, SHORT, "shorts")):
        if not any((side, channel) in table for channel, _, _ in channels):
            ax.bar([], [], color=colour, label=f"{name}: none")
        for channel, alpha, what in channels:
            if (side, channel) not in table:
                continue
            values = table[(side, channel)].to_numpy()
            label = f"{name}: {what} ({values.sum():,.{decimals}f} {run.settle})"
            ax.bar(
                table.index + 0.5,
                values,
                width=0.9,
                bottom=bottom,
                color=colour,
                alpha=alpha,
                label=label,
                linewidth=0,
            )
            bottom = bottom + values
    _time_axis(ax, run)
    _thousands(ax)
    ax.set_ylabel(f"notional per second ({run.settle})")
    title = "Liquidated notional per second: long vs short liquidations, by how they closed"
    _title_and_legend(fig, ax, title, 4)
    return fig


def fund_and_vault(run) -> Figure | None:
    """Insurance fund balance and the backstop vault's PnL over time."""
    fund, vault = run["insurance_fund"], run["vault"]
    panels = [name for name, frame in (("fund", fund), ("vault", vault)) if len(frame)]
    if not panels:
        return None
    fig, axes = _figure(HALF, len(panels), squeeze=False)
    for ax, name in zip(axes[0], panels, strict=True):
        if name == "fund":
            start = fund.balance_settle.iloc[0] - fund.delta_settle.iloc[0]
            times = np.r_[0.0, fund.time_s, run.duration_s]
            values = np.r_[start, fund.balance_settle, fund.balance_settle.iloc[-1]]
            ax.step(times, values, where="post", color=NEUTRAL, lw=1.4, label="fund balance")
            ax.set_title("Insurance fund balance")
            ax.set_ylabel(f"balance ({run.settle})")
        else:
            times = np.r_[0.0, vault.time_s, run.duration_s]  # no PnL before its first change
            for column, colour, label in (
                ("realised_pnl_settle", NEUTRAL, "realised PnL (cash - capital)"),
                ("unrealised_pnl_settle", MARK, "unrealised PnL"),
            ):
                values = np.r_[0.0, vault[column], vault[column].iloc[-1]]
                ax.step(times, values, where="post", color=colour, lw=1.3, label=label)
            ax.axhline(0, color="black", lw=0.6)
            ax.set_title("Backstop vault PnL")
            ax.set_ylabel(f"PnL ({run.settle})")
            ax.legend(loc="best")
        _time_axis(ax, run)
        _thousands(ax)
    return fig


def open_interest(run) -> Figure | None:
    """Open interest (sum of long positions) after every position change."""
    oi = run.open_interest
    if oi is None:
        return None
    fig, ax = _figure(HALF)
    times = np.r_[0.0, oi.time_s, run.duration_s]
    values = np.r_[0.0, oi.long_base, oi.long_base.iloc[-1]]
    ax.step(times, values, where="post", color=LONG, lw=1.4)
    ax.fill_between(times, values, step="post", color=LONG, alpha=0.12)
    _time_axis(ax, run)
    ax.set_ylabel(f"open interest ({run.base})")
    ax.set_title("Open interest (long side)")
    return fig


def funding(run) -> Figure | None:
    """The funding rate paid each interval (after the cap), in basis points; capped intervals
    hatched."""
    rates = run["funding_rate"]
    if not len(rates):
        return None
    fig, ax = _figure(HALF)
    width = (rates.interval_end_ts_s - rates.interval_start_ts_s).to_numpy()
    for capped, hatch, label in ((0, None, None), (1, "////", "capped")):
        part = rates[rates.capped == capped]
        if len(part):
            ax.bar(
                part.interval_start_ts_s,
                part.rate_frac * 1e4,
                width=width[0] * 0.9,
                align="edge",
                color=np.where(part.rate_ppb >= 0, LONG, SHORT),
                hatch=hatch,
                edgecolor="white",
                label=label,
            )
    if (rates.capped == 1).any():
        ax.legend(loc="best")
    ax.axhline(0, color="black", lw=0.6)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:.3g}"))
    _time_axis(ax, run)
    ax.set_ylabel("rate per interval (bp; > 0: longs pay)")
    interval = width[0]
    ax.set_title(f"Funding rate paid per {interval:g} s interval ({len(rates)} intervals)")
    return fig


def depth_heatmap(run) -> Figure | None:
    """Resting lots around the mid, bucketed by distance, sampled once a second."""
    if not len(run["order_accepted"]):
        return None
    frames = {kind: run[kind] for kind in BOOK_TYPES}
    samples = sample_depth(frames, NS_PER_S, run.duration_ns)
    bucketed = bucket(samples)
    if bucketed is None:
        return None
    edges, grid = bucketed
    grid = grid * float(run.scale.lot_size)
    fig, ax = _figure(WIDE)
    times = np.r_[samples.times_s - NS_PER_S / 1e9, samples.times_s[-1]]
    edges_quote = edges * float(run.scale.tick_size)
    half = len(edges) // 2
    top = np.quantile(grid[grid > 0], 0.99) if (grid > 0).any() else 1.0
    for rows, edge_rows, colour, name in (
        (slice(0, half), slice(0, half + 1), LONG, "bids"),
        (slice(half, None), slice(half, None), SHORT, "asks"),
    ):
        cmap = LinearSegmentedColormap.from_list(name, ["#ffffff", colour])
        mesh = ax.pcolormesh(
            times,
            edges_quote[edge_rows],
            np.ma.masked_equal(grid[rows], 0),
            cmap=cmap,
            norm=PowerNorm(0.5, 0, top),
            shading="flat",
        )
        fig.colorbar(mesh, ax=ax, pad=0.005, fraction=0.025, label=f"{name} ({run.base})")
    empty = np.isnan(samples.mids)
    for k in np.flatnonzero(empty):
        label = f"a side empty ({int(empty.sum())} s)" if k == np.flatnonzero(empty)[0] else None
        ax.axvspan(times[k], times[k + 1], color="#bbbbbb", alpha=0.6, lw=0, label=label)
    ax.axhline(0, color="black", lw=0.6)
    _time_axis(ax, run)
    ax.set_ylabel(f"distance from mid ({run.quote})")
    width = (edges[1] - edges[0]) * run.scale.tick_size
    ax.set_title(
        f"Resting depth around the mid: bids below, asks above ({width} {run.quote} buckets, "
        "each second; the outer rows hold all depth beyond)"
    )
    if empty.any():
        ax.legend(loc="upper right")
    return fig


def _histogram(ax, values_ms: np.ndarray, colour: str, title: str, what: str) -> None:
    if not len(values_ms):
        ax.set_axis_off()
        ax.set_title(f"{title}: none")
        return
    ax.hist(values_ms, bins=min(40, max(5, len(np.unique(values_ms)))), color=colour, alpha=0.85)
    p50, p95 = np.percentile(values_ms, [50, 95])
    ax.axvline(p50, color="black", lw=1.0)
    ax.axvline(p95, color="black", ls="--", lw=1.0)
    ax.set_xlabel(f"{what} (ms)\nmedian {p50:,.0f} (solid) · p95 {p95:,.0f} (dashed)")
    ax.set_ylabel("count")
    ax.set_title(f"{title} (n = {len(values_ms):,})")


def delays(run) -> Figure | None:
    """Distributions of the margin-check delay and of the liquidation queue wait."""
    checks, starts = run["margin_check"], run["liquidation_started"]
    if not (len(checks) or len(starts)):
        return None
    fig, axes = _figure(HALF, 2)
    check_ms = ((checks.ts - checks.trigger_ts) / 1e6).to_numpy(dtype=float)
    _histogram(axes[0], check_ms, NEUTRAL, "Margin-check delay", "check - trigger")
    wait_ms = (starts.queue_wait_ns / 1e6).to_numpy(dtype=float)
    _histogram(axes[1], wait_ms, MARK, "Liquidation queue wait", "queue wait")
    return fig


def cascade(run) -> Figure | None:
    """Liquidations in trigger order coloured by cascade generation, with parent -> child links,
    and the count per generation."""
    tree = run.cascade
    if tree is None:
        return None
    fig, (ax, bars) = _figure(WIDE, 2, width_ratios=(3.2, 1))
    top = int(tree.generation.max())
    colours = _generation_colours(top)
    tree = tree.assign(rank=np.arange(1, len(tree) + 1))
    by_seq = tree.set_index("seq")
    # With several perpetuals the tree is the venue's: every perpetual's liquidations, each
    # perpetual with its own marker, a link drawn across perpetuals as within one.
    links = tree.dropna(subset=["parent"])
    links = links[links.parent.astype("int64").isin(by_seq.index)]
    symbols = list(dict.fromkeys(tree.perpetual))
    venue = run.run.instruments
    if len(links):
        parent = by_seq.loc[links.parent.astype("int64")]
        segments = np.stack(
            [np.c_[parent.time_s, parent["rank"]], np.c_[links.time_s, links["rank"]]], axis=1
        )
        # An (N, 2, 2) array is a valid sequence of segments; the stubs only admit a Sequence.
        lines = LineCollection(
            segments,  # type: ignore[arg-type]
            colors="#8a8a8a",
            linewidths=0.6,
            alpha=0.7,
            label="parent -> child",
        )
        ax.add_collection(lines)
    for gen in range(top + 1):
        labelled = False
        for i, symbol in enumerate(symbols):
            part = tree[(tree.generation == gen) & (tree.perpetual == symbol)]
            if len(part):
                ax.scatter(
                    part.time_s,
                    part["rank"],
                    s=20,
                    color=colours[gen],
                    marker=MARKERS[i % len(MARKERS)],
                    zorder=3,
                    edgecolor="white",
                    linewidth=0.3,
                    label=None if labelled else f"generation {gen}",
                )
                labelled = True
    if venue:  # which marker is which perpetual
        for i, symbol in enumerate(symbols):
            ax.scatter(
                [], [], s=20, color="#8a8a8a", marker=MARKERS[i % len(MARKERS)], label=symbol
            )
    span = tree.time_s.max() - tree.time_s.min()
    ax.set_xlim(tree.time_s.min() - 0.05 * span - 0.5, tree.time_s.max() + 0.05 * span + 0.5)
    ax.set_xlabel("time of trigger (s; zoomed to the liquidations)")
    ax.set_ylabel("n-th liquidation")
    where = f" (whole venue: {', '.join(symbols)})" if venue else ""
    ax.set_title(f"Cascade{where}: each liquidation, coloured by generation, linked to its parent")
    ax.legend(loc="upper left", ncols=2 if top + len(symbols) > 5 else 1)
    counts = tree.generation.value_counts().reindex(range(top + 1), fill_value=0)
    bars.bar(counts.index, counts.to_numpy(), color=colours, width=0.8)
    bars.set_xlabel("generation (0 = started by the market)")
    bars.set_ylabel("liquidations")
    bars.set_title("Liquidations per generation")
    bars.set_xticks(counts.index)
    return fig


MARKERS = ("o", "s", "^", "D", "v", "P", "X")
"""The cascade tree's marker of each perpetual, in order of first liquidation (cycled past
seven)."""


def _generation_colours(top: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(0.9 * gen / max(top, 1)) for gen in range(top + 1)]


FIGURES = (
    ("price", price, "Index, mark and last-trade price with liquidations and ADL"),
    ("liquidated_notional", liquidated_notional, "Liquidated notional per second by side"),
    ("cascade", cascade, "Cascade tree by generation"),
    ("open_interest", open_interest, "Open interest"),
    ("fund_vault", fund_and_vault, "Insurance fund and vault"),
    ("depth", depth_heatmap, "Depth around the mid"),
    ("delays", delays, "Margin-check delay and liquidation queue wait"),
    ("funding", funding, "Funding rate per interval"),
)
"""``(file stem, builder, what it shows)`` in page order."""

WIDE_FIGURES = frozenset(("price", "liquidated_notional", "cascade", "depth"))
