"""A liquidation hunter: an adversary that pushes the price into where it estimates leveraged
positions will be liquidated, and buys back into the forced selling (or sells into the forced
buying).

It sees only what the venue publishes, after its observation latency:

* **Trades** (feed trade channel): while it is idle, every trade is read as a position opened at
  its price by the aggressor (an aggressive buy opens a long). Assuming the crowd's leverage is one
  of ``assumed_leverages`` (equally likely) with maintenance rate ``assumed_maintenance``, a long
  opened at ``P`` with leverage ``L`` is liquidated near ``P x (1 - 1/L + m)`` (a short near
  ``P x (1 + 1/L - m)``); each trade adds its size to those prices' buckets (``bucket`` wide) in
  two sorted maps, one per side: its estimated density of liquidation prices.
* **Depth** (feed depth channel, ``depth_levels`` a side): every ``check_interval`` (its own
  timer), from the last depth view it received, it looks for the densest bucket of longs'
  liquidation prices below the last trade price and of shorts' above it, within
  ``max_distance``; it pushes toward the larger one if its estimate is at least ``min_cluster``
  lots and the visible book between the last trade and the cluster (through ``push_through``
  beyond its edge) holds at most ``max_push`` lots. The estimate and decision (``push``,
  ``too_small``, ``too_deep``, ``unseen``: the visible depth does not reach the cluster,
  ``empty``: no resting order on the way) are logged as ``hunter_estimate`` when they change,
  with that view as cause (the view's ``seq``: the latest book change it reflects).
* **The push** (``hunter_push``, cause: that view): an IOC order through the book to the
  push limit for exactly the visible lots on the way. When it closes it rests ``rebuy_levels``
  reduce-only limit orders on the other side, ``rebuy_spacing`` apart beyond its push limit, to
  buy back what it sold from the liquidation orders the push sets off.
* **Liquidation notices** (the venue's public force-order stream): the cascade has started when
  forced orders on its push's side appear. When none has come for ``quiet_period`` it exits
  (``hunter_exit``, reason ``cascade_over``, cause: the last notice); when none came within
  ``max_hold`` of the push it exits with reason ``no_cascade`` (its own timer: cause ``null``).
  An exit cancels its resting orders and closes what is left with a reduce-only market order.
  After ``cooldown`` it starts estimating afresh (the positions it hunted are gone).
"""

from __future__ import annotations

from sortedcontainers import SortedDict

from exchange_sim.agents.trader_config import LiquidationHunterConfig
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL
from exchange_sim.venue.messages import CancelAll, Deposit, SubmitOrder

IDLE, PUSHING, HOLDING, RESTING = "idle", "pushing", "holding", "resting"
CLOSED = frozenset(("filled", "cancelled", "expired", "rejected"))


