"""A market maker quoting a ladder around the index price it observes.

It watches the venue's index (with its own observation latency), and whenever its reference moves
by at least ``requote_threshold`` since its last quote it cancels its quotes and posts a fresh
ladder: ``levels`` bids and asks, the first ``half_spread`` from the reference and then every
``level_spacing``, each ``level_size``, skewed against its inventory by ``inventory_skew`` per
lot held. Its liquidity is what a liquidation cascade eats through.

When the venue itself cancels one of its live quotes (a self-trade cancel, or its own liquidation
or ADL cancelling its orders), it learns so from the response and re-posts the whole ladder at its
last reference at once, instead of leaving the book bare until the next index move.
"""

from __future__ import annotations

from exchange_sim.agents.config import MarketMakerConfig
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import CancelAll, Deposit, SubmitOrder


class MarketMaker:
    __slots__ = (
        "_cfg",
        "_env",
        "_gateway",
        "_live",
        "_next_order_id",
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
        self._requote(price, seq)

    def _requote(self, reference: int, cause: int) -> None:
        cfg = self._cfg
        send = self._gateway.send
        me = self.account_id
        send(me, CancelAll(), cause)
        live = self._live
        live.clear()
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
        if status == "filled":
            self._live.discard(order_id)
        elif status in ("cancelled", "expired", "rejected"):
            # Not asked for by this maker (its own cancels only hit quotes it already replaced).
            self._live.discard(order_id)
            if not self._requote_pending and self.last_reference is not None:
                self._requote_pending = True
                self._env.call_at(0, Phase.AGENT, self._requote_after_cancel, seq)

    def _requote_after_cancel(self, payload) -> None:
        self._requote_pending = False
        self._requote(self.last_reference, payload)

    def on_fill(self, now: int, seq: int, fill) -> None:
        self.inventory_lots += fill.side * fill.size_lots

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        self.inventory_lots += transfer.side * transfer.size_lots
