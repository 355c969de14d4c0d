"""The unit of every field of every event type (what the frames convert, and how).

Every event type and field the log writes is listed here (a test holds this to
``docs/events.md``); ``FIELD_UNITS[type]`` gives ``(field, unit)`` pairs in log order."""

from __future__ import annotations

import re

# Units: ns, ticks, pair (exact [num, den] ticks), lots, money, ppb; plain values: int, str, bool.
_SPEC = """
run_start: schema_version int, package_version str, seed int, config_sha256 str, scenario str,
    duration_ns ns
run_end: event_count int, digest_sha256 str
index_price: price ticks, ts_source ns
mark_price: price ticks, index_price ticks
order_accepted: market str, order_id int, account_id int, side int, price_ticks ticks, size_lots
    lots, tif str, post_only bool, reduce_only bool, tag str, ts_sent ns
order_rejected: market str, order_id int, account_id int, side int, price_ticks ticks, size_lots
    lots, tif str, post_only bool, reduce_only bool, tag str, ts_sent ns, reason str
trade: market str, trade_id int, maker_order_id int, taker_order_id int, maker_account_id int,
    taker_account_id int, price_ticks ticks, size_lots lots, aggressor_side int, maker_tag str,
    taker_tag str
order_cancelled: market str, order_id int, account_id int, side int, price_ticks ticks,
    remaining_lots lots, reason str
order_expired: market str, order_id int, account_id int, side int, price_ticks ticks, remaining_lots
    lots, reason str
order_amended: market str, order_id int, account_id int, side int, old_price_ticks ticks,
    old_size_lots lots, price_ticks ticks, size_lots lots, remaining_lots lots, priority_kept bool
cancel_rejected: market str, order_id int, account_id int, reason str
amend_rejected: market str, order_id int, account_id int, price_ticks ticks, size_lots lots, reason
    str
account_opened: account_id int, participant str, role str, isolated bool, leverage int
deposit: account_id int, amount money, purpose str, ts_sent ns, wallet money, isolated_margin money
deposit_rejected: account_id int, amount money, reason str
collateral_deposit: account_id int, asset str, units money, purpose str, ts_sent ns,
    collateral_units money, value money
collateral_converted: account_id int, asset str, units money, price_ppb ppb, value money, wallet
    money
collateral_price: asset str, price_ppb ppb, source str
withdrawal: account_id int, amount money, ts_sent ns, wallet money
withdrawal_rejected: account_id int, amount money, available money, reason str
position: account_id int, side int, price_ticks ticks, size_lots lots, fee money, realised_pnl
    money, position_lots lots, entry_notional money, wallet money, isolated_margin money,
    liquidation_price_ticks ticks, bankruptcy_price_ticks ticks
margin_check: account_id int, mark_price ticks, trigger_mark_price ticks, trigger_ts ns, equity
    money, maintenance_margin money, outcome str
margin_call: account_id int, mark_price ticks, equity money, maintenance_margin money, deliver_at ns
liquidation_triggered: account_id int, mark_price ticks, position_lots lots, equity money,
    maintenance_margin money, shortfall money, bankruptcy_price_ticks ticks
margin_call_response: account_id int, action str, position_lots lots
premium_sample: bid_ticks pair, ask_ticks pair, reference str, reference_ticks ticks, index_ticks
    ticks, premium_ppb ppb
funding_rate: interval_start_ts ns, interval_end_ts ns, sample_count int, average_premium_ppb ppb,
    interest_ppb ppb, formula_rate_ppb ppb, uncapped_rate_ppb ppb, rate_ppb ppb, cap_ppb ppb, capped
    int
funding_payment: account int, size_lots lots, price_ticks ticks, rate_ppb ppb, amount_minor money
funding_residue: ledger str, residue_minor money, payment_count int, rate_ppb ppb, price_ticks ticks
insurance_fund: fund str, delta money, balance money, reason str, shortfall money, account_id int
adl: account int, counterparty int, size lots, price ticks, rank int, score str, position_lots lots,
    entry_notional money, mark_price ticks, unrealised_pnl money, equity money
socialised_loss: account int, amount money, rate_num money, rate_den money
bad_debt: account int, amount money, outstanding money
bad_debt_covered: amount money, outstanding money, stage str
liquidation_started: account_id int, policy str, queue_wait_ns ns, backlog int, mark_price ticks,
    position_lots lots, equity money, maintenance_margin money
liquidation_order: account_id int, order_id int, purpose str, side int, price_ticks ticks, size_lots
    lots, tif str, attempt int, mark_price ticks, bankruptcy_price_ticks ticks
liquidation_fill: account_id int, order_id int, purpose str, price_ticks ticks, size_lots lots,
    bankruptcy_price_ticks ticks, fund_delta money, position_lots lots
takeover: account_id int, holder str, holder_account_id int, position_lots lots,
    price_ticks ticks, mark_price ticks, collateral money
vault: action str, account_id int, size_lots lots, price_ticks ticks, position_lots lots,
    cash money, realised_pnl money, unrealised_pnl money
liquidation_finished: account_id int, outcome str, position_lots lots, wallet money,
    isolated_margin money, duration_ns ns, orders int
maker_state: account_id int, state str, reason str, action str, value int, threshold int,
    size_ppb ppb
metaorder: account_id int, phase str, side int, style str, total_lots lots, child_lots lots,
    order_id int, arrival_price_ticks ticks, best_bid_ticks ticks, best_ask_ticks ticks,
    index_ticks ticks, filled_lots lots, notional_minor money, vwap_ticks ticks,
    impact_ticks ticks, impact_ppb ppb
spot_account_opened: market str, account_id int, participant str, role str
spot_deposit: market str, account_id int, asset str, amount int, ts_sent ns, quote money, base lots
spot_withdrawal: market str, account_id int, amount money, ts_sent ns, quote money
spot_fill: market str, account_id int, side int, price_ticks ticks, size_lots lots, fee money,
    quote money, base lots
fundamental_price: price ticks
news: headline str, jump_ppb ppb, price ticks
intervention: action str, market str, until_ns ns, factor_ppb ppb, band_ppb ppb, amount money
stress_policy: policy str, action str, value_ppb ppb, threshold_ppb ppb, share_ppb ppb,
    factor_ppb ppb, band_ppb ppb, until_ns ns, gap_ns ns, depth_lots lots
trader_entry: account_id int, participant str, reason str, side int, lots lots, price_ticks ticks,
    signal_ppb ppb
trader_exit: account_id int, participant str, reason str, position_lots lots, lots lots,
    price_ticks ticks, entry_price_ticks ticks
hunter_estimate: account_id int, cluster_side int, cluster_price_ticks ticks, cluster_lots lots,
    distance_ppb ppb, depth_lots lots, price_ticks ticks, decision str
hunter_push: account_id int, side int, lots lots, limit_price_ticks ticks,
    cluster_price_ticks ticks, cluster_lots lots
hunter_exit: account_id int, reason str, position_lots lots, liquidations_seen int,
    liquidated_lots lots
manipulator_sweep: account_id int, market str, push int, side int, lots lots,
    limit_price_ticks ticks, anchor_price_ticks ticks, touch_price_ticks ticks,
    budget_left_minor money
"""

UNITS = ("ns", "ticks", "pair", "lots", "money", "ppb", "int", "str", "bool")
COMMON = (("seq", "int"), ("ts", "ns"), ("type", "str"), ("cause", "int"))
"""The fields every line starts with (``type`` is not kept as a column)."""


def _parse_spec(text: str) -> dict[str, tuple[tuple[str, str], ...]]:
    table: dict[str, tuple[tuple[str, str], ...]] = {}
    for entry in re.split(r"\n(?=\w)", text.strip()):
        kind, _, body = entry.partition(":")
        pairs = tuple(tuple(item.split()) for item in body.replace("\n", " ").split(","))
        for pair in pairs:
            if len(pair) != 2 or pair[1] not in UNITS:
                raise ValueError(f"unit table, {kind}: bad entry {pair}")
        table[kind.strip()] = pairs
    return table


FIELD_UNITS: dict[str, tuple[tuple[str, str], ...]] = _parse_spec(_SPEC)
