"""The invariant checker: what must hold of a venue whatever the config, checked as it runs.

``run.check`` (``--check`` on the command line) chooses when:

* ``end`` (the default): once, after the last event;
* ``every-event``: after every simulation step that wrote at least one event (a step is one
  kernel event: everything it sets off synchronously happens before the check, so a trade's two
  ledger updates are never seen half done), and each event's ``cause`` as it is written;
* ``off``: never (the run still refuses to finish when money is not conserved).

The invariants, each named in a violation:

``money``            every minor unit held equals what was put in (the perpetual's identity of
                     :mod:`exchange_sim.liquidation.accounting`, quote and base of each spot
                     market, and each collateral asset's units);
``open_interest``    long open interest equals short, in lots;
``book_uncrossed``   on every book the best bid is below the best ask;
``order_lots``       every resting order has ``0 < remaining <= size`` lots, each price level's
                     total is the sum of its orders' remainders, and the book's order index holds
                     exactly the orders on its levels;
``negative_balance`` no flat account outside the liquidation pipeline has negative collateral
                     (a bankrupt account's deficit is credited back when its bad debt is
                     recorded, so a negative balance is bad debt nobody recorded); a wallet
                     below zero that a collateral asset's haircut value covers is not negative;
``cause``            every ``cause`` is ``null`` or the ``seq`` of an earlier event;
``risk_limit``       no position's entry notional is above the margin tiers' largest bracket.

A violation raises :class:`InvariantViolation` naming the invariant and the last ``seq``
written; the run then fails, keeping its log up to there. The checker reads state only: a run
with checks writes the same log as one without.
"""

from __future__ import annotations

import time

from exchange_sim.core.errors import SimulationError

CHECK_MODES = ("end", "every-event", "off")


class InvariantViolation(SimulationError):
    """An invariant broke: a bug in the simulator, never bad input."""

    def __init__(self, invariant: str, seq: int, detail: str) -> None:
        self.invariant = invariant
        self.seq = seq
        super().__init__(f"invariant {invariant} broken at seq {seq}: {detail}")


class InvariantChecker:
    """Checks one venue's invariants (:meth:`check_state`) and each event's cause
    (:meth:`check_cause`, a log observer); counts the checks and the wall time they take."""

    __slots__ = ("checks", "mode", "seconds", "venue")

    def __init__(self, venue, mode: str) -> None:
        if mode not in CHECK_MODES:
            raise ValueError(f"unknown check mode {mode!r}")
        self.venue = venue
        self.mode = mode
        self.checks = 0
        self.seconds = 0.0  # wall time spent checking (display only: never in the log)

    def check_cause(self, event: dict) -> None:
        cause = event["cause"]
        if cause is not None and (type(cause) is not int or not 0 <= cause < event["seq"]):
            raise InvariantViolation(
                "cause", event["seq"], f"cause {cause!r} is not null or an earlier seq"
            )

    def check_state(self) -> None:
        """Every state invariant, now; raises :class:`InvariantViolation` at the first broken."""
        start = time.perf_counter()
        venue = self.venue
        seq = venue.log.seq - 1
        held, put_in = venue.money_identity()
        if held != put_in:
            raise InvariantViolation("money", seq, f"held {held}, put in {put_in} (minor units)")
        for name, spot in venue.spot_markets.items():
            for asset, (spot_held, spot_in) in zip(
                ("quote", "base"), spot.ledger.identity(), strict=True
            ):
                if spot_held != spot_in:
                    raise InvariantViolation(
                        "money", seq, f"{asset} on {name}: held {spot_held}, put in {spot_in}"
                    )
        for asset, (units_held, units_in) in venue.collateral_identity().items():
            if units_held != units_in:
                raise InvariantViolation(
                    "money", seq, f"collateral {asset}: held {units_held}, deposited {units_in}"
                )
        for symbol, instrument in venue.perpetuals.all.items():
            longs, shorts = instrument.ledger.open_interest_lots()
            if longs != shorts:
                where = "" if instrument is venue.instrument else f" on {symbol}"
                raise InvariantViolation(
                    "open_interest", seq, f"long {longs} lots, short {shorts} lots{where}"
                )
            _check_book(instrument.book, seq, symbol)
        for name, spot in venue.spot_markets.items():
            _check_book(spot.engine.book, seq, name)
        for instrument in venue.perpetuals.all.values():
            self._check_accounts(seq, instrument)
        self.checks += 1
        self.seconds += time.perf_counter() - start

    def _check_accounts(self, seq: int, instrument) -> None:
        ledger = instrument.ledger
        cross = ledger.cross
        busy = set(instrument.liquidation.accounting.busy)
        if cross is not None:  # an account in liquidation in any market is in the pipeline
            for other in self.venue.perpetuals.all.values():
                busy.update(other.liquidation.accounting.busy)
        cap = getattr(ledger.tiers, "max_notional", None)
        for account in ledger.accounts.values():
            if account.size_lots == 0:
                negative = account.wallet < 0 or account.isolated_margin < 0
                if negative and account.holder.holdings:  # a wallet the collateral backs
                    negative = ledger.equity(account, 1) < 0 or (account.isolated_margin < 0)
                if negative and cross is not None and cross.holds_any(account.account_id):
                    negative = account.isolated_margin < 0  # its wallet backs a position elsewhere
                if negative and account.account_id not in busy:
                    raise InvariantViolation(
                        "negative_balance",
                        seq,
                        f"flat account {account.account_id} holds wallet {account.wallet}, "
                        f"isolated margin {account.isolated_margin} with no bad debt recorded",
                    )
            elif cap is not None and account.entry_notional > cap:
                raise InvariantViolation(
                    "risk_limit",
                    seq,
                    f"account {account.account_id}: entry notional {account.entry_notional} "
                    f"above the largest bracket's cap {cap} (minor units)",
                )

    def summary(self) -> dict:
        """For ``summary.json``: the mode, the number of state checks, their wall time."""
        seconds = round(self.seconds, 6)
        rate = round(self.checks / self.seconds, 1) if self.seconds > 0 else None
        return {"mode": self.mode, "checks": self.checks, "seconds": seconds, "per_second": rate}


def _check_book(book, seq: int, market: str) -> None:
    bid, ask = book.best_bid(), book.best_ask()
    if bid is not None and ask is not None and bid >= ask:
        raise InvariantViolation("book_uncrossed", seq, f"{market}: best bid {bid} >= ask {ask}")
    on_levels = 0
    for levels in (book.bids, book.asks):
        for price, level in levels.items():
            total = 0
            for order in level:
                remaining = order.remaining_lots
                if not 0 < remaining <= order.size_lots:
                    raise InvariantViolation(
                        "order_lots",
                        seq,
                        f"{market}: order {order.order_id} rests {remaining} of "
                        f"{order.size_lots} lots",
                    )
                if book.orders.get(order.order_id) is not order:
                    raise InvariantViolation(
                        "order_lots", seq, f"{market}: order {order.order_id} not in the index"
                    )
                total += remaining
                on_levels += 1
            if total != level.total_lots:
                raise InvariantViolation(
                    "order_lots",
                    seq,
                    f"{market}: level {price} totals {level.total_lots} lots, its orders {total}",
                )
    if on_levels != len(book.orders):
        raise InvariantViolation(
            "order_lots",
            seq,
            f"{market}: {len(book.orders)} orders indexed, {on_levels} on the levels",
        )
