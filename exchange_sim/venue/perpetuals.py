"""A venue's perpetuals beyond the first, and the cross margin that makes one account of a
trader's positions in all of them (:mod:`exchange_sim.accounts.cross_margin`).

Each additional perpetual (``perpetuals[]``) is an
:class:`~exchange_sim.venue.instrument.Instrument`
of its own (book, index, mark, ledger, risk monitor, funding, liquidation engine, fund, ADL).
A leveraged group with ``accounts_of = "<group>"`` trades another perpetual with that group's
accounts: in its ledger they are :class:`~exchange_sim.accounts.account.LinkedAccount` views
sharing the home account's wallet, and in cross mode the positions are one margin pool.

**Who hears of what** (in addition to each instrument's own wiring):

* an account change in any ledger (fill, deposit, funding payment): that instrument's risk
  monitor first, then :meth:`Perpetuals.account_changed`, which splits the account's slack again
  in every other ledger and re-indexes it in their monitors (ledger order);
* the risk monitors share which accounts are pending a check, in liquidation, left alone or
  cooling down after a margin call: an account is watched as one;
* a check that finds a cross account safe, or the end of its liquidation, re-splits it everywhere
  (:meth:`CrossMargin.refresh`);
* a check that finds it liquidatable hands it to the engine of the position the venue closes
  first (``risk.close_first``): the largest maintenance margin (default), the largest
  unrealised loss, or the market whose check found it. When that position is closed and the
  account is still under maintenance, the next check hands over the next one.
"""

from __future__ import annotations

from exchange_sim.accounts.cross_margin import CrossMargin
from exchange_sim.venue.instrument import Instrument


class Perpetuals:
    """The venue's instruments by symbol (the first included) and their cross margin."""

    __slots__ = ("all", "cross", "extra", "first", "venue")

    def __init__(self, venue, first: Instrument) -> None:
        self.venue = venue
        self.first = first
        self.extra: dict[str, Instrument] = {
            config.symbol: Instrument(venue, config.symbol, config, False)
            for config in venue.config.perpetuals
        }
        self.all: dict[str, Instrument] = {first.symbol: first, **self.extra}
        self.cross: CrossMargin | None = None
        if not self.extra:
            return
        cross = CrossMargin()
        self.cross = cross
        cross.changed = self._refreshed
        for instrument in self.all.values():
            cross.add_ledger(instrument.ledger)
            instrument.risk.cross = cross
            instrument.risk.monitor_for = self._monitor_for
            instrument.ledger.change_listeners.append(self.account_changed)
        for instrument in self.extra.values():
            instrument.risk.share_state(first.risk)

    def link(self, home_ledger, home, ledger, isolated: bool, leverage: int, owner: str, role):
        """Open ``home``'s account in ``ledger`` (another perpetual) and join the two."""
        linked = ledger.open_linked_account(home, isolated, leverage, owner, role)
        assert self.cross is not None
        if home.account_id not in self.cross.members:
            self.cross.link(home_ledger, home)
        self.cross.link(ledger, linked)
        return linked

    def build_liquidation(self) -> None:
        for instrument in self.extra.values():
            instrument.build_liquidation(self.venue)

    # -- cross margin ------------------------------------------------------------------------
    def account_changed(self, now: int, account, seq: int | None) -> None:
        """Ledger listener (after that instrument's monitor): re-split in the other ledgers."""
        cross = self.cross
        if cross is None or not cross.is_member(account):
            return
        for ledger, other in cross.members[account.account_id]:
            if other is not account:
                ledger.refresh_prices(other)
        for instrument in self.all.values():
            other = instrument.ledger.accounts.get(account.account_id)
            if other is not None and other is not account:
                instrument.risk.on_account_change(now, other, seq)

    def _refreshed(self, now: int, account_id: int, cause: int | None) -> None:
        """After :meth:`CrossMargin.refresh`: re-index the account in every monitor."""
        for instrument in self.all.values():
            account = instrument.ledger.accounts.get(account_id)
            if account is not None:
                instrument.risk.on_account_change(now, account, cause)

    def _monitor_for(self, account_id: int, cause: int):
        """The risk monitor of the position the venue closes first
        (:meth:`CrossMargin.close_first`); None: the monitor whose check found the account."""
        assert self.cross is not None
        ledger = self.cross.close_first(account_id, self.venue.config.risk.close_first)
        if ledger is None:
            return None
        return next(i.risk for i in self.all.values() if i.ledger is ledger)

    # -- running and results -----------------------------------------------------------------
    def announce(self) -> None:
        """Log the other perpetuals' accounts (right after the first's)."""
        now = self.venue.env.now
        for instrument in self.extra.values():
            instrument.ledger.announce_accounts(now)

    def start(self) -> None:
        """Start the other perpetuals' own processes (after the first's)."""
        for instrument in self.extra.values():
            instrument.start()

    def money_identity(self) -> tuple[int, int]:
        """``(held, put_in)`` summed over the other perpetuals (the first's is the venue's). A
        fund shared with the first perpetual is in the first's identity (its balance held, its
        seed and top-ups put in): taken out of each sharer's, so it counts once; so is what the
        venue paid for collateral (one set of assets for every ledger)."""
        held = put_in = 0
        shared_fund = self.first.liquidation.fund if self.first.liquidation else None
        for instrument in self.extra.values():
            assert instrument.liquidation is not None
            residue = instrument.funding.residue_balance if instrument.funding else 0
            one_held, one_in = instrument.liquidation.money_identity(residue)
            fund = instrument.liquidation.fund
            if fund is shared_fund:
                one_held -= fund.balance
                one_in -= fund.initial_balance + fund.injected
            if instrument.ledger.collateral is self.first.ledger.collateral:
                one_in -= instrument.ledger.collateral.desk_paid  # shared: the first's counts it
            held += one_held
            put_in += one_in
        return held, put_in

    def results(self) -> dict:
        """Per additional perpetual, for ``summary.json`` (none without them)."""
        if not self.extra:
            return {}
        out = {}
        assert self.first.liquidation is not None
        first_fund = self.first.liquidation.fund
        for symbol, instrument in self.extra.items():
            assert instrument.liquidation is not None
            longs, shorts = instrument.ledger.open_interest_lots()
            out[symbol] = {
                "final_index_price_ticks": instrument.index.price,
                "final_mark_price_ticks": instrument.mark.price,
                "last_trade_price_ticks": instrument.feed.last_trade_price,
                "open_interest_lots": longs,
                "open_interest_balanced": longs == shorts,
                "fees_collected_minor": instrument.ledger.fees_collected,
                "margin_checks": instrument.risk.checks,
                "insurance_fund_minor": instrument.liquidation.fund.balance,
                **(
                    {"insurance_fund_shared_with": self.first.symbol}
                    if instrument.liquidation.fund is first_fund
                    else {}
                ),
                "bad_debt_outstanding_minor": (
                    instrument.liquidation.accounting.bad_debt_outstanding
                ),
            }
        return {"perpetuals": out}
