"""Root kinds: where a causal chain starts when it does not start at a liquidation.

Every event's ``cause`` is the event it was caused by, so following causes back from any event
ends either at a liquidation (the chain was fed by it) or at a **root**: an event with no cause,
or a funding payment or funding rate (the venue settles and fixes them on its own schedule,
whatever the rate was computed from). The root's kind says what started the chain;
``docs/events.md`` lists them and ``exchange-sim cascade`` counts liquidations by the kind of
their root.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class RootKind:
    name: str
    doc: str
    types: tuple[str, ...] = ()
    """The event types that are roots of this kind (an empty tuple: any other uncaused event)."""


PARTICIPANT_COMMAND_TYPES = (
    "order_accepted",
    "order_rejected",
    "order_cancelled",
    "cancel_rejected",
    "order_amended",
    "amend_rejected",
    "deposit",
    "deposit_rejected",
    "withdrawal",
    "withdrawal_rejected",
)
"""Events that answer a participant's command: uncaused, they are its own decision."""

PARTICIPANT_STATE_TYPES = ("maker_state", "metaorder")
"""A participant's own logged decisions: uncaused, they came from its own timer."""
TRADER_DECISION_TYPES = (
    "trader_entry",
    "trader_exit",
    "hunter_estimate",
    "hunter_push",
    "hunter_exit",
    "manipulator_sweep",
)
"""Traders' logged decisions (``agents/trader_event_types.py``): uncaused, they are its own
timer's (a holding time that ran out)."""

ROOT_KINDS = (
    RootKind(
        "index_move",
        "An `index_price` with no cause: a move of the underlying from outside the venue (a "
        "sampled, scripted, replayed or pushed index price).",
        ("index_price",),
    ),
    RootKind(
        "fundamental_move",
        "A `fundamental_price` with no cause: the latent value of the underlying moved (only "
        "participants who watch it see it; prices follow when they trade).",
        ("fundamental_price",),
    ),
    RootKind(
        "news",
        "A `news` item: the fundamental value jumped (a scenario's headline).",
        ("news",),
    ),
    RootKind(
        "trader_decision",
        "A participant's command or logged decision with no cause: it acted on its own timer "
        "or random draw, reacting to nothing it observed (a noise trader's market order, a "
        "limit order's expiry cancel, an account's initial deposit, a holding time that ran out, "
        "a maker's size growing back after a cut, a metaorder's start).",
        PARTICIPANT_COMMAND_TYPES + PARTICIPANT_STATE_TYPES + TRADER_DECISION_TYPES,
    ),
    RootKind(
        "intervention",
        "An `intervention` with no cause: the venue changed the rules on its timeline (a halt, "
        "an outage, new margin rates, a band, a fund top-up).",
        ("intervention",),
    ),
    RootKind(
        "collateral_move",
        "A `collateral_price` with no cause: a collateral asset's price feed (`oracle`) or its "
        "redemption rate published a value the venue now marks the asset at (a `book` price "
        "names the trade of the asset's book that set it).",
        ("collateral_price",),
    ),
    RootKind(
        "funding_payment",
        "A `funding_payment`: the venue's scheduled settlement between longs and shorts. A chain "
        "through a payment stops there (its rate came from premium samples, but the payment is "
        "made on the funding schedule).",
        ("funding_payment",),
    ),
    RootKind(
        "funding_rate",
        "A `funding_rate` under `funding.rule.in_maintenance_margin` (BitMEX): the rate just "
        "fixed was added to the paying side's maintenance margin, which re-priced every position. "
        "A chain through the rate stops there (it came from premium samples, but the venue "
        "fixes it on the funding schedule).",
        ("funding_rate",),
    ),
    RootKind(
        "venue_timer",
        "Any other event with no cause: the venue acting on its own clock before reading any "
        "input (e.g. a mark computed before the first index or trade).",
    ),
)

ROOT_KIND_NAMES = tuple(kind.name for kind in ROOT_KINDS)
_KIND_OF_TYPE = {event_type: kind.name for kind in ROOT_KINDS for event_type in kind.types}


def root_kind_of(event_type: str) -> str:
    """The root kind of an uncaused event of ``event_type`` (or of a funding payment or rate)."""
    return _KIND_OF_TYPE.get(event_type, "venue_timer")
