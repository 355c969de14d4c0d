"""A market maker quoting a ladder around the index price it observes.

It watches the venue's index (with its own observation latency), and whenever its reference moves
by at least ``requote_threshold`` since its last quote it cancels its quotes and posts a fresh
ladder: ``levels`` bids and asks, the first ``half_spread`` from the reference and then every
``level_spacing``, each ``level_size``, skewed against its inventory by ``inventory_skew`` per
lot held. Its liquidity is what a liquidation cascade eats through.

When the venue itself cancels one of its live quotes (a self-trade cancel, or its own liquidation
or ADL cancelling its orders), it learns so from the response and re-posts the whole ladder at its
last reference at once, instead of leaving the book bare until the next index move.

**Rejections back off.** A rejected quote (no margin left, a halted market) does not bring a new
ladder at once: the maker posts nothing for ``reject_backoff``, doubling per rejected ladder in a
row up to ``reject_backoff_max``, then quotes again at its last reference; a quote accepted
resets the doubling. (Re-posting at once made a maker out of margin log tens of thousands of
rejections a simulated second.)
"""

from __future__ import annotations

from exchange_sim.agents.config import MarketMakerConfig
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import CancelAll, Deposit, SubmitOrder


class MarketMaker:
    __slots__ = (
        "_backoff_until",
        "_cfg",
        "_env",
        "_gateway",
        "_ladder",
        "_live",
        "_next_order_id",
        "_rejected_ladder",
        "_rejected_streak",
        "_requote_pending",
        "account_id",
        "inventory_lots",
        "last_reference",
        "quotes_sent",
    )

    def __init__(
        self, env, gateway, config: MarketMakerConfig, account_id: int, next_order_id
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._cfg = config
        self._next_order_id = next_order_id
        self.account_id = account_id
        self.inventory_lots = 0
        self.last_reference: int | None = None
        self.quotes_sent = 0
        self._live: set[int] = set()
        self._requote_pending = False
        self._ladder = 0
        """Number of the current ladder (one per requote)."""
        self._rejected_ladder = 0
        """The last ladder a rejection was counted for (one count per ladder)."""
        self._rejected_streak = 0
        self._backoff_until = 0

    def start(self) -> None:
        if self._cfg.deposit:
            self._gateway.send(self.account_id, Deposit(self._cfg.deposit), None)
        if self._cfg.base_deposit:
            self._gateway.send(self.account_id, Deposit(self._cfg.base_deposit, asset="base"), None)

    def on_index(self, now: int, update) -> None:
        """Index subscription: the maker sees each price after its ``index_latency``."""
        price, seq = update.price_ticks, update.seq
        last = self.last_reference
        if last is not None and abs(price - last) < self._cfg.requote_threshold:
            return
        self.last_reference = price
        if now < self._backoff_until:
            return  # the ladder comes back at the end of the back-off, at the last reference
        self._requote(price, seq)

    def _requote(self, reference: int, cause: int) -> None:
        cfg = self._cfg
        send = self._gateway.send
        me = self.account_id
        send(me, CancelAll(), cause)
        live = self._live
        live.clear()
        self._ladder += 1
        center = reference - self.inventory_lots * cfg.inventory_skew
        for level in range(cfg.levels):
            offset = cfg.half_spread + level * cfg.level_spacing
            bid = center - offset
            if bid >= 1:
                order = SubmitOrder(self._next_order_id(), BUY, bid, cfg.level_size)
                send(me, order, cause)
                live.add(order.order_id)
            ask = center + max(offset, 1)
            order = SubmitOrder(self._next_order_id(), SELL, ask, cfg.level_size)
            send(me, order, cause)
            live.add(order.order_id)
        self.quotes_sent += 1

    def on_order_update(self, now: int, seq: int, update) -> None:
        order_id, status = update.order_id, update.status
        if order_id not in self._live:
            return
        if status == "accepted":
            self._rejected_streak = 0
        elif status == "filled":
            self._live.discard(order_id)
        elif status == "rejected":
            self._live.discard(order_id)
            if self._rejected_ladder != self._ladder:
                self._rejected_ladder = self._ladder
                self._back_off(now, seq)
        elif status in ("cancelled", "expired"):
            # Not asked for by this maker (its own cancels only hit quotes it already replaced).
            self._live.discard(order_id)
            if not self._requote_pending and self.last_reference is not None:
                self._requote_pending = True
                self._env.call_at(0, Phase.AGENT, self._requote_after_cancel, seq)

    def _requote_after_cancel(self, payload) -> None:
        self._requote_pending = False
        if self._env.now >= self._backoff_until:
            assert self.last_reference is not None  # scheduled only once a reference is known
            self._requote(self.last_reference, payload)

    def _back_off(self, now: int, cause: int) -> None:
        """A ladder was rejected: cancel what is left of it and post nothing for a while."""
        cfg = self._cfg
        self._rejected_streak += 1
        shift = min(self._rejected_streak - 1, 62)
        pause = min(cfg.reject_backoff_max, cfg.reject_backoff << shift)
        self._backoff_until = now + pause
        self._gateway.send(self.account_id, CancelAll(), cause)
        self._live.clear()
        self._env.call_at(pause, Phase.AGENT, self._resume, cause)

    def _resume(self, cause) -> None:
        if self._env.now >= self._backoff_until and self.last_reference is not None:
            self._requote(self.last_reference, cause)

    def on_fill(self, now: int, seq: int, fill) -> None:
        self.inventory_lots += fill.side * fill.size_lots

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        self.inventory_lots += transfer.side * transfer.size_lots
