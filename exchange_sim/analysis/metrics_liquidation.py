"""Liquidation-side metrics in one pass: liquidations, ADL, insurance fund, vault, bad debt and
the latencies of the liquidation pipeline.

State is bounded by the accounts (open liquidations, distinct accounts hit) and by one integer
per margin check / liquidation (latency samples); no event is kept. Definitions:
``docs/metrics.md``.

Notionals (:mod:`exchange_sim.analysis.valuation`): a liquidation at its trigger, a takeover and
an ADL close are valued as the position they move (the deleveraged one's for an ADL), a
liquidation fill as the fill of its order's side; for a linear contract all are ``price x lots x
m``, for an inverse one ``lots x k / price`` rounded as the ledger rounds (a long's UP, a
short's DOWN).
"""

from __future__ import annotations

from exchange_sim.analysis.metrics_stats import Out, PeakRate, Samples
from exchange_sim.analysis.valuation import fill_notional, position_notional
from exchange_sim.core.contract import InverseContract

UNWIND_PURPOSES = ("fund_unwind", "vault_unwind")
"""``liquidation_order`` / ``liquidation_fill`` purposes of a holder's own orders (not a
liquidated account's)."""
UNFINISHED = "unfinished"
"""Outcome key of liquidations triggered but not finished when the log ends."""


def _bucket() -> list[int]:
    return [0, 0, 0]  # count, lots, notional (minor)


