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
