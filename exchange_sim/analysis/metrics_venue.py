"""The metrics of a venue with several perpetuals: each perpetual's own, and the whole venue's.

:class:`VenueMetrics` takes every event of such a run (:meth:`VenueMetrics.add`, in log order)
and hands it to the :class:`~exchange_sim.analysis.metrics.MetricsCollector` of its perpetual
(the line's ``instrument``; the first perpetual's, the spot markets' and the run's lines carry
none and go to the first's), each on its own grid. It also replays every account's collateral
across the perpetuals (:class:`~exchange_sim.analysis.metrics_accounts.Accounts`), because a
cross account trading several perpetuals (a group with ``accounts_of``) has one wallet that
every market's fills, fees, funding and liquidations move.

:meth:`VenueMetrics.results` gives ``(first, {symbol: metrics}, venue)``:

* each perpetual's metrics, as :func:`~exchange_sim.analysis.metrics.compute_metrics` defines
  them, except that an account whose wallet is shared with another perpetual is left out of
  that perpetual's wallet-based trader figures (``lost_money``, ``net_result``,
  ``liquidation_transfers``, ``collateral_result``, ``deposits``, ``withdrawals``; counted in
  ``shared_wallet_accounts``; ``null`` when every account of the role is such): its wallet is
  not that market's. A perpetual that shares the
  first's insurance fund has ``insurance_fund = {"shared_with": <first symbol>}``, the fund's
  figures being the first's.
* ``venue``: the sums over the perpetuals (liquidations, ADL, bad debt, each distinct insurance
  fund once) and the traders per role with each account counted once: its one wallet, its
  deposits and withdrawals in every market, its isolated buckets and open PnL in each (each
  market's at its own final mark and grid). Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal

from exchange_sim.analysis.metrics import (
    MetricsCollector,
    fund_initial_from_config,
    perpetual_scale,
    scale_from_config,
)
from exchange_sim.analysis.metrics_accounts import HOLDER_ROLES, Accounts
from exchange_sim.analysis.metrics_stats import Out
from exchange_sim.analysis.metrics_venue_vault import venue_vaults
from exchange_sim.events.reader import iter_log

_WALLET_TYPES = (
    "account_opened",
    "deposit",
    "withdrawal",
    "position",
    "funding_payment",
    "socialised_loss",
    "bad_debt",
    "liquidation_fill",
    "takeover",
    "vault",
    "liquidation_finished",
    "insurance_fund",
    "adl",
    "collateral_price",
    "collateral_deposit",
    "collateral_converted",
)
"""The event types that set or move an account's collateral (metrics_accounts' docstring; an
``adl`` names the account a later fund ``cover`` pays)."""

VENUE_TRADER_FIELDS = (
    "net_result",
    "collateral_result",
    "deposits",
    "withdrawals",
    "realised_pnl",
    "fees",
    "funding",
    "socialised_loss",
    "unrealised_pnl_end",
)
"""The money figures of a role in the venue section (minor units, then in the money unit)."""


class VenueMetrics:
    """Feeds each perpetual's metrics and the venue's account replay (module docstring)."""

    __slots__ = ("_handlers", "first", "fund_sharers", "more", "wallets")

    def __init__(
        self,
        first: MetricsCollector,
        more: dict[str, MetricsCollector],
        fund_sharers: frozenset[str] = frozenset(),
    ) -> None:
        self.first = first
        self.more = more
        self.fund_sharers = fund_sharers
        """The perpetuals whose engine draws on the first perpetual's insurance fund."""
        self.wallets = Accounts(first.scale.valuation)
        handlers = self.wallets.handlers()
        self._handlers = {kind: handlers[kind] for kind in _WALLET_TYPES}

    def add(self, event: dict) -> None:
        symbol = event.get("instrument")
        if event["type"] == "collateral_price":  # the venue's: every market values with it
            for collector in self.more.values():
                collector.add(event)
        (self.first if symbol is None else self.more[symbol]).add(event)
        handler = self._handlers.get(event["type"])
        if handler is not None:
            handler(event)

    def shared_accounts(self) -> frozenset[int]:
        """The accounts opened in more than one perpetual (one wallet backs them all)."""
        seen: set[int] = set()
        shared: set[int] = set()
        for collector in (self.first, *self.more.values()):
            roles = collector.accounts.role
            for account_id in collector.accounts.ids():
                if roles[account_id] in HOLDER_ROLES:
                    continue
                (shared if account_id in seen else seen).add(account_id)
        return frozenset(shared)

    def results(self) -> tuple[dict, dict[str, dict], dict]:
        """``(first perpetual's metrics, {symbol: metrics}, venue section)``."""
        shared = self.shared_accounts()
        first = self.first.result(shared)
        more = {symbol: collector.result(shared) for symbol, collector in self.more.items()}
        for symbol in self.fund_sharers:
            more[symbol]["insurance_fund"] = {"shared_with": self.first.market}
        return first, more, self._venue(first, more, shared)

    def _venue(self, first: dict, more: dict[str, dict], shared: frozenset[int]) -> dict:
        out = Out(self.first.scale)
        sections = [first, *more.values()]
        result: dict = {"perpetuals": [self.first.market, *more]}
        liquidations = {"count": sum(s["liquidations"]["count"] for s in sections)}
        out.money(
            liquidations, "notional", sum(s["liquidations"]["notional_minor"] for s in sections)
        )
        result["liquidations"] = liquidations
        adl = {"count": sum(s["adl"]["count"] for s in sections)}
        out.money(adl, "notional", sum(s["adl"]["notional_minor"] for s in sections))
        result["adl"] = adl
        funds = [s["insurance_fund"] for s in sections if "start_minor" in s["insurance_fund"]]
        fund: dict = {"funds": len(funds)}
        for name in ("start", "end", "change"):
            out.money(fund, name, sum(f[f"{name}_minor"] for f in funds))
        result["insurance_funds"] = fund
        bad_debt: dict = {}
        for name in ("recorded", "outstanding"):
            out.money(bad_debt, name, sum(s["bad_debt"][f"{name}_minor"] for s in sections))
        result["bad_debt"] = bad_debt
        result["vaults"] = venue_vaults(out, sections)
        roles = self._roles(out, shared)
        role = first["traders"]["role"]
        result["traders"] = {"role": role} | roles.get(role, _role_result(out, _empty()))
        result["roles"] = roles
        return result

    def _roles(self, out: Out, shared: frozenset[int]) -> dict[str, dict]:
        """Per role, every account counted once across the perpetuals (module docstring)."""
        collectors = (self.first, *self.more.values())
        totals: dict[str, dict[str, int]] = {}
        for account_id, state in self.wallets.states():
            role = state.role or "unknown"
            if role in HOLDER_ROLES:
                continue  # the funds' and vaults' figures are insurance_funds' and each market's
            iso = unrealised = 0
            for collector in collectors:
                accounts = collector.accounts
                own = accounts.state(account_id)
                if own is not None:
                    iso += own.iso
                    unrealised += own.unrealised(accounts.mark, accounts.valuation)
            held = self.wallets.collateral_result(account_id)
            net = state.wallet + iso + unrealised + held - state.deposits + state.withdrawals
            group = totals.get(role)
            if group is None:
                group = totals[role] = _empty()
            group["accounts"] += 1
            group["shared_wallet_accounts"] += account_id in shared
            group["lost_money"] += net < 0
            group["net_result"] += net
            group["collateral_result"] += held
            group["deposits"] += state.deposits
            group["withdrawals"] += state.withdrawals
            group["realised_pnl"] += state.realised
            group["fees"] += state.fees
            group["funding"] += state.funding
            group["socialised_loss"] += state.socialised
            group["unrealised_pnl_end"] += unrealised
        return {role: _role_result(out, totals[role]) for role in sorted(totals)}


