"""Accounts, margin and funding rebuilt from the log, each result recomputed by the ledger's rules.

A ``position`` is the next fill its cause (a trade, a takeover, an ADL step) left to settle: the
ledger's own :meth:`~exchange_sim.accounts.ledger.Ledger.apply_fill` applies it to the rebuilt
account and what it would have logged (fee, realised PnL, position, entry notional, wallet,
isolated margin, liquidation and bankruptcy prices) must be what the run logged. Deposits and
withdrawals go through the ledger the same way. Margin checks, calls and liquidation hand-offs are
recomputed at the mark they name (equity, maintenance margin, position, outcome). A funding rate
is recomputed from the interval's premium samples; its positions are snapshotted from the rebuilt
ledger and every payment recomputed with :func:`~exchange_sim.funding.payments.settle_rows`.
"""

from __future__ import annotations

from exchange_sim.funding.payments import settle_rows
from exchange_sim.funding.premium import (
    Ticks,
    impact_price_ticks,
    premium_for_rule_ppb,
    price_payload,
    rule_impact_notional_minor,
)
from exchange_sim.funding.rate import funding_rate, padded_median_ppb
from exchange_sim.funding.scheduler import max_leverage_margin_rates_ppb
from exchange_sim.replay.state import Divergence, ReplayState, compare, expect

_POSITION_FIELDS = (
    "fee",
    "realised_pnl",
    "position_lots",
    "entry_notional",
    "wallet",
    "isolated_margin",
    "liquidation_price_ticks",
    "bankruptcy_price_ticks",
)
_PREMIUM_FIELDS = (
    "bid_ticks",
    "ask_ticks",
    "reference",
    "reference_ticks",
    "index_ticks",
    "premium_ppb",
)
_RATE_FIELDS = (
    "average_premium_ppb",
    "interest_ppb",
    "formula_rate_ppb",
    "uncapped_rate_ppb",
    "rate_ppb",
    "cap_ppb",
)


def on_position(st: ReplayState, ev: dict) -> None:
    seq = ev["seq"]
    if not st.fills:
        raise Divergence(seq, "type", "position", "no fill left to apply")
    account_id, side, price, lots, fee_ppb, cause = st.fills.popleft()
    expect(ev, "cause", cause)
    expect(ev, "account_id", account_id)
    expect(ev, "side", side)
    expect(ev, "price_ticks", price)
    expect(ev, "size_lots", lots)
    ledger = st.ledger
    ledger.apply_fill(ev["ts"], cause, ledger.accounts[account_id], side, price, lots, fee_ppb)
    compare(ev, st.capture.take()[0][1], _POSITION_FIELDS)


def on_deposit(st: ReplayState, ev: dict) -> None:
    st.account(ev)
    st.ledger.deposit(ev["ts"], ev["account_id"], ev["amount"], None, ev["ts_sent"], ev["purpose"])
    kind, payload = st.capture.take()[0]
    expect(ev, "type", kind)
    compare(ev, payload, ("wallet", "isolated_margin"))


def on_withdrawal(st: ReplayState, ev: dict) -> None:
    st.account(ev)
    st.ledger.withdraw(ev["ts"], ev["account_id"], ev["amount"], None, ev["ts_sent"])
    kind, payload = st.capture.take()[0]
    expect(ev, "type", kind)
    compare(ev, payload, ("wallet",))


def _equity_and_mm(st: ReplayState, ev: dict) -> tuple:
    account = st.account(ev)
    mark = ev["mark_price"]
    ledger = st.ledger
    return account, ledger.equity(account, mark), ledger.maintenance_margin(account, mark)


def on_margin_check(st: ReplayState, ev: dict) -> None:
    st.margin_checks += 1
    risk = st.config.risk
    mark = ev["trigger_mark_price"] if risk.check_price == "trigger_time" else st.mark
    expect(ev, "mark_price", mark)
    account, equity, mm = _equity_and_mm(st, ev)
    expect(ev, "equity", equity)
    expect(ev, "maintenance_margin", mm)
    past = bool(account.size_lots) and equity < mm
    outcome = ev["outcome"]
    if past:
        expect(ev, "outcome", "liquidate" if risk.forced_closures else "past_maintenance")
    elif outcome == "margin_call":
        # The equity was computed at the event's mark_price, which is ``mark`` (checked above).
        level_at = ev["mark_price"]
        if not (account.size_lots and equity < st.ledger.margin_call_level(account, level_at)):
            raise Divergence(ev["seq"], "outcome", outcome, "equity not below the call level")
    else:
        expect(ev, "outcome", "ok")
    st.last_check = (ev["seq"], account.account_id, outcome)


