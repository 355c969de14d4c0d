"""The HTML report of a sweep: how each metric moves with each factor, and the runs.

:func:`write_sweep_report` writes ``SWEEP_DIR/report/report.html``, self-contained like the run
report (inline CSS, PNGs as ``data:`` URIs, no script, no link). Top: the sweep's size (points,
seeds, runs ok and failed) and its factors with their values. Then, for each factor with more
than one value: the key metrics against it (mean over seeds, 95 % confidence band; one series per
combination of the other factors), and their paired differences against the factor's first
value (the ``compare`` default). Last, a table of every run: status, seed, factors, a few metrics,
wall time, and a failed run's error. The same sweep directory gives the same bytes.
"""

from __future__ import annotations

import io
import math
import os
import tomllib

import matplotlib

from exchange_sim.analysis import sweep_plots
from exchange_sim.analysis.plots import STYLE
from exchange_sim.analysis.report_html import CSS, embed, text
from exchange_sim.analysis.sweep_data import KEY_METRICS, Sweep, load_sweep, value_label
from exchange_sim.analysis.sweep_stats import compare, fmt

TABLE_METRICS = ("bad_debt", "fund_drawdown", "adl_notional", "liquidated_notional", "liquidations")
MAX_TABLE_ROWS = 2000

EXTRA_CSS = """
.scroll { overflow-x: auto; }
.runs td { white-space: nowrap; }
.runs td.err { color: #b42318; font-size: 12px; white-space: normal; min-width: 260px; }
.runs tr.failed td { background: #fff1f0; }
.factors td:first-child { font-family: monospace; }
"""


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _name(sweep: Sweep) -> str:
    path = os.path.join(sweep.path, "sweep.toml")
    try:
        with open(path, "rb") as handle:
            return str(tomllib.load(handle)["sweep"]["name"])
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return os.path.basename(os.path.abspath(sweep.path))


def sections(sweep: Sweep) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """``(factor, caption, PNG)`` figures in page order and notes on what is not drawn."""
    catalogue, notes = sweep.available()
    metrics = [m for m in catalogue if m.name in KEY_METRICS]
    figures: list[tuple[str, str, bytes]] = []
    if not sweep.ok().any():
        return figures, ["no run finished: nothing to plot", *notes]
    shown_with: dict[str, str] = {}
    with matplotlib.rc_context(STYLE):
        for key in sweep.factors:
            if len(sweep.levels(key)) < 2:
                notes.append(f"{key} has one value: not plotted")
                continue
            if key in shown_with:
                notes.append(f"{key} is zipped with {shown_with[key]} and shown with it")
                continue
            comparison = compare(sweep, key, metrics)
            shown_with |= dict.fromkeys(comparison.tied, key)
            fig = sweep_plots.metric_figure(sweep, comparison, metrics)
            figures.append((key, f"Key metrics against {key}", _png(fig)))
            fig = sweep_plots.difference_figure(sweep, comparison, metrics)
            caption = f"Paired differences against {key} = {comparison.baseline}"
            figures.append((key, caption, _png(fig)))
    return figures, notes


