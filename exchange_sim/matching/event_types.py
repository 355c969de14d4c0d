"""Event types of the matching engine.

Units in every payload: ``*_ticks`` are integer price ticks, ``*_lots`` integer size lots,
``*_id`` integers, ``side`` 1 (buy) or -1 (sell). The events are enough to rebuild the book
(:func:`exchange_sim.matching.rebuild.rebuild_book`).
"""

from exchange_sim.events.types import EventType

_ORDER = ("order_id", "the order's id (unique per run).")
_ACCOUNT = ("account_id", "the id of the account that owns the order.")
_SIDE = ("side", "1 = buy (bid), -1 = sell (ask).")
_MARKET = (
    "market",
    "the market the event happened on: the perpetual's symbol or a spot market's name.",
)

EVENTS = (
    EventType(
        "order_accepted",
        "The engine accepted a new order; its trades, expiry or cancellation follow (caused by "
        "this event). A limit GTC order's unfilled remainder rests on the book at the back of its "
        "price level.",
        (
            _MARKET,
            _ORDER,
            _ACCOUNT,
            _SIDE,
            ("price_ticks", "limit price in ticks; null for a market order."),
            ("size_lots", "order size in lots."),
            ("tif", "time in force: GTC, IOC or FOK (a market order never rests)."),
            ("post_only", "true if the order may only add liquidity."),
            ("reduce_only", "true if the order may only reduce the account's position."),
            ("tag", "free label carried from the order, e.g. liquidation; empty if none."),
            ("ts_sent", "when the participant sent the order, ns (the event's ts is receipt)."),
        ),
    ),
    EventType(
        "order_rejected",
        "A new order was refused before acceptance (validation, post-only cross, pre-trade "
        "check); nothing of it reaches the book.",
        (
            _MARKET,
            _ORDER,
            _ACCOUNT,
            _SIDE,
            ("price_ticks", "requested limit price in ticks; null for market or non-integer."),
            ("size_lots", "requested size in lots; null if not an integer."),
            ("tif", "requested time in force."),
            ("post_only", "true if the order asked to only add liquidity."),
            ("reduce_only", "true if the order asked to only reduce the position."),
            ("tag", "the order's label."),
            (
                "ts_sent",
                "when the participant sent the order, ns (the event's ts is receipt): with the "
                "fields above, the whole command, so a re-drive can send it again.",
            ),
            (
                "reason",
                "why: price_not_whole_ticks, price_out_of_range, size_not_whole_lots, "
                "size_out_of_range, invalid_side, invalid_tif, post_only_market, "
                "duplicate_order_id, post_only_would_cross, trading_halted, or a pre-trade check's "
                "reason.",
            ),
        ),
    ),
    EventType(
        "trade",
        "One fill between a resting maker order and an incoming taker, at the maker's price. "
        "Caused by the taker's order_accepted (or order_amended when an amend crosses).",
        (
            _MARKET,
            ("trade_id", "trade id (unique per run)."),
            ("maker_order_id", "the resting order's id."),
            ("taker_order_id", "the incoming order's id."),
            ("maker_account_id", "the maker's account."),
            ("taker_account_id", "the taker's account."),
            ("price_ticks", "fill price in ticks (the maker's limit price)."),
            ("size_lots", "filled size in lots."),
            ("aggressor_side", "the taker's side: 1 = buy, -1 = sell."),
            ("maker_tag", "the maker order's label."),
            ("taker_tag", "the taker order's label."),
        ),
    ),
    EventType(
        "order_cancelled",
        "An order's unfilled remainder was removed by request or by the engine.",
        (
            _MARKET,
            _ORDER,
            _ACCOUNT,
            _SIDE,
            ("price_ticks", "the order's limit price in ticks; null for a market order."),
            ("remaining_lots", "lots cancelled (the unfilled remainder), in lots."),
            (
                "reason",
                "user, cancel_all (or the caller's reason for a mass cancel), self_trade.",
            ),
        ),
    ),
    EventType(
        "order_expired",
        "The unfilled remainder of a market, IOC or FOK order ended without resting.",
        (
            _MARKET,
            _ORDER,
            _ACCOUNT,
            _SIDE,
            ("price_ticks", "the order's limit price in ticks; null for a market order."),
            ("remaining_lots", "lots expired (the unfilled remainder), in lots."),
            (
                "reason",
                "ioc_remainder (limit reached), no_liquidity (market order emptied the side), "
                "price_band (the band around the reference price stopped it), fok_unfillable.",
            ),
        ),
    ),
    EventType(
        "order_amended",
        "A resting order's price and/or size changed. A size decrease at the same price keeps "
        "queue priority; a price change or size increase moves it to the back of its (new) level, "
        "after which it may trade as a taker (those trades are caused by this event).",
        (
            _MARKET,
            _ORDER,
            _ACCOUNT,
            _SIDE,
            ("old_price_ticks", "limit price before the amend, ticks."),
            ("old_size_lots", "order size before the amend, lots."),
            ("price_ticks", "limit price after the amend, ticks."),
            ("size_lots", "order size after the amend (including filled lots), lots."),
            ("remaining_lots", "unfilled lots after the amend."),
            ("priority_kept", "true if the order kept its queue position."),
        ),
    ),
    EventType(
        "cancel_rejected",
        "A cancel request was refused; the book is unchanged.",
        (
            _MARKET,
            _ORDER,
            ("account_id", "the requesting account."),
            ("reason", "unknown_order (not resting) or not_owner."),
        ),
    ),
    EventType(
        "amend_rejected",
        "An amend request was refused; the order is unchanged.",
        (
            _MARKET,
            _ORDER,
            ("account_id", "the requesting account."),
            ("price_ticks", "requested new limit price in ticks (null = unchanged or invalid)."),
            ("size_lots", "requested new total size in lots (null = unchanged or invalid)."),
            (
                "reason",
                "unknown_order, not_owner, price_not_whole_ticks, price_out_of_range, "
                "size_not_whole_lots, size_out_of_range, size_not_above_filled, "
                "post_only_would_cross, trading_halted, or a pre-trade check's reason.",
            ),
        ),
    ),
)