def _empty() -> dict[str, int]:
    return dict.fromkeys(
        ("accounts", "shared_wallet_accounts", "lost_money", *VENUE_TRADER_FIELDS), 0
    )


def _role_result(out: Out, totals: dict[str, int]) -> dict:
    result = {
        "accounts": totals["accounts"],
        "shared_wallet_accounts": totals["shared_wallet_accounts"],
        "lost_money": totals["lost_money"],
    }
    for name in VENUE_TRADER_FIELDS:
        out.money(result, name, totals[name])
    return result


def from_run_dir(path: str) -> tuple[dict, dict[str, dict], dict]:
    """:meth:`VenueMetrics.results` of a run directory with several perpetuals, from its
    ``config.toml`` (each perpetual's grid, fund seed and whether it shares the first's fund)
    and its verified ``events.jsonl``: what the run's ``summary.json`` gives as ``metrics``,
    ``perpetuals.<symbol>.metrics`` and ``venue`` (but for the cascade, which only the run
    computes)."""
    with open(os.path.join(path, "config.toml"), "rb") as handle:
        config = tomllib.load(handle, parse_float=Decimal)
    scale = scale_from_config(config)
    first = MetricsCollector(
        scale, fund_initial_from_config(config, scale), config["instrument"].get("symbol")
    )
    more: dict[str, MetricsCollector] = {}
    sharers = set()
    for table in config.get("perpetuals", ()):
        symbol = str(table["symbol"])
        own = perpetual_scale(config, symbol, scale)
        more[symbol] = MetricsCollector(own, fund_initial_from_config(table, own), symbol)
        if table.get("shared_insurance_fund"):
            sharers.add(symbol)
    venue = VenueMetrics(first, more, frozenset(sharers))
    for event in iter_log(os.path.join(path, "events.jsonl")):
        venue.add(event)
    return venue.results()
