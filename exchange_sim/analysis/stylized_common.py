"""Shared pieces of the stylized-facts modules: the fact record, the verdict over several runs
and the number formats of the headlines."""

from __future__ import annotations


def fact(measured: dict, target: str, holds: bool | None, note: str, headline: str) -> dict:
    """One fact's entry: what was measured, what the reference says, whether it holds (``None``:
    no data to say), why, and a one-line ``headline`` of the key numbers."""
    return {
        "measured": measured,
        "target": target,
        "holds": holds,
        "note": note,
        "headline": headline,
    }


def majority(values: list[bool | None]) -> tuple[bool | None, str]:
    """(holds in more than half of the runs with data, ``"holds in k of n run(s)"``); ``None``
    when no run has data."""
    known = [v for v in values if v is not None]
    if not known:
        return None, f"no data in {len(values)} run(s)"
    held = sum(known)
    return held * 2 > len(known), f"holds in {held} of {len(known)} run(s) with data"


def fmt_num(value: float | None, spec: str = ".3g") -> str:
    """A number for a headline: ``n/a`` when unknown, ``inf`` when unbounded."""
    if value is None:
        return "n/a"
    return "inf" if value == float("inf") else format(value, spec)


def fmt_pct(value: float | None) -> str:
    """A fraction as a percentage for a headline."""
    if value is None:
        return "n/a"
    return "inf" if value == float("inf") else f"{100 * value:.3g}%"


def runs_headline(rows: list[dict], key: str, render, label: str, shown=fmt_num) -> str:
    """The headline of a per-run fact: each run rendered (``render(row)``; a run without
    ``key`` shows why it has no data) for up to 3 runs, else the median of ``key`` over the
    runs with data, as ``"median <label> <value> over k of n runs"``."""
    have = [row for row in rows if row.get(key) is not None]
    if len(rows) <= 3:
        return "; ".join(render(r) if r in have else r.get("why", "n/a") for r in rows)
    if not have:
        reasons = sorted({row.get("why", "n/a") for row in rows})
        return f"no data in {len(rows)} runs: {', '.join(reasons)}"
    values = sorted(row[key] for row in have)
    middle = len(values) // 2
    median = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return f"median {label} {shown(median)} over {len(have)} of {len(rows)} runs"
