"""The liquidation waterfall rebuilt from the log: fills, fund, vault, takeovers, ADL, bad debt.

Each movement is recomputed from the rebuilt accounts with the venue's rules and parameters:

* ``liquidation_order``: the account's bankruptcy price and the mark;
* ``liquidation_fill``: its ``fund_delta`` by the fee mode its purpose has under the configured
  policy (liquidation fee capped at the remaining equity, the surplus or shortfall against the
  bankruptcy price, dYdX's capped fee), the fund paying no more than it holds;
* ``insurance_fund``: the balance, and the delta by its reason (the fill's ``fund_delta``, a
  takeover's collateral, a flat account's cover or leftover, the fund account's swept result,
  an intervention's top-up); the account named pays it (or receives it);
* ``takeover``: the transfer price (bankruptcy price, or the vault's rule), the position and the
  collateral left; its two fee-free fills are then expected as ``position`` events;
* ``vault``: its account's wallet swept into cash, cash, realised and unrealised PnL;
* ``adl``: the whole queue is recomputed with :class:`~exchange_sim.liquidation.adl.AdlRanker`
  from the rebuilt accounts (eligible: opposite side, not in liquidation, not the venue's) and
  each event must be the next allocation (account, lots, price, rank, score, the position as
  ranked);
* ``bad_debt``: the flat account's remaining negative balance, and the outstanding total; with a
  ``socialise`` stage the clawback is recomputed (every ``socialised_loss`` charge and rate, the
  round-up residue to the fund, the amount covered).
"""

from __future__ import annotations

from collections import deque

from exchange_sim.liquidation import planners
from exchange_sim.liquidation.adl_cap import allocate_capped_ranked
from exchange_sim.liquidation.adl_ratios import candidate_of
from exchange_sim.liquidation.insurance_fund import liquidation_fill_delta
from exchange_sim.liquidation.policies import FEE_BANKRUPT, FEE_DYDX, FEE_LIQUIDATION, FEE_NONE
from exchange_sim.liquidation.socialised_loss import clawback
from exchange_sim.replay.state import Divergence, ReplayState, expect

HOLDER_PURPOSES = ("fund_unwind", "vault_unwind")


def fee_mode(purpose: str, policy: str) -> str:
    """The fee mode of a liquidation order's fills (:mod:`exchange_sim.liquidation.policies`)."""
    if purpose in ("reduce", "tier_reduce"):
        return FEE_LIQUIDATION
    if purpose == "takeover_limit":
        return FEE_BANKRUPT
    if purpose in ("slice", "close") and policy == "dydx":
        return FEE_DYDX
    return FEE_NONE


def on_liquidation_order(st: ReplayState, ev: dict) -> None:
    account = st.account(ev)
    purpose = ev["purpose"]
    expect(ev, "mark_price", st.mark)
    expect(ev, "side", -1 if account.size_lots > 0 else 1)
    if ev["tif"] not in ("GTC", "IOC", "FOK"):
        raise Divergence(ev["seq"], "tif", ev["tif"], "GTC, IOC or FOK")
    bankrupt = None if purpose in HOLDER_PURPOSES else account.bankruptcy_price
    expect(ev, "bankruptcy_price_ticks", bankrupt)
    st.liquidation_orders[ev["order_id"]] = (account.account_id, purpose, bankrupt, -ev["side"])


def _backs_other_positions(st: ReplayState, account) -> bool:
    """``LiquidationAccounting.backs_other_positions`` on the replayed ledgers: a cross
    account's one wallet still backs its position in another perpetual."""
    cross = st.ledger.cross
    return (
        cross is not None
        and cross.is_member(account)
        and cross.holds_elsewhere(account.account_id, st.ledger)
    )


