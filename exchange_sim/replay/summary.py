"""The final ``summary.json`` figures, recomputed from the rebuilt state at ``run_end``."""

from __future__ import annotations

from exchange_sim.replay.collateral_checks import collateral_figures
from exchange_sim.replay.state import Divergence, ReplayState


def recomputed_summary(st: ReplayState, run_end: dict) -> dict:
    """The summary figures a replay can rebuild (those it cannot, e.g. wall time, are left out)."""
    held, put_in = _money_identity(st)
    longs, shorts = st.ledger.open_interest_lots()
    book = st.book
    counts = dict(sorted(st.counts.items()))
    figures = {
        "config_sha256": st.loaded.sha256(),
        "event_count": run_end["event_count"],
        "log_lines": run_end["seq"] + 1,
        "events_by_type": counts,
        "log_digest_sha256": run_end["digest_sha256"],
        "final_index_price_ticks": st.index,
        "final_mark_price_ticks": st.mark,
        "last_trade_price_ticks": st.last_trade,
        "final_best_bid_ticks": book.best_bid(),
        "final_best_ask_ticks": book.best_ask(),
        "open_interest_lots": longs,
        "open_interest_balanced": longs == shorts,
        "money_held_minor": held,
        "money_deposited_net_minor": put_in,
        "fees_collected_minor": st.ledger.fees_collected,
        "funding_residue_minor": st.funding_residue,
        **({"value_residue_minor": st.ledger.value_residue} if st.ledger.inverse else {}),
        "funding_settlements": st.funding_settlements,
        "margin_checks": st.margin_checks,
        "liquidations_triggered": (
            st.liquidations_triggered
            if st.perpetuals is None
            else st.perpetuals.liquidations_triggered()
        ),
        "insurance_fund_minor": st.fund_balance,
        "bad_debt_outstanding_minor": st.bad_debt,
        "vault_cash_minor": st.vault_cash,
    }
    for name, spot in st.spot.items():
        (quote, quote_in), (base, base_in) = spot.identity()
        spot_book = st.books[name]
        figures[f"spot_markets.{name}"] = {
            "final_best_bid_ticks": spot_book.best_bid(),
            "final_best_ask_ticks": spot_book.best_ask(),
            "quote_held_minor": quote,
            "quote_deposited_net_minor": quote_in,
            "base_held_lots": base,
            "base_deposited_lots": base_in,
            "fees_collected_minor": spot.fees_collected,
        }
    if st.perpetuals is not None:
        for symbol, figure in st.perpetuals.figures().items():
            figures[f"perpetuals.{symbol}"] = figure
    if st.collateral is not None:
        section, paid = collateral_figures(st)
        for asset, figure in section.items():
            figures[f"collateral.{asset}"] = figure
        figures["collateral_paid_by_venue_minor"] = paid
    return figures


def check_summary(st: ReplayState, run_end: dict, summary: dict | None) -> None:
    """Raise :class:`Divergence` (at ``run_end``'s seq, field ``summary.<key>``) at the first
    figure of ``summary`` that differs from its recomputation; the money identity must hold."""
    seq = run_end["seq"]
    held, put_in = _money_identity(st)
    if held != put_in:
        raise Divergence(seq, "money_held_minor", put_in, held)
    if summary is None:
        return
    for key, value in recomputed_summary(st, run_end).items():
        if "." in key:  # a spot market's, a perpetual's or a collateral asset's figures
            section, name = key.split(".", 1)
            recorded_market = summary.get(section, {}).get(name, {})
            for field, figure in value.items():
                if recorded_market.get(field) != figure:
                    raise Divergence(
                        seq, f"summary.{key}.{field}", recorded_market.get(field), figure
                    )
            continue
        if summary.get(key) != value:
            raise Divergence(seq, f"summary.{key}", summary.get(key), value)


def _money_identity(st: ReplayState) -> tuple[int, int]:
    """The venue's ``(held, put_in)``: with several perpetuals, the sum over them."""
    return st.money_identity() if st.perpetuals is None else st.perpetuals.money_identity()
