"""The recorded inputs of a run, read back from its log in order (streaming, bounded memory).

A venue's inputs are what reached it from outside: participants' **commands** at their arrival
time (new orders, cancels, cancel-alls, amends, deposits, withdrawals, on the perpetual and on
each spot market; the log holds each with its arrival ``ts``, its ``ts_sent`` where the venue keeps
one, and what the engine needs to handle it again) and participants' own **decisions** logged as
events (``maker_state``, ``metaorder``, trader and hunter decisions, margin-call responses),
which a re-drive writes again as they were. The venue's own orders (liquidation orders and
holders' unwinds: each follows a ``liquidation_order``) are outputs, never inputs; their ids are
queued so a faithful re-drive issues the same ones. So are the scripted orders and transfers of
the collateral books' accounts (role ``collateral_book``): the venue issues them again from its
config; :func:`collateral_order_ids` reads their recorded ids. Exogenous prices (the index
path, news, the fundamental value) are not read here: they come from the config and its seed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import orjson

from exchange_sim.events.roots import PARTICIPANT_STATE_TYPES, TRADER_DECISION_TYPES
from exchange_sim.replay.stream import LogReader
from exchange_sim.venue.messages import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Deposit,
    SubmitOrder,
    Withdraw,
)

DECISION_TYPES = frozenset(
    (*PARTICIPANT_STATE_TYPES, *TRADER_DECISION_TYPES, "margin_call_response")
)
HEADER_TYPES = ("run_start", "account_opened", "spot_account_opened")
COLLATERAL_BOOK = "collateral_book"
"""The role of a collateral book's scripted accounts (:mod:`exchange_sim.venue.collateral`)."""
COLLATERAL_REJECTIONS = ("collateral_needs_cross_margin",)
MATCH, AGENT = "match", "agent"


class RedriveError(Exception):
    """The log cannot be re-driven (damaged, or it lacks what a command needs)."""


class Input:
    """One recorded input: a command for ``market`` (``""``: the perpetual) from ``account_id``
    arriving at ``ts`` (sent at ``ts_sent``), or a decision ``event`` to write again."""

    __slots__ = ("account_id", "cause", "command", "event", "market", "phase", "ts", "ts_sent")

    def __init__(
        self, ts, phase, market="", account_id=0, command=None, cause=None, ts_sent=0, event=None
    ) -> None:
        self.ts = ts
        self.phase = phase
        self.market = market
        self.account_id = account_id
        self.command = command
        self.cause = cause
        self.ts_sent = ts_sent
        self.event = event


