"""Event types of the liquidation engine, insurance fund, backstop vault, ADL and socialised loss.

Money fields are integer minor units of the settlement asset, sizes integer lots, prices integer
ticks, durations integer ns. Rationals (ADL scores, clawback rates) are written exactly: a score as
the string ``"num/den"`` in lowest terms (``"1/0"`` stands for +infinity, e.g. a profitable
position at or past its bankruptcy price under the BitMEX ranking); a rate as two ints.

The causal chain of one liquidation (each event's ``cause`` is the one before it):
``mark_price -> margin_check -> liquidation_triggered -> liquidation_started -> liquidation_order
-> order_accepted -> trade -> liquidation_fill -> insurance_fund / takeover / adl / bad_debt ->
liquidation_finished``.
"""

from exchange_sim.events.types import EventType

_FUND_REASONS = (
    "`liquidation_fill` (surplus or shortfall of a fill against the bankruptcy price, §5.1), "
    "`liquidation_fee` (a fee charged on a liquidation fill), `collateral` (what a bankrupt "
    "account had left after a takeover), `takeover_pnl` / `takeover_loss` (result of the fund "
    "unwinding what it took over), `cover` (a negative balance paid back to 0), "
    "`clawback_residue` (round-up excess of a clawback), `top_up` (an intervention's "
    "injection), or the caller's reason for a deposit."
)