def on_liquidation_fill(st: ReplayState, ev: dict) -> None:
    record = st.liquidation_orders.get(ev["order_id"])
    if record is None:
        raise Divergence(ev["seq"], "order_id", ev["order_id"], "not a liquidation order")
    account_id, purpose, bankrupt, side = record
    expect(ev, "account_id", account_id)
    expect(ev, "purpose", purpose)
    expect(ev, "bankruptcy_price_ticks", bankrupt)
    account = st.ledger.accounts[account_id]
    expect(ev, "position_lots", account.size_lots)
    price, lots, mptl, mark = ev["price_ticks"], ev["size_lots"], st.mptl, st.mark or 0
    mode = fee_mode(purpose, st.policy)
    to_fund = from_fund = 0
    config = st.config.liquidation
    if mode == FEE_LIQUIDATION:
        fee = planners.fee_amount(price, lots, mptl, config.liquidation_fee)
        open_somewhere = account.size_lots or _backs_other_positions(st, account)
        room = st.ledger.equity(account, mark) if open_somewhere else account.collateral
        to_fund = min(fee, max(room, 0))
    elif mode == FEE_BANKRUPT and bankrupt is not None:
        delta = liquidation_fill_delta(side, price, bankrupt, lots, mptl, 0)
        to_fund, from_fund = (delta, 0) if delta > 0 else (0, min(-delta, st.fund_balance))
    elif mode == FEE_DYDX and bankrupt is not None:
        fee, owed = planners.dydx_fill_split(
            side, price, bankrupt, lots, mptl, config.policy.max_fee
        )
        to_fund, from_fund = fee, min(owed, st.fund_balance)
    expect(ev, "fund_delta", to_fund - from_fund)
    shortfall = 0
    if mode == FEE_BANKRUPT and bankrupt is not None and to_fund == 0:
        shortfall = (
            max(0, -liquidation_fill_delta(side, price, bankrupt, lots, mptl, 0)) - from_fund
        )
    st.pending_fill = (ev["seq"], to_fund - from_fund, shortfall)


def _negative(account) -> int:
    return max(0, -account.wallet) + max(0, -account.isolated_margin)


def _fund_delta(st: ReplayState, ev: dict, account) -> tuple[int, int]:
    """The delta and shortfall the event's reason calls for, from the rebuilt state."""
    reason, cause, balance = ev["reason"], ev["cause"], st.fund_balance
    if reason in ("liquidation_fee", "liquidation_fill") and st.pending_fill is not None:
        fill_seq, delta, shortfall = st.pending_fill
        if fill_seq == cause:
            return delta, shortfall
    if reason == "collateral" and account is not None:
        takeover = st.pending_takeover
        if takeover is not None and takeover[0] == cause and takeover[3] is not None:
            # The takeover's residue, once; a second deposit with the same cause is the
            # bankrupt account's leftover (an isolated account's released margin, below).
            st.pending_takeover = (*takeover[:3], None, *takeover[4:])
            return takeover[3], 0
        return (account.wallet if not account.isolated else ev["delta"]), 0
    if reason in ("cover", "takeover_loss") and account is not None:
        owed = _negative(account)
        paid = min(owed, balance)
        return -paid, owed - paid
    if reason == "takeover_pnl" and account is not None:
        return account.wallet, 0
    if reason == "top_up" and st.pending_top_up is not None and st.pending_top_up[0] == cause:
        return st.pending_top_up[1], 0
    raise Divergence(ev["seq"], "reason", reason, "no fund movement due here")


def on_insurance_fund(st: ReplayState, ev: dict) -> None:
    account_id = ev["account_id"]
    account = None if account_id is None else st.account(ev)
    if ev["reason"] == "clawback_residue":
        plan = st.clawback
        if plan is None or plan[0]:
            raise Divergence(ev["seq"], "reason", "clawback_residue", "no clawback just ended")
        delta, shortfall = plan[1], 0
    else:
        delta, shortfall = _fund_delta(st, ev, account)
    expect(ev, "delta", delta)
    expect(ev, "shortfall", shortfall)
    st.fund_balance += delta
    expect(ev, "balance", st.fund_balance)
    if ev["reason"] == "top_up":
        st.fund_injected += delta
    if account is not None:
        if delta > 0:
            st.ledger.adjust_collateral(ev["ts"], account_id, -delta, ev["seq"])
        else:
            st.credit(ev, account, -delta)