class RecordedInputs:
    """Streams ``path``: :meth:`header` first (the run's accounts), then :meth:`next` input by
    input. ``desk_order_ids`` fills with the venue's own order ids as they are passed."""

    def __init__(
        self,
        path: str,
        symbol: str,
        spot_markets: bool = False,
        collateral_assets: tuple[str, ...] = (),
    ) -> None:
        self.path = path
        self._events = self._iterate(LogReader(path))
        self.symbol = symbol
        self.spot_markets = spot_markets
        """Whether the venue has spot markets (a rejected transfer then names no market)."""
        self.desk_order_ids: deque[int] = deque()
        self._venue_orders: set[int] = set()
        """Ids of the venue's own orders (one per liquidation order: a few per liquidation)."""
        self._ahead: dict | None = None
        self.max_order_id = 0
        self.collateral_assets = collateral_assets
        """The accepted collateral assets (a rejected collateral deposit does not name its own)."""
        self.venue_spot_accounts: set[tuple[str, int]] = set()
        """``(market, account)`` of the collateral books' scripted accounts (from the header)."""

    @staticmethod
    def _iterate(reader: LogReader) -> Iterator[dict]:
        for events in reader.chunks():
            yield from events

    def _read(self) -> dict | None:
        ahead = self._ahead
        if ahead is not None:
            self._ahead = None
            return ahead
        event = next(self._events, None)
        if event is not None and type(event) is not dict:
            raise RedriveError(str(event))
        return event

    def header(self) -> tuple[dict, list[dict], list[dict]]:
        """``run_start``, the ``account_opened`` and the ``spot_account_opened`` events."""
        start = self._read()
        if start is None or start.get("type") != "run_start":
            raise RedriveError("the log does not start with run_start")
        accounts: list[dict] = []
        spot_accounts: list[dict] = []
        while (event := self._read()) is not None and event["type"] in HEADER_TYPES[1:]:
            (accounts if event["type"] == "account_opened" else spot_accounts).append(event)
        self._ahead = event
        self.venue_spot_accounts = {
            (e["market"], e["account_id"]) for e in spot_accounts if e["role"] == COLLATERAL_BOOK
        }
        return start, accounts, spot_accounts

    def next(self) -> Input | None:
        """The next input in log order, or ``None`` at the end of the log."""
        while (event := self._read()) is not None:
            try:
                found = self._input(event)
            except KeyError as exc:
                raise RedriveError(
                    f"seq {event.get('seq')}: a {event.get('type')} lacks {exc.args[0]!r} "
                    "(a log of an older version?)"
                ) from None
            if found is not None:
                return found
        return None

    def _input(self, ev: dict) -> Input | None:
        kind = ev["type"]
        if kind == "liquidation_order":
            self.desk_order_ids.append(ev["order_id"])
            self._venue_orders.add(ev["order_id"])
            return None
        if kind in DECISION_TYPES:
            return Input(ev["ts"], AGENT, event=ev)
        command, sent = self._command(ev, kind)
        if command is None:
            return None
        market = ev.get("market") or ev.get("instrument") or ""
        if market and (market, ev["account_id"]) in self.venue_spot_accounts:
            return None  # the venue's collateral book issues it again
        return Input(
            ev["ts"],
            MATCH,
            "" if market == self.symbol else market,
            ev["account_id"],
            command,
            ev["cause"],
            ev["ts"] if sent is None else sent,
        )

    def _command(self, ev: dict, kind: str):
        """The command that produced ``ev`` and when it was sent (``None``: not an input)."""
        if kind in ("order_accepted", "order_rejected"):
            order_id = ev["order_id"]
            self.max_order_id = max(self.max_order_id, order_id)
            if order_id in self._venue_orders:
                return None, None
            command = SubmitOrder(
                order_id,
                ev["side"],
                ev["price_ticks"],
                ev["size_lots"],
                ev["tif"],
                ev["post_only"],
                ev["reduce_only"],
                ev["tag"],
            )
            return command, ev["ts_sent"]
        if kind == "order_cancelled":
            reason = ev["reason"]
            if reason == "user":
                if ev["order_id"] in self._venue_orders:  # the desk withdrawing its own order
                    return None, None
                return CancelOrder(ev["order_id"]), None
            if reason == "cancel_all":
                self._skip_rest_of_cancel_all(ev)
                return CancelAll(), None
            return None, None
        if kind == "cancel_rejected":
            return CancelOrder(ev["order_id"]), None
        if kind in ("order_amended", "amend_rejected"):
            return AmendOrder(ev["order_id"], ev["price_ticks"], ev["size_lots"]), None
        if kind == "deposit":
            return Deposit(ev["amount"], ev["purpose"]), ev["ts_sent"]
        if kind == "withdrawal":
            return Withdraw(ev["amount"]), ev["ts_sent"]
        if kind == "collateral_deposit":
            return Deposit(ev["units"], ev["purpose"], ev["asset"]), ev["ts_sent"]
        if kind == "spot_deposit":
            asset = "base" if ev["asset"] == "base" else ""
            return Deposit(ev["amount"], "deposit", asset), ev["ts_sent"]
        if kind == "spot_withdrawal":
            return Withdraw(ev["amount"]), ev["ts_sent"]
        if kind in ("deposit_rejected", "withdrawal_rejected"):
            if self.spot_markets:
                raise RedriveError(
                    f"seq {ev['seq']}: a {kind} does not say which market it was sent to"
                )
            if kind == "withdrawal_rejected":
                return Withdraw(ev["amount"]), None
            if ev["reason"] in COLLATERAL_REJECTIONS:
                return Deposit(ev["amount"], "deposit", self._rejected_asset(ev)), None
            asset = "base" if ev["reason"] == "asset_not_accepted" else ""
            return Deposit(ev["amount"], "deposit", asset), None
        return None, None

    def _rejected_asset(self, ev: dict) -> str:
        """The asset of a rejected collateral deposit: the one accepted asset (with several, the
        log does not say which)."""
        if len(self.collateral_assets) != 1:
            raise RedriveError(
                f"seq {ev['seq']}: a deposit_rejected ({ev['reason']}) does not say which "
                "collateral asset was sent"
            )
        return self.collateral_assets[0]

    def _skip_rest_of_cancel_all(self, first: dict) -> None:
        """One cancel-all command logs one ``order_cancelled`` per order, back to back."""
        key = (first["ts"], first["account_id"], first["cause"], first["market"])
        while (event := self._read()) is not None:
            if (
                event["type"] != "order_cancelled"
                or event["reason"] != "cancel_all"
                or (event["ts"], event["account_id"], event["cause"], event["market"]) != key
            ):
                self._ahead = event
                return


def collateral_order_ids(path: str, markets: tuple[str, ...]) -> dict[str, deque[int]]:
    """Per collateral book, the ids of its scripted accounts' orders in log order (one pass over
    the log, parsing only the lines that name a book: a few per run). A faithful re-drive issues
    them again: the book's orders draw from the venue's order counter, which participants' orders
    also advanced in the run."""
    wanted = {market: deque() for market in markets}  # type: dict[str, deque[int]]
    if not markets:
        return wanted
    names = [b'"market":"' + market.encode() + b'"' for market in markets]
    scripted: set[tuple[str, int]] = set()
    with open(path, "rb") as handle:
        for line in handle:
            if not any(name in line for name in names):
                continue
            try:
                ev = orjson.loads(line)
            except orjson.JSONDecodeError:
                break  # a damaged log: the re-drive reports it when it reaches the line
            kind = ev["type"]
            if kind == "spot_account_opened" and ev["role"] == COLLATERAL_BOOK:
                scripted.add((ev["market"], ev["account_id"]))
            elif kind in ("order_accepted", "order_rejected") and (
                (ev["market"], ev["account_id"]) in scripted
            ):
                wanted[ev["market"]].append(ev["order_id"])
    return wanted
