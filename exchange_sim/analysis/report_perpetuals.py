"""The report's table of every perpetual's key figures (a run with several perpetuals).

The report's cards and figures are the first perpetual's (the instrument's); this table puts each
perpetual's final prices, open interest, fees, margin checks, fund, bad debt and liquidations side
by side: the first's from ``summary.json``'s top level and its ``metrics``, the others' from its
``perpetuals[symbol]`` section and that section's own ``metrics``.
"""

from __future__ import annotations

from exchange_sim.analysis.report_html import _get, _num, text

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
    scale = data.scale
    tick, lot, money = float(scale.tick_size), float(scale.lot_size), 10**scale.money_decimals
    columns = [(data.symbol, s), *sorted(others.items())]
    rows = []
    for label, key, unit in PERPETUAL_FIGURES:
        cells = []
        for _, section in columns:
            value = _get(section, key)
            if value is None:
                cells.append("n/a")
            elif unit == "ticks":
                cells.append(_num(value * tick))
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
