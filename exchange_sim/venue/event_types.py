"""Event types of the venue itself: interventions on the timeline and stress policies."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "intervention",
        "The venue (or an outage) changed the rules at a scheduled time; `cause` is null (root "
        "kind `intervention`), or, for the end of a timed one, its start, or, for a circuit "
        "breaker's halt, its `stress_policy` trip.",
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
    EventType(
        "stress_policy",
        "A reactive stress-mitigation policy acted (`[stress]`); `cause` is the input it read: "
        "the `mark_price` (or `trade`) that tripped the circuit breaker, the latest "
        "`mark_price` a margin recomputation read, the trip for a band's restore, the "
        "`liquidation_triggered` of the account whose start a new liquidation pace follows.",
        (
            (
                "policy",
                "`circuit_breaker`, `dynamic_margin` or `liquidation_throttle`.",
            ),
            (
                "action",
                "`trip` (circuit breaker; a halt follows as an `intervention` caused by it, or "
                "the band changes), `band_restore`, `margin_scale` (maintenance rates are the "
                "configured ones times `factor_ppb` from now) or `pace` (a new gap between "
                "liquidation starts).",
            ),
            ("value_ppb", "`trip`: the price's move; `margin_scale`: realised volatility, ppb."),
            ("threshold_ppb", "the configured move or volatility threshold, ppb; else null."),
            ("share_ppb", "`margin_scale`: largest account's share of open interest, ppb."),
            ("factor_ppb", "`margin_scale`: the maintenance-rate factor, ppb; else null."),
            ("band_ppb", "`trip` with a band / `band_restore`: the band set, ppb; else null."),
            ("until_ns", "`trip`: when the breaker re-arms, ns; else null."),
            ("gap_ns", "`pace`: ns between two liquidation starts from now; else null."),
            ("depth_lots", "`pace`: resting lots within the depth band that set it; else null."),
        ),
    ),
)
