"""The causal cascade tree of a run: which liquidation fed which, and what started each chain.

Every event names its ``cause``. Walking causes back from a ``liquidation_triggered`` ends either
at an earlier liquidation, its **parent** (the chain was fed by it: its orders' fills moved the
touch or the last price a mark rule reads, an ADL moved a position, ...), or at a **root** of a
documented kind (:mod:`exchange_sim.events.roots`: an index move, a trader's own decision, a
funding payment or rate, a venue timer). ``generation`` is 0 for a liquidation whose chain
reaches a root and the parent's generation + 1 otherwise.

One rule beyond following causes: a ``trade`` against a resting **venue** order (the tiered
policy's limit at the bankruptcy price, tagged ``liquidation``) belongs to the liquidation that
placed that order, even though its cause is the taker's order.

**Through the mark.** A child is *fed through the mark* when its chain to the parent passes a
``mark_price``. A mark names as cause only an input its rule reads, so under a rule that reads no
trades or book (BitMEX's fair price, dYdX's oracle) no liquidation is fed through the mark.

The tree is built in one pass over the log (:class:`CascadeTree`): per event it keeps one small
int (what its chain leads to), never the events, so multi-GB logs stream through it.
"""

from __future__ import annotations

import csv
from array import array
from collections.abc import Iterable

from exchange_sim.core.errors import DataError
from exchange_sim.events.roots import ROOT_KIND_NAMES, root_kind_of

VENUE_TAGS = frozenset(("liquidation", "adl", "backstop", "takeover"))
_ROOT_CODE = {name: -(i + 1) for i, name in enumerate(ROOT_KIND_NAMES)}
_ROOT_NAME = {code: name for name, code in _ROOT_CODE.items()}
_CHAIN_STOPS = {kind: _ROOT_CODE[kind] for kind in ("funding_payment", "funding_rate")}
"""Event types that are roots even with a cause: the venue's funding schedule."""


class MalformedEvent(ValueError):
    """``(problem, value)``: an event the tree cannot place (a missing field, a cause that is
    not an earlier seq)."""


class Liquidation:
    """One node of the tree (a ``liquidation_triggered`` event)."""

    __slots__ = ("account_id", "generation", "parent", "root_kind", "seq", "through_mark", "ts")

    def __init__(self, seq, ts, account_id, parent, generation, root_kind, through_mark) -> None:
        self.seq = seq
        self.ts = ts
        self.account_id = account_id
        self.parent: int | None = parent
        """The parent liquidation's seq, ``None`` for a root."""
        self.generation = generation
        self.root_kind = root_kind
        """The kind of root its whole chain starts from (a fed liquidation inherits it)."""
        self.through_mark = through_mark


