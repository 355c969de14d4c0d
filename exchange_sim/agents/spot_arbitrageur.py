"""The spot-perpetual arbitrageur: carries the perpetual's flow into a spot book and back.

It holds two accounts: margin on the perpetual and quote money (and, to sell, base inventory) on
one spot market, and sees both tops of book after ``observation_latency``. Every
``check_interval`` it compares the two mids: ``basis = perp_mid / spot_mid - 1`` (ppb, exact,
floored).

* **Perpetual rich** (``basis > threshold``): it sells ``clip_size`` of the perpetual (an IOC
  limit no lower than the spot ask plus half the threshold), and as that leg fills it **buys the
  same size on the spot market** (an IOC at the spot ask it saw times ``1 + hedge_slippage``,
  rounded up; a sale at the bid times ``1 - hedge_slippage``, rounded down): a short perpetual
  hedged by long spot.
* **Perpetual cheap** (``basis < -threshold``): the mirror image; the spot sell needs base
  inventory (no shorting on spot).
* **Converged** (``|basis| <= threshold / 2`` with a position): it unwinds a clip of both legs.

It legs in: the perpetual first, then the spot hedge for what filled; a hedge that does not fill
stays owed and is retried at the next check. Its capital limits are ``max_position`` (the hedged
size, either way), its margin and its spot money; a rejected order pauses it for
``reject_backoff``. When liquidations push the perpetual below spot, this is the participant that
buys the perpetual and sells spot, so the forced selling reaches the spot books the index reads.

**Causes.** A perpetual order names the market-data view of the leg whose mid moved more, as a
fraction of itself, since its previous check (the move that opened or closed the basis; on a tie,
the later view), and within that leg the view that moved its mid most since the check (ties: the
later): when liquidations push the perpetual down, the trade names the perpetual view that showed
the sweep, not the spot view, or the last quote, that happened to arrive last. A spot hedge names
the perpetual fill report it hedges (a retried hedge still names that fill).
"""

from __future__ import annotations

from exchange_sim.agents.flow_config import SpotArbitrageurConfig
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder

CLOSED = frozenset(("filled", "cancelled", "expired", "rejected"))


class _Leg:
    """One of the arbitrageur's two accounts, as its market's gateway sees it."""

    __slots__ = ("account_id", "owner", "spot")

    def __init__(self, owner, account_id: int, spot: bool) -> None:
        self.owner = owner
        self.account_id = account_id
        self.spot = spot

    def on_order_update(self, now: int, seq: int, update) -> None:
        self.owner.order_update(self.spot, now, seq, update)

    def on_fill(self, now: int, seq: int, fill) -> None:
        self.owner.fill(self.spot, now, seq, fill)

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        if not self.spot:
            self.owner.perp_position += transfer.side * transfer.size_lots


