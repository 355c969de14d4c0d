"""The causal cascade tree of a run: which liquidations were fed by earlier liquidations.

For each ``liquidation_triggered`` event we walk its ``cause`` chain back (margin check, mark
price, ...). When the chain reaches a ``trade`` in which a venue risk order took part (tagged
``liquidation``: the engine's, the fund's or the vault's), the walk continues through that order's
own chain to the liquidation that sent it: that liquidation is the **parent**. A chain that ends
at an exogenous event (an index move, a trader's own order) makes a **root**. ``generation`` is 0
for a root and parent's generation + 1 otherwise.

The mark's cause is the latest input before it (see ``venue/mark_service.py``), so a parent link
says "the last thing that moved the market before this mark was that liquidation's fill": an
attribution by time, which is what a causal log can state without a counterfactual run.
"""

from __future__ import annotations

VENUE_TAGS = frozenset(("liquidation", "adl", "backstop", "takeover"))


def _accept_seqs(events: list[dict]) -> dict[int, int]:
    return {e["order_id"]: e["seq"] for e in events if e["type"] == "order_accepted"}


def parents(events: list[dict]) -> dict[int, int | None]:
    """``liquidation_triggered`` seq -> parent ``liquidation_triggered`` seq (``None``: a root)."""
    accepted = _accept_seqs(events)
    result: dict[int, int | None] = {}
    for event in events:
        if event["type"] != "liquidation_triggered":
            continue
        seq = event["cause"]
        seen: set[int] = set()
        parent = None
        via_venue = False
        while seq is not None and seq not in seen:
            seen.add(seq)
            node = events[seq]
            kind = node["type"]
            if kind == "liquidation_triggered":
                parent = seq if via_venue else None
                break
            if kind == "trade":
                if node.get("taker_tag") in VENUE_TAGS:
                    via_venue = True
                elif node.get("maker_tag") in VENUE_TAGS:
                    via_venue = True
                    seq = accepted.get(node["maker_order_id"])
                    continue
                else:
                    break
            seq = node["cause"]
        result[event["seq"]] = parent
    return result


def generations(events: list[dict]) -> dict[int, int]:
    """``liquidation_triggered`` seq -> generation (0 for roots)."""
    parent_of = parents(events)
    generation: dict[int, int] = {}
    for seq in sorted(parent_of):
        parent = parent_of[seq]
        generation[seq] = 0 if parent is None else generation.get(parent, 0) + 1
    return generation


def summary(events: list[dict]) -> dict:
    """Counts per generation, roots, and the longest chain of liquidations feeding liquidations."""
    generation = generations(events)
    per_generation: dict[int, int] = {}
    for value in generation.values():
        per_generation[value] = per_generation.get(value, 0) + 1
    fed = sum(count for gen, count in per_generation.items() if gen > 0)
    return {
        "liquidations": len(generation),
        "roots": per_generation.get(0, 0),
        "fed_by_liquidations": fed,
        "deepest_generation": max(per_generation, default=0),
        "per_generation": {str(gen): per_generation[gen] for gen in sorted(per_generation)},
    }
