"""A basis arbitrageur: sells the perpetual when it trades rich to the index, buys it when cheap.

Every ``check_interval`` (AGENT phase) it compares the mid of the last top of book it saw on the
feed with the last index it saw (each after its own observation latency):
``premium = ((bid + ask)/2 - index) / index`` in ppb, floored
(:func:`~exchange_sim.funding.premium.mid_premium_ppb`, the OKX-style mid premium of §6.5).

* ``premium > threshold``: it **sells** ``min(clip_size, room)`` lots, where ``room`` keeps its
  short within ``max_position``, as an IOC limit at ``ceil(index x (1 + threshold/2))``: it sells
  only to bids still at least half the threshold above the index, so its own selling stops the
  moment it has pushed the book halfway back (and it never sells below that price).
* ``premium < -threshold``: it **buys** the mirror image, IOC limit
  ``floor(index x (1 - threshold/2))``.
* ``|premium| <= threshold/2`` with a position: it **unwinds** ``min(clip_size, |position|)`` with a
  reduce-only IOC limit: buying back no higher than ``floor(index x (1 + threshold/2))``, selling
  no lower than ``ceil(index x (1 - threshold/2))``.
* otherwise it holds. ``threshold/2`` is floored to whole ppb.

Limit prices are rounded toward the trader's protection (a sell limit UP, a buy limit DOWN): an
order never trades beyond the band it states. It keeps at most one order in flight, and its
position counts only what a closed order reported filled (``size - remaining`` at ``filled``,
``expired``, ``cancelled`` or ``rejected``), so ``|position| <= max_position`` always holds. The
venue's ledger checks its margin; an order it cannot afford comes back ``rejected``, after which it
sends nothing for ``reject_backoff`` (and then tries again: margin may have been freed). Fills of
the venue's own orders on its account (tagged liquidation orders) are applied to its position as
they arrive; a position moved without a trade (ADL transfer) is not seen.

The spot hedge that makes the trade an arbitrage (long spot against a short perpetual and vice
versa) is held **off-venue and not modelled**: only the perpetual leg, its margin and its funding
are simulated. Its account is opened and funded by the wiring (``deposit``, ``leverage``), like
the market maker's.
"""

from __future__ import annotations

from exchange_sim.agents.config import BasisArbitrageurConfig
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.funding.premium import mid_premium_ppb
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, IOC, SELL
from exchange_sim.venue.messages import Deposit, SubmitOrder

CLOSED_STATUSES = frozenset(("filled", "cancelled", "expired", "rejected"))


class BasisArbitrageur:
    """One account trading the perpetual's basis through the gateway (see the module docstring)."""

    __slots__ = (
        "_cfg",
        "_env",
        "_gateway",
        "_half_threshold",
        "_in_flight",
        "_next_order_id",
        "_resume_at",
        "account_id",
        "ask",
        "bid",
        "book_seq",
        "index",
        "index_seq",
        "orders_sent",
        "position_lots",
        "rejections",
    )

    def __init__(
        self,
        env,
        gateway,
        config: BasisArbitrageurConfig,
        account_id: int,
        next_order_id,
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._cfg = config
        self._next_order_id = next_order_id
        self._half_threshold = div_round(config.threshold, 2, DOWN)
        self._in_flight: int | None = None
        self._resume_at = 0
        self.account_id = account_id
        self.index: int | None = None
        self.index_seq: int | None = None
        self.bid: int | None = None
        self.ask: int | None = None
        self.book_seq: int | None = None
        self.position_lots = 0
        self.orders_sent = 0
        self.rejections = 0

    def start(self) -> None:
        if self._cfg.deposit:
            self._gateway.send(self.account_id, Deposit(self._cfg.deposit), None)
        self._env.call_at(self._cfg.check_interval, Phase.AGENT, self._check)

    # -- observation -----------------------------------------------------------------------------
    def on_index(self, now: int, update) -> None:
        """Index subscription: it sees each price after its observation latency."""
        self.index, self.index_seq = update.price_ticks, update.seq

    def on_snapshot(self, now: int, snapshot) -> None:
        """Feed handler (the feed applies the latency it was subscribed with)."""
        self.bid = snapshot.best_bid
        self.ask = snapshot.best_ask
        self.book_seq = snapshot.seq

    # -- decision --------------------------------------------------------------------------------
    def _check(self, _event) -> None:
        env = self._env
        env.call_at(self._cfg.check_interval, Phase.AGENT, self._check)
        if self._in_flight is not None or env.now < self._resume_at:
            return
        index, bid, ask = self.index, self.bid, self.ask
        if index is None or bid is None or ask is None:
            return
        cfg = self._cfg
        premium = mid_premium_ppb(bid, ask, index)
        half = self._half_threshold
        position = self.position_lots
        if premium > cfg.threshold:
            lots = min(cfg.clip_size, cfg.max_position + position)
            price = div_round(index * (RATE_SCALE + half), RATE_SCALE, UP)
            self._send(SELL, price, lots, False)
        elif premium < -cfg.threshold:
            lots = min(cfg.clip_size, cfg.max_position - position)
            price = div_round(index * (RATE_SCALE - half), RATE_SCALE, DOWN)
            self._send(BUY, price, lots, False)
        elif position and -half <= premium <= half:
            lots = min(cfg.clip_size, abs(position))
            if position < 0:
                price = div_round(index * (RATE_SCALE + half), RATE_SCALE, DOWN)
                self._send(BUY, price, lots, True)
            else:
                price = div_round(index * (RATE_SCALE - half), RATE_SCALE, UP)
                self._send(SELL, price, lots, True)

    def _send(self, side: int, price: int, lots: int, reduce_only: bool) -> None:
        if lots <= 0 or price < 1:
            return
        order = SubmitOrder(
            self._next_order_id(), side, price, lots, tif=IOC, reduce_only=reduce_only
        )
        self._in_flight = order.order_id
        self.orders_sent += 1
        self._gateway.send(self.account_id, order, self._decision_cause())

    def _decision_cause(self) -> int | None:
        """It read the index and the top of book: the later of the two views it acted on."""
        index_seq, book_seq = self.index_seq, self.book_seq
        if index_seq is None:
            return book_seq
        return index_seq if book_seq is None or index_seq > book_seq else book_seq

    # -- venue responses -------------------------------------------------------------------------
    def on_order_update(self, now: int, seq: int, update) -> None:
        status = update.status
        if update.order_id != self._in_flight or status not in CLOSED_STATUSES:
            return
        self._in_flight = None
        if status == "filled":
            filled = update.size_lots
        elif status == "rejected":
            filled = 0
            self.rejections += 1
            self._resume_at = now + self._cfg.reject_backoff
        else:
            filled = update.size_lots - update.remaining_lots
        self.position_lots += update.side * filled

    def on_fill(self, now: int, seq: int, fill) -> None:
        """Its own orders are counted when they close; a fill of a venue order on its account (a
        tagged liquidation order) changes its position at once."""
        if fill.tag:
            self.position_lots += fill.side * fill.size_lots

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        """The venue moved its position (ADL, takeover): counted at once."""
        self.position_lots += transfer.side * transfer.size_lots