def on_takeover(st: ReplayState, ev: dict) -> None:
    account = st.account(ev)
    mark = st.mark
    expect(ev, "mark_price", mark)
    assert mark is not None  # a takeover follows a margin check, made at a known mark
    size = account.size_lots
    expect(ev, "position_lots", size)
    side = 1 if size > 0 else -1
    holder = ev["holder"]
    bankrupt = account.bankruptcy_price
    if holder == "vault":
        vault = st.config.liquidation.vault
        expect(ev, "holder_account_id", st.vault_account)
        price = planners.vault_takeover_price(
            side, bankrupt, mark, vault.takeover_price, vault.discount
        )
        keep = vault.takeover_price != "bankruptcy"
    else:
        expect(ev, "holder_account_id", st.fund_account)
        price = bankrupt if bankrupt is not None and bankrupt >= 1 else mark
        keep = False
    expect(ev, "price_ticks", price)
    realised = st.ledger.close_pnl(account, price)
    if account.isolated:
        bucket = account.isolated_margin + realised
        residue = bucket if bucket > 0 else 0
    else:
        residue = max(account.wallet + realised, 0)
        # a wallet that backs a position in another perpetual is netted (not swept)
        keep = keep or _backs_other_positions(st, account)
    if keep:
        residue = 0
    expect(ev, "collateral", residue)
    seq = ev["seq"]
    st.pending_takeover = (seq, account.account_id, holder, residue, size, price)
    st.fills.append((account.account_id, -side, price, abs(size), 0, seq))
    st.fills.append((ev["holder_account_id"], side, price, abs(size), 0, seq))


def on_vault(st: ReplayState, ev: dict) -> None:
    if st.vault_account is None:
        raise Divergence(ev["seq"], "type", "vault", "no vault in this run")
    ledger = st.ledger
    account = ledger.accounts[st.vault_account]
    moved = account.wallet
    # A vault account comes with the config's vault, whose capital the state starts from.
    assert st.vault_cash is not None and st.vault_capital is not None
    if moved:
        st.vault_cash += moved
        ledger.adjust_collateral(ev["ts"], st.vault_account, -moved, ev["seq"])
    if ev["action"] == "takeover":
        takeover = st.pending_takeover
        if takeover is None or takeover[0] != ev["cause"] or takeover[2] != "vault":
            raise Divergence(ev["seq"], "cause", ev["cause"], "no vault takeover pending")
        _, taken, _, residue, size, price = takeover
        expect(ev, "account_id", taken)
        expect(ev, "size_lots", size)
        expect(ev, "price_ticks", price)
        if residue:
            ledger.adjust_collateral(ev["ts"], taken, -residue, ev["seq"])
            st.vault_cash += residue
    expect(ev, "position_lots", account.size_lots)
    expect(ev, "cash", st.vault_cash)
    expect(ev, "realised_pnl", st.vault_cash - st.vault_capital)
    expect(ev, "unrealised_pnl", ledger.unrealised_pnl(account, st.mark or 0))


def _plan_adl(st: ReplayState, ev: dict) -> None:
    """The ADL queue and allocation of one escalation, from the rebuilt accounts."""
    ledger = st.ledger
    liquidated = st.account(ev, "counterparty")
    size = liquidated.size_lots
    if not size:
        raise Divergence(ev["seq"], "counterparty", ev["counterparty"], "has no position")
    mark = st.mark
    assert mark is not None  # ADL follows a liquidation, decided at a known mark
    bankrupt = liquidated.bankruptcy_price
    takeover_price = bankrupt if bankrupt is not None and bankrupt >= 1 else mark
    price = st.ranker.close_price_ticks(takeover_price, mark)
    excluded = st.venue_accounts() | st.busy | {liquidated.account_id}
    candidates = [
        candidate_of(ledger, a, mark)
        for a in ledger.accounts.values()
        if a.size_lots and a.account_id not in excluded and (a.size_lots > 0) != (size > 0)
    ]
    side = 1 if size > 0 else -1
    queue = st.ranker.queue(candidates, side)
    entries = {entry.account_id: entry for entry in queue}
    ranked = {c.account_id: c for c in candidates}
    plan: deque[tuple] = deque()
    cap = st.config.stress.adl_cap
    if cap.enabled:
        allocations = allocate_capped_ranked(cap, queue, abs(size), price, st.mptl)
    else:
        allocations = st.ranker.allocate(queue, abs(size))
    for account_id, lots in allocations:
        plan.append((account_id, lots, price, entries[account_id], ranked[account_id]))
    st.adl_plan = plan
    st.adl_group = (ev["cause"], liquidated.account_id, -1 if size > 0 else 1)


