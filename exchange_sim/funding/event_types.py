"""Event types of the funding process (premium samples, interval rates, payments, residue)."""

from exchange_sim.events.types import EventType

EVENTS = (
    EventType(
        "premium_sample",
        "One premium sample of the funding rule (exchange_mechanics.md §6.1, §6.5-§6.7).",
        (
            (
                "bid_ticks",
                "impact bid (best bid for the `mid` formula) as exact `[numerator, denominator]` "
                "ticks (on a grid so fine that they pass 64 bits, the nearest fraction whose "
                "terms fit); `null` when the book could not fill the impact notional.",
            ),
            ("ask_ticks", "impact ask (best ask for `mid`), as `bid_ticks`."),
            ("reference", "which price the bid and ask are compared with: index, mark or oracle."),
            ("reference_ticks", "that reference price, ticks."),
            (
                "index_ticks",
                "the price the premium is divided by, ticks: the index, or the oracle when "
                "`reference` is oracle.",
            ),
            ("premium_ppb", "the premium, parts per billion, floored."),
        ),
    ),
    EventType(
        "funding_rate",
        "The funding rate of one interval, computed at its end from the interval's samples, or "
        "`rate_fixed_before` ahead of the funding timestamp (OKX §6.5), which then pays it.",
        (
            ("interval_start_ts", "start of the window whose samples were averaged, ns."),
            (
                "interval_end_ts",
                "end of that window: the funding timestamp, or the fix `rate_fixed_before` "
                "ahead of it, ns.",
            ),
            ("sample_count", "number of premium samples averaged (before any zero padding)."),
            ("average_premium_ppb", "the averaged premium, ppb."),
            ("interest_ppb", "interest rate I per rate period (8 h), ppb."),
            ("formula_rate_ppb", "the formula rate per rate period (8 h) before the cap, ppb."),
            ("uncapped_rate_ppb", "the rate for this interval before the cap, ppb."),
            ("rate_ppb", "the rate paid for this interval after the cap, ppb."),
            ("cap_ppb", "the cap (and negated floor) applied, ppb; `null` if uncapped."),
            ("capped", "1 if the cap changed the rate, else 0."),
        ),
    ),
    EventType(
        "funding_payment",
        "One account's funding payment at a funding timestamp (positions open at that instant).",
        (
            ("account", "account id."),
            ("size_lots", "the account's position, lots (long > 0, short < 0)."),
            ("price_ticks", "settlement price (mark, oracle or index per the rule), ticks."),
            ("rate_ppb", "the rate paid, ppb (positive: longs pay shorts)."),
            (
                "amount_minor",
                "money minor units from the account's side (negative: the account pays); "
                "floored, so payers round up and receivers down.",
            ),
        ),
    ),
    EventType(
        "funding_residue",
        "The rounding residue of one settlement, credited to the exchange's funding residue "
        "ledger; the settlement's payments plus this residue sum to exactly 0.",
        (
            ("ledger", "name of the ledger credited (`funding_residue`)."),
            ("residue_minor", "money minor units, >= 0 and < `payment_count`."),
            ("payment_count", "number of `funding_payment` events of this settlement."),
            ("rate_ppb", "the rate paid, ppb."),
            ("price_ticks", "settlement price, ticks."),
        ),
    ),
)
