"""The report's parts for a run with several perpetuals.

The report's cards and first figures are the first perpetual's (the instrument's). Then:

* a table puts each perpetual's final prices, open interest, fees, margin checks, fund, bad debt
  and liquidations side by side: the first's from ``summary.json``'s top level and its
  ``metrics``, the others' from its ``perpetuals[symbol]`` section and that section's own
  ``metrics``;
* an overview figure (``perpetuals.png``) draws every perpetual's mark, as a change from its
  first mark, over the cumulative notional liquidated in each: contagion in one look;
* after the first perpetual's figures, each other perpetual has its own (``SYMBOL-<stem>.png``),
  the same builders on its events alone. The cascade tree (and its card) is drawn once, on the
  first perpetual's page, for the whole venue: every perpetual's liquidations, whose
  generations cross instruments.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
from matplotlib.figure import Figure

from exchange_sim.analysis import plots
from exchange_sim.analysis.report_html import _get, _num, figure_html, text

PERPETUAL_STEMS = (
    "price",
    "liquidated_notional",
    "open_interest",
    "fund_vault",
    "depth",
    "delays",
    "funding",
)
"""The figures drawn for each other perpetual (all but the venue-wide cascade tree)."""

COLOURS = ("#222222", "#e08a1e", "#2a9d8f", "#7b3fa0", "#b5651d", "#5d8aa8", "#c2185b")
"""One colour per perpetual in the overview, in config order (cycled past seven)."""

PERPETUAL_FIGURES = (
    ("final index", "final_index_price_ticks", "ticks"),
    ("final mark", "final_mark_price_ticks", "ticks"),
    ("last trade", "last_trade_price_ticks", "ticks"),
    ("open interest (base units)", "open_interest_lots", "lots"),
    ("fees collected", "fees_collected_minor", "money"),
    ("margin checks", "margin_checks", ""),
    ("insurance fund (end)", "insurance_fund_minor", "money"),
    ("bad debt outstanding", "bad_debt_outstanding_minor", "money"),
    ("liquidations", "metrics.liquidations.count", ""),
    ("liquidated notional", "metrics.liquidations.notional", "float"),
    ("taken over by holders", "metrics.liquidations.taken_over.count", ""),
    ("ADL events", "metrics.adl.count", ""),
)
"""The per-perpetual table's rows: label, ``summary.json`` key (``perpetuals[symbol]``'s, or
the top level's for the first perpetual), unit."""


def perpetual_table(data) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """``(symbols, [(figure, value per symbol), ...])`` for a run with several perpetuals (the
    first from ``summary.json``'s top level, the others from its ``perpetuals`` section, each
    with its own metrics); empty for one perpetual."""
    s = data.summary
    others = s.get("perpetuals") or {}
    if not others:
        return [], []
    money = 10**data.scale.money_decimals
    columns = [(data.symbol, s), *sorted(others.items())]
    grids = {symbol: data.for_perpetual(symbol).scale for symbol in others}
    rows = []
    for label, key, unit in PERPETUAL_FIGURES:
        cells = []
        for symbol, section in columns:
            scale = grids.get(symbol, data.scale)  # each perpetual on its own grid
            tick, lot = float(scale.tick_size), float(scale.lot_size)
            tick_decimals = max(0, -int(Decimal(scale.tick_size).normalize().as_tuple().exponent))
            value = _get(section, key)
            if value is None:
                cells.append("n/a")
            elif unit == "ticks":  # as many decimals as the tick has: ALT at 1.960, not 1.96
                cells.append(f"{value * tick:,.{tick_decimals}f}")
            elif unit == "lots":
                cells.append(f"{value * lot:,.3f}")
            elif unit == "money":
                cells.append(f"{_num(value / money)} {data.settle}")
            elif unit == "float":
                cells.append(f"{_num(value)} {data.settle}")
            else:
                cells.append(f"{value:,}")
        rows.append((label, cells))
    return [symbol for symbol, _ in columns], rows


def perpetual_section(data) -> list[str]:
    """The table's HTML lines (none for a run with one perpetual)."""
    symbols, figures_by_symbol = perpetual_table(data)
    if not figures_by_symbol:
        return []
    out = [
        f"<h2>Perpetuals (the figures below are {text(data.symbol)}'s)</h2>",
        '<div class="tables"><table><caption hidden="hidden">perpetuals</caption>',
        "<thead><tr><th>figure</th>",
        *(f"<th>{text(symbol)}</th>" for symbol in symbols),
        "</tr></thead><tbody>",
    ]
    for label, cells in figures_by_symbol:
        out.append(
            f"<tr><td>{text(label)}</td>"
            + "".join(f'<td class="num">{text(cell)}</td>' for cell in cells)
            + "</tr>"
        )
    out.append("</tbody></table></div>")
    return out


