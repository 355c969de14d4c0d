"""Noise traders: independent Poisson order flow from a group of accounts.

A group of ``count`` traders, each sending orders at ``rate_per_second`` on average, is simulated
as one Poisson stream of rate ``count * rate_per_second`` whose orders are assigned to a uniformly
drawn member (statistically the same, and one process instead of ``count``). Each order is, with
probability ``market_fraction``, a market order; otherwise a GTC limit order placed passively
between 0 and ``limit_offset_max`` from the touch it last saw on the feed, cancelled after
``limit_lifetime`` if still open. Side is a fair coin; size uniform in ``[size_min, size_max]``.

Causes: a market order and an expiry cancel come from the group's own draws and timer (a root
of kind ``trader_decision``: their cause is ``null``); a limit order is priced off the touch it
last saw, so its cause is that market-data view's ``seq``. On a spot market (which takes no
market order) a "market" order is an IOC limit ``limit_offset_max`` through the opposite touch it
saw, naming that view as its cause.
"""

from __future__ import annotations

from exchange_sim.agents.config import NoiseTraderConfig
from exchange_sim.agents.draws import BlockDraws
from exchange_sim.core.units import NS_PER_S
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL
from exchange_sim.venue.messages import CancelOrder, Deposit, SubmitOrder

CLOSED_STATUSES = frozenset(("filled", "cancelled", "expired", "rejected"))


class NoiseTraderGroup:
    """One Poisson stream feeding ``count`` accounts (on the group's shared gateway link, each
    with its own FIFO horizon)."""

    __slots__ = (
        "_cfg",
        "_env",
        "_gaps",
        "_gateway",
        "_market",
        "_market_as_ioc",
        "_members",
        "_next_order_id",
        "_offsets",
        "_open",
        "_picks",
        "_sides",
        "_sizes",
        "orders_sent",
        "touch",
        "touch_seq",
    )

    def __init__(
        self,
        env,
        gateway,
        config: NoiseTraderConfig,
        account_ids: list[int],
        next_order_id,
        rng,
        market_orders_as_ioc: bool = False,
    ) -> None:
        self._env = env
        self._market_as_ioc = market_orders_as_ioc
        self._gateway = gateway
        self._cfg = config
        self._members = account_ids
        self._next_order_id = next_order_id
        total_rate = float(config.rate_per_second) * config.count
        mean_gap_ns = NS_PER_S / total_rate if total_rate > 0 else None
        self._gaps = (
            BlockDraws(rng, lambda r, n: r.exponential(mean_gap_ns, n).astype("int64") + 1)
            if mean_gap_ns is not None
            else None
        )
        count = len(account_ids)
        self._picks = BlockDraws(rng, lambda r, n: r.integers(0, count, n))
        self._sides = BlockDraws(rng, lambda r, n: r.integers(0, 2, n))
        self._sizes = BlockDraws(
            rng, lambda r, n: r.integers(config.size_min, config.size_max + 1, n)
        )
        self._offsets = BlockDraws(rng, lambda r, n: r.integers(0, config.limit_offset_max + 1, n))
        market = float(config.market_fraction)
        self._market = BlockDraws(rng, lambda r, n: r.random(n) < market)
        self.touch: tuple[int | None, int | None] = (None, None)
        self.touch_seq: int | None = None
        self._open: set[int] = set()
        self.orders_sent = 0

    def start(self) -> None:
        amount, base = self._cfg.deposit, self._cfg.base_deposit
        for account in self._members:
            if amount:
                self._gateway.send(account, Deposit(amount), None)
            if base:
                self._gateway.send(account, Deposit(base, asset="base"), None)
        if self._gaps is not None:
            self._env.process(self._run())

    def on_snapshot(self, now: int, snapshot) -> None:
        self.touch = (snapshot.best_bid, snapshot.best_ask)
        self.touch_seq = snapshot.seq

    def _run(self):
        env = self._env
        while True:
            yield env.at(self._gaps.next(), Phase.AGENT)
            self._send_one()

    def _send_one(self) -> None:
        cfg = self._cfg
        account = self._members[self._picks.next()]
        side = BUY if self._sides.next() else SELL
        size = self._sizes.next()
        if self._market.next():
            if self._market_as_ioc:  # a spot venue takes no market order: cross the touch
                touch = self.touch[1] if side == BUY else self.touch[0]
                if touch is None:
                    return
                price = touch + side * self._cfg.limit_offset_max
                order = SubmitOrder(self._next_order_id(), side, price, size, tif=IOC)
                self._gateway.send(account, order, self.touch_seq)
            else:
                order = SubmitOrder(self._next_order_id(), side, None, size)
                self._gateway.send(account, order, None)
            self.orders_sent += 1
            return
        bid, ask = self.touch
        anchor = bid if side == BUY else ask
        if anchor is None:
            anchor = ask if side == BUY else bid
            if anchor is None:
                return
        price = anchor - side * self._offsets.next()
        if price < 1:
            return
        order = SubmitOrder(self._next_order_id(), side, price, size)
        self._gateway.send(account, order, self.touch_seq)  # priced off the touch it saw
        self._open.add(order.order_id)
        self.orders_sent += 1
        self._env.call_at(cfg.limit_lifetime, Phase.AGENT, self._expire, (account, order.order_id))

    def _expire(self, payload) -> None:
        # Cancel only what this trader believes is still open (from the responses it received);
        # a fill still in flight can make the cancel lose the race and be rejected, as on a venue.
        account, order_id = payload
        if order_id in self._open:
            self._gateway.send(account, CancelOrder(order_id), None)

    def on_order_update(self, now: int, account_id: int, seq: int, update) -> None:
        if update.status in CLOSED_STATUSES:
            self._open.discard(update.order_id)

    def on_fill(self, now: int, account_id: int, seq: int, fill) -> None:
        return None