class Liquidations:
    """Counters of the liquidation pipeline (money minor units, lots, ns)."""

    def __init__(self, valuation, fund_initial: int | None) -> None:
        self.valuation = valuation
        """``Scale.valuation``: money per tick-lot, or an inverse contract."""
        self.order_sides: dict[int, int] | None = (
            None if not isinstance(valuation, InverseContract) else {}
        )
        """Liquidation order id -> side (an inverse fill's value depends on it; linear: None)."""
        self.triggered = 0
        self.sides = {"longs": _bucket(), "shorts": _bucket()}
        self.accounts: set[int] = set()
        self.open: dict[int, int] = {}  # account -> trigger notional of its open liquidation
        self.outcomes: dict[str, list[int]] = {}  # outcome -> [count, notional]
        self.book_close = _bucket()
        self.unwinds = {purpose: _bucket() for purpose in UNWIND_PURPOSES}
        self.takeovers: dict[str, list[int]] = {}
        self.adl = _bucket()
        self.adl_accounts: set[int] = set()
        self.adl_counterparties: set[int] = set()
        self.per_second = PeakRate()
        self.check_delay = Samples()
        self.first_order_delay = Samples()
        self.queue_wait = Samples()
        self.backlog = Samples()
        self.awaiting_order: dict[int, int] = {}  # account -> trigger ts
        self.fund_config_initial = fund_initial
        self.fund_start: int | None = None
        self.fund_events = 0
        self.fund_balance: int | None = None
        self.fund_min: int | None = None
        self.fund_min_ts: int | None = None
        self.fund_shortfall = 0
        self.fund_reasons: dict[str, list[int]] = {}
        self.vault_events = 0
        self.vault_actions: dict[str, int] = {}
        self.vault_capital: int | None = None
        self.vault_cash: int | None = None
        self.vault_cash_min: int | None = None
        self.vault_cash_min_ts: int | None = None
        self.vault_realised: int | None = None
        self.vault_unrealised_logged: int | None = None
        self.bad_debt = [0, 0]  # events, amount
        self.bad_debt_accounts: set[int] = set()
        self.bad_debt_covered = [0, 0]
        self.bad_debt_outstanding = 0
        self.socialised = [0, 0]
        self.socialised_accounts: set[int] = set()

    def handlers(self) -> dict:
        return {
            "margin_check": self.on_margin_check,
            "liquidation_triggered": self.on_triggered,
            "liquidation_started": self.on_started,
            "liquidation_order": self.on_order,
            "liquidation_fill": self.on_fill,
            "takeover": self.on_takeover,
            "adl": self.on_adl,
            "liquidation_finished": self.on_finished,
            "insurance_fund": self.on_insurance_fund,
            "vault": self.on_vault,
            "bad_debt": self.on_bad_debt,
            "bad_debt_covered": self.on_bad_debt_covered,
            "socialised_loss": self.on_socialised_loss,
        }

    # -- pipeline -------------------------------------------------------------------------------
    def on_margin_check(self, e: dict) -> None:
        self.check_delay.add(e["ts"] - e["trigger_ts"])

    def on_triggered(self, e: dict) -> None:
        account, lots = e["account_id"], e["position_lots"]
        notional = position_notional(self.valuation, lots, e["mark_price"])
        self.triggered += 1
        side = self.sides["longs" if lots > 0 else "shorts"]
        side[0] += 1
        side[1] += abs(lots)
        side[2] += notional
        self.accounts.add(account)
        self.open[account] = notional
        self.awaiting_order.setdefault(account, e["ts"])
        self.per_second.mark(e["ts"])

    def on_started(self, e: dict) -> None:
        self.queue_wait.add(e["queue_wait_ns"])
        self.backlog.add(e["backlog"])

    def on_order(self, e: dict) -> None:
        if self.order_sides is not None:
            self.order_sides[e["order_id"]] = e["side"]
        if e["purpose"] in UNWIND_PURPOSES:
            return
        triggered_at = self.awaiting_order.pop(e["account_id"], None)
        if triggered_at is not None:
            self.first_order_delay.add(e["ts"] - triggered_at)

    def on_fill(self, e: dict) -> None:
        bucket = self.unwinds.get(e["purpose"], self.book_close)
        lots = e["size_lots"]
        bucket[0] += 1
        bucket[1] += lots
        side = 1 if self.order_sides is None else self._fill_side(e)
        bucket[2] += fill_notional(self.valuation, side, lots, e["price_ticks"])

    def _fill_side(self, e: dict) -> int:
        """An inverse liquidation fill's side: its order's (a fill whose order is not in the log
        closes the position it leaves, or a long when it leaves none)."""
        side = self.order_sides.get(e["order_id"]) if self.order_sides is not None else None
        if side is None:
            side = 1 if e["position_lots"] < 0 else -1
        return side

    def on_takeover(self, e: dict) -> None:
        bucket = self.takeovers.setdefault(e["holder"], _bucket())
        lots = abs(e["position_lots"])
        bucket[0] += 1
        bucket[1] += lots
        bucket[2] += position_notional(self.valuation, e["position_lots"], e["price_ticks"])

    def on_adl(self, e: dict) -> None:
        self.adl[0] += 1
        self.adl[1] += e["size"]
        # The deleveraged position's lots closed (its sign: a log without it is linear's).
        size = e["size"] if e.get("position_lots", 0) >= 0 else -e["size"]
        self.adl[2] += position_notional(self.valuation, size, e["price"])
        self.adl_accounts.add(e["account"])
        self.adl_counterparties.add(e["counterparty"])

    def on_finished(self, e: dict) -> None:
        account = e["account_id"]
        notional = self.open.pop(account, 0)
        bucket = self.outcomes.setdefault(e["outcome"], [0, 0])
        bucket[0] += 1
        bucket[1] += notional
        self.awaiting_order.pop(account, None)

    # -- fund, vault, bad debt ---------------------------------------------------------------
    def on_insurance_fund(self, e: dict) -> None:
        balance, delta = e["balance"], e["delta"]
        if self.fund_events == 0:
            self.fund_start = self.fund_min = balance - delta
            self.fund_min_ts = 0
        self.fund_events += 1
        self.fund_balance = balance
        if balance < self.fund_min:
            self.fund_min, self.fund_min_ts = balance, e["ts"]
        self.fund_shortfall += e["shortfall"]
        reason = self.fund_reasons.setdefault(e["reason"], [0, 0])
        reason[0] += 1
        reason[1] += delta

    def on_vault(self, e: dict) -> None:
        self.vault_events += 1
        action = e["action"]
        self.vault_actions[action] = self.vault_actions.get(action, 0) + 1
        cash = e["cash"]
        if self.vault_capital is None:
            self.vault_capital = cash - e["realised_pnl"]
            self.vault_cash_min, self.vault_cash_min_ts = self.vault_capital, 0
        self.vault_cash = cash
        if cash < self.vault_cash_min:
            self.vault_cash_min, self.vault_cash_min_ts = cash, e["ts"]
        self.vault_realised = e["realised_pnl"]
        self.vault_unrealised_logged = e["unrealised_pnl"]

    def on_bad_debt(self, e: dict) -> None:
        self.bad_debt[0] += 1
        self.bad_debt[1] += e["amount"]
        self.bad_debt_accounts.add(e["account"])
        self.bad_debt_outstanding = e["outstanding"]

    def on_bad_debt_covered(self, e: dict) -> None:
        self.bad_debt_covered[0] += 1
        self.bad_debt_covered[1] += e["amount"]
        self.bad_debt_outstanding = e["outstanding"]

    def on_socialised_loss(self, e: dict) -> None:
        self.socialised[0] += 1
        self.socialised[1] += e["amount"]
        self.socialised_accounts.add(e["account"])

    # -- results --------------------------------------------------------------------------------
    def _flow(self, out: Out, bucket: list[int], count_name: str = "count") -> dict:
        result: dict = {count_name: bucket[0]}
        out.size(result, "size", bucket[1])
        return out.money(result, "notional", bucket[2])

    def liquidations(self, out: Out) -> dict:
        longs, shorts = self.sides["longs"], self.sides["shorts"]
        result: dict = {"count": self.triggered, "accounts": len(self.accounts)}
        out.money(result, "notional", longs[2] + shorts[2])
        result["longs"] = self._flow(out, longs)
        result["shorts"] = self._flow(out, shorts)
        outcomes = dict(self.outcomes)
        if self.open:
            outcomes[UNFINISHED] = [len(self.open), sum(self.open.values())]
        result["by_outcome"] = {
            name: out.money({"count": outcomes[name][0]}, "notional", outcomes[name][1])
            for name in sorted(outcomes)
        }
        result["closed_through_book"] = self._flow(out, self.book_close, "fills")
        taken: dict = {}
        total = _bucket()
        for holder in sorted(self.takeovers):
            bucket = self.takeovers[holder]
            taken[holder] = self._flow(out, bucket)
            total = [a + b for a, b in zip(total, bucket, strict=True)]
        result["taken_over"] = self._flow(out, total) | {"by_holder": taken}
        result["deleveraged"] = self._flow(out, self.adl)
        result["unwound_by_holders"] = {
            purpose: self._flow(out, self.unwinds[purpose], "fills") for purpose in UNWIND_PURPOSES
        }
        result["peak_per_second"] = self.per_second.result(out)
        return result

    def adl_result(self, out: Out) -> dict:
        result = self._flow(out, self.adl)
        result["accounts_hit"] = len(self.adl_accounts)
        result["counterparties"] = len(self.adl_counterparties)
        return result

    def fund(self, out: Out) -> dict:
        start = self.fund_start
        source = "event" if start is not None else None
        if start is None and self.fund_config_initial is not None:
            start, source = self.fund_config_initial, "config"
        end = self.fund_balance if self.fund_events else start
        minimum = self.fund_min if self.fund_events else start
        min_ts = self.fund_min_ts if self.fund_events else (None if start is None else 0)
        result: dict = {"start_source": source, "events": self.fund_events}
        out.money(result, "start", start)
        out.money(result, "end", end)
        out.money(result, "change", None if start is None or end is None else end - start)
        out.money(result, "min", minimum)
        out.time(result, "min_time", min_ts)
        out.money(result, "shortfall", self.fund_shortfall)
        result["by_reason"] = {
            reason: out.money({"count": count}, "amount", amount)
            for reason, (count, amount) in sorted(self.fund_reasons.items())
        }
        return result

    def vault(self, out: Out) -> dict | None:
        if not self.vault_events:
            return None
        result: dict = {
            "events": self.vault_events,
            "by_action": dict(sorted(self.vault_actions.items())),
        }
        out.money(result, "capital", self.vault_capital)
        out.money(result, "cash_end", self.vault_cash)
        out.money(result, "cash_min", self.vault_cash_min)
        out.time(result, "cash_min_time", self.vault_cash_min_ts)
        out.money(result, "realised_pnl", self.vault_realised)
        out.money(result, "unrealised_pnl_logged", self.vault_unrealised_logged)
        return result

    def bad_debt_result(self, out: Out) -> dict:
        result: dict = {"events": self.bad_debt[0], "accounts": len(self.bad_debt_accounts)}
        out.money(result, "recorded", self.bad_debt[1])
        out.money(result, "covered", self.bad_debt_covered[1])
        out.money(result, "outstanding", self.bad_debt_outstanding)
        social: dict = {"charges": self.socialised[0], "accounts": len(self.socialised_accounts)}
        result["socialised"] = out.money(social, "charged", self.socialised[1])
        return result

    def latency(self, out: Out) -> dict:
        return {
            "margin_check_delay": self.check_delay.result(out, "time"),
            "trigger_to_first_order": self.first_order_delay.result(out, "time"),
            "queue_wait": self.queue_wait.result(out, "time"),
            "backlog": self.backlog.result(out, "count"),
        }
