"""Event types of the risk monitor and of traders' margin-call responses."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "margin_check",
        "An exact margin check of one account, run margin_check_latency after the mark crossed "
        "one of its trigger prices (index mode; `cause` = that mark_price, or the account change "
        "that put it past a trigger, or the mark it was re-armed under after a margin-call "
        "cooldown) or at a sweep (`cause` = the mark the sweep read).",
        (
            ("account_id", "the account."),
            ("mark_price", "mark the check used, ticks (at check or at trigger time, per config)."),
            ("trigger_mark_price", "mark that crossed the trigger, ticks."),
            ("trigger_ts", "when the trigger was crossed, ns."),
            ("equity", "margin balance at mark_price, minor units."),
            (
                "maintenance_margin",
                "maintenance margin at mark_price (entry value: maintenance_basis), "
                "with margin.trigger_rate_added, minor units.",
            ),
            (
                "outcome",
                "`ok`, `margin_call`, `liquidate`, or `past_maintenance` (equity < MM with "
                "`risk.forced_closures` off: left as it is).",
            ),
        ),
    ),
    EventType(
        "margin_call",
        "The venue warned an account that equity is below margin_call_ratio x MM.",
        (
            ("account_id", "the account."),
            ("mark_price", "mark at the check, ticks."),
            ("equity", "margin balance, minor units."),
            ("maintenance_margin", "maintenance margin, minor units."),
            ("deliver_at", "when the call reaches the trader (check time + notify latency), ns."),
        ),
    ),
    EventType(
        "liquidation_triggered",
        "A margin check found equity < MM: the account is handed to the liquidation engine.",
        (
            ("account_id", "the account."),
            ("mark_price", "mark at the check, ticks."),
            ("position_lots", "signed position, lots."),
            ("equity", "margin balance at the mark, minor units."),
            (
                "maintenance_margin",
                "maintenance margin at the mark (entry value: maintenance_basis), "
                "with margin.trigger_rate_added, minor units.",
            ),
            ("shortfall", "maintenance_margin - equity: how far past the line it was caught."),
            ("bankruptcy_price_ticks", "price where equity = 0; null if none."),
        ),
    ),
    EventType(
        "margin_call_response",
        "A trader acted on a margin call it received (cause: the margin_call).",
        (
            ("account_id", "the account."),
            ("action", "`top_up`, `reduce` or `ignore`."),
            ("position_lots", "signed position when it acted, lots."),
        ),
    ),
)