def _runs_table(sweep: Sweep) -> list[str]:
    catalogue = {m.name: m for m in sweep.available()[0]}
    metrics = [catalogue[name] for name in TABLE_METRICS if name in catalogue]
    asset = sweep.settlement_asset()
    frame = sweep.frame
    heads = ["run", "status", "seed", *sweep.factors]
    heads += [f"{m.name} ({asset})" if m.unit == "money" else m.name for m in metrics]
    heads += ["wall (s)", "error"]
    out = ['<div class="scroll"><table class="runs"><thead><tr>']
    out += [f"<th>{text(h)}</th>" for h in heads]
    out.append("</tr></thead><tbody>")
    values = {m.name: m.values(frame) for m in metrics}
    failed_first = sorted(range(len(frame)), key=lambda i: frame["status"].iat[i] == "ok")
    for i in failed_first[:MAX_TABLE_ROWS]:
        status = str(frame["status"].iat[i])
        point = int(frame["point"].iat[i])
        cells = [str(frame["run_id"].iat[i]) if "run_id" in frame else str(i), status]
        cells += [str(int(frame["seed"].iat[i]))]
        cells += [value_label(sweep.points[point][key]) for key in sweep.factors]
        row = [f"<td>{text(c)}</td>" for c in cells]
        row += [f'<td class="num">{fmt(float(values[m.name][i]), m.unit)}</td>' for m in metrics]
        wall = frame["wall_s"].iat[i] if "wall_s" in frame else math.nan
        row.append(f'<td class="num">{fmt(float(wall), "")}</td>')
        error = frame["error"].iat[i] if "error" in frame else None
        row.append(f'<td class="err">{text(error) if isinstance(error, str) else ""}</td>')
        css = ' class="failed"' if status != "ok" else ""
        out.append(f"<tr{css}>{''.join(row)}</tr>")
    out.append("</tbody></table></div>")
    if len(frame) > MAX_TABLE_ROWS:
        out.append(f'<p class="omitted">first {MAX_TABLE_ROWS} of {len(frame)} runs shown</p>')
    return out


def page(sweep: Sweep) -> str:
    name = _name(sweep)
    frame = sweep.frame
    ok = int(sweep.ok().sum())
    failed = len(frame) - ok
    seeds = sorted(int(s) for s in frame["seed"].unique())
    seed_text = f"seeds {seeds[0]}..{seeds[-1]}" if seeds else "no seeds"
    sub = (
        f"{len(sweep.points)} points x {len(seeds)} seeds ({seed_text}; seed k is the same market "
        f"at every point) · {len(frame)} runs: {ok} ok, {failed} failed"
    )
    figures, notes = sections(sweep)
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        f"<title>Sweep report: {text(name)}</title><style>{CSS}{EXTRA_CSS}</style></head>",
        f"<body><main><h1>Sweep report: {text(name)}</h1>",
        f'<p class="sub">{text(sub)}</p>',
        '<section class="cards">',
    ]
    cards = [("points", str(len(sweep.points)), ""), ("seeds", str(len(seeds)), seed_text)]
    cards += [("runs ok", str(ok), ""), ("runs failed", str(failed), "listed first below")]
    for label, value, note in cards:
        alert = " alert" if label == "runs failed" and failed else ""
        out.append(
            f'<div class="card{alert}"><div class="label">{text(label)}</div>'
            f'<div class="value">{text(value)}</div><div class="note">{text(note)}</div></div>'
        )
    out += ['</section><h2>Factors</h2><table class="factors"><thead><tr>']
    out += ["<th>key</th><th>values, in the sweep's order</th></tr></thead><tbody>"]
    for key in sweep.factors:
        out.append(f"<td>{text(key)}</td><td>{text(', '.join(sweep.levels(key)))}</td></tr>")
        out[-1] = "<tr>" + out[-1]
    out.append("</tbody></table>")
    for _key, caption, png in figures:
        out.append(
            f'<figure class="wide" style="margin-top:16px"><img src="{embed(png)}" '
            f'alt="{text(caption)}" /><figcaption>{text(caption)}</figcaption></figure>'
        )
    out += [f'<p class="omitted">{text(note)}</p>' for note in notes]
    out += ["<h2>Runs</h2>", *_runs_table(sweep), "</main></body></html>"]
    return "\n".join(out) + "\n"


def write_sweep_report(sweep_dir: str) -> str:
    """Write ``SWEEP_DIR/report/report.html``; return its path."""
    sweep = load_sweep(sweep_dir)
    html = page(sweep)
    out = os.path.join(sweep_dir, "report")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "report.html")
    with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as handle:
        handle.write(html)
    os.replace(path + ".tmp", path)
    return path
