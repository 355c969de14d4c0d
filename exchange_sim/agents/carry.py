"""Carry traders: take the side that receives funding while the perpetual trades away from the
index, and unwind when the premium normalises.

The venue computes funding from the premium of its book over the index; these traders can see
only what the venue publishes, so they watch the same thing: the mid of the top of book on their
feed and the index on their index subscription, each after their observation latency. The signal
is the mid premium ``((bid + ask)/2 - index) / index`` in ppb, floored
(:func:`~exchange_sim.funding.premium.mid_premium_ppb`), recomputed on each of the two updates.
Past a member's threshold it goes **short when the perpetual trades rich** (longs pay funding)
and long when cheap, at most ``max_position`` lots sized at the index; it unwinds when the
premium falls below ``exit_fraction`` of its threshold, and is stopped out when the mid moves
``stop_loss`` against it (what squeezes it when the premium keeps widening). Its selling into a
rich book is what carries a large basis back. Entries and exits name the update (index or book
view) whose premium crossed the level.
"""

from __future__ import annotations

from exchange_sim.agents.signal_group import SignalGroup
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.funding.premium import mid_premium_ppb


class CarryTraderGroup(SignalGroup):
    ORIENTATION = -1
    ENTRY_REASON = "premium"
    FADE_REASON = "premium_normalised"

    __slots__ = ("ask", "bid", "index")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.bid: int | None = None
        self.ask: int | None = None
        self.index: int | None = None

    def on_index(self, now: int, update) -> None:
        """Index subscription."""
        self.index = update.price_ticks
        self._evaluate(update.seq)

    def on_snapshot(self, now: int, snapshot) -> None:
        """Feed handler, top of book."""
        bid, ask = snapshot.best_bid, snapshot.best_ask
        self.bid, self.ask = bid, ask
        if bid is not None and ask is not None:
            self.holdings.observe(
                div_round(bid + ask, 2, DOWN),
                snapshot.seq,
                div_round(bid + ask, 2, UP),
                snapshot.seq,
            )
        self._evaluate(snapshot.seq)

    def _evaluate(self, seq: int | None) -> None:
        bid, ask, index = self.bid, self.ask, self.index
        if bid is None or ask is None or index is None:
            return
        self.price, self.price_seq = div_round(bid + ask, 2, DOWN), seq
        self._on_signal(mid_premium_ppb(bid, ask, index), seq, index)