class SpotArbitrageur:
    """See the module docstring. ``perp_leg`` and ``spot_leg`` are what the gateways connect."""

    __slots__ = (
        "_cfg",
        "_env",
        "_hedge_cause",
        "_in_flight",
        "_last_mids",
        "_next_order_id",
        "_perp",
        "_resume_at",
        "_spot",
        "_view_movers",
        "books",
        "owed_hedge",
        "perp_leg",
        "perp_position",
        "rejections",
        "spot_leg",
        "spot_position",
    )

    def __init__(
        self,
        env,
        config: SpotArbitrageurConfig,
        perp_gateway,
        spot_gateway,
        perp_account: int,
        spot_account: int,
        next_order_id,
    ) -> None:
        self._env = env
        self._cfg = config
        self._perp = perp_gateway
        self._spot = spot_gateway
        self._next_order_id = next_order_id
        self.perp_leg = _Leg(self, perp_account, False)
        self.spot_leg = _Leg(self, spot_account, True)
        self._in_flight: dict[int, bool] = {}
        self._resume_at = 0
        self.books: dict[bool, tuple] = {False: (None, None, None), True: (None, None, None)}
        """Per leg (``True`` = spot): the (bid, ask, seq) it last saw."""
        self.perp_position = 0
        self.spot_position = 0
        self.owed_hedge = 0
        """Spot lots (signed) the hedge still owes for perpetual fills."""
        self.rejections = 0
        self._last_mids: tuple[int, int] | None = None
        """(perp bid + ask, spot bid + ask) at the previous check."""
        self._hedge_cause: int | None = None
        """The perpetual fill report the owed hedge is for (the latest one)."""
        self._view_movers: dict[bool, tuple[int, int] | None] = {False: None, True: None}
        """Per leg, since the last check: the view that moved its mid most (change, seq)."""

    def start(self) -> None:
        cfg = self._cfg
        if cfg.deposit:
            self._perp.send(self.perp_leg.account_id, Deposit(cfg.deposit), None)
        spot_id = self.spot_leg.account_id
        if cfg.spot_deposit:
            self._spot.send(spot_id, Deposit(cfg.spot_deposit), None)
        if cfg.base_deposit:
            self._spot.send(spot_id, Deposit(cfg.base_deposit, asset="base"), None)
        self._env.call_at(cfg.check_interval, Phase.AGENT, self._check)

    # -- what it sees ----------------------------------------------------------------------------
    def on_perp_snapshot(self, now: int, snapshot) -> None:
        self._see(False, snapshot)

    def on_spot_snapshot(self, now: int, snapshot) -> None:
        self._see(True, snapshot)

    def _see(self, spot: bool, snapshot) -> None:
        bid, ask, seq = snapshot.best_bid, snapshot.best_ask, snapshot.seq
        old_bid, old_ask, _ = self.books[spot]
        self.books[spot] = (bid, ask, seq)
        if None in (bid, ask, old_bid, old_ask):
            return
        change = abs(bid + ask - old_bid - old_ask)
        best = self._view_movers[spot]
        if best is None or change >= best[0]:
            self._view_movers[spot] = (change, seq)

    # -- decisions -------------------------------------------------------------------------------
    def _check(self, _payload) -> None:
        env, cfg = self._env, self._cfg
        env.call_at(cfg.check_interval, Phase.AGENT, self._check)
        if self._in_flight or env.now < self._resume_at:
            return
        (pb, pa, pseq), (sb, sa, sseq) = self.books[False], self.books[True]
        if None in (pb, pa, sb, sa):
            return
        cause = self._mover(pb + pa, sb + sa, pseq, sseq)
        if self.owed_hedge:
            self._hedge(self._hedge_cause)
            return
        basis = div_round((pb + pa) * RATE_SCALE, sb + sa, DOWN) - RATE_SCALE
        threshold, half = cfg.threshold, cfg.threshold // 2
        position = self.perp_position
        if basis > threshold and position > -cfg.max_position:
            lots = min(cfg.clip_size, cfg.max_position + position)
            limit = div_round(sa * (RATE_SCALE + half), RATE_SCALE, UP)
            self._send(False, SELL, max(limit, 1), lots, False, cause)
        elif basis < -threshold and position < cfg.max_position:
            lots = min(
                cfg.clip_size, cfg.max_position - position, cfg.base_deposit + self.spot_position
            )
            limit = div_round(sb * (RATE_SCALE - half), RATE_SCALE, DOWN)
            self._send(False, BUY, limit, lots, False, cause)
        elif position and -half <= basis <= half:
            lots = min(cfg.clip_size, abs(position))
            side = BUY if position < 0 else SELL
            limit = pa if side == BUY else pb  # unwind at the touch it saw
            self._send(False, side, limit, lots, True, cause)

    def _mover(self, perp_mid2: int, spot_mid2: int, pseq, sseq) -> int | None:
        """The view that moved the leg whose mid moved more, relatively, since the last check
        (within the leg: the view that moved its mid most; else its latest view)."""
        last = self._last_mids
        self._last_mids = (perp_mid2, spot_mid2)
        movers = self._view_movers
        perp_mover, spot_mover = movers[False], movers[True]
        if perp_mover is not None:
            pseq = perp_mover[1]
        if spot_mover is not None:
            sseq = spot_mover[1]
        movers[False] = movers[True] = None
        if last is not None:
            # |dp| / p0 against |ds| / s0, cross-multiplied (exact).
            perp_move = abs(perp_mid2 - last[0]) * last[1]
            spot_move = abs(spot_mid2 - last[1]) * last[0]
            if perp_move != spot_move:
                return pseq if perp_move > spot_move else sseq
        seqs = [seq for seq in (pseq, sseq) if seq is not None]
        return max(seqs) if seqs else None

    def _hedge(self, cause: int | None) -> None:
        """Send the spot leg still owed for perpetual fills (an IOC at the spot touch, or through
        it by ``hedge_slippage``)."""
        owed = self.owed_hedge
        bid, ask, _ = self.books[True]
        slip = self._cfg.hedge_slippage
        if owed > 0 and ask is not None:
            limit = div_round(ask * (RATE_SCALE + slip), RATE_SCALE, UP)
            self._send(True, BUY, limit, owed, False, cause)
        elif owed < 0 and bid is not None:
            lots = min(-owed, self._cfg.base_deposit + self.spot_position)
            limit = div_round(bid * (RATE_SCALE - slip), RATE_SCALE, DOWN)
            self._send(True, SELL, limit, lots, False, cause)

    def _send(self, spot: bool, side: int, price: int, lots: int, reduce: bool, cause) -> None:
        if lots <= 0 or price < 1:
            return
        order = SubmitOrder(
            self._next_order_id(), side, price, lots, tif=IOC, reduce_only=reduce and not spot
        )
        self._in_flight[order.order_id] = spot
        leg = self.spot_leg if spot else self.perp_leg
        (self._spot if spot else self._perp).send(leg.account_id, order, cause)

    # -- venue reports ---------------------------------------------------------------------------
    def order_update(self, spot: bool, now: int, seq: int, update) -> None:
        if update.order_id not in self._in_flight or update.status not in CLOSED:
            return
        del self._in_flight[update.order_id]
        if update.status == "rejected":
            self.rejections += 1
            self._resume_at = now + self._cfg.reject_backoff
        if not spot and self.owed_hedge and not self._in_flight:
            self._hedge(self._hedge_cause)

    def fill(self, spot: bool, now: int, seq: int, fill) -> None:
        signed = fill.side * fill.size_lots
        if spot:
            self.spot_position += signed
            self.owed_hedge -= signed
            return
        self.perp_position += signed
        if fill.tag:  # the venue's own order on its account (its liquidation): nothing to hedge
            return
        self.owed_hedge -= signed
        self._hedge_cause = seq  # a perp sale is hedged by a spot purchase, and vice versa