class LiquidationHunter:
    """One account hunting liquidation clusters (see the module docstring)."""

    __slots__ = (
        "_cfg",
        "_env",
        "_epoch",
        "_gateway",
        "_last_estimate",
        "_log",
        "_long_factors",
        "_next_order_id",
        "_push",
        "_short_factors",
        "_view",
        "account_id",
        "densities",
        "last_notice",
        "last_price",
        "liquidated_lots",
        "liquidations_seen",
        "position_lots",
        "pushes",
        "state",
    )

    def __init__(
        self, env, gateway, log, config: LiquidationHunterConfig, account_id: int, next_order_id
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._log = log
        self._cfg = config
        self._next_order_id = next_order_id
        self.account_id = account_id
        m = config.assumed_maintenance
        # Liquidation price = entry x numerator / (L x RATE_SCALE), per assumed leverage L.
        self._long_factors = tuple(
            (lev * (RATE_SCALE + m) - RATE_SCALE, lev * RATE_SCALE)
            for lev in config.assumed_leverages
        )
        self._short_factors = tuple(
            (lev * (RATE_SCALE - m) + RATE_SCALE, lev * RATE_SCALE)
            for lev in config.assumed_leverages
        )
        self.densities = {BUY: SortedDict(), SELL: SortedDict()}
        """Per side of the positions (BUY: longs), bucket -> lots x len(assumed_leverages)."""
        self.state = IDLE
        self.last_price: int | None = None
        self.position_lots = 0
        self.pushes = 0
        self.liquidations_seen = 0
        self.liquidated_lots = 0
        self.last_notice: int | None = None
        self._view = None
        self._epoch = 0
        self._push: tuple[int, int, int] | None = None  # (order id, side, limit)
        """``(order_id, side, limit)`` of the current push."""
        self._last_estimate: tuple | None = None

    def start(self) -> None:
        if self._cfg.deposit:
            self._gateway.send(self.account_id, Deposit(self._cfg.deposit), None)
        self._env.call_at(self._cfg.check_interval, Phase.AGENT, self._check)

    # -- estimation ------------------------------------------------------------------------------
    def on_market(self, now: int, update) -> None:
        """Feed handler (depth and trade channels): keep the view, read the trades."""
        if update.last_trade_price is not None:
            self.last_price = update.last_trade_price
        self._view = update
        if self.state != IDLE:
            return
        width = self._cfg.bucket
        for _ts, _seq, price, size, aggressor in update.trades:
            density = self.densities[aggressor]
            factors = self._long_factors if aggressor == BUY else self._short_factors
            for numerator, denominator in factors:
                bucket = div_round(div_round(price * numerator, denominator, DOWN), width, DOWN)
                density[bucket] = density.get(bucket, 0) + size

    def _check(self, _payload) -> None:
        self._env.call_at(self._cfg.check_interval, Phase.AGENT, self._check)
        view = self._view
        if self.state == IDLE and view is not None and self.last_price is not None:
            self._evaluate(view)

    def _cluster(self, side: int, price: int):
        """The densest bucket of ``side``'s liquidation prices within reach: ``(lots, edge)``."""
        cfg, width = self._cfg, self._cfg.bucket
        reach = div_round(price * cfg.max_distance, RATE_SCALE, DOWN)
        density = self.densities[side]
        if side == BUY:  # longs: liquidated below the price
            low, high = price - reach, price - 1
        else:
            low, high = price + 1, price + reach
        buckets = density.irange(div_round(low, width, DOWN), div_round(high, width, DOWN))
        best = None
        for bucket in buckets:
            lots = density[bucket]
            if best is None or lots > best[0] or (lots == best[0] and side == BUY):
                best = (lots, bucket)
        if best is None:
            return None
        lots, bucket = best
        edge = bucket * width if side == BUY else (bucket + 1) * width
        return div_round(lots, len(cfg.assumed_leverages), DOWN), edge

    def _evaluate(self, update) -> None:
        cfg, price = self._cfg, self.last_price
        assert price is not None  # _check evaluates only once a trade price is known
        options = []
        for side in (BUY, SELL):
            found = self._cluster(side, price)
            if found is None:
                continue
            lots, edge = found
            push_side = -side  # sell into longs' cluster, buy into shorts'
            limit = edge - cfg.push_through if side == BUY else edge + cfg.push_through
            levels = update.bids if side == BUY else update.asks
            depth = sum(q for p, q in levels if (p >= limit if side == BUY else p <= limit))
            beyond = levels and (levels[-1][0] > limit if side == BUY else levels[-1][0] < limit)
            if lots < cfg.min_cluster:
                decision = "too_small"
            elif depth > cfg.max_push:
                decision = "too_deep"
            elif len(levels) >= cfg.depth_levels and beyond:
                decision = "unseen"
            elif depth == 0:
                decision = "empty"
            else:
                decision = "push"
            options.append(
                (decision == "push", lots, side, push_side, edge, limit, depth, decision)
            )
        if not options:
            return
        ok, lots, side, push_side, edge, limit, depth, decision = max(options)
        if (side, edge, decision) != self._last_estimate:
            self._last_estimate = (side, edge, decision)
            self._log.emit(
                self._env.now,
                "hunter_estimate",
                update.seq,
                account_id=self.account_id,
                cluster_side=side,
                cluster_price_ticks=edge,
                cluster_lots=lots,
                distance_ppb=div_round(abs(price - edge) * RATE_SCALE, price, DOWN),
                depth_lots=depth,
                price_ticks=price,
                decision=decision,
            )
        if ok:
            self._push_now(update.seq, push_side, limit, depth, edge, lots)

    # -- the push and the way out ----------------------------------------------------------------
    def _push_now(self, cause, side: int, limit: int, lots: int, edge: int, cluster: int) -> None:
        seq = self._log.emit(
            self._env.now,
            "hunter_push",
            cause,
            account_id=self.account_id,
            side=side,
            lots=lots,
            limit_price_ticks=limit,
            cluster_price_ticks=edge,
            cluster_lots=cluster,
        )
        order = SubmitOrder(self._next_order_id(), side, limit, lots, tif=IOC)
        self._push = (order.order_id, side, limit)
        self.state = PUSHING
        self.pushes += 1
        self._gateway.send(self.account_id, order, seq)

    def on_order_update(self, now: int, seq: int, update) -> None:
        push = self._push
        if self.state != PUSHING or push is None or update.order_id != push[0]:
            return
        if update.status not in CLOSED:
            return
        filled = 0 if update.status == "rejected" else update.size_lots - update.remaining_lots
        if update.status == "filled":
            filled = update.size_lots
        if not filled:
            self.state = IDLE
            return
        self.state = HOLDING
        self.liquidations_seen = self.liquidated_lots = 0
        self.last_notice = None
        cfg, (_order, side, limit) = self._cfg, push
        back = -side
        levels = cfg.rebuy_levels
        for k in range(levels):
            lots = div_round(filled, levels, DOWN) + (1 if k < filled % levels else 0)
            price = limit + side * cfg.rebuy_spacing * (k + 1)  # beyond the push limit
            if lots and price >= 1:
                order = SubmitOrder(self._next_order_id(), back, price, lots, reduce_only=True)
                self._gateway.send(self.account_id, order, seq)
        self._env.call_at(cfg.max_hold, Phase.AGENT, self._hold_over, self._epoch)

    def on_liquidation(self, now: int, notice) -> None:
        """Liquidation-stream handler: forced orders on its push's side mean the cascade runs."""
        if self.state != HOLDING:
            return
        assert self._push is not None  # HOLDING is entered only after a push
        if notice.side != self._push[1]:
            return
        self.liquidations_seen += 1
        self.liquidated_lots += notice.size_lots
        self.last_notice = notice.seq
        seen = self.liquidations_seen
        self._env.call_at(
            self._cfg.quiet_period, Phase.AGENT, self._quiet_check, (self._epoch, seen)
        )

    def _quiet_check(self, payload) -> None:
        epoch, seen = payload
        if epoch == self._epoch and self.state == HOLDING and seen == self.liquidations_seen:
            self._exit("cascade_over", self.last_notice)

    def _hold_over(self, epoch: int) -> None:
        if epoch == self._epoch and self.state == HOLDING and not self.liquidations_seen:
            self._exit("no_cascade", None)

    def _exit(self, reason: str, cause: int | None) -> None:
        seq = self._log.emit(
            self._env.now,
            "hunter_exit",
            cause,
            account_id=self.account_id,
            reason=reason,
            position_lots=self.position_lots,
            liquidations_seen=self.liquidations_seen,
            liquidated_lots=self.liquidated_lots,
        )
        self._epoch += 1
        self.state = RESTING
        self._gateway.send(self.account_id, CancelAll(), seq)
        position = self.position_lots
        if position:
            side = SELL if position > 0 else BUY
            order = SubmitOrder(self._next_order_id(), side, None, abs(position), reduce_only=True)
            self._gateway.send(self.account_id, order, seq)
        self._env.call_at(self._cfg.cooldown, Phase.AGENT, self._rested, self._epoch)

    def _rested(self, epoch: int) -> None:
        if epoch == self._epoch and self.state == RESTING:
            self.state = IDLE
            self._last_estimate = None
            for density in self.densities.values():
                density.clear()

    # -- reports ---------------------------------------------------------------------------------
    def on_fill(self, now: int, seq: int, fill) -> None:
        self.position_lots += fill.side * fill.size_lots

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        self.position_lots += transfer.side * transfer.size_lots