def on_adl(st: ReplayState, ev: dict) -> None:
    group = st.adl_group
    if group is None or group[:2] != (ev["cause"], ev["counterparty"]) or not st.adl_plan:
        _plan_adl(st, ev)
    if not st.adl_plan:
        raise Divergence(ev["seq"], "account", ev["account"], "nobody in the ADL queue")
    account_id, lots, price, entry, candidate = st.adl_plan.popleft()
    expect(ev, "account", account_id)
    expect(ev, "size", lots)
    expect(ev, "price", price)
    expect(ev, "rank", entry.rank)
    expect(ev, "score", str(entry.score))
    expect(ev, "position_lots", candidate.size_lots)
    expect(ev, "entry_notional", candidate.entry_notional)
    expect(ev, "mark_price", candidate.mark_price_ticks)
    expect(ev, "unrealised_pnl", candidate.unrealised_pnl)
    expect(ev, "equity", candidate.account_value)
    assert st.adl_group is not None  # set by _plan_adl for this escalation
    side = st.adl_group[2]
    st.fills.append((ev["counterparty"], side, price, lots, 0, ev["seq"]))
    st.fills.append((account_id, -side, price, lots, 0, ev["seq"]))


def on_bad_debt(st: ReplayState, ev: dict) -> None:
    account = st.account(ev, "account")
    expect(ev, "amount", _negative(account))
    st.bad_debt += ev["amount"]
    expect(ev, "outstanding", st.bad_debt)
    st.credit(ev, account, ev["amount"])
    if "socialise" in st.config.liquidation.waterfall:
        _plan_clawback(st, ev["amount"])


def _plan_clawback(st: ReplayState, amount: int) -> None:
    """The clawback of ``amount`` (§5.5): pro rata to the unrealised profit at the mark of every
    eligible position, as :meth:`LiquidationAccounting.socialise` computes it."""
    ledger, mark = st.ledger, st.mark or 0
    excluded = st.venue_accounts() | st.busy
    profits = [
        (a.account_id, ledger.unrealised_pnl(a, mark))
        for a in ledger.accounts.values()
        if a.size_lots and a.account_id not in excluded
    ]
    result = clawback(amount, 0, profits)
    charges = deque((a, c, result.rate_num, result.rate_den) for a, c in result.charges)
    st.clawback = (charges, result.residue, amount - result.uncollected)


def on_bad_debt_covered(st: ReplayState, ev: dict) -> None:
    plan = st.clawback
    if plan is None or plan[0]:
        raise Divergence(ev["seq"], "type", "bad_debt_covered", "no clawback just ended")
    expect(ev, "amount", plan[2])
    expect(ev, "stage", "socialise")
    st.clawback = None
    st.bad_debt -= ev["amount"]
    expect(ev, "outstanding", st.bad_debt)


def on_socialised_loss(st: ReplayState, ev: dict) -> None:
    plan = st.clawback
    if plan is None or not plan[0]:
        raise Divergence(ev["seq"], "type", "socialised_loss", "no clawback charge due")
    account_id, amount, rate_num, rate_den = plan[0].popleft()
    expect(ev, "account", account_id)
    expect(ev, "amount", amount)
    expect(ev, "rate_num", rate_num)
    expect(ev, "rate_den", rate_den)
    st.ledger.adjust_collateral(ev["ts"], account_id, -amount, ev["seq"])


HANDLERS = {
    "liquidation_order": on_liquidation_order,
    "liquidation_fill": on_liquidation_fill,
    "insurance_fund": on_insurance_fund,
    "takeover": on_takeover,
    "vault": on_vault,
    "adl": on_adl,
    "bad_debt": on_bad_debt,
    "bad_debt_covered": on_bad_debt_covered,
    "socialised_loss": on_socialised_loss,
}
