"""Metaorders and their price impact, read from a run's log (pure: events in, records out).

An execution agent logs ``metaorder`` events (``start``, each ``child``, ``end``; see
``docs/events.md``). :func:`metaorders` folds them into one :class:`Metaorder` per agent, with
the exact integers the agent logged; :func:`impact_exponent` fits the square-root-law form
``impact = Y x (filled / reference)^delta`` across several metaorders (e.g. a sweep of runs
with different sizes), a float statistic on the logged impact fractions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import attrs

from exchange_sim.core.units import RATE_SCALE


@attrs.define
class Metaorder:
    """One metaorder as its agent logged it (ticks, lots, ns; ``None`` where it did not fill or
    did not end within the run)."""

    account_id: int
    side: int
    style: str
    total_lots: int
    start_ts: int
    arrival_price_ticks: int | None
    children: int = 0
    sent_lots: int = 0
    end_ts: int | None = None
    filled_lots: int = 0
    notional_minor: int = 0
    vwap_ticks: int | None = None
    impact_ticks: int | None = None
    impact_ppb: int | None = None

    @property
    def impact_fraction(self) -> float | None:
        """The signed impact as a fraction of the arrival price (positive: against the trader)."""
        return None if self.impact_ppb is None else self.impact_ppb / RATE_SCALE


def metaorders(events: Iterable[dict]) -> list[Metaorder]:
    """Every metaorder in ``events`` (dicts of a log, in order), by start time."""
    found: dict[int, Metaorder] = {}
    for event in events:
        if event["type"] != "metaorder":
            continue
        phase, account = event["phase"], event["account_id"]
        if phase == "start":
            found[account] = Metaorder(
                account,
                event["side"],
                event["style"],
                event["total_lots"],
                event["ts"],
                event["arrival_price_ticks"],
            )
            continue
        order = found[account]
        if phase == "child":
            if event["child_lots"]:
                order.children += 1
                order.sent_lots += event["child_lots"]
        else:
            order.end_ts = event["ts"]
            order.filled_lots = event["filled_lots"]
            order.notional_minor = event["notional_minor"]
            order.vwap_ticks = event["vwap_ticks"]
            order.impact_ticks = event["impact_ticks"]
            order.impact_ppb = event["impact_ppb"]
    return sorted(found.values(), key=lambda m: (m.start_ts, m.account_id))


def impact_exponent(orders: Iterable[Metaorder]) -> tuple[float, float] | None:
    """Least-squares fit of ``ln(impact) = ln(Y) + delta x ln(filled lots)`` over the finished
    metaorders with a positive impact; ``(delta, Y)``, or ``None`` with fewer than two distinct
    sizes."""
    xs, ys = [], []
    for order in orders:
        if order.filled_lots > 0 and order.impact_ppb is not None and order.impact_ppb > 0:
            xs.append(math.log(order.filled_lots))
            ys.append(math.log(order.impact_ppb / RATE_SCALE))
    if len(set(xs)) < 2:
        return None
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    delta = sxy / sxx
    return delta, math.exp(mean_y - delta * mean_x)
