"""The report page: the headline (key figures), the figures and the tables, as one HTML file.

Everything the page shows is escaped; images are ``data:`` URIs; the CSS is inline and there is
no script and no link, so the file is complete on its own. The markup is well-formed XHTML-style
(void elements self-closed) so a strict parser can check it.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from html import escape

import numpy as np

from exchange_sim.analysis.plots import LONG, SHORT, WIDE_FIGURES

CSS = f"""
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: #f3f4f6; color: #1f2430;
  font: 15px/1.45 "Helvetica Neue", Helvetica, Arial, "DejaVu Sans", sans-serif; }}
main {{ max-width: 1380px; margin: 0 auto; padding: 22px 28px 40px; }}
h1 {{ font-size: 27px; margin: 0 0 2px; }}
h2 {{ font-size: 18px; margin: 28px 0 10px; }}
.sub {{ color: #566070; margin: 0 0 18px; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(205px, 1fr)); gap: 12px; }}
.card {{ background: #fff; border-radius: 8px; padding: 11px 14px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.08); border-top: 3px solid #9aa3b2; }}
.card.alert {{ border-top-color: {SHORT}; }}
.label {{ font-size: 11.5px; letter-spacing: 0.05em; text-transform: uppercase; color: #6b7280; }}
.value {{ font-size: 21px; font-weight: 650; margin: 3px 0 2px; }}
.note {{ font-size: 12.5px; color: #4b5563; }}
.long {{ color: {LONG}; font-weight: 600; }}
.short {{ color: {SHORT}; font-weight: 600; }}
.figs {{ display: grid; grid-template-columns: 1fr 1fr; gap: 14px; margin-top: 22px; }}
figure {{ margin: 0; background: #fff; border-radius: 8px; padding: 8px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.08); }}
figure.wide {{ grid-column: 1 / -1; }}
figure img {{ width: 100%; height: auto; display: block; }}
figcaption {{ font-size: 12.5px; color: #566070; padding: 4px 6px 0; }}
.omitted {{ color: #6b7280; font-style: italic; margin: 10px 0 0; }}
.tables {{ display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }}
table {{ border-collapse: collapse; background: #fff; border-radius: 8px; font-size: 13px;
  box-shadow: 0 1px 2px rgba(0, 0, 0, 0.08); }}
th, td {{ padding: 4px 12px; border-bottom: 1px solid #e5e7eb; text-align: left; }}
th {{ background: #f9fafb; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
details {{ margin-top: 26px; }}
summary {{ cursor: pointer; font-weight: 600; margin-bottom: 8px; }}
@media (max-width: 900px) {{ .figs {{ grid-template-columns: 1fr; }} }}
"""


def text(value: object) -> str:
    """Escaped text for the page."""
    return escape(str(value), quote=True)


def embed(png: bytes) -> str:
    """A PNG as a ``data:`` URI."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _num(value: float | Decimal, decimals: int | None = None) -> str:
    if decimals is None:
        # |value| >= 1000, spelled out: mypy types abs() of a float | Decimal as object.
        decimals = 0 if value >= 1000 or value <= -1000 else 2
    return f"{value:,.{decimals}f}"


def quantity(value: float) -> str:
    """A size as written: thousands separated, no trailing zeros (5,519,500 contracts; 12.121
    BTC), never more than 8 decimals."""
    text = f"{value:,.8f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _drawdown(prices) -> float | None:
    """Largest fall from a running peak, as a fraction (0.08 = 8 %)."""
    values = np.asarray(prices, dtype=float)
    if not len(values):
        return None
    peaks = np.maximum.accumulate(values)
    return float(np.max((peaks - values) / peaks))


def key_figures(data) -> list[tuple[str, str, str, bool]]:
    """``(label, value html, note html, alert)`` cards of the headline."""
    s, cur, money = data.summary, data.settle, 10**data.scale.money_decimals
    cards = []
    liq, done = data["liquidation_triggered"], data["liquidation_finished"]
    outcomes = done.outcome.value_counts()
    outcomes = sorted(outcomes.items(), key=lambda item: (-item[1], item[0]))
    note = " · ".join(f"{text(k).replace('_', ' ')} {v}" for k, v in outcomes) or "none finished"
    count = s.get("liquidations_triggered", len(liq))
    if s.get("perpetuals"):  # several perpetuals: the first's here, the venue's in the note
        note += f" · {count:,} across all {len(s['perpetuals']) + 1} perpetuals"
        count = len(liq)
    cards.append(("Liquidations", f"{count:,} triggered", note, count > 0))
    flows = data.flows
    by_side = flows.groupby("side").notional.sum() if len(flows) else {}
    longs, shorts = by_side.get(1, 0.0), by_side.get(-1, 0.0)
    cards.append(
        (
            "Notional closed out",
            f"{_num(longs + shorts)} {cur}",
            f'<span class="long">longs {_num(longs)}</span> · '
            f'<span class="short">shorts {_num(shorts)}</span>',
            False,
        )
    )
    fund = data["insurance_fund"]
    if len(fund):
        start = fund.balance_settle.iloc[0] - fund.delta_settle.iloc[0]
        end, low = fund.balance_settle.iloc[-1], min(start, fund.balance_settle.min())
        drop = f" ({(low - start) / start:+.1%})" if start else ""
        note = f"start {_num(start)} · min {_num(low)}{drop}"
        cards.append(("Insurance fund (end)", f"{_num(end)} {cur}", note, low < start))
    elif s.get("insurance_fund_minor") is not None:
        balance = s["insurance_fund_minor"] / money
        cards.append(("Insurance fund", f"{_num(balance)} {cur}", "unchanged all run", False))
    adl = data["adl"]
    adl_notional = float(flows[flows.channel == "adl"].notional.sum()) if len(flows) else 0.0
    accounts = adl.account.nunique() if len(adl) else 0
    note = f"{_num(adl_notional)} {cur} closed against {accounts} accounts"
    cards.append(("Auto-deleveraging", f"{len(adl):,} ADL events", note, len(adl) > 0))
    written = float(data["bad_debt"].amount_settle.sum())
    outstanding = (s.get("bad_debt_outstanding_minor") or 0) / money
    note = f"outstanding {_num(outstanding)} {cur}"
    cards.append(("Bad debt written off", f"{_num(written)} {cur}", note, written > 0))
    vault = data["vault"]
    if len(vault):
        last = vault.iloc[-1]
        pnl = last.realised_pnl_settle + last.unrealised_pnl_settle
        note = f"cash {_num(last.cash_settle)} · position {last.position_base:g} {data.base}"
        cards.append(("Vault PnL (end)", f"{_num(pnl)} {cur}", note, pnl < 0))
    parts = []
    for name, frame, column in (
        ("index", data["index_price"], "price_quote"),
        ("mark", data["mark_price"], "price_quote"),
        ("last", data["trade"], "price_quote"),
    ):
        dd = _drawdown(frame[column])
        if dd is not None:
            parts.append((name, dd))
    if parts:
        worst = max(dd for _, dd in parts)
        note = " · ".join(f"{name} {-dd:.2%}" for name, dd in parts)
        cards.append(("Max price drawdown", f"{-worst:.2%}", note, worst > 0.05))
    oi = data.open_interest
    if oi is not None:
        # Contracts of an inverse instrument are whole on a whole lot: its lot's decimals.
        lot = data.scale.lot_size
        places = max(0, -int(lot.normalize().as_tuple().exponent)) if data.scale.inverse else 3
        note = f"peak {oi.long_base.max():,.{places}f} {data.base}"
        cards.append(
            (
                "Open interest (end)",
                f"{oi.long_base.iloc[-1]:,.{places}f} {data.base}",
                note,
                False,
            )
        )
    tree = data.cascade
    if tree is not None:
        fed = int((tree.generation > 0).sum())
        note = f"{fed} of {len(tree)} liquidations fed by earlier ones"
        title = "Cascade depth"
        if data.run.instruments:  # every perpetual's liquidations: one venue-wide tree
            title, note = "Cascade depth (whole venue)", f"{note}, in every perpetual"
        cards.append((title, f"generation {int(tree.generation.max())}", note, fed > 0))
    amp = s.get("amplification")
    if amp:
        perp, index = amp["perp"], amp["index"]

        def ratio(entry) -> str:
            return "n/a" if entry["ratio"] is None else f"x{entry['ratio']:.2f}"

        note = (
            f"perp {-(perp['drawdown'] or 0):.2%} vs {-(perp['baseline_drawdown'] or 0):.2%} "
            f"without forced closures · index {ratio(index)}"
        )
        alert = (perp["ratio"] or 0) > 1.1
        cards.append(("Amplification (perp)", ratio(perp), note, alert))
    cards += collateral_cards(data)
    checks = []
    if "open_interest_balanced" in s:
        checks.append(("open interest balanced", bool(s["open_interest_balanced"])))
    if "money_held_minor" in s and "money_deposited_net_minor" in s:
        checks.append(("money identity", s["money_held_minor"] == s["money_deposited_net_minor"]))
    if checks:
        ok = all(flag for _, flag in checks)
        note = " · ".join(f"{name} {'yes' if flag else 'NO'}" for name, flag in checks)
        cards.append(("End-of-run checks", "pass" if ok else "FAIL", note, not ok))
    return cards


def collateral_cards(data) -> list[tuple[str, str, str, bool]]:
    """One card per collateral asset (``summary.json``'s ``collateral``): its price path
    (reference, low, final), the liquidations its price set off (their margin check was caused by a
    ``collateral_price``) and the units the venue took over."""
    section = data.summary.get("collateral") or {}
    prices, checks = data["collateral_price"], data["margin_check"]
    cards = []
    for asset, result in sorted(section.items()):
        path = prices[prices.asset == asset].price_frac if len(prices) else prices.price_frac
        by_price = set(checks.seq[checks.cause.isin(set(prices.seq[prices.asset == asset]))])
        liq = data["liquidation_triggered"]
        count = int(liq.cause.isin(by_price).sum())
        final = result["final_price_ppb"] / 1e9
        low = f"{path.min():.4f}" if len(path) else "n/a"
        configs = {c.get("asset"): c for c in data.run.config.get("collateral", ())}
        reference = configs.get(asset, {}).get("reference_price_ppb")
        first = "n/a" if reference is None else f"{reference:.4f}"
        taken = result["units_taken_by_venue"] / 10**data.scale.money_decimals
        note = (
            f"reference {first} · low {low} · {count} liquidations set off by its price · "
            f"{_num(taken)} units taken by the venue"
        )
        label = f"Collateral {asset} ({result['price_source']})"
        cards.append((text(label), f"{final:.4f} {data.settle}", text(note), count > 0))
    return cards


def _get(metrics: dict, path: str):
    """``metrics["a"]["b"]`` for ``"a.b"``; ``None`` where any step is missing."""
    value: object = metrics
    for key in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _seconds(value) -> str:
    return "n/a" if value is None else f"{value:,.3f} s"


def key_tables(
    metrics: dict, settle: str, base: str, venue: dict | None = None
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Compact tables of the figures an analyst reads first, from ``summary.json["metrics"]``;
    with several perpetuals (``venue``: ``summary.json["venue"]``) the traders' figures are the
    whole venue's, each account counted once."""
    latency = []
    for name, label in (
        ("margin_check_delay", "margin-check delay"),
        ("trigger_to_first_order", "trigger to first liquidation order"),
        ("queue_wait", "liquidation queue wait"),
    ):
        stats = _get(metrics, f"latency.{name}") or {}
        if stats.get("count"):
            latency.append(
                (
                    label,
                    f"p50 {_seconds(stats['p50'])} · p90 {_seconds(stats['p90'])} · "
                    f"max {_seconds(stats['max'])}",
                )
            )
    backlog = _get(metrics, "latency.backlog") or {}
    if backlog.get("count"):
        latency.append(("liquidation backlog", f"p50 {backlog['p50']} · max {backlog['max']}"))
    stress = []
    for moment in ("before", "trough"):
        book = _get(metrics, f"book.{moment}") or {}
        if book.get("bid_depth") is not None:
            stress.append(
                (
                    f"depth within 1 % of mid, {moment}",
                    f"bids {_num(book['bid_depth'])} · asks {_num(book['ask_depth'])} {base}",
                )
            )
    spread = _get(metrics, "book.trough.spread_fraction")
    if spread is not None:
        stress.append(("spread at the trough", f"{spread:.3%}"))
    oi = metrics.get("open_interest") or {}
    if oi.get("end") is not None:
        stress.append(
            (
                "open interest before · trough · end",
                f"{quantity(oi['before'])} · {quantity(oi['trough'])} · "
                f"{quantity(oi['end'])} {base}",
            )
        )
    ratio = _get(metrics, "prices.mark_drawdown_over_index")
    if ratio is not None:
        stress.append(("mark drawdown / index drawdown", f"{ratio:.3f}"))
    recovery = _get(metrics, "recovery.duration")
    stress.append(("back within 1 % of the index after", _seconds(recovery)))
    rate_min, rate_max = _get(metrics, "funding.rate_min"), _get(metrics, "funding.rate_max")
    if rate_min is not None:
        stress.append(("funding rate min · max", f"{rate_min:.4%} · {rate_max:.4%}"))
    people = []
    traders = metrics.get("traders") or {}
    whole = (venue or {}).get("traders") or {}
    if whole.get("accounts"):
        people.append(
            (
                f"{whole['role']} traders, whole venue",
                f"{whole['accounts']} accounts, {whole['lost_money']} lost money",
            )
        )
        people.append(("their net result, whole venue", f"{_num(whole['net_result'])} {settle}"))
    elif traders.get("accounts"):
        people.append(
            (
                f"{traders['role']} traders",
                f"{traders['accounts']} accounts, {traders['lost_money']} lost money",
            )
        )
        people.append(("their realised losses", f"{_num(traders['realised_losses'])} {settle}"))
    adl = metrics.get("adl") or {}
    if adl.get("count"):
        people.append(
            (
                "ADL: accounts hit · their uPnL before",
                f"{adl['accounts_hit']} · {_num(adl['unrealised_pnl_before'])} {settle}",
            )
        )
    return [
        (title, rows)
        for title, rows in (
            ("latency", latency),
            ("market under stress", stress),
            ("who paid", people),
        )
        if rows
    ]


def _leaves(value, prefix: str = ""):
    """Dotted ``(key, leaf value)`` pairs of a nested dict, in its own order."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value


def _show(value) -> str:
    if isinstance(value, bool) or value is None:
        return text(value)
    if isinstance(value, int | float | Decimal):
        return _num(value, 0 if isinstance(value, int) else None)
    if isinstance(value, list):
        return text(", ".join(str(item) for item in value))
    return text(value)


def _table(title: str, rows, headers=("field", "value")) -> list[str]:
    out = [f'<table><caption hidden="hidden">{text(title)}</caption><thead><tr>']
    out += [f"<th>{text(h)}</th>" for h in headers] + ["</tr></thead><tbody>"]
    for key, value in rows:
        out.append(f'<tr><td>{text(key)}</td><td class="num">{_show(value)}</td></tr>')
    return [*out, "</tbody></table>"]


def figure_html(stem: str, caption: str, png: bytes, wide: bool) -> str:
    """One figure: the PNG embedded, its caption naming the file beside the page."""
    css = ' class="wide"' if wide else ""
    return (
        f'<figure{css} id="fig-{text(stem)}"><img src="{embed(png)}" alt="{text(caption)}" />'
        f"<figcaption>{text(caption)} ({text(stem)}.png)</figcaption></figure>"
    )


def page(data, figures, missing: dict[str, str], perpetuals=(None, ())) -> str:
    """The whole HTML document; ``perpetuals``: the overview figure's PNG (or ``None``) and the
    other perpetuals' figures (:mod:`.report_perpetuals`)."""
    from exchange_sim.analysis.report_perpetuals import (
        others_html,
        overview_html,
        perpetual_section,
    )

    s = data.summary
    config = data.run.config
    scenario = s.get("scenario") or config.get("run", {}).get("name", "run")
    preset = config.get("venue", {}).get("preset", "none")
    seed = s.get("seed", config.get("run", {}).get("seed", "?"))
    inst = config.get("instrument", {})
    sub = (
        f"seed {seed} · venue preset {preset} · {data.duration_s:,.1f} s simulated · "
        f"{sum(data.run.counts.values()):,} log lines · {inst.get('symbol', '')} settled in "
        f"{data.settle}"
    )
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>Run report: {text(scenario)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>Run report: {text(scenario)}</h1>",
        f'<p class="sub">{text(sub)}</p>',
        '<section class="cards">',
    ]
    for label, value, note, alert in key_figures(data):
        css = "card alert" if alert else "card"
        out.append(
            f'<div class="{css}"><div class="label">{text(label)}</div>'
            f'<div class="value">{value}</div><div class="note">{note}</div></div>'
        )
    out.append("</section>")
    metrics = s.get("metrics")
    if isinstance(metrics, dict) and metrics:
        out += ['<h2>Key figures</h2><div class="tables">']
        venue = s.get("venue") if data.instrument is None else None
        for title, rows in key_tables(metrics, data.settle, data.base, venue):
            out += _table(title, rows, (title, "value"))
        out.append("</div>")
    out += perpetual_section(data)
    out += overview_html(data, perpetuals[0])
    out.append('<section class="figs">')
    skipped = []
    for stem, caption, png in figures:
        if png is None:
            skipped.append(f"{caption}: not drawn, {missing.get(stem, 'no data')}.")
            continue
        out.append(figure_html(stem, caption, png, stem in WIDE_FIGURES))
    out.append("</section>")
    out += [f'<p class="omitted">{text(line)}</p>' for line in skipped]
    out += others_html(data, perpetuals[1], missing)
    counts = sorted(data.run.counts.items(), key=lambda item: (-item[1], item[0]))
    scalars = [(k, v) for k, v in s.items() if not isinstance(v, dict)]
    out += ['<h2>Event counts and run summary</h2><div class="tables">']
    out += _table("event counts", counts, ("event type", "lines"))
    if scalars:
        out += _table("summary.json", scalars, ("summary.json", "value"))
    out.append("</div>")
    if isinstance(metrics, dict) and metrics:
        out += [
            "<details><summary>Every metric in summary.json (docs/metrics.md defines each)"
            "</summary>",
            *_table("metrics", _leaves(metrics), ("metric", "value")),
            "</details>",
        ]
    out += ["</main></body></html>", ""]
    return "\n".join(out)