def on_margin_call(st: ReplayState, ev: dict) -> None:
    _, equity, mm = _equity_and_mm(st, ev)
    expect(ev, "equity", equity)
    expect(ev, "maintenance_margin", mm)


def on_liquidation_triggered(st: ReplayState, ev: dict) -> None:
    account, equity, mm = _equity_and_mm(st, ev)
    st.liquidations_triggered += 1
    if st.last_check != (ev["cause"], account.account_id, "liquidate"):
        raise Divergence(ev["seq"], "cause", ev["cause"], "the check that found it past the line")
    expect(ev, "position_lots", account.size_lots)
    expect(ev, "equity", equity)
    expect(ev, "maintenance_margin", mm)
    expect(ev, "shortfall", mm - equity)
    expect(ev, "bankruptcy_price_ticks", account.bankruptcy_price)
    st.busy.add(account.account_id)


def on_liquidation_started(st: ReplayState, ev: dict) -> None:
    expect(ev, "mark_price", st.mark)
    account, equity, mm = _equity_and_mm(st, ev)
    expect(ev, "position_lots", account.size_lots)
    expect(ev, "equity", equity)
    expect(ev, "maintenance_margin", mm)


def on_liquidation_finished(st: ReplayState, ev: dict) -> None:
    account = st.account(ev)
    expect(ev, "position_lots", account.size_lots)
    expect(ev, "wallet", account.wallet)
    expect(ev, "isolated_margin", account.isolated_margin)
    st.busy.discard(account.account_id)


def on_intervention(st: ReplayState, ev: dict) -> None:
    action = ev["action"]
    if action == "margin_rates":
        ledger = st.ledger
        ledger.set_tiers(
            ev["ts"], ledger.tiers.with_maintenance_scaled(ev["factor_ppb"]), ev["seq"]
        )
    elif action == "fund_top_up":
        st.pending_top_up = (ev["seq"], ev["amount"])


def on_stress_policy(st: ReplayState, ev: dict) -> None:
    """A dynamic-margin change installs the configured tiers times its factor."""
    if ev["action"] == "margin_scale":
        tiers = st.initial_tiers.with_maintenance_scaled(ev["factor_ppb"])
        st.ledger.set_tiers(ev["ts"], tiers, ev["seq"])


def on_premium_sample(st: ReplayState, ev: dict) -> None:
    """A sample, or with dYdX votes (``vote_interval``) a vote: each sample epoch's sample is then
    the zero-padded median of the votes since the last one (a vote at an epoch counts in it)."""
    rule = st.config.funding.rule
    _check_premium(st, ev, rule)
    if st.votes is None:
        st.funding_samples.append(ev["premium_ppb"])
        return
    _close_epochs(st, rule, ev["ts"] - 1)
    st.votes.append(ev["premium_ppb"])


def _check_premium(st: ReplayState, ev: dict, rule) -> None:
    """The premium from the rebuilt book (impact or best prices), the index and the mark."""
    book, index, mark = st.book, st.index, st.mark
    if index is None:  # the venue samples a premium only once it has an index
        raise Divergence(ev["seq"], "index_ticks", ev.get("index_ticks"), "an index price before")
    bid: Ticks | None
    ask: Ticks | None
    if rule.premium_formula == "mid":
        bid, ask = book.best_bid(), book.best_ask()
    else:
        if st.impact_notional is None:
            initial, _ = max_leverage_margin_rates_ppb(st.initial_tiers)
            st.impact_notional = rule_impact_notional_minor(rule, st.loaded.scale, initial)
        bid = impact_price_ticks(book.levels(1), st.impact_notional, st.mptl)
        ask = impact_price_ticks(book.levels(-1), st.impact_notional, st.mptl)
    premium = premium_for_rule_ppb(
        rule, bid=bid, ask=ask, index_ticks=index, mark_ticks=mark, oracle_ticks=index
    )
    recomputed = {
        "bid_ticks": price_payload(bid),
        "ask_ticks": price_payload(ask),
        "reference": rule.premium_reference,
        "reference_ticks": mark if rule.premium_reference == "mark" else index,
        "index_ticks": index,
        "premium_ppb": premium,
    }
    compare(ev, recomputed, _PREMIUM_FIELDS)


