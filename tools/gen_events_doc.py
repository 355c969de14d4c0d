"""Generate docs/events.md from the event schema: ``python tools/gen_events_doc.py``.

With ``--check`` it exits 1 when docs/events.md is out of date (the test suite runs the check).
"""

from __future__ import annotations

import os
import sys

from exchange_sim.events.roots import ROOT_KINDS
from exchange_sim.events.types import COMMON_FIELDS
from exchange_sim.runner.event_catalog import event_types

DOC = os.path.join(os.path.dirname(__file__), "..", "docs", "events.md")

HEADER = """# Event log schema

Generated from the code by `python tools/gen_events_doc.py`; do not edit by hand (a test checks it).

A run's `events.jsonl` has one JSON object per line. Every line has these fields first:

| field | meaning |
|---|---|
{common}

Units: prices are integer **ticks** of the instrument's `tick_size`, sizes integer **lots** of its
`lot_size`, money integer **minor units** of the settlement asset (`10^-money_decimals`), rates
integer **parts per billion**, times integer **nanoseconds**. `config.toml` in the run directory
holds the scale. The first line is always `run_start` and the last `run_end`, whose
`digest_sha256` is the sha256 of every byte before it.

Several perpetuals: in a venue with `perpetuals[]`, every event written by one of those additional
perpetuals (its book, index, mark, accounts, risk monitor, funding and liquidation engine, and the
participants trading it: their `trader_entry`, `trader_exit`, `margin_call_response` and
`maker_state`) has one more field right after `cause`, `instrument`: that perpetual's symbol.
The first perpetual's events (the instrument's), the spot markets' and the run's have none. A
cross account's `liquidation_triggered` is written by the perpetual whose position is closed
first, caused by the `margin_check` of whichever market found it (so a cause chain can cross
instruments).

Same-instant order: work at one `ts` runs in the order of the kernel's phases (index, match, feed,
mark, margin, liquidate, funding, agent; see `exchange_sim/kernel/environment.py`), then in the
order it was scheduled. Work *caused* within an instant by a later phase's event runs right after
its cause, in that instant: a funding payment that puts an account past its liquidation price is
followed at once by its `margin_check` (zero check latency), so that check appears among the funding
events. Follow `cause` for the causal order.
"""


ROOTS_HEADER = """## Root kinds

Following `cause` back from any event ends at a liquidation (the chain was fed by it) or at a
**root**: an event with no cause, or a `funding_payment` or `funding_rate` (a chain through
either stops there: the venue settles and fixes them on its funding schedule).
`exchange-sim cascade` counts liquidations by the kind of root their chain starts from
(`exchange_sim/events/roots.py`); a participant's command names what it reacted to (a market-data
view, an index update, a margin call), so only a decision of its own is a `trader_decision`.

| kind | what it is | root events |
|---|---|---|"""


def render() -> str:
    common = "\n".join(f"| `{name}` | {doc} |" for name, doc in COMMON_FIELDS)
    rows = []
    for kind in ROOT_KINDS:
        types = ", ".join(f"`{t}`" for t in kind.types) or "any other uncaused event"
        rows.append(f"| `{kind.name}` | {kind.doc} | {types} |")
    parts = [HEADER.format(common=common), "\n" + ROOTS_HEADER + "\n" + "\n".join(rows) + "\n"]
    for event_type in event_types().values():
        parts.append(f"\n## `{event_type.name}`\n\n{event_type.doc}\n")
        if event_type.fields:
            rows = "\n".join(f"| `{name}` | {doc} |" for name, doc in event_type.fields)
            parts.append(f"\n| field | meaning |\n|---|---|\n{rows}\n")
    return "".join(parts)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        with open(DOC, encoding="utf-8") as handle:
            if handle.read() != text:
                print("docs/events.md is out of date: run python tools/gen_events_doc.py")
                return 1
        return 0
    with open(DOC, "w", encoding="utf-8") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
