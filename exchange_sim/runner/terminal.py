"""The closing summary a run prints: what happened, in the settlement asset and plain units.

Everything comes from the run's ``summary.json`` dict (its ``metrics`` as defined in
``docs/metrics.md``), so the terminal never says more than the files do.
"""

from __future__ import annotations


def _money(value: float, asset: str) -> str:
    return f"{value:,.2f} {asset}"


def _pct(fraction: float | None) -> str:
    return "n/a" if fraction is None else f"{100 * fraction:.2f} %"


def _decimals(metrics: dict) -> int:
    return int((metrics.get("scale") or {}).get("money_decimals", 0))


def _label(symbol: str, name: str) -> str:
    """``name:`` alone, or ``SYMBOL: name`` for the first of several perpetuals."""
    return f"{symbol}: {name}" if symbol else f"{name}:"


def _first_lines(
    metrics: dict, amp: dict | None, asset: str, symbol: str
) -> tuple[list[str], list[str]]:
    """The first perpetual's lines (``symbol``: its symbol when the run has several, else
    empty): ``(liquidations and their outcomes, the rest)``, the rest being its fund, vault,
    ADL, bad debt, drawdowns and amplification."""
    head: list[str] = []
    liquidations = metrics.get("liquidations")
    if liquidations:
        outcomes = ", ".join(
            f"{name} {value['count']}" for name, value in liquidations["by_outcome"].items()
        )
        head.append(
            f"{_label(symbol, 'liquidations')} {liquidations['count']} on "
            f"{liquidations['accounts']} accounts, "
            f"{_money(liquidations['notional'], asset)} at trigger "
            f"({liquidations['longs']['count']} long, {liquidations['shorts']['count']} short)"
        )
        if outcomes:
            head.append(f"  by outcome: {outcomes}")
    lines: list[str] = []
    fund = metrics.get("insurance_fund")
    if fund:
        lines.append(
            f"{_label(symbol, 'insurance fund')} {_money(fund['start'], asset)} -> "
            f"{_money(fund['end'], asset)} (minimum {_money(fund['min'], asset)})"
        )
    vault = metrics.get("vault")
    if vault:
        lines.append(
            f"{_label(symbol, 'backstop vault')} cash {_money(vault['cash_end'], asset)}, "
            f"realised PnL {_money(vault['realised_pnl'], asset)}"
        )
    adl = metrics.get("adl")
    if adl:
        lines.append(
            f"{_label(symbol, 'ADL')} {adl['count']} fills, {_money(adl['notional'], asset)}, "
            f"{adl['accounts_hit']} accounts deleveraged"
        )
    bad_debt = metrics.get("bad_debt")
    if bad_debt:
        lines.append(
            f"{_label(symbol, 'bad debt')} {_money(bad_debt['recorded'], asset)} recorded, "
            f"{_money(bad_debt['outstanding'], asset)} outstanding"
        )
    prices = metrics.get("prices")
    if prices:
        drawdowns = ", ".join(
            f"{name} {_pct((prices[key].get('max_drawdown') or {}).get('fraction'))}"
            for name, key in (("index", "index"), ("mark", "mark"), ("last", "last_trade"))
            if prices.get(key)
        )
        name = "drawdown (peak to trough)" if symbol else "drawdown, peak to trough"
        lines.append(f"{_label(symbol, name)} {drawdowns}")
    if amp:
        parts = []
        for name in ("perp", "index"):
            entry = amp[name]
            ratio = "n/a" if entry["ratio"] is None else f"{entry['ratio']:.2f}x"
            parts.append(
                f"{name} {ratio} ({_pct(entry['drawdown'])} vs {_pct(entry['baseline_drawdown'])})"
            )
        lines.append(
            f"{_label(symbol, 'amplification (with forced closures / without)')} "
            f"{', '.join(parts)}; "
            f"baseline left {amp['baseline_accounts_past_maintenance']} accounts past maintenance"
        )
    return head, lines


def _cascade_line(metrics: dict, venue: bool) -> list[str]:
    """The cascade tree's line (``venue``: the run has several perpetuals, whose liquidations
    the tree spans: said so)."""
    cascade = metrics.get("cascade")
    if not (cascade and cascade["liquidations"]):
        return []
    roots = ", ".join(f"{kind} {n}" for kind, n in cascade["roots_by_kind"].items() if n)
    where = f", whole venue ({cascade['liquidations']} liquidations)" if venue else ""
    return [
        f"  cascade{where}: {cascade['roots']} started by a root ({roots}); "
        f"{cascade['fed_by_liquidations']} fed by earlier liquidations "
        f"({cascade['fed_through_mark']} through the mark); "
        f"deepest generation {cascade['deepest_generation']}"
    ]


