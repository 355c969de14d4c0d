"""The run metrics of a results issue, computed from a run's event log in one streaming pass.

:func:`compute_metrics` takes the events as an iterable of dicts in log order and reads each once;
it keeps per-account, per-price-level and per-liquidation state but never the events, so a log of
any length fits in memory. :func:`metrics_from_run_dir` builds the scale from the run's
``config.toml`` and streams ``events.jsonl`` line by line (verifying ``seq``, the ``run_end``
count and the digest as it goes: :func:`~exchange_sim.events.reader.iter_log`).

The result is a JSON-serialisable dict meant for ``summary.json["metrics"]``. Every quantity is
written in user units and as its exact integer (see :class:`~exchange_sim.analysis.metrics_stats.
Out`); every field is defined in ``docs/metrics.md``. All arithmetic is on integers; floats are
only the user-unit copies and ratios. The ``cascade`` key is left ``None`` for the caller to fill
with the causal cascade tree.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from exchange_sim.analysis.metrics_accounts import GROUP_FIELDS, Accounts
from exchange_sim.analysis.metrics_book import BOOK_EVENTS
from exchange_sim.analysis.metrics_liquidation import Liquidations
from exchange_sim.analysis.metrics_market import Market
from exchange_sim.analysis.metrics_stats import Out
from exchange_sim.core.units import Scale
from exchange_sim.events.reader import iter_log

METRICS_VERSION = 1
"""Bumped when a field changes meaning or is removed."""


class MetricsCollector:
    """Takes a run's events one at a time (:meth:`add`, in log order; e.g. as the run writes
    them) and gives the metrics at the end (:meth:`result`). Keeps no event.

    ``insurance_fund_initial_minor`` is the configured initial fund balance, used as the fund's
    start only when the log has no ``insurance_fund`` event (the first event states it).
    """

    __slots__ = (
        "_accounts",
        "_count",
        "_dispatch",
        "_last_ts",
        "_liquidations",
        "_log",
        "_market",
        "_observers",
        "market",
        "scale",
    )

    def __init__(
        self,
        scale: Scale,
        insurance_fund_initial_minor: int | None = None,
        market: str | None = None,
    ) -> None:
        valuation = scale.valuation
        self.scale = scale
        self.market = market
        """The perpetual's symbol: order and trade events of other markets (spot) are skipped;
        ``None`` takes every market."""
        self._accounts = Accounts(valuation)
        self._market = Market(valuation, self._accounts)
        self._liquidations = Liquidations(valuation, insurance_fund_initial_minor)
        # Accounts first: the market's handlers read the open interest the accounts keep.
        table: dict[str, list] = {}
        for collector in (self._accounts, self._market, self._liquidations):
            for kind, handler in collector.handlers().items():
                table.setdefault(kind, []).append(handler)
        self._dispatch = {kind: tuple(handlers) for kind, handlers in table.items()}
        self._count = 0
        self._last_ts: int | None = None
        self._log: Any = None
        """The event log :meth:`attach` observes (``None``: fed by :meth:`add`)."""
        self._observers: dict[str, object] = {}

    def attach(self, log) -> None:
        """Observe ``log`` as a run writes it, each handler reached only by its own event types
        (:meth:`EventLog.observe`), instead of :meth:`add` with every event. Given the
        perpetual's own :class:`~exchange_sim.matching.book.Book` (:meth:`read_book`), the
        book-depth snapshots read that book once the first trade is logged, and the order events
        stop reaching the collector; until then they are mirrored as :meth:`add` does (the
        recovery check reads the mid only while nothing has traded). Snapshots are taken at
        ``mark_price`` events, which the mark service logs from its own timer, between two engine
        calls: the engine's book then is the mirror's (``tests/unit/analysis/
        test_metrics_run.py`` holds the in-run metrics equal to :func:`metrics_from_run_dir`'s).
        The event count and the end time come from the ``run_end`` line: :meth:`result` is for
        after the log is closed."""
        self._log = log
        market = self.market
        for kind, handlers in self._dispatch.items():
            observer = self._observers[kind] = _dispatcher(handlers, market)
            log.observe(observer, (kind,))
        log.observe(self._on_run_end, ("run_end",))

    def read_book(self, book) -> None:
        """Take the depth snapshots from ``book`` (the perpetual engine's) after the first trade
        (see :meth:`attach`; only with a ``market`` set, and before that trade)."""
        if self._log is None or self.market is None:
            raise RuntimeError("read_book needs an attached collector with its market set")
        self._market.live_book = book
        self._market.release_mirror = self._release_mirror

    def _release_mirror(self) -> None:
        """The first trade: the order events no longer reach the collector."""
        for kind in BOOK_EVENTS:
            if kind != "trade":
                self._log.unobserve(self._observers.pop(kind), (kind,))

    def _on_run_end(self, event: dict) -> None:
        self._count = event["seq"] + 1
        self._last_ts = event["ts"]

    def add(self, event: dict) -> None:
        self._count += 1
        self._last_ts = event["ts"]
        handlers = self._dispatch.get(event["type"])
        if handlers is None:
            return
        market = self.market
        if market is not None and event.get("market", market) != market:
            return
        for handler in handlers:
            handler(event)

    @property
    def accounts(self) -> Accounts:
        """The replayed account state (read by :mod:`exchange_sim.analysis.metrics_venue`)."""
        return self._accounts

    def result(self, shared: frozenset[int] = frozenset()) -> dict:
        """The metrics; ``shared``: accounts whose wallet another perpetual shares, left out of
        the wallet-based trader figures (:mod:`exchange_sim.analysis.metrics_venue`)."""
        if self._log is not None and self._last_ts is None:
            raise RuntimeError("the metrics of an attached log are complete after its run_end")
        return _assemble(
            self.scale,
            self._count,
            self._last_ts,
            self._accounts,
            self._market,
            self._liquidations,
            shared,
        )


def _plain(value: Decimal) -> str:
    """A grid step as plain decimal text, without trailing zeros (``10`` whether the config wrote
    ``10`` or ``10.0``; a resolved ``config.toml`` writes TOML floats)."""
    return format(value.normalize(), "f")


def _dispatcher(handlers: tuple, market: str | None):
    """One event type's handlers behind the collector's market filter (an event naming another
    market, a spot book's, reaches none of them)."""

    def dispatch(event: dict) -> None:
        if market is not None and event.get("market", market) != market:
            return
        for handler in handlers:
            handler(event)

    return dispatch


def compute_metrics(
    events: Iterable[dict],
    scale: Scale,
    insurance_fund_initial_minor: int | None = None,
    market: str | None = None,
) -> dict:
    """The metrics of one run from its events (dicts as logged, in log order), in one pass."""
    collector = MetricsCollector(scale, insurance_fund_initial_minor, market)
    for event in events:
        collector.add(event)
    return collector.result()


def _assemble(
    scale: Scale,
    count: int,
    last_ts: int | None,
    accounts,
    market,
    liquidations,
    shared: frozenset[int] = frozenset(),
) -> dict:
    out = Out(scale)
    final_mark = market.mark.last
    result: dict = {
        "metrics_version": METRICS_VERSION,
        "scale": {
            "tick_size": _plain(scale.tick_size),
            "lot_size": _plain(scale.lot_size),
            "money_decimals": scale.money_decimals,
            "money_per_tick_lot": scale.money_per_tick_lot,
        },
        "events": count,
    }
    if scale.inverse:  # a linear run's block is unchanged (no contract keys)
        result["scale"] |= {"contract": "inverse", "inverse_k": scale.inverse_k}
    out.time(result, "end_time", last_ts)
    result["liquidations"] = liquidations.liquidations(out)
    adl = liquidations.adl_result(out)
    adl["accounts_in_profit_before"] = accounts.adl_in_profit
    adl["accounts_in_loss_before"] = accounts.adl_in_loss
    adl["accounts_without_mark"] = accounts.adl_without_mark
    out.money(adl, "unrealised_pnl_before", accounts.adl_upnl_before)
    out.money(adl, "closed_unrealised_pnl", accounts.adl_closed_upnl)
    out.money(adl, "realised_pnl", accounts.adl_realised)
    result["adl"] = adl
    fund = liquidations.fund(out)
    fund["positions_at_end"] = _holder(out, accounts, "insurance_fund", final_mark)
    result["insurance_fund"] = fund
    vault = liquidations.vault(out)
    if vault is not None:
        vault["positions_at_end"] = _holder(out, accounts, "vault", final_mark)
    result["vault"] = vault
    result["bad_debt"] = liquidations.bad_debt_result(out)
    result["prices"] = market.prices(out)
    result["open_interest"] = market.open_interest(out)
    result["book"] = market.book_result(out)
    result["recovery"] = market.recovery(out)
    result["funding"] = market.funding(out)
    result["latency"] = liquidations.latency(out)
    groups = accounts.groups(final_mark, shared)
    roles = {role: _group(out, groups[role]) for role in sorted(groups)}
    trader_role = accounts.trader_role()
    traders = _group(out, groups.get(trader_role, dict.fromkeys(GROUP_FIELDS, 0)))
    result["traders"] = {"roles_known": accounts.roles_known, "role": trader_role} | traders
    result["roles"] = roles
    out.price(result, "final_mark", final_mark)
    result["cascade"] = None
    return result


def _holder(out: Out, accounts: Accounts, holder: str, mark: int | None) -> dict:
    ids, lots, entry, pnl = accounts.holder_position(holder, mark)
    result: dict = {"accounts": ids}
    out.size(result, "position", lots)
    out.money(result, "entry_notional", entry)
    return out.money(result, "open_pnl", pnl)


WALLET_FIELDS = frozenset(
    ("lost_money", "liquidation_transfers", "collateral_result", "net_result", "deposits",
     "withdrawals")
)  # fmt: skip
"""The role figures read from the accounts' wallets: ``None`` in a market where every account
of the role shares its wallet with another perpetual (they are the venue's, ``venue.traders``)."""


def _group(out: Out, totals: dict[str, int]) -> dict:
    shared = totals.get("shared_wallet_accounts", 0)
    none = shared and shared == totals["accounts"]  # no figure of this market's own
    lost = None if none else totals["lost_money"]
    result: dict = {"accounts": totals["accounts"], "lost_money": lost}
    if shared:
        result["shared_wallet_accounts"] = shared
    out.money(result, "realised_losses", totals["losses_on_losing_fills"] + totals["fees_paid"])
    for name in GROUP_FIELDS[2:]:
        if name.endswith("_lots"):
            out.size(result, name.removesuffix("_lots"), totals[name])
        else:
            out.money(result, name, None if none and name in WALLET_FIELDS else totals[name])
    return result


# -- run directories ----------------------------------------------------------------------------
def scale_from_config(config: dict) -> Scale:
    """The instrument's :class:`Scale` from a resolved config (``config.toml`` parsed with
    ``parse_float=Decimal``; an inverse contract's when ``contract = "inverse"``)."""
    return Scale.from_instrument_table(config["instrument"], "instrument")


def perpetual_scale(config: dict, symbol: str | None, scale: Scale) -> Scale:
    """The grid of the perpetual ``symbol`` in a run's ``config.toml`` (its own ``tick_size`` /
    ``lot_size``, the instrument's where one is left out, the instrument's money unit); the
    instrument's ``scale`` for the first perpetual (``None`` or its symbol)."""
    for perpetual in config.get("perpetuals", ()):
        if perpetual.get("symbol") != symbol:
            continue
        tick, lot = perpetual.get("tick_size"), perpetual.get("lot_size")
        if tick is None and lot is None:
            return scale
        return Scale.build(
            scale.tick_size if tick is None else Decimal(str(tick)),
            scale.lot_size if lot is None else Decimal(str(lot)),
            scale.money_decimals,
            f"perpetuals[{symbol}]",
        )
    return scale


def perpetual_scales(config: dict, scale: Scale) -> dict[str, Scale]:
    """Each other perpetual with a tick or lot of its own -> its scale
    (:func:`perpetual_scale`); the others are on the instrument's ``scale``."""
    return {
        str(p["symbol"]): perpetual_scale(config, p["symbol"], scale)
        for p in config.get("perpetuals", ())
        if p.get("tick_size") is not None or p.get("lot_size") is not None
    }


def fund_initial_from_config(config: dict, scale: Scale) -> int | None:
    """``liquidation.insurance_fund.initial_balance`` in minor units, if the config has it."""
    value = config.get("liquidation", {}).get("insurance_fund", {}).get("initial_balance")
    if value is None:
        return None
    return scale.money_minor(value, "liquidation.insurance_fund.initial_balance")


def metrics_from_run_dir(path: str, symbol: str | None = None) -> dict:
    """:func:`compute_metrics` of a run directory (``config.toml`` and ``events.jsonl``) for
    one perpetual: the first (the instrument, ``symbol`` ``None``) or ``perpetuals[]``'s
    ``symbol``, each from its own lines (those tagged with its ``instrument``; the first's carry
    none) on its own grid, as the run's ``summary.json`` computes them (``metrics``, and
    ``perpetuals.<symbol>.metrics``; :func:`exchange_sim.analysis.metrics_venue.from_run_dir`
    gives all of them and the venue's). An unknown ``symbol`` raises ``KeyError``."""
    with open(os.path.join(path, "config.toml"), "rb") as handle:
        config = tomllib.load(handle, parse_float=Decimal)
    if config.get("perpetuals"):
        from exchange_sim.analysis.metrics_venue import from_run_dir

        first, more, _venue = from_run_dir(path)
        return first if symbol is None else more[symbol]
    if symbol is not None:
        raise KeyError(symbol)
    scale = scale_from_config(config)
    events = iter_log(os.path.join(path, "events.jsonl"))
    market = config.get("instrument", {}).get("symbol")
    return compute_metrics(events, scale, fund_initial_from_config(config, scale), market)