def other_symbols(data) -> list[str]:
    """The other perpetuals' symbols, in config order."""
    return [str(p.get("symbol", "")) for p in data.run.config.get("perpetuals") or []]


def shares_the_fund(data, symbol: str) -> bool:
    """Whether ``symbol``'s liquidations draw on the instrument's insurance fund."""
    for entry in data.run.config.get("perpetuals") or []:
        if entry.get("symbol") == symbol:
            return bool(entry.get("shared_insurance_fund"))
    return False


def label_changes(ax) -> None:
    """Signed % labels with as many decimals as the tick step needs (at least one), so a mark
    that moved 0.05 % is not labelled +0.0 throughout."""
    decimals = plots.step_decimals(ax, 1, 6)
    ax.yaxis.set_major_formatter(plots.StrMethodFormatter(f"{{x:+.{decimals}f}}"))


def overview(data) -> Figure | None:
    """Every perpetual's mark as a change (%) from its first mark, and the cumulative notional
    liquidated in each (book fills, takeovers and ADL of liquidated accounts); ``None`` for a run
    with one perpetual."""
    symbols = other_symbols(data)
    if not symbols:
        return None
    views = [data, *(data.for_perpetual(symbol) for symbol in symbols)]
    fig, (marks, liquidated) = plots._figure(plots.WIDE, 2)
    for i, view in enumerate(views):
        colour = COLOURS[i % len(COLOURS)]
        mark = view["mark_price"]
        if len(mark):
            first = float(mark.price_quote.iloc[0])
            times = np.r_[mark.time_s, data.duration_s]
            change = (np.r_[mark.price_quote, mark.price_quote.iloc[-1]] / first - 1) * 100
            marks.step(times, change, where="post", color=colour, lw=1.3, label=view.symbol)
        flows = view.flows.sort_values("time_s", kind="stable")
        times = np.r_[0.0, flows.time_s, data.duration_s]
        total = np.r_[0.0, flows.notional.cumsum(), flows.notional.sum()]
        liquidated.step(times, total, where="post", color=colour, lw=1.3)
    marks.axhline(0, color="black", lw=0.6)
    label_changes(marks)
    marks.set_ylabel("mark, change from its first (%)")
    liquidated.set_ylabel(f"liquidated notional, cumulative ({data.settle})")
    plots._thousands(liquidated)
    for ax in (marks, liquidated):
        plots._time_axis(ax, data)
    liquidated.set_title("Notional liquidated in each perpetual")
    plots._title_and_legend(fig, marks, "Each perpetual's mark", len(views))
    return fig


def render_others(data, render) -> list[tuple[str, list[tuple[str, str, bytes | None]]]]:
    """``[(symbol, [(stem, caption, PNG or None), ...]), ...]`` for each other perpetual, its
    symbol over each of its figures; ``render(figure)`` gives a figure's PNG bytes."""
    builders = {stem: (build, caption) for stem, build, caption in plots.FIGURES}
    result = []
    for symbol in other_symbols(data):
        view = data.for_perpetual(symbol)
        figures: list[tuple[str, str, bytes | None]] = []
        for stem in PERPETUAL_STEMS:
            build, caption = builders[stem]
            fig = build(view)
            if fig is not None:  # the symbol over the figure's left edge: the PNG says whose
                fig.suptitle(symbol, x=0.005, ha="left", fontsize=12, fontweight="bold")
            png = None if fig is None else render(fig)
            figures.append((f"{symbol}-{stem}", f"{symbol}: {caption}", png))
        result.append((symbol, figures))
    return result


def overview_html(data, png: bytes | None) -> list[str]:
    """The overview figure's HTML (none for one perpetual)."""
    if png is None:
        return []
    caption = "Each perpetual's mark and the notional liquidated in it"
    return ['<section class="figs">', figure_html("perpetuals", caption, png, True), "</section>"]


def others_html(data, others, missing: dict[str, str]) -> list[str]:
    """Each other perpetual's heading and figures; a figure with nothing to draw is one line."""
    out = []
    for symbol, figures in others:
        out += [f'<h2 id="perpetual-{text(symbol)}">Figures of {text(symbol)}</h2>']
        out.append('<section class="figs">')
        skipped = []
        for stem, caption, png in figures:
            own = stem[len(symbol) + 1 :]
            if png is None:
                why = missing.get(own, "no data")
                if own == "fund_vault" and shares_the_fund(data, symbol):
                    why = f"{symbol} draws on {data.symbol}'s insurance fund, drawn above"
                skipped.append(f"{caption}: not drawn, {why}.")
                continue
            out.append(figure_html(stem, caption, png, own in plots.WIDE_FIGURES))
        out.append("</section>")
        out += [f'<p class="omitted">{text(line)}</p>' for line in skipped]
    return out
