"""Event types of participants' own decisions: a maker's quoting state."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "maker_state",
        "An adaptive market maker changed how it quotes. `cause`: the index update, market-data "
        "view, fill or margin call that pushed a measure over its threshold (withdraw), the "
        "observation that found every measure back under (restore), the rejected order's "
        "`order_rejected` or the `order_cancelled` the venue sent (backoff, stop), or null for "
        "its own timer (a reduced size growing back).",
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
                "again), `backoff` (quotes cancelled for `value` ns), `stop` (never quotes "
                "again), `size_up` (reduced size doubled).",
            ),
            (
                "value",
                "the measure: realised volatility or estimated margin use in ppb, |inventory| "
                "in lots, equity in minor units (margin_call), the pause in ns (backoff), "
                "rejected ladders in a row (stop), the size in ppb (size_up).",
            ),
            (
                "threshold",
                "what it was compared with, same unit (margin_call: the maintenance margin; "
                "backoff: the longest pause).",
            ),
            ("size_ppb", "quote size after the change, ppb of the configured sizes."),
        ),
    ),
)
