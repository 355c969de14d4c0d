"""The oracle manipulator: an adversary that holds a perpetual position and pushes one thin spot
source of the index, so that the index, and the mark built on it, move its way.

It holds two accounts: margin on the perpetual and, on the spot market it pushes
(``spot_market``), base inventory (to push down) or quote money (to push up). It sees that spot
book's depth (``depth_levels`` a side) after ``observation_latency``.

* **Position** (its own timer, cause ``null``): at ``open_at`` it opens ``perp_lots`` on the
  perpetual with a market order, short when it pushes down (long when up); at ``close_at``
  (``0`` = never) it closes what it holds with a reduce-only market order.
* **Pushes**: ``pushes`` of them, the first at ``push_start`` and then every ``push_every``, each
  lasting ``push_window``. At a push's start it takes as *anchor* the spot touch it last saw (the
  best bid to push down, the best ask to push up) and sets its limit ``push_depth`` beyond it:
  ``anchor x (1 - push_depth)`` rounded down (up: ``anchor x (1 + push_depth)`` rounded up). A
  push that starts when it sees no touch on that side does not happen.
* **Sweeps**: at the push's start and every ``sweep_every`` within the window, unless its
  previous sweep is still open, it sends one IOC order through the spot book to the limit, for
  the visible lots between the touch and the limit, at most what its push budget has left and
  (pushing down) its base inventory. The budget is spot notional per push, counted at the touch
  it saw when it sized the sweep (a sale sweeps down from the bid, so it sells for at most that;
  a purchase sweeps up from the ask and may pay up to ``push_depth`` more; lots the IOC leaves
  unfilled are given back to the budget when the order closes). Each sweep is
  logged as ``manipulator_sweep`` (cause: the depth view it sized from) and its order names that
  event as cause. Nothing to sweep (no visible lots up to the limit, budget or inventory spent)
  logs nothing.

Deterministic: it draws nothing at random. What it does to the index depends on the index rule:
with a plain weighted mean the pushed source's weight times its move reaches the index; an
outlier band (exchange_mechanics.md §1.1) or a median (§1.6) bounds or removes it.
"""

from __future__ import annotations

from exchange_sim.agents.trader_config import OracleManipulatorConfig
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder

CLOSED = frozenset(("filled", "cancelled", "expired", "rejected"))


class _Leg:
    """One of the manipulator's two accounts, as its market's gateway sees it."""

    __slots__ = ("account_id", "owner", "spot")

    def __init__(self, owner, account_id: int, spot: bool) -> None:
        self.owner = owner
        self.account_id = account_id
        self.spot = spot

    def on_order_update(self, now: int, seq: int, update) -> None:
        if self.spot:
            self.owner.spot_order_update(update)

    def on_fill(self, now: int, seq: int, fill) -> None:
        self.owner.fill(self.spot, fill.side * fill.size_lots)

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        if not self.spot:
            self.owner.fill(False, transfer.side * transfer.size_lots)


