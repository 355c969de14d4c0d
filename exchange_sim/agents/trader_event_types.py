"""Event types of traders' own decisions: entries and exits of the trader groups, the hunter's
estimates and pushes, the oracle manipulator's sweeps.

A decision's ``cause`` is what it reacted to (the index update, the trade or market-data view, the
fill, the margin-call response, the liquidation notice); a decision on the trader's own timer or
draw has cause ``null`` (root kind ``trader_decision``: every type here is listed in
:data:`~exchange_sim.events.roots.TRADER_DECISION_TYPES`). The orders a decision sends name the
decision event as their cause, so a chain reads: order -> decision -> what was observed.
"""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "trader_entry",
        "A member of a trader group decided to open a position (cause: the price update whose "
        "signal crossed its threshold, or the `trader_exit` a re-entry follows).",
        (
            ("account_id", "the account."),
            ("participant", "the group's name."),
            ("reason", "`trend`, `dip`, `premium` (carry) or `reentry`."),
            ("side", "1 buys (long), -1 sells (short)."),
            ("lots", "size of the market order it sends, lots."),
            ("price_ticks", "the observed price it sized the order from, ticks."),
            (
                "signal_ppb",
                "the signal that crossed its threshold, ppb (trend: price change over the "
                "lookback; dip: minus the drop from the high; premium: mid vs index); null for a "
                "re-entry.",
            ),
        ),
    ),
    EventType(
        "trader_exit",
        "A member of a trader group closed (or, after a margin call, cut) its position, or learnt "
        "that the venue closed it (cause: the price update that crossed its stop or target, the "
        "margin_call_response, the fill or position transfer that left it flat; null for a "
        "holding time that ran out).",
        (
            ("account_id", "the account."),
            ("participant", "the group's name."),
            (
                "reason",
                "`stop_loss`, `take_profit`, `holding_time`, `signal_faded`, "
                "`margin_call_reduce`, `premium_normalised`, `liquidated`, `deleveraged`, "
                "`taken_over` or `closed` (its own order left it flat unasked).",
            ),
            ("position_lots", "signed position it knew before the exit, lots."),
            ("lots", "size of the reduce-only market order it sent; 0 when the venue closed it."),
            ("price_ticks", "the observed price it acted on, ticks; null when none (a timer)."),
            ("entry_price_ticks", "its average entry price, ticks, floored; null if unknown."),
        ),
    ),
    EventType(
        "hunter_estimate",
        "The liquidation hunter's estimate of the nearest liquidation cluster and its decision, "
        "logged when either changes (cause: the market-data view it evaluated, on its timer).",
        (
            ("account_id", "the hunter's account."),
            ("cluster_side", "1: longs' liquidations below the price; -1: shorts' above."),
            ("cluster_price_ticks", "lower edge (longs) or upper edge (shorts) of the bucket."),
            ("cluster_lots", "estimated lots liquidating in the bucket."),
            ("distance_ppb", "distance from the last trade price to the cluster, ppb."),
            ("depth_lots", "visible resting lots between the last trade price and the cluster."),
            ("price_ticks", "last trade price, ticks."),
            ("decision", "`push`, `too_deep`, `too_small`, `unseen` (beyond the visible depth)."),
        ),
    ),
    EventType(
        "hunter_push",
        "The hunter sold (bought) aggressively to push the price into the estimated cluster "
        "(cause: the market-data view that showed the thin book).",
        (
            ("account_id", "the hunter's account."),
            ("side", "side of its IOC order: -1 sells into a long cluster, 1 buys."),
            ("lots", "size of the IOC order, lots."),
            ("limit_price_ticks", "limit of the IOC order, ticks."),
            ("cluster_price_ticks", "the cluster's edge, ticks."),
            ("cluster_lots", "estimated lots liquidating in the cluster."),
        ),
    ),
    EventType(
        "hunter_exit",
        "The hunter closed its push position (cause: the last liquidation notice it saw when the "
        "cascade went quiet; null when its holding limit ran out with no cascade).",
        (
            ("account_id", "the hunter's account."),
            ("reason", "`cascade_over` or `no_cascade`."),
            ("position_lots", "signed position it knew when it exited, lots."),
            ("liquidations_seen", "liquidation notices received since the push."),
            ("liquidated_lots", "lots of those notices."),
        ),
    ),
    EventType(
        "manipulator_sweep",
        "The oracle manipulator sent one IOC order through the spot book it pushes, to move that "
        "index source (cause: the depth view it sized the order from).",
        (
            ("account_id", "the manipulator's spot account."),
            ("market", "the spot market it pushes."),
            ("push", "number of the push, from 0."),
            ("side", "side of its IOC order: -1 sells (pushes down), 1 buys."),
            ("lots", "size of the IOC order, lots: the visible lots up to its limit, capped."),
            ("limit_price_ticks", "limit of the IOC order, ticks."),
            ("anchor_price_ticks", "the touch it saw when the push began, ticks."),
            ("touch_price_ticks", "the touch it saw when it sized this order, ticks."),
            ("budget_left_minor", "the push's budget left once this order is counted, money."),
        ),
    ),
)
