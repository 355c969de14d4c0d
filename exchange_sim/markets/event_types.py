"""Event types of spot markets' balances (their orders and trades are the matching engine's
events, with the spot market's name in ``market``) and of the fundamental value."""

from exchange_sim.events.types import EventType

_MARKET = ("market", "the spot market's name.")
_ACCOUNT = ("account_id", "the account.")
_TS_SENT = ("ts_sent", "when the owner sent it, ns (the event's ts is its arrival).")

EVENTS = (
    EventType(
        "spot_account_opened",
        "A spot account exists (logged at t = 0 with the perpetual's accounts).",
        (
            _MARKET,
            _ACCOUNT,
            ("participant", "the participant or group holding it."),
            (
                "role",
                "the owner's kind (a participant kind), or `collateral_book` for the two scripted "
                "accounts of a collateral asset's own book (`collateral_liquidity`, "
                "`collateral_seller`).",
            ),
        ),
    ),
    EventType(
        "spot_deposit",
        "Quote money or base inventory came into a spot account, when the command arrived.",
        (
            _MARKET,
            _ACCOUNT,
            ("asset", "`quote` (the settlement asset) or `base` (the base asset)."),
            ("amount", "amount credited, in its asset's integer unit (see `asset`)."),
            _TS_SENT,
            ("quote", "quote balance after, minor units."),
            ("base", "base inventory after, lots."),
        ),
    ),
    EventType(
        "spot_withdrawal",
        "Quote money left a spot account.",
        (
            _MARKET,
            _ACCOUNT,
            ("amount", "money debited, minor units."),
            _TS_SENT,
            ("quote", "quote balance after, minor units."),
        ),
    ),
    EventType(
        "spot_fill",
        "One side of a spot trade applied to one account (two per trade: maker then taker; "
        "`cause` is the trade).",
        (
            _MARKET,
            _ACCOUNT,
            ("side", "1 bought, -1 sold."),
            ("price_ticks", "fill price, ticks."),
            ("size_lots", "fill size, lots."),
            ("fee", "fee charged in quote, minor units (negative: a rebate)."),
            ("quote", "quote balance after, minor units."),
            ("base", "base inventory after, lots."),
        ),
    ),
    EventType(
        "fundamental_price",
        "The fundamental value of the underlying moved (an exogenous, latent price that only "
        "participants who watch it see, each after its own latency; never published by a "
        "venue). `cause` is null (root kind `fundamental_move`) or the `news` it jumped on.",
        (("price", "fundamental value, ticks."),),
    ),
    EventType(
        "news",
        "A piece of news moved the fundamental value at once (root kind `news`); participants "
        "who watch the fundamental see it after their own latency, others only through prices.",
        (
            ("headline", "the scenario's label for it."),
            ("jump_ppb", "the jump of the fundamental, parts per billion (negative: a fall)."),
            ("price", "fundamental value after the jump, ticks."),
        ),
    ),
)
