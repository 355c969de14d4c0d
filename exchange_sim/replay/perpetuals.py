"""Replay of a run with several perpetuals (``perpetuals[]``): one rebuilt state per perpetual,
every event routed to its perpetual by ``instrument``, and the venue's cross margin rebuilt.

Each perpetual has its own :class:`~exchange_sim.replay.state.ReplayState` (book, ledger, fund,
vault, funding, ADL ranker, rules from its own sections); the first perpetual's is the replay's
main state (its events carry no ``instrument``, exactly as in a single-perpetual log). What the
venue shares across perpetuals is shared here the same way:

* **accounts** of a leveraged group with ``accounts_of`` are
  :class:`~exchange_sim.accounts.account.LinkedAccount` views of the home account, opened in
  the ledger of the group it names (:mod:`exchange_sim.runner.population`), and joined by the
  ledger's own pure :class:`~exchange_sim.accounts.cross_margin.CrossMargin`, so equity and MM
  of a cross account are over all its positions, exactly as the run computed them;
* **re-splits**: a change of such an account in one ledger re-splits it in the others
  (:meth:`~exchange_sim.venue.perpetuals.Perpetuals.account_changed`), and a check that finds
  it safe or the end of its liquidation re-splits it everywhere (:meth:`CrossMargin.refresh`),
  so the trigger and bankruptcy prices logged later are those the run had;
* **the venue's counters**: trade ids are one sequence; the check that found an account past
  maintenance may be in another perpetual than the liquidation it starts (the position closed
  first, ``risk.close_first``), which is recomputed;
* **money**: the venue-wide identity is the sum over perpetuals (a linked wallet counted once,
  in its home ledger: :meth:`~exchange_sim.accounts.valuation.Valuation.money_in_accounts`);
* **a shared insurance fund** (``perpetuals[].shared_insurance_fund``): the first perpetual's
  fund, whose ``insurance_fund`` events carry no ``instrument`` whichever engine moved it. Such
  an event is handed to the perpetual of the event it names as ``cause`` (a fund movement is
  emitted in the same call as its cause, so at the same time), which recomputes it from its own
  pending fill, takeover or account; the sharers then hold the one balance it leaves, and the
  venue-wide identity counts that fund once, in the first perpetual's
  (:meth:`exchange_sim.venue.perpetuals.Perpetuals.money_identity`).
"""

from __future__ import annotations

from exchange_sim.accounts.account import Account
from exchange_sim.accounts.cross_margin import CrossMargin
from exchange_sim.replay.state import Divergence, ReplayState

SAFE_OUTCOMES = ("ok", "margin_call")


class Linking:
    """Opens a group's accounts in another perpetual's ledger as the venue did
    (:meth:`~exchange_sim.venue.perpetuals.Perpetuals.link`), in log order. The log announces
    the ledgers one after the other, so a linked account may be announced before its home
    account (a home group trading a later perpetual): it is then opened at once, in its place
    in its ledger, on a stand-in home (nothing moves money before every account is announced)
    and joined to the home account when that is announced."""

    __slots__ = ("cross", "waiting")

    def __init__(self, cross: CrossMargin) -> None:
        self.cross = cross
        self.waiting: dict[int, list] = {}

    def open(self, home_ledger, ledger, account_id: int, isolated, leverage, owner, role):
        home = home_ledger.accounts.get(account_id)
        stand_in = home is None
        linked = ledger.open_linked_account(
            Account(account_id) if stand_in else home, isolated, leverage, owner, role
        )
        if stand_in:
            self.waiting.setdefault(account_id, []).append((ledger, linked))
        else:
            self._join(home_ledger, home, ledger, linked)
        return linked

    def opened(self, ledger, account) -> None:
        """``account`` was opened in ``ledger``: join the linked accounts that wait for it."""
        for other_ledger, linked in self.waiting.pop(account.account_id, ()):
            object.__setattr__(linked, "home", account)
            self._join(ledger, account, other_ledger, linked)

    def _join(self, home_ledger, home, ledger, linked) -> None:
        if home.account_id not in self.cross.members:
            self.cross.link(home_ledger, home)
        self.cross.link(ledger, linked)


