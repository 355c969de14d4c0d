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

from typing import ClassVar

import attrs

from exchange_sim.matching.orders import BUY, GTC, SELL, Order
from exchange_sim.sim.kernel import Phase, PhasedTimeout
from exchange_sim.sim.latency import ConstantLatency, LatencyModel, LinkLatency, constant_link
from exchange_sim.venue.gateway import CANCEL_ALL, SUBMIT


@attrs.frozen(kw_only=True)
class MarketMakerConfig:
    KIND: ClassVar[str] = "market_maker"
    name: str = attrs.field(default="mm", metadata={"help": "participant name"})
    levels: int = attrs.field(
        default=10, metadata={"min": 1, "max": 100_000, "help": "quotes per side"}
    )
    half_spread: int = attrs.field(
        default=5,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "reference to first quote",
            "user_default": "0.5",
        },
    )
    level_spacing: int = attrs.field(
        default=5,
        metadata={
            "unit": "price",
            "min": 1,
            "help": "distance between levels",
            "user_default": "0.5",
        },
    )
    level_size: int = attrs.field(
        default=500,
        metadata={"unit": "size", "min": 1, "help": "size of each quote"},
    )
    requote_threshold: int = attrs.field(
        default=5,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "move that triggers a requote",
            "user_default": "0.5",
        },
    )
    inventory_skew: int = attrs.field(
        default=0,
        metadata={
            "unit": "price",
            "min": 0,
            "help": "quote shift per lot held",
            "user_default": "0",
        },
    )
    index_latency: LatencyModel = attrs.field(
        factory=lambda: ConstantLatency(value=1_000_000),
        metadata={"help": "delay before it sees a new index price"},
    )
    deposit: int = attrs.field(
        default=10_000_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "deposit"},
    )
    leverage: int = attrs.field(default=20, metadata={"min": 1, "help": "leverage of each account"})
    latency: LinkLatency = attrs.field(
        factory=constant_link(2_000_000), metadata={"help": "order link"}
    )


class MarketMaker:
    __slots__ = (
        "_cfg",
        "_env",
        "_gateway",
        "_index_latency",
        "_live",
        "_next_order_id",
        "_requote_pending",
        "account_id",
        "inventory_lots",
        "last_reference",
        "quotes_sent",
    )

    def __init__(
        self, env, gateway, config: MarketMakerConfig, account_id: int, next_order_id, index_latency
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._cfg = config
        self._next_order_id = next_order_id
        self._index_latency = index_latency
        self.account_id = account_id
        self.inventory_lots = 0
        self.last_reference: int | None = None
        self.quotes_sent = 0
        self._live: set[int] = set()
        self._requote_pending = False

    def start(self) -> None:
        return None

    def on_index(self, now: int, price: int, seq: int) -> None:
        """Index listener: the maker sees the price after its observation latency."""
        event = PhasedTimeout(self._env, self._index_latency.draw(), Phase.AGENT, (price, seq))
        event.callbacks.append(self._observe)

    def _observe(self, event) -> None:
        price, seq = event._value
        last = self.last_reference
        if last is not None and abs(price - last) < self._cfg.requote_threshold:
            return
        self.last_reference = price
        self._requote(price, seq)

    def _requote(self, reference: int, cause: int) -> None:
        cfg = self._cfg
        send = self._gateway.send
        me = self.account_id
        ts = self._env.now
        send(me, (CANCEL_ALL,), cause)
        live = self._live
        live.clear()
        center = reference - self.inventory_lots * cfg.inventory_skew
        for level in range(cfg.levels):
            offset = cfg.half_spread + level * cfg.level_spacing
            bid = center - offset
            if bid >= 1:
                order = Order(
                    self._next_order_id(), me, BUY, bid, cfg.level_size, tif=GTC, ts_sent=ts
                )
                send(me, (SUBMIT, order), cause)
                live.add(order.order_id)
            ask = center + max(offset, 1)
            order = Order(self._next_order_id(), me, SELL, ask, cfg.level_size, tif=GTC, ts_sent=ts)
            send(me, (SUBMIT, order), cause)
            live.add(order.order_id)
        self.quotes_sent += 1

    def on_order_update(self, now, seq, order, status) -> None:
        if order is None or order.order_id not in self._live:
            return
        if status == "filled":
            self._live.discard(order.order_id)
        elif status in ("cancelled", "expired", "rejected"):
            # Not asked for by this maker (its own cancels only hit quotes it already replaced).
            self._live.discard(order.order_id)
            if not self._requote_pending and self.last_reference is not None:
                self._requote_pending = True
                event = PhasedTimeout(self._env, 0, Phase.AGENT, seq)
                event.callbacks.append(self._requote_after_cancel)

    def _requote_after_cancel(self, event) -> None:
        self._requote_pending = False
        self._requote(self.last_reference, event._value)

    def on_fill(self, now, seq, order, price, size) -> None:
        self.inventory_lots += order.side * size