def _close_epochs(st: ReplayState, rule, until: int) -> None:
    """Make the samples of the vote epochs at or before ``until``."""
    assert st.votes is not None  # epochs are closed only under dYdX votes
    while st.next_epoch <= until:
        st.funding_samples.append(padded_median_ppb(st.votes, rule.min_votes_per_sample))
        st.votes = []
        st.next_epoch += rule.sampling


def on_funding_rate(st: ReplayState, ev: dict) -> None:
    funding = st.config.funding
    rule = funding.rule
    if st.votes is not None:
        _close_epochs(st, rule, ev["ts"])
    samples, st.funding_samples = st.funding_samples, []
    expect(ev, "sample_count", len(samples))
    initial, maintenance = max_leverage_margin_rates_ppb(st.initial_tiers)
    result = funding_rate(
        rule,
        samples or [0],
        maintenance_margin_rate_ppb=maintenance,
        initial_margin_rate_ppb=initial,
    )
    compare(ev, {field: getattr(result, field) for field in _RATE_FIELDS}, _RATE_FIELDS)
    expect(ev, "capped", int(result.capped))
    if rule.in_maintenance_margin:
        st.ledger.set_funding_maintenance(ev["ts"], result.rate_ppb, ev["seq"])
    if rule.rate_fixed_before:
        # Fixed ahead of the timestamp (OKX §6.5): positions and price are snapshotted at the
        # timestamp, where the settlement (no delay with a lead) logs its first event.
        st.funding_jobs[ev["seq"]] = [None, 0, None, result.rate_ppb, 0]
        return
    _snapshot(st, ev["seq"], result.rate_ppb)


def _snapshot(st: ReplayState, rate_seq: int, rate_ppb: int) -> None:
    """The positions and settlement price as they stand now, settled at ``rate_ppb``."""
    rule = st.config.funding.rule
    price = st.mark if rule.settlement_price == "mark" else st.index
    if price is None:
        st.funding_jobs.pop(rate_seq, None)
        return
    positions = [(a.account_id, a.size_lots) for a in st.ledger.accounts.values() if a.size_lots]
    rows, residue = settle_rows(positions, price, rate_ppb, st.mptl)
    # Paid at once, or after the rule's settlement delay (maybe after the run's end).
    st.funding_jobs[rate_seq] = [list(reversed(rows)), residue, price, rate_ppb, len(rows)]


def _job(st: ReplayState, ev: dict) -> list:
    job = st.funding_jobs.get(ev["cause"])
    if job is not None and job[0] is None:  # a rate fixed ahead: its timestamp is now
        _snapshot(st, ev["cause"], job[3])
        job = st.funding_jobs.get(ev["cause"])
    if job is None:
        raise Divergence(ev["seq"], "cause", ev["cause"], "no funding settlement pending")
    return job


def on_funding_payment(st: ReplayState, ev: dict) -> None:
    rows, _, price, rate, _ = _job(st, ev)
    if not rows:
        raise Divergence(ev["seq"], "type", "funding_payment", "no position left to pay")
    account_id, size, amount = rows.pop()
    expect(ev, "account", account_id)
    expect(ev, "size_lots", size)
    expect(ev, "price_ticks", price)
    expect(ev, "rate_ppb", rate)
    expect(ev, "amount_minor", amount)
    st.ledger.adjust_collateral(ev["ts"], account_id, amount, ev["seq"])


def on_funding_residue(st: ReplayState, ev: dict) -> None:
    job = _job(st, ev)
    rows, residue, price, rate, _ = job
    if rows:
        raise Divergence(ev["seq"], "payment_count", ev["payment_count"], "payments missing")
    expect(ev, "residue_minor", residue)
    expect(ev, "price_ticks", price)
    expect(ev, "rate_ppb", rate)
    del st.funding_jobs[ev["cause"]]
    st.funding_residue += residue
    st.funding_settlements += 1


HANDLERS = {
    "position": on_position,
    "deposit": on_deposit,
    "withdrawal": on_withdrawal,
    "margin_check": on_margin_check,
    "margin_call": on_margin_call,
    "liquidation_triggered": on_liquidation_triggered,
    "liquidation_started": on_liquidation_started,
    "liquidation_finished": on_liquidation_finished,
    "intervention": on_intervention,
    "stress_policy": on_stress_policy,
    "premium_sample": on_premium_sample,
    "funding_rate": on_funding_rate,
    "funding_payment": on_funding_payment,
    "funding_residue": on_funding_residue,
}