class CascadeTree:
    """Feed events in log order with :meth:`add` (or build with :func:`build_tree`)."""

    def __init__(self) -> None:
        # Per seq: >= 0 is 2 x (liquidation ordinal) + (1 if the path since it passed a mark);
        # < 0 is a root code. Four bytes an event; eight from the 2**30th liquidation on.
        self._leads_to = array("i")
        self._venue_orders: dict[int, int] = {}
        self.liquidations: list[Liquidation] = []

    def add(self, event: dict) -> None:
        """Take the next event; a malformed one raises :class:`MalformedEvent`."""
        try:
            self._add(event)
        except (KeyError, TypeError, IndexError) as exc:
            raise MalformedEvent(
                f"malformed {event.get('type')!r} event ({exc!r})", event
            ) from None

    def _add(self, event: dict) -> None:
        seq = event["seq"]
        if seq != len(self._leads_to):
            raise MalformedEvent(f"seq out of order: expected {len(self._leads_to)}", seq)
        kind = event["type"]
        cause = event["cause"]
        if cause is not None and (type(cause) is not int or not 0 <= cause < seq):
            raise MalformedEvent("cause must be null or an earlier seq", cause)
        stop = _CHAIN_STOPS.get(kind)
        if stop is not None:
            code = stop
        elif cause is None:
            code = _ROOT_CODE[root_kind_of(kind)]
        else:
            code = self._leads_to[cause]
            if kind == "trade" and event["maker_tag"] in VENUE_TAGS:
                code = self._venue_orders.get(event["maker_order_id"], code)
            elif kind == "mark_price" and code >= 0:
                code |= 1
        if kind == "order_accepted" and event["tag"] in VENUE_TAGS:
            self._venue_orders[event["order_id"]] = code
        elif kind == "liquidation_triggered":
            code = self._liquidation(event, code)
        try:
            self._leads_to.append(code)
        except OverflowError:  # past 2**30 liquidations: widen every code to eight bytes
            self._leads_to = array("q", self._leads_to)
            self._leads_to.append(code)

    def _liquidation(self, event: dict, code: int) -> int:
        if code >= 0:
            parent = self.liquidations[code >> 1]
            node = Liquidation(
                event["seq"],
                event["ts"],
                event["account_id"],
                parent.seq,
                parent.generation + 1,
                parent.root_kind,
                bool(code & 1),
            )
        else:
            node = Liquidation(
                event["seq"], event["ts"], event["account_id"], None, 0, _ROOT_NAME[code], False
            )
        self.liquidations.append(node)
        return (len(self.liquidations) - 1) << 1

    # -- results -------------------------------------------------------------------------------
    def summary(self) -> dict:
        """Counts: liquidations, roots by kind, how many were fed (and through the mark), the
        deepest generation and liquidations per generation."""
        per_generation: dict[int, int] = {}
        roots: dict[str, int] = dict.fromkeys(ROOT_KIND_NAMES, 0)
        fed = through_mark = 0
        for node in self.liquidations:
            per_generation[node.generation] = per_generation.get(node.generation, 0) + 1
            if node.parent is None:
                roots[node.root_kind] += 1
            else:
                fed += 1
                through_mark += node.through_mark
        return {
            "liquidations": len(self.liquidations),
            "roots": sum(roots.values()),
            "roots_by_kind": roots,
            "fed_by_liquidations": fed,
            "fed_through_mark": through_mark,
            "deepest_generation": max(per_generation, default=0),
            "per_generation": {str(g): per_generation[g] for g in sorted(per_generation)},
        }

    def parents(self) -> dict[int, int | None]:
        """``liquidation_triggered`` seq -> parent seq (``None`` for a root)."""
        return {node.seq: node.parent for node in self.liquidations}

    def generations(self) -> dict[int, int]:
        """``liquidation_triggered`` seq -> generation (0 for roots)."""
        return {node.seq: node.generation for node in self.liquidations}

    def write_edges(self, path: str) -> int:
        """Write the parent -> child edge list as CSV; return the number of edges."""
        by_seq = {node.seq: node for node in self.liquidations}
        count = 0
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                [
                    "parent_seq",
                    "child_seq",
                    "parent_account_id",
                    "child_account_id",
                    "parent_ts_ns",
                    "child_ts_ns",
                    "child_generation",
                    "through_mark",
                    "root_kind",
                ]
            )
            for node in self.liquidations:
                if node.parent is None:
                    continue
                parent = by_seq[node.parent]
                writer.writerow(
                    [
                        parent.seq,
                        node.seq,
                        parent.account_id,
                        node.account_id,
                        parent.ts,
                        node.ts,
                        node.generation,
                        int(node.through_mark),
                        node.root_kind,
                    ]
                )
                count += 1
        return count


def build_tree(events: Iterable[dict], path: str = "events") -> CascadeTree:
    """The tree of a whole log (an iterable of event dicts in seq order, e.g. a stream); a
    malformed event is a :class:`DataError` naming ``path:line``."""
    tree = CascadeTree()
    for line, event in enumerate(events, start=1):
        try:
            tree.add(event)
        except MalformedEvent as exc:
            problem, value = exc.args
            raise DataError(f"{path}:{line}", value, problem) from None
    return tree


def parents(events: Iterable[dict]) -> dict[int, int | None]:
    """``liquidation_triggered`` seq -> parent ``liquidation_triggered`` seq (``None``: a root)."""
    return build_tree(events).parents()


def generations(events: Iterable[dict]) -> dict[int, int]:
    """``liquidation_triggered`` seq -> generation (0 for roots)."""
    return build_tree(events).generations()


def summary(events: Iterable[dict]) -> dict:
    """:meth:`CascadeTree.summary` of a whole log."""
    return build_tree(events).summary()
