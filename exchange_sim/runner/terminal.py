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
    liquidations = metrics.get("liquidations")
    if liquidations:
        outcomes = ", ".join(
            f"{name} {value['count']}" for name, value in liquidations["by_outcome"].items()
        )
        lines.append(
            f"liquidations: {liquidations['count']} on {liquidations['accounts']} accounts, "
            f"{_money(liquidations['notional'], asset)} at trigger "
            f"({liquidations['longs']['count']} long, {liquidations['shorts']['count']} short)"
        )
        if outcomes:
            lines.append(f"  by outcome: {outcomes}")
    cascade = metrics.get("cascade")
    if cascade and cascade["liquidations"]:
        roots = ", ".join(f"{kind} {n}" for kind, n in cascade["roots_by_kind"].items() if n)
        lines.append(
            f"  cascade: {cascade['roots']} started by a root ({roots}); "
            f"{cascade['fed_by_liquidations']} fed by earlier liquidations "
            f"({cascade['fed_through_mark']} through the mark); "
            f"deepest generation {cascade['deepest_generation']}"
        )
    for symbol, perpetual in (summary.get("perpetuals") or {}).items():
        more = (perpetual.get("metrics") or {}).get("liquidations") or {}
        lines.append(
            f"{symbol}: liquidations {more.get('count', 0)} on {more.get('accounts', 0)} accounts, "
            f"{_money(more.get('notional', 0), asset)} at trigger; insurance fund "
            f"{_money(perpetual['insurance_fund_minor'] / 10 ** _decimals(metrics), asset)}"
        )
    venue = summary.get("venue")
    if venue:
        funds, traders = venue["insurance_funds"], venue["traders"]
        lines.append(
            f"whole venue: liquidations {venue['liquidations']['count']}, "
            f"{_money(venue['liquidations']['notional'], asset)} at trigger; insurance funds "
            f"{_money(funds['start'], asset)} -> {_money(funds['end'], asset)}; "
            f"{traders['role']} traders: {traders['lost_money']} of {traders['accounts']} lost "
            f"money, net {_money(traders['net_result'], asset)}"
        )
    fund = metrics.get("insurance_fund")
    if fund:
        lines.append(
            f"insurance fund: {_money(fund['start'], asset)} -> {_money(fund['end'], asset)} "
            f"(minimum {_money(fund['min'], asset)})"
        )
    vault = metrics.get("vault")
    if vault:
        lines.append(
            f"backstop vault: cash {_money(vault['cash_end'], asset)}, "
            f"realised PnL {_money(vault['realised_pnl'], asset)}"
        )
    adl = metrics.get("adl")
    if adl:
        lines.append(
            f"ADL: {adl['count']} fills, {_money(adl['notional'], asset)}, "
            f"{adl['accounts_hit']} accounts deleveraged"
        )
    bad_debt = metrics.get("bad_debt")
    if bad_debt:
        lines.append(
            f"bad debt: {_money(bad_debt['recorded'], asset)} recorded, "
            f"{_money(bad_debt['outstanding'], asset)} outstanding"
        )
    prices = metrics.get("prices")
    if prices:
        drawdowns = ", ".join(
            f"{name} {_pct((prices[key].get('max_drawdown') or {}).get('fraction'))}"
            for name, key in (("index", "index"), ("mark", "mark"), ("last", "last_trade"))
            if prices.get(key)
        )
        lines.append(f"drawdown, peak to trough: {drawdowns}")
    amp = summary.get("amplification")
    if amp:
        parts = []
        for name in ("perp", "index"):
            entry = amp[name]
            ratio = "n/a" if entry["ratio"] is None else f"{entry['ratio']:.2f}x"
            parts.append(
                f"{name} {ratio} ({_pct(entry['drawdown'])} vs {_pct(entry['baseline_drawdown'])})"
            )
        lines.append(
            f"amplification (with forced closures / without): {', '.join(parts)}; "
            f"baseline left {amp['baseline_accounts_past_maintenance']} accounts past maintenance"
        )
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
