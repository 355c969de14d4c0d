"""Event types of the venue itself: interventions on the timeline."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "intervention",
        "The venue (or an outage) changed the rules at a scheduled time; `cause` is null (root "
        "kind `intervention`), or, for the end of a timed one, its start.",
        (
            (
                "action",
                "`halt`, `resume`, `liquidation_outage`, `liquidation_restore`, `oracle_outage`, "
                "`oracle_restore`, `margin_rates`, `price_band` or `fund_top_up`. Overlapping "
                "halts of one market (or oracle outages) nest: trading (publication) restarts at "
                "the last one's end.",
            ),
            ("market", "the market halted or resumed (empty for the others)."),
            ("until_ns", "when a timed one ends, ns; null when it lasts."),
            ("factor_ppb", "`margin_rates`: the maintenance-rate factor, ppb; else null."),
            ("band_ppb", "`price_band`: the new band, ppb; else null."),
            ("amount", "`fund_top_up`: money added to the fund, minor units; else null."),
        ),
    ),
)