EVENTS = (
    EventType(
        "insurance_fund",
        "The balance of an insurance fund changed, or it was asked to pay more than it holds.",
        (
            ("fund", "which fund (one per instrument: `insurance_fund`)."),
            ("delta", "change of the balance, money (positive: the fund received)."),
            ("balance", "balance after the change, money; never negative."),
            ("reason", _FUND_REASONS),
            ("shortfall", "part of a requested payment the fund could not make, money (>= 0)."),
            (
                "account_id",
                "the account that paid the fund or that the fund paid (the liquidated account, "
                "the account covered, the fund's own position account for takeover results); "
                "null when no account is involved (a seed, a clawback residue).",
            ),
        ),
    ),
    EventType(
        "adl",
        "Auto-deleveraging: part of an opposite position was closed against a bankrupt one.",
        (
            ("account", "the deleveraged account (its position is reduced)."),
            ("counterparty", "the liquidated (bankrupt) account whose position it takes over."),
            ("size", "lots closed, unsigned."),
            ("price", "close price, ticks (bankruptcy price of the liquidated order, or mark)."),
            ("rank", "1-based place of `account` in the ADL queue when it was drawn."),
            ("score", "the ranking score as an exact rational string `num/den` (`1/0` = +inf)."),
            (
                "position_lots",
                "`account`'s signed position when it was ranked (before this close), lots.",
            ),
            (
                "entry_notional",
                "cost basis of that position (unsigned), money (inverse: its entry value).",
            ),
            ("mark_price", "mark the ranking valued it at, ticks."),
            ("unrealised_pnl", "the position's unrealised PnL at `mark_price`, money."),
            (
                "equity",
                "`account`'s margin balance behind the position at `mark_price` (collateral + "
                "unrealised PnL; the account value of the Hyperliquid ranking), money.",
            ),
        ),
    ),
    EventType(
        "socialised_loss",
        "A profitable account paid part of an uncovered loss (clawback in proportion to profit).",
        (
            ("account", "the account charged."),
            ("amount", "money charged, rounded up (what a trader owes); <= its profit."),
            ("rate_num", "numerator of the clawback rate (amount to socialise)."),
            ("rate_den", "denominator of the clawback rate (total profit of the payers)."),
        ),
    ),
    EventType(
        "bad_debt",
        "A negative balance nothing covered was written off (the account set back to 0) and "
        "recorded; a later `socialise` stage may cover it (`bad_debt_covered`).",
        (
            ("account", "the bankrupt account (or the fund's takeover account)."),
            ("amount", "money written off, > 0."),
            ("outstanding", "recorded bad debt not yet covered, after this event, money."),
        ),
    ),
    EventType(
        "bad_debt_covered",
        "Recorded bad debt was paid by a later waterfall stage.",
        (
            ("amount", "money covered, > 0."),
            ("outstanding", "recorded bad debt not yet covered, after this event, money."),
            ("stage", "the stage that paid: `socialise`."),
        ),
    ),
    EventType(
        "liquidation_started",
        "The liquidation engine took over an account handed to it (cause: liquidation_triggered). "
        "Its open orders are cancelled next.",
        (
            ("account_id", "the account."),
            ("policy", "close-out policy: `binance`, `tiered`, `dydx`, `hyperliquid`, `market`."),
            ("queue_wait_ns", "time from the hand-off to this start, ns (latency + backlog)."),
            ("backlog", "accounts still waiting in the engine's queue after this one started."),
            ("mark_price", "mark at the start, ticks."),
            ("position_lots", "signed position, lots."),
            ("equity", "margin balance at the mark, money."),
            (
                "maintenance_margin",
                "maintenance margin at the mark (entry value: maintenance_basis), "
                "with margin.trigger_rate_added, money.",
            ),
        ),
    ),
    EventType(
        "liquidation_order",
        "The engine sends an order for a liquidated account or for a venue holder (fund, vault). "
        "The order's `order_accepted` (or `order_rejected`) has this event as cause.",
        (
            ("account_id", "account the order trades for."),
            ("order_id", "the order's id."),
            (
                "purpose",
                "`reduce` (Binance IOC), `tier_reduce` (FOK), `takeover_limit` (limit at "
                "bankruptcy), `slice` (a partial), `close` (whole position), `fund_unwind`, "
                "`vault_unwind`.",
            ),
            ("side", "1 buy, -1 sell."),
            ("price_ticks", "limit price, ticks; null for a market order."),
            ("size_lots", "order size, lots."),
            ("tif", "`GTC`, `IOC` or `FOK`."),
            ("attempt", "1-based number of this order within the account's liquidation."),
            ("mark_price", "mark when sent, ticks."),
            ("bankruptcy_price_ticks", "the account's bankruptcy price when sent; null if none."),
        ),
    ),
    EventType(
        "liquidation_fill",
        "One fill of a liquidation (or fund/vault unwind) order and its settlement (cause: the "
        "trade).",
        (
            ("account_id", "account whose position the fill closed."),
            ("order_id", "the liquidation order."),
            ("purpose", "the order's purpose (see liquidation_order)."),
            ("price_ticks", "fill price, ticks."),
            ("size_lots", "fill size, lots."),
            ("bankruptcy_price_ticks", "bankruptcy price the fill settles against; null if none."),
            (
                "fund_delta",
                "what the fill moved to (+) or from (-) the insurance fund or vault, money: the "
                "liquidation fee, the surplus over bankruptcy, or the shortfall covered.",
            ),
            ("position_lots", "the account's signed position after the fill, lots."),
        ),
    ),
    EventType(
        "takeover",
        "A holder (insurance fund or backstop vault) took an account's remaining position over "
        "with a fee-free transfer.",
        (
            ("account_id", "the liquidated account."),
            ("holder", "`insurance_fund` or `vault`."),
            ("holder_account_id", "the holder's ledger account (holds positions only)."),
            ("position_lots", "signed position moved (the account's, before), lots."),
            ("price_ticks", "transfer price, ticks (bankruptcy price, or the vault's price)."),
            ("mark_price", "mark at the takeover, ticks."),
            (
                "collateral",
                "what the account had left after the transfer and gave the holder (0 while a "
                "cross account's wallet backs a position in another perpetual: netted).",
            ),
        ),
    ),
    EventType(
        "vault",
        "The backstop vault's cash or position changed.",
        (
            ("action", "`takeover`, `unwind` (its own order filled) or `settle` (other cash)."),
            ("account_id", "the account taken over (takeover), else the vault's own account."),
            ("size_lots", "signed change of the vault's position, lots (all fills of one order)."),
            ("price_ticks", "price of the change (an unwind: its last fill), ticks; null: settle."),
            ("position_lots", "the vault's signed position after, lots."),
            ("cash", "the vault's cash after, money."),
            ("realised_pnl", "cash - capital: what the vault has made or lost so far, money."),
            ("unrealised_pnl", "PnL of its open position at the mark, money."),
        ),
    ),
    EventType(
        "liquidation_finished",
        "The engine is done with an account and hands it back to the risk monitor.",
        (
            ("account_id", "the account."),
            (
                "outcome",
                "`recovered` (compliant again), `closed` (flat through the book), `taken_over` "
                "(fund or vault), `deleveraged` (ADL), `unresolved` (a position nothing could "
                "take is left; the risk monitor may hand it over again), `no_mark`.",
            ),
            ("position_lots", "signed position after, lots."),
            ("wallet", "wallet balance after, money."),
            ("isolated_margin", "isolated margin after, money."),
            ("duration_ns", "time since the hand-off, ns."),
            ("orders", "orders sent for this account in this liquidation."),
        ),
    ),
)