class OracleManipulator:
    """See the module docstring. ``perp_leg`` and ``spot_leg`` are what the gateways connect."""

    __slots__ = (
        "_cfg",
        "_committed",
        "_env",
        "_in_flight",
        "_limit",
        "_log",
        "_mptl",
        "_next_order_id",
        "_perp",
        "_push",
        "_push_ends",
        "_side",
        "_spot",
        "_view",
        "anchor",
        "market",
        "perp_leg",
        "perp_position",
        "spot_leg",
        "spot_position",
        "sweeps",
    )

    def __init__(
        self,
        env,
        log,
        config: OracleManipulatorConfig,
        perp_gateway,
        spot_gateway,
        perp_account: int,
        spot_account: int,
        next_order_id,
        money_per_tick_lot: int,
    ) -> None:
        self._env = env
        self._log = log
        self._cfg = config
        self._perp = perp_gateway
        self._spot = spot_gateway
        self._next_order_id = next_order_id
        self._mptl = money_per_tick_lot
        self.market = config.spot_market
        self.perp_leg = _Leg(self, perp_account, False)
        self.spot_leg = _Leg(self, spot_account, True)
        self._side = SELL if config.direction == "down" else BUY
        """Side of its spot sweeps and of its perpetual position."""
        self._view = None
        self._push = -1
        """The current push's number (0-based), -1 before the first."""
        self._push_ends = 0
        self.anchor: int | None = None
        self._limit = 0
        self._committed = 0
        """Budget used by the current push: its sweeps' filled (or still open) lots x touch."""
        self._in_flight: tuple[int, int, int, int] | None = None
        """The open sweep: (order id, lots, touch it was counted at, push number)."""
        self.perp_position = 0
        self.spot_position = 0
        """Base lots bought (+) or sold (-) on the spot market."""
        self.sweeps = 0

    def start(self) -> None:
        cfg, env = self._cfg, self._env
        if cfg.deposit:
            self._perp.send(self.perp_leg.account_id, Deposit(cfg.deposit), None)
        spot_id = self.spot_leg.account_id
        if cfg.spot_deposit:
            self._spot.send(spot_id, Deposit(cfg.spot_deposit), None)
        if cfg.base_deposit:
            self._spot.send(spot_id, Deposit(cfg.base_deposit, asset="base"), None)
        if cfg.perp_lots:
            env.call_at(cfg.open_at, Phase.AGENT, self._open)
        if cfg.close_at:
            env.call_at(cfg.close_at, Phase.AGENT, self._close)
        env.call_at(cfg.push_start, Phase.AGENT, self._begin_push, 0)

    # -- the perpetual position ------------------------------------------------------------------
    def _open(self, _payload) -> None:
        # Short the perpetual when it sells the spot source down (long when it buys it up).
        order = SubmitOrder(self._next_order_id(), self._side, None, self._cfg.perp_lots)
        self._perp.send(self.perp_leg.account_id, order, None)

    def _close(self, _payload) -> None:
        position = self.perp_position
        if position:
            side = SELL if position > 0 else BUY
            order = SubmitOrder(self._next_order_id(), side, None, abs(position), reduce_only=True)
            self._perp.send(self.perp_leg.account_id, order, None)

    # -- the pushes ------------------------------------------------------------------------------
    def on_spot_view(self, now: int, view) -> None:
        """Spot feed handler (depth channel): keep the latest view."""
        self._view = view

    def _begin_push(self, number: int) -> None:
        cfg, env = self._cfg, self._env
        if number + 1 < cfg.pushes:
            env.call_at(cfg.push_every, Phase.AGENT, self._begin_push, number + 1)
        view = self._view
        levels = () if view is None else (view.bids if self._side == SELL else view.asks)
        if not levels:
            return
        anchor = levels[0][0]
        self._push = number
        self._push_ends = env.now + cfg.push_window
        self._committed = 0
        self.anchor = anchor
        if self._side == SELL:
            self._limit = max(
                1, div_round(anchor * (RATE_SCALE - cfg.push_depth), RATE_SCALE, DOWN)
            )
        else:
            self._limit = div_round(anchor * (RATE_SCALE + cfg.push_depth), RATE_SCALE, UP)
        self._sweep(number)

    def _sweep(self, number: int) -> None:
        cfg, env = self._cfg, self._env
        if number != self._push:
            return
        if env.now + cfg.sweep_every < self._push_ends:
            env.call_at(cfg.sweep_every, Phase.AGENT, self._sweep, number)
        view = self._view
        if self._in_flight is not None or view is None:
            return
        side, limit = self._side, self._limit
        if side == SELL:
            levels = view.bids
            visible = sum(lots for price, lots in levels if price >= limit)
        else:
            levels = view.asks
            visible = sum(lots for price, lots in levels if price <= limit)
        if not visible:
            return
        touch = levels[0][0]
        budget_left = cfg.budget - self._committed
        lots = min(visible, budget_left // (touch * self._mptl))
        if side == SELL:
            lots = min(lots, cfg.base_deposit + self.spot_position)
        if lots <= 0:
            return
        self._committed += lots * touch * self._mptl
        self.sweeps += 1
        seq = self._log.emit(
            env.now,
            "manipulator_sweep",
            view.seq,
            account_id=self.spot_leg.account_id,
            market=self.market,
            push=number,
            side=side,
            lots=lots,
            limit_price_ticks=limit,
            anchor_price_ticks=self.anchor,
            touch_price_ticks=touch,
            budget_left_minor=cfg.budget - self._committed,
        )
        order = SubmitOrder(self._next_order_id(), side, limit, lots, tif=IOC)
        self._in_flight = (order.order_id, lots, touch, number)
        self._spot.send(self.spot_leg.account_id, order, seq)

    # -- venue reports ---------------------------------------------------------------------------
    def spot_order_update(self, update) -> None:
        sweep = self._in_flight
        if sweep is None or update.order_id != sweep[0] or update.status not in CLOSED:
            return
        self._in_flight = None
        _order, lots, touch, number = sweep
        if number != self._push:
            return  # counted against a push that is over
        if update.status == "filled":
            unfilled = 0
        elif update.status == "rejected":
            unfilled = lots
        else:
            unfilled = update.remaining_lots
        self._committed -= unfilled * touch * self._mptl

    def fill(self, spot: bool, signed_lots: int) -> None:
        if spot:
            self.spot_position += signed_lots
        else:
            self.perp_position += signed_lots
