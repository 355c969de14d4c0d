"""A hand-written event log for the metrics tests, checked against the event schema.

Every test of ``exchange_sim.analysis.metrics`` builds a small log with :class:`Script`: each helper
appends one event with exactly the fields the simulator logs (``emit`` validates it against
``exchange_sim.runner.event_catalog``), so a renamed field breaks these tests rather than passing
them.

The scale is chosen so that unit conversions are visible and the arithmetic stays easy:
tick 0.5, lot 0.1, 2 money decimals, so ``m = money_per_tick_lot = 0.5 x 0.1 x 100 = 5`` minor
units. 100 ticks = 50.0 quote units, 10 lots = 1.0 base unit, 5000 minor = 50.00 money.
"""

from __future__ import annotations

from decimal import Decimal

from exchange_sim.analysis.metrics import compute_metrics
from exchange_sim.core.units import NS_PER_MS, NS_PER_S, Scale
from exchange_sim.runner.event_catalog import event_types, validate_record

SCALE = Scale.build(Decimal("0.5"), Decimal("0.1"), 2, "instrument")
M = 5
S = NS_PER_S
MS = NS_PER_MS
REGISTRY = event_types()
MARKET = "BTCUSDT"
"""The perpetual's symbol in these scripted logs."""


class Script:
    """A log being written by hand; ``events`` are dicts as ``events.jsonl`` holds them."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, ts: int, kind: str, cause: int | None = None, **fields) -> int:
        seq = len(self.events)
        event = {"seq": seq, "ts": ts, "type": kind, "cause": cause, **fields}
        problem = validate_record(event, REGISTRY)
        assert problem is None, problem
        self.events.append(event)
        return seq

    def metrics(self, **kwargs) -> dict:
        """The metrics of this log, fed as a generator (one pass, nothing to index)."""
        return compute_metrics((event for event in self.events), SCALE, **kwargs)

    # -- prices and orders -------------------------------------------------------------------
    def index(self, ts: int, price: int) -> int:
        return self.emit(ts, "index_price", price=price, ts_source=ts)

    def mark(self, ts: int, price: int, index: int | None = None) -> int:
        return self.emit(ts, "mark_price", price=price, index_price=index or price)

    def order(self, ts, order_id, account, side, price, size, tif="GTC", tag="") -> int:
        return self.emit(
            ts,
            "order_accepted",
            market=MARKET,
            order_id=order_id,
            account_id=account,
            side=side,
            price_ticks=price,
            size_lots=size,
            tif=tif,
            post_only=False,
            reduce_only=False,
            tag=tag,
            ts_sent=ts,
        )

    def trade(self, ts, maker_order, taker_order, maker, taker, price, size, side, cause=None):
        return self.emit(
            ts,
            "trade",
            cause,
            market=MARKET,
            trade_id=len(self.events),
            maker_order_id=maker_order,
            taker_order_id=taker_order,
            maker_account_id=maker,
            taker_account_id=taker,
            price_ticks=price,
            size_lots=size,
            aggressor_side=side,
            maker_tag="",
            taker_tag="",
        )

    def cancel(self, ts, order_id, account, side, price, remaining, kind="order_cancelled"):
        reason = "user" if kind == "order_cancelled" else "ioc_remainder"
        return self.emit(
            ts,
            kind,
            market=MARKET,
            order_id=order_id,
            account_id=account,
            side=side,
            price_ticks=price,
            remaining_lots=remaining,
            reason=reason,
        )

    def amend(self, ts, order_id, account, side, old, new, kept) -> int:
        """``old`` and ``new`` are ``(price, size, remaining)``."""
        return self.emit(
            ts,
            "order_amended",
            market=MARKET,
            order_id=order_id,
            account_id=account,
            side=side,
            old_price_ticks=old[0],
            old_size_lots=old[1],
            price_ticks=new[0],
            size_lots=new[1],
            remaining_lots=new[2],
            priority_kept=kept,
        )

    # -- accounts ----------------------------------------------------------------------------
    def opened(self, account: int, role: str, isolated: bool = False) -> int:
        return self.emit(
            0,
            "account_opened",
            account_id=account,
            participant=role,
            role=role,
            isolated=isolated,
            leverage=10,
        )

    def deposit(self, ts: int, account: int, amount: int, wallet: int, iso: int = 0) -> int:
        return self.emit(
            ts,
            "deposit",
            account_id=account,
            amount=amount,
            purpose="deposit",
            ts_sent=ts,
            wallet=wallet,
            isolated_margin=iso,
        )

    def position(self, ts, account, side, price, size, *, position, entry, wallet, **kw) -> int:
        """One fill; ``realised``, ``fee``, ``iso`` and ``cause`` default to 0 / None."""
        return self.emit(
            ts,
            "position",
            kw.get("cause"),
            account_id=account,
            side=side,
            price_ticks=price,
            size_lots=size,
            fee=kw.get("fee", 0),
            realised_pnl=kw.get("realised", 0),
            position_lots=position,
            entry_notional=entry,
            wallet=wallet,
            isolated_margin=kw.get("iso", 0),
            liquidation_price_ticks=None,
            bankruptcy_price_ticks=None,
        )

    def funding_rate(self, ts: int, rate: int, capped: int = 0) -> int:
        return self.emit(
            ts,
            "funding_rate",
            interval_start_ts=ts - S,
            interval_end_ts=ts,
            sample_count=1,
            average_premium_ppb=rate,
            interest_ppb=0,
            formula_rate_ppb=rate,
            uncapped_rate_ppb=rate,
            rate_ppb=rate,
            cap_ppb=None,
            capped=capped,
        )

    def funding_payment(self, ts, account, size, price, rate, amount) -> int:
        return self.emit(
            ts,
            "funding_payment",
            account=account,
            size_lots=size,
            price_ticks=price,
            rate_ppb=rate,
            amount_minor=amount,
        )

    def funding_residue(self, ts, residue, count, rate, price) -> int:
        return self.emit(
            ts,
            "funding_residue",
            ledger="funding_residue",
            residue_minor=residue,
            payment_count=count,
            rate_ppb=rate,
            price_ticks=price,
        )

    # -- the liquidation pipeline --------------------------------------------------------------
    def margin_check(self, ts: int, account: int, trigger_ts: int, mark: int) -> int:
        return self.emit(
            ts,
            "margin_check",
            account_id=account,
            mark_price=mark,
            trigger_mark_price=mark,
            trigger_ts=trigger_ts,
            equity=0,
            maintenance_margin=1,
            outcome="liquidate",
        )

    def trigger(self, ts: int, account: int, position: int, mark: int) -> int:
        return self.emit(
            ts,
            "liquidation_triggered",
            account_id=account,
            mark_price=mark,
            position_lots=position,
            equity=0,
            maintenance_margin=1,
            shortfall=1,
            bankruptcy_price_ticks=None,
        )

    def started(self, ts: int, account: int, wait: int, backlog: int) -> int:
        return self.emit(
            ts,
            "liquidation_started",
            account_id=account,
            policy="binance",
            queue_wait_ns=wait,
            backlog=backlog,
            mark_price=100,
            position_lots=1,
            equity=0,
            maintenance_margin=1,
        )

    def liq_order(self, ts, account, order_id, purpose, side=-1, price=None, size=1) -> int:
        return self.emit(
            ts,
            "liquidation_order",
            account_id=account,
            order_id=order_id,
            purpose=purpose,
            side=side,
            price_ticks=price,
            size_lots=size,
            tif="IOC",
            attempt=1,
            mark_price=100,
            bankruptcy_price_ticks=None,
        )

    def liq_fill(self, ts, account, purpose, price, size, fund_delta=0, position=0) -> int:
        return self.emit(
            ts,
            "liquidation_fill",
            account_id=account,
            order_id=0,
            purpose=purpose,
            price_ticks=price,
            size_lots=size,
            bankruptcy_price_ticks=None,
            fund_delta=fund_delta,
            position_lots=position,
        )

    def takeover(self, ts, account, holder, holder_account, position, price, collateral=0):
        return self.emit(
            ts,
            "takeover",
            account_id=account,
            holder=holder,
            holder_account_id=holder_account,
            position_lots=position,
            price_ticks=price,
            mark_price=price,
            collateral=collateral,
        )

    def vault(self, ts, action, account, size, price, position, cash, realised, unrealised):
        return self.emit(
            ts,
            "vault",
            action=action,
            account_id=account,
            size_lots=size,
            price_ticks=price,
            position_lots=position,
            cash=cash,
            realised_pnl=realised,
            unrealised_pnl=unrealised,
        )

    def finished(self, ts, account, outcome, wallet=0, iso=0, position=0, cause=None) -> int:
        return self.emit(
            ts,
            "liquidation_finished",
            cause,
            account_id=account,
            outcome=outcome,
            position_lots=position,
            wallet=wallet,
            isolated_margin=iso,
            duration_ns=0,
            orders=1,
        )

    def fund(self, ts, delta, balance, reason, shortfall=0, cause=None, account=None) -> int:
        return self.emit(
            ts,
            "insurance_fund",
            cause,
            fund="insurance_fund",
            delta=delta,
            balance=balance,
            reason=reason,
            shortfall=shortfall,
            account_id=account,
        )

    def adl(
        self,
        ts,
        account,
        counterparty,
        size,
        price,
        cause=None,
        position=0,
        entry=0,
        mark=None,
        upnl=0,
        equity=0,
    ) -> int:
        """``position``, ``entry``, ``mark``, ``upnl`` and ``equity``: the deleveraged position as
        it was ranked (``mark`` defaults to ``price``)."""
        return self.emit(
            ts,
            "adl",
            cause,
            account=account,
            counterparty=counterparty,
            size=size,
            price=price,
            rank=1,
            score="1/1",
            position_lots=position,
            entry_notional=entry,
            mark_price=price if mark is None else mark,
            unrealised_pnl=upnl,
            equity=equity,
        )

    def bad_debt(self, ts, account, amount, outstanding) -> int:
        return self.emit(ts, "bad_debt", account=account, amount=amount, outstanding=outstanding)

    def covered(self, ts, amount, outstanding) -> int:
        return self.emit(
            ts, "bad_debt_covered", amount=amount, outstanding=outstanding, stage="socialise"
        )

    def socialised(self, ts, account, amount) -> int:
        return self.emit(
            ts, "socialised_loss", account=account, amount=amount, rate_num=1, rate_den=1
        )


def test_scripted_events_carry_exactly_the_schema_fields():
    """Every helper writes an event the schema accepts (emit asserts it), so the metrics tests
    use the real field names; a log of all of them gives a complete, JSON-ready result."""
    script = Script()
    script.opened(1, "leveraged")
    script.index(S, 100)
    script.mark(S, 100)
    script.order(S, 1, 1, 1, 99, 10)
    script.trade(S, 1, 2, 1, 2, 99, 1, -1)
    script.cancel(S, 1, 1, 1, 99, 9)
    script.deposit(S, 1, 10, 10)
    script.position(S, 1, 1, 99, 1, position=1, entry=495, wallet=10)
    script.funding_rate(S, 10)
    script.funding_payment(S, 1, 1, 100, 10, 0)
    script.funding_residue(S, 0, 1, 10, 100)
    script.margin_check(S, 1, S, 100)
    script.trigger(S, 1, 1, 100)
    script.started(S, 1, 0, 0)
    script.liq_order(S, 1, 3, "reduce")
    script.liq_fill(S, 1, "reduce", 99, 1)
    script.takeover(S, 1, "insurance_fund", 9, 1, 99)
    script.vault(S, "settle", 8, 0, None, 0, 10, 0, 0)
    script.finished(S, 1, "closed")
    script.fund(S, 1, 11, "liquidation_fee")
    script.adl(S, 1, 2, 1, 99)
    script.bad_debt(S, 1, 1, 1)
    script.covered(S, 1, 0)
    script.socialised(S, 2, 1)
    result = script.metrics()
    assert result["events"] == len(script.events)
    assert result["cascade"] is None
