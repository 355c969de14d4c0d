"""The whole venue's backstop vaults (``summary.json`` ``venue.vaults``): each perpetual's
``metrics.vault`` added up, as :mod:`~exchange_sim.analysis.metrics_venue` adds up the funds.

A perpetual has a vault of its own when its waterfall has one (none is shared across
perpetuals), so each present ``vault`` section counts once."""

from __future__ import annotations

from exchange_sim.analysis.metrics_stats import Out


def venue_vaults(out: Out, sections: list[dict]) -> dict | None:
    """``count`` (perpetuals whose vault logged events), and the sums of their ``cash_end`` and
    ``realised_pnl`` (money, minor units too); ``None`` when no perpetual's vault moved (as a
    perpetual's ``vault`` is then ``None``)."""
    vaults = [section["vault"] for section in sections if section.get("vault")]
    if not vaults:
        return None
    result: dict = {"count": len(vaults)}
    out.money(result, "cash_end", sum(vault["cash_end_minor"] for vault in vaults))
    out.money(result, "realised_pnl", sum(vault["realised_pnl_minor"] for vault in vaults))
    return result