class Perpetuals:
    """The replay's states by symbol (the first included) and their cross margin."""

    __slots__ = (
        "all",
        "checked",
        "close_first",
        "cross",
        "extra",
        "first",
        "home_of",
        "linking",
        "perpetual_at",
        "sharing",
        "trades",
        "ts",
    )

    def __init__(self, first: ReplayState) -> None:
        config = first.loaded.config
        self.first = first
        self.extra: dict[str, ReplayState] = {
            p.symbol: ReplayState(first.loaded, p) for p in config.perpetuals
        }
        self.all: dict[str, ReplayState] = {first.symbol: first, **self.extra}
        self.cross = cross = CrossMargin()
        self.linking = Linking(cross)
        self.close_first = config.risk.close_first
        self.trades = 0
        self.checked = first.symbol
        """The perpetual of the last margin check."""
        for state in self.all.values():
            cross.add_ledger(state.ledger)
            state.ledger.change_listeners.append(self._account_changed)
        markets = {p.name: getattr(p, "market", "") or first.symbol for p in config.participants}
        self.home_of: dict[str, str] = {
            p.name: markets[p.accounts_of]
            for p in config.participants
            if getattr(p, "accounts_of", "")
        }
        """A group trading another group's accounts -> the symbol of the home accounts' ledger."""
        self.sharing: tuple[ReplayState, ...] = tuple(
            self.extra[p.symbol] for p in config.perpetuals if p.shared_insurance_fund
        )
        """The perpetuals drawing on the first perpetual's insurance fund (it counts in its)."""
        for state in self.sharing:
            state.fund_initial = state.fund_balance = first.fund_initial
        if first.collateral is not None:  # one set of collateral assets for every ledger
            for state in self.extra.values():
                state.ledger.collateral = first.ledger.collateral
                state.collateral = first.collateral
        self.ts = 0
        self.perpetual_at: dict[int, str] = {}
        """With a shared fund: the perpetual of each event at time ``ts`` (by seq)."""

    def state_of(self, event: dict) -> ReplayState:
        symbol = event.get("instrument")
        if symbol is None:
            return self.first
        state = self.extra.get(symbol)
        if state is None:
            raise Divergence(event["seq"], "instrument", symbol, "one of perpetuals[]")
        return state

    # -- routing -----------------------------------------------------------------------------
    def dispatch(self, handler, event: dict) -> None:
        """Hand ``event`` to its perpetual's state; keep what the venue shares."""
        kind = event["type"]
        if self.sharing:
            st = self._fund_user(event) if kind == "insurance_fund" else self.state_of(event)
            if event["ts"] != self.ts:
                self.ts = event["ts"]
                self.perpetual_at.clear()
            self.perpetual_at[event["seq"]] = st.symbol
        else:
            st = self.state_of(event)
        if kind == "insurance_fund" and self.sharing:
            handler(st, event)
            self._share_fund(st)
        elif kind == "trade":
            st.trades = self.trades
            handler(st, event)
            self.trades = st.trades
        elif kind == "account_opened":
            self._open(st, handler, event)
        elif kind == "liquidation_triggered":
            self._check_close_first(st, event)
            handler(st, event)
        else:
            handler(st, event)
        if kind == "margin_check":
            self.checked = st.symbol
            for other in self.all.values():
                other.last_check = st.last_check
            if event["outcome"] in SAFE_OUTCOMES:
                self._refresh(st, event)
        elif kind == "liquidation_finished":
            self._refresh(st, event)

    def _fund_user(self, ev: dict) -> ReplayState:
        """The perpetual whose engine moved the shared fund: that of the event's ``cause`` (at
        the same time), the first's when the cause is not a sharer's (a top-up)."""
        if "instrument" in ev:
            return self.state_of(ev)
        symbol = self.perpetual_at.get(ev["cause"], self.first.symbol)
        st = self.all[symbol]
        return st if st in self.sharing else self.first

    def _share_fund(self, st: ReplayState) -> None:
        """After a movement of the shared fund by ``st``: every sharer holds its balance."""
        if st is not self.first and st not in self.sharing:
            return
        for other in (self.first, *self.sharing):
            other.fund_balance = st.fund_balance
            other.fund_injected = st.fund_injected

    def _open(self, st: ReplayState, handler, ev: dict) -> None:
        """An account of a group trading another group's accounts is that account seen from
        this ledger (its own position, the home account's wallet); any other is opened as in
        a single-perpetual log."""
        home = self.home_of.get(ev["participant"])
        if home is None:
            handler(st, ev)
            self.linking.opened(st.ledger, st.ledger.accounts[ev["account_id"]])
            return
        home_state = self.all[home]
        if home_state is st or ev["account_id"] in st.ledger.accounts:
            raise Divergence(ev["seq"], "account_id", ev["account_id"], "a new linked account")
        self.linking.open(
            home_state.ledger,
            st.ledger,
            ev["account_id"],
            ev["isolated"],
            ev["leverage"],
            ev["participant"],
            ev["role"],
        )

    def _account_changed(self, now: int, account, seq: int | None) -> None:
        """Ledger listener: re-split a cross account in the other ledgers."""
        cross = self.cross
        if not cross.is_member(account):
            return
        for ledger, other in cross.members[account.account_id]:
            if other is not account:
                ledger.refresh_prices(other)

    def _refresh(self, st: ReplayState, ev: dict) -> None:
        account = st.ledger.accounts.get(ev["account_id"])
        if account is not None and self.cross.is_member(account):
            self.cross.refresh(ev["ts"], account.account_id, ev["seq"])

    def _check_close_first(self, st: ReplayState, ev: dict) -> None:
        """A cross account found past maintenance is handed to the perpetual whose position the
        venue closes first (``risk.close_first``; :meth:`CrossMargin.close_first`): the largest
        maintenance margin, the largest unrealised loss, or the market whose check found it."""
        account_id = ev["account_id"]
        checked = self.all[self.checked].ledger.accounts.get(account_id)
        expected = self.checked
        if checked is not None and self.cross.is_member(checked):
            ledger = self.cross.close_first(account_id, self.close_first)
            if ledger is not None:
                expected = next(s for s, o in self.all.items() if o.ledger is ledger)
        if expected != st.symbol:
            raise Divergence(ev["seq"], "instrument", ev.get("instrument"), expected)

    # -- at the end ----------------------------------------------------------------------------
    def check_end(self, ev: dict) -> None:
        """Every linked account was joined to its home account."""
        for account_id in self.linking.waiting:
            raise Divergence(ev["seq"], "account_opened", "missing", f"home of {account_id}")

    def money_identity(self) -> tuple[int, int]:
        """``(held, put_in)`` over the venue: the sum over perpetuals, a shared fund counted once
        (in the first perpetual's; its balance, seed and top-ups taken out of each sharer's)."""
        held = put_in = 0
        for state in self.all.values():
            one_held, one_in = state.money_identity()
            if state in self.sharing:
                one_held -= state.fund_balance
                one_in -= state.fund_initial + state.fund_injected
            if state is not self.first and state.ledger.collateral is self.first.ledger.collateral:
                one_in -= state.ledger.collateral.desk_paid  # one set of assets: counted once
            held += one_held
            put_in += one_in
        return held, put_in

    def liquidations_triggered(self) -> int:
        return sum(state.liquidations_triggered for state in self.all.values())

    def figures(self) -> dict[str, dict]:
        """``summary.json``'s ``perpetuals`` section, per additional perpetual."""
        out = {}
        for symbol, st in self.extra.items():
            longs, shorts = st.ledger.open_interest_lots()
            out[symbol] = {
                "final_index_price_ticks": st.index,
                "final_mark_price_ticks": st.mark,
                "last_trade_price_ticks": st.last_trade,
                "open_interest_lots": longs,
                "open_interest_balanced": longs == shorts,
                "fees_collected_minor": st.ledger.fees_collected,
                "margin_checks": st.margin_checks,
                "insurance_fund_minor": st.fund_balance,
                "bad_debt_outstanding_minor": st.bad_debt,
            }
            if st in self.sharing:
                out[symbol]["insurance_fund_shared_with"] = self.first.symbol
        return out
