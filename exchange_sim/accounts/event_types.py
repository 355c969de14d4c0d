"""Event types of the accounts ledger."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "account_opened",
        "An account exists (logged at t = 0, right after `run_start`, for every account in the "
        "order they were opened: participants' first, then the venue's own holders).",
        (
            ("account_id", "the account."),
            (
                "participant",
                "the participant or group holding it (`participants[].name`), or the "
                "venue holder (`insurance_fund`, `vault`).",
            ),
            (
                "role",
                "the owner's kind: its participant table's `kind` (`market_maker`, `noise`, "
                "`leveraged`, `arbitrageur`, `adaptive_maker`, `execution`, `trend`, "
                "`dip_buyer`, `carry`, `hunter`, `informed`, `spot_arbitrageur`, "
                "`oracle_manipulator`), or "
                "`insurance_fund` or `vault`.",
            ),
            ("isolated", "true for isolated margin, false for cross."),
            ("leverage", "the account's leverage (initial margin = notional / leverage)."),
        ),
    ),
    EventType(
        "deposit",
        "Money came into an account (a deposit or a margin top-up), when the command arrived.",
        (
            ("account_id", "the account."),
            ("amount", "money credited, minor units."),
            ("purpose", "`deposit` (funding the account) or `top_up` (margin added)."),
            ("ts_sent", "when the owner sent it, ns (the event's ts is its arrival)."),
            ("wallet", "wallet balance after, minor units."),
            (
                "isolated_margin",
                "isolated margin after (isolated mode: top-ups go here), minor units.",
            ),
        ),
    ),
    EventType(
        "deposit_rejected",
        "A deposit was refused.",
        (
            ("account_id", "the account."),
            ("amount", "money asked for, minor units."),
            (
                "reason",
                "why: `non_positive_amount`, `asset_not_accepted` (base, or an asset the venue "
                "does not accept as collateral, into a perpetual), "
                "or `collateral_needs_cross_margin` (a collateral asset into an isolated "
                "account).",
            ),
        ),
    ),
    EventType(
        "collateral_deposit",
        "Units of a collateral asset (`collateral[]`) came into a cross account: they back its "
        "margin at their haircut value (docs/mechanics.md, collateral).",
        (
            ("account_id", "the account."),
            ("asset", "the collateral asset (`collateral[].asset`)."),
            ("units", "units credited, the asset's minor units (the settlement decimals)."),
            ("purpose", "`deposit` or `top_up`, as for `deposit`."),
            ("ts_sent", "when the owner sent it, ns (the event's ts is its arrival)."),
            ("collateral_units", "the account's units of the asset after."),
            (
                "value",
                "their haircut value at the asset's current price, minor units: "
                "floor(units x price x (1 - haircut)).",
            ),
        ),
    ),
    EventType(
        "collateral_converted",
        "A liquidated account's holding of one collateral asset was taken over by the venue at "
        "its haircut value, paid into the wallet (caused by the `liquidation_triggered`; one "
        "event per asset held, in `collateral[]` order, back to back); the venue's payment "
        "counts as money put in.",
        (
            ("account_id", "the account."),
            ("asset", "the collateral asset."),
            ("units", "units taken over, the asset's minor units."),
            ("price_ppb", "the asset's price used, settlement units per unit x 10^9."),
            ("value", "money paid into the wallet, minor units (the haircut value)."),
            ("wallet", "wallet balance after, minor units."),
        ),
    ),
    EventType(
        "collateral_price",
        "A collateral asset's price source published a new price, which the venue now values "
        "that asset's margin at. `cause`: the trade of the asset's own book that set it "
        "(`book`), or null for the redemption rate (once, at t = 0) and for an oracle point.",
        (
            ("asset", "the collateral asset."),
            ("price_ppb", "settlement units per unit x 10^9 (1.0 = 1,000,000,000)."),
            ("source", "`book`, `oracle` or `redemption` (`collateral[].price_source`)."),
        ),
    ),
    EventType(
        "withdrawal",
        "Money left an account's wallet.",
        (
            ("account_id", "the account."),
            ("amount", "money debited, minor units."),
            ("ts_sent", "when the owner sent it, ns (the event's ts is its arrival)."),
            ("wallet", "wallet balance after, minor units."),
        ),
    ),
    EventType(
        "withdrawal_rejected",
        "A withdrawal was refused; nothing moved.",
        (
            ("account_id", "the account."),
            ("amount", "money asked for, minor units."),
            ("available", "what could have been withdrawn, minor units."),
            ("reason", "`non_positive_amount` or `insufficient_available`."),
        ),
    ),
    EventType(
        "position",
        "One fill applied to one account (two per trade: maker then taker). `cause` is the "
        "trade (or the liquidation/ADL step) that moved it.",
        (
            ("account_id", "the account."),
            ("side", "1 bought, -1 sold."),
            ("price_ticks", "fill price, ticks."),
            ("size_lots", "fill size, lots."),
            ("fee", "fee charged, minor units (negative: a rebate)."),
            ("realised_pnl", "PnL realised by this fill, minor units."),
            ("position_lots", "signed position after the fill, lots."),
            (
                "entry_notional",
                "cost basis of the open position after, minor units (an inverse contract: its "
                "entry value in the settlement coin).",
            ),
            ("wallet", "wallet balance after, minor units."),
            ("isolated_margin", "isolated margin after, minor units (0 in cross mode)."),
            ("liquidation_price_ticks", "price where equity = MM after this fill; null if none."),
            ("bankruptcy_price_ticks", "price where equity = 0 after this fill; null if none."),
        ),
    ),
)
