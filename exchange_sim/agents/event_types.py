"""Event types of participants' own decisions: a maker's quoting state, an executor's metaorder."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "maker_state",
        "An adaptive market maker changed how it quotes. `cause`: the index update, market-data "
        "view, fill or margin call that pushed a measure over its threshold (withdraw), the "
        "observation that found every measure back under (restore), the rejected order's "
        "`order_rejected` or the `order_cancelled` the venue sent (backoff, stop), or null for "
        "its own timer (a reduced size growing back). `value` and `threshold` are in the unit "
        "of the measure `reason` names, so they have no single unit: ppb for volatility, "
        "margin use and size; lots for inventory; minor units for a margin call (its equity "
        "and maintenance margin); ns for a backoff (the pause and the longest pause); a count "
        "of rejected ladders in a row for a stop.",
        (
            ("account_id", "the maker's account."),
            ("state", "after the change: `quoting`, `withdrawn`, `backoff` or `stopped`."),
            (
                "reason",
                "`volatility`, `inventory`, `margin_use`, `margin_call` (withdraw); `calm` "
                "(restore); `rejected`, `venue_cancel` (backoff, stop); `size_recovery`.",
            ),
            (
                "action",
                "`cancel_all` (withdraw: quotes cancelled, no new ones), `restore` (quoting "
                "again), `backoff` (quotes cancelled, none for a pause of `value`), `stop` "
                "(never quotes again), `size_up` (reduced size doubled).",
            ),
            (
                "value",
                "the measure that decided: realised volatility, |inventory|, estimated margin "
                "use, the margin call's equity, the pause, the rejected ladders in a row or "
                "the new size (unit: see above).",
            ),
            (
                "threshold",
                "what it was compared with, in the same unit (margin_call: the maintenance "
                "margin; backoff: the longest pause).",
            ),
            ("size_ppb", "quote size after the change, ppb of the configured sizes."),
        ),
    ),
    EventType(
        "metaorder",
        "An execution agent's metaorder: `start` (on its timer, cause null), each `child` order "
        "it sent (cause: null on a timer, or the trades view a POV child was sized from) and "
        "`end` once every child has closed and reported its fills (cause: that last report). "
        "Fields that do not apply to a phase are null.",
        (
            ("account_id", "the executor's account."),
            ("phase", "`start`, `child` or `end`."),
            ("side", "+1 buy, -1 sell."),
            ("style", "`twap` or `pov`."),
            ("total_lots", "the metaorder's size, lots."),
            ("child_lots", "child: the size sent, lots (0: no price to send it at)."),
            ("order_id", "child: the child order's id."),
            (
                "arrival_price_ticks",
                "start, end: the mid at start rounded against the trader (a buy's down, a "
                "sell's up), or the index when the book had no two sides; ticks.",
            ),
            ("best_bid_ticks", "start: the bid it saw, ticks."),
            ("best_ask_ticks", "start: the ask it saw, ticks."),
            ("index_ticks", "start, end: the last index it saw, ticks."),
            ("filled_lots", "end: lots filled over all children."),
            (
                "notional_minor",
                "end: the value of its fills, minor units (inverse: each fill's value in coin).",
            ),
            (
                "vwap_ticks",
                "end: average fill price, ticks, rounded against the trader (an inverse "
                "contract's: the harmonic mean of its fill prices); null if none.",
            ),
            ("impact_ticks", "end: side x (vwap - arrival price), ticks; null if none."),
            (
                "impact_ppb",
                "end: side x (vwap - arrival) / arrival before rounding, in ppb rounded up "
                "(cost never understated); null if none.",
            ),
        ),
    ),
)