def _other_line(symbol: str, perpetual: dict, asset: str, decimals: int) -> str:
    """Another perpetual's line: liquidations, fund, and its ADL, bad debt and vault when any."""
    metrics = perpetual.get("metrics") or {}
    more = metrics.get("liquidations") or {}
    line = (
        f"{symbol}: liquidations {more.get('count', 0)} on {more.get('accounts', 0)} accounts, "
        f"{_money(more.get('notional', 0), asset)} at trigger; insurance fund "
        f"{_money(perpetual['insurance_fund_minor'] / 10**decimals, asset)}"
    )
    return line + _extras(metrics.get("adl"), metrics.get("bad_debt"), metrics.get("vault"), asset)


def _extras(adl: dict | None, bad_debt: dict | None, vault: dict | None, asset: str) -> str:
    """``; ADL ...; bad debt ...; vault ...``, each only when not zero (or absent)."""
    parts = []
    if adl and adl["count"]:
        parts.append(f"ADL {adl['count']} fills, {_money(adl['notional'], asset)}")
    if bad_debt and (bad_debt["recorded_minor"] or bad_debt["outstanding_minor"]):
        parts.append(
            f"bad debt {_money(bad_debt['recorded'], asset)} recorded, "
            f"{_money(bad_debt['outstanding'], asset)} outstanding"
        )
    if vault:
        count = f" ({vault['count']})" if "count" in vault else ""
        parts.append(
            f"backstop vault{'s' * bool(count)}{count} cash {_money(vault['cash_end'], asset)}, "
            f"realised PnL {_money(vault['realised_pnl'], asset)}"
        )
    return "".join(f"; {part}" for part in parts)


def _venue_line(venue: dict, asset: str) -> str:
    """The whole venue's line (``summary.json`` ``venue``)."""
    funds, traders = venue["insurance_funds"], venue["traders"]
    line = (
        f"whole venue: liquidations {venue['liquidations']['count']}, "
        f"{_money(venue['liquidations']['notional'], asset)} at trigger; insurance funds "
        f"{_money(funds['start'], asset)} -> {_money(funds['end'], asset)}; "
        f"{traders['role']} traders: {traders['lost_money']} of {traders['accounts']} lost "
        f"money, net {_money(traders['net_result'], asset)}"
    )
    return line + _extras(venue.get("adl"), venue.get("bad_debt"), venue.get("vaults"), asset)


def summary_lines(directory: str | None, summary: dict) -> list[str]:
    """The lines of the closing summary (no trailing newlines)."""
    asset = summary.get("settlement_asset", "")
    metrics = summary.get("metrics") or {}
    lines = []
    if directory:
        lines.append(f"run directory: {directory}")
    lines.append(
        f"{summary['scenario']} (seed {summary['seed']}, {summary.get('symbol', '')}): simulated "
        f"{summary['sim_time_s']:g} s in {summary['wall_time_s']:.2f} s wall, "
        f"{summary['event_count']:,} events ({summary['events_per_second'] or 0:,.0f} events/s)"
    )
    others = summary.get("perpetuals") or {}
    venue = summary.get("venue")  # present with several perpetuals
    several = bool(others or venue)
    # With several perpetuals the top-level figures are the first perpetual's: said so.
    symbol = summary.get("symbol", "") if several else ""
    head, rest = _first_lines(metrics, summary.get("amplification"), asset, symbol)
    cascade = _cascade_line(metrics, several)
    if not several:
        lines += head + cascade + rest
    else:  # the first perpetual's, each other's, the venue's, then the venue-wide cascade
        lines += head + rest
        places = _decimals(metrics)
        lines += [_other_line(name, section, asset, places) for name, section in others.items()]
        if venue:
            lines.append(_venue_line(venue, asset))
        lines += cascade
    held, put_in = summary["money_held_minor"], summary["money_deposited_net_minor"]
    verdict = "conserved to the minor unit" if held == put_in else "NOT CONSERVED"
    decimals = (metrics.get("scale") or {}).get("money_decimals")
    if decimals is None:
        lines.append(f"money: held {held:,} = put in {put_in:,} minor units ({verdict})")
    else:
        unit = 10**decimals
        lines.append(
            f"money: held {_money(held / unit, asset)}, put in {_money(put_in / unit, asset)} "
            f"({verdict})"
        )
    if directory:
        lines.append(f"report: exchange-sim report {directory}")
    return lines
