"""An adaptive market maker: fair value from what it sees, volatility-scaled spread, withdrawal.

It acts only through the gateway link and the feeds it is given (a reference-price subscription,
the venue's index or the fundamental value, and a market-data subscription with one level of depth
and the trade channel), so it runs unchanged on the perpetual or on a spot market. On a spot market
its position is its base inventory change since its ``base_deposit`` (that is what it skews on and
what ``withdraw_inventory`` measures), and it has no margin use.

**Fair value** (ticks): ``anchor + flow - skew`` where ``anchor`` is the weighted mean of the last
index and the book's mid (``weight_index``, ``weight_mid``; a component not seen yet is left out),
floored; before it has seen either, ``initial_price`` if set (it then quotes from the start);
``flow = floor(flow_weight x net aggressor volume over flow_window x anchor)`` (net volume in lots
from the trade channel, buys positive); ``skew = floor(inventory_skew x position / skew_unit)``
with the position from its own fills.

**Half spread** (ticks): ``base_half_spread + ceil(vol_multiplier x sigma x fair)`` where sigma is
the realised volatility over ``vol_window`` of the index (or mid) observations (a float
statistic, :class:`~exchange_sim.agents.signals.RollingVolatility`, taken in whole ppb rounded
up), so the spread is never narrower than the formula. The ladder has ``levels`` quotes a side at
``fair -/+ (half + i x level_spacing)``, sizes ``level_sizes`` times the current size factor (at
least one lot), each post-only and never priced through the opposite touch it last saw (a bid
at most one tick under the best ask, an ask at least one tick over the best bid: a maker posts,
it does not take; the touch it sees may be its own previous quote, which its cancel removes). It
requotes (cancel all, then the new ladder, on its FIFO link) when fair value or
the half spread moved by ``requote_threshold``, every ``requote_interval``, after a restore or a
size change.

**Withdrawal.** When realised volatility, ``|position|`` or its estimated margin use (the initial
margin of its position over its estimated equity: deposits plus the cash of its fills plus the
position at the anchor; fees and funding are not seen) passes its threshold, or a margin call
arrives, it cancels all quotes and stops quoting (withdrawn for inventory with
``unwind_inventory``, it keeps quoting the side that reduces it, at most ``|position|`` lots in
all, or it could never come back under); once every measure has stayed back under for
``restore_delay`` it quotes again at ``restore_size``. **Rejections**: a rejected quote (the first
of a ladder; the rest of the burst is the same event) cancels the ladder, halves the size factor
and pauses quoting for ``reject_backoff`` doubling per rejected ladder in a row up to
``reject_backoff_max`` (or stops for good after ``reject_stop_after``); a clean ladder resets the
count. A quote rejected because the book moved through it on the way (``post_only_would_cross``) is
only counted: it says nothing about the maker's margin. A reduced size doubles back every
``size_recovery``. **Venue cancels** of live quotes (self-trade prevention, its own liquidation)
are answered by one new ladder; if the venue cancels that one too, it backs off as for a rejection.
Every change is a ``maker_state`` event naming the observation, report or margin call it reacted
to; commands that follow name that event.
"""

from __future__ import annotations

from exchange_sim.agents.maker_config import AdaptiveMakerConfig
from exchange_sim.agents.maker_model import MakerModel
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import CancelAll, Deposit, SubmitOrder

QUOTING, WITHDRAWN, BACKOFF, STOPPED = "quoting", "withdrawn", "backoff", "stopped"


class AdaptiveMaker:
    """One account quoting through the gateway (see the module docstring)."""

    __slots__ = (
        "_backoff_until",
        "_calm_cause",
        "_calm_since",
        "_cfg",
        "_env",
        "_gateway",
        "_gen",
        "_gen_clean",
        "_gen_unacked",
        "_handled_gen",
        "_live",
        "_log",
        "_next_order_id",
        "_pending",
        "_quoted_parts",
        "_rejected_ladders",
        "_restore_token",
        "_resume_token",
        "_seqs",
        "_size_token",
        "_venue_origin",
        "_venue_requote_pending",
        "account_id",
        "crossing_rejects",
        "ladders_sent",
        "model",
        "quoted_fair",
        "quoted_half",
        "size_ppb",
        "stopped",
        "withdrawn",
    )

    def __init__(
        self,
        env,
        gateway,
        log,
        config: AdaptiveMakerConfig,
        account_id: int,
        next_order_id,
        money_per_tick_lot: int,
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._log = log
        self._cfg = config
        self._next_order_id = next_order_id
        self.account_id = account_id
        self.model = MakerModel(config, money_per_tick_lot)
        self.withdrawn: str | None = None
        self.stopped = False
        self._backoff_until = 0
        self._rejected_ladders = 0
        self.size_ppb = RATE_SCALE
        self._gen = 0
        self._gen_unacked = 0
        self._gen_clean = True
        self._handled_gen = 0
        self._pending: dict[int, int] = {}
        self._live: set[int] = set()
        self._venue_origin = False
        self._venue_requote_pending = False
        self.quoted_fair: int | None = None
        self.quoted_half: int | None = None
        self._calm_since: int | None = None
        self._calm_cause: int | None = None
        self._restore_token = 0
        self._resume_token = 0
        self._size_token = 0
        self.ladders_sent = 0
        self.crossing_rejects = 0
        self._seqs: dict[str, int | None] = {}
        """Per fair-value input (index, mid, flow, skew): the event that last updated it."""
        self._quoted_parts: dict | None = None
        """The fair-value parts (``MakerModel.fair_parts``) of the last ladder."""

    def start(self) -> None:
        cfg = self._cfg
        if cfg.deposit:
            self._gateway.send(self.account_id, Deposit(cfg.deposit), None)
        if cfg.base_deposit:
            self._gateway.send(self.account_id, Deposit(cfg.base_deposit, asset="base"), None)
        if cfg.initial_price:
            self._requote_now(self._env.now, None)
        if cfg.requote_interval:
            self._env.process(self._timer())

    # -- what it sees ------------------------------------------------------------------------------
    def on_index(self, now: int, update) -> None:
        """Reference-price subscription, index or fundamental (after its ``index_latency``)."""
        self.model.observe_index(now, update.price_ticks)
        self._seqs["index"] = update.seq
        self._react(now, update.seq)

    def on_feed(self, now: int, view) -> None:
        """Market data: one level of depth and the instant's trades (after ``feed_latency``)."""
        bids, asks = view.bids, view.asks
        self.model.observe_book(
            now, bids[0][0] if bids else None, asks[0][0] if asks else None, view.trades
        )
        self._seqs["mid"] = view.seq
        if view.trades:
            self._seqs["flow"] = view.seq
        self._react(now, view.seq)

    def on_fill(self, now: int, seq: int, fill) -> None:
        self.model.trade(fill.side, fill.price_ticks, fill.size_lots)
        if fill.remaining_lots == 0:
            self._live.discard(fill.order_id)
        self._seqs["skew"] = seq
        self._react(now, seq)

    def on_position_transfer(self, now: int, seq: int, transfer) -> None:
        self.model.trade(transfer.side, transfer.price_ticks, transfer.size_lots)
        self._seqs["skew"] = seq
        self._react(now, seq)

    def on_transfer(self, now: int, seq: int, update) -> None:
        if update.accepted:
            amount = update.amount
            self.model.deposited += amount if update.kind == "deposit" else -amount

    def on_margin_call(self, now: int, seq: int, notice) -> None:
        """Withdraw (or, already withdrawn, restart the calm clock at the next observation)."""
        if self.stopped:
            return
        if self.withdrawn is None:
            self._withdraw(now, "margin_call", notice.equity, notice.maintenance_margin, seq)
        else:
            self._calm_since = None
            self._restore_token += 1

    def state(self, now: int) -> str:
        if self.stopped:
            return STOPPED
        if self.withdrawn is not None:
            return WITHDRAWN
        return BACKOFF if now < self._backoff_until else QUOTING

    def _unwinding(self) -> bool:
        """Withdrawn for inventory with ``unwind_inventory``: the reducing side is quoted."""
        return self.withdrawn == "inventory" and self._cfg.unwind_inventory

    def _can_quote(self, now: int) -> bool:
        if self.stopped or now < self._backoff_until:
            return False
        return self.withdrawn is None or self._unwinding()

    # -- decisions ---------------------------------------------------------------------------------
    def _react(self, now: int, cause: int | None) -> None:
        if self.stopped:
            return
        anchor = self.model.anchor()
        over = self.model.over(now, anchor)
        if self.withdrawn is None and over is not None:
            self._withdraw(now, *over, cause)
            return
        if anchor is not None and self._can_quote(now):
            self._maybe_requote(now, anchor, cause, False)
        if self.withdrawn is None:
            return
        if over is None:
            if self._calm_since is None:
                self._calm_since = now
                self._calm_cause = cause
                self._restore_token += 1
                self._env.call_at(
                    self._cfg.restore_delay, Phase.AGENT, self._restore, self._restore_token
                )
        elif self._calm_since is not None:
            self._calm_since = None
            self._restore_token += 1

    def _requote_now(self, now: int, cause: int | None) -> None:
        """A new ladder now, if it may quote and has seen a price."""
        anchor = self.model.anchor()
        if anchor is not None and self._can_quote(now):
            self._maybe_requote(now, anchor, cause, True)

    def _maybe_requote(self, now: int, anchor: int, cause: int | None, force: bool) -> None:
        fair = self.model.fair_value(now, anchor)
        if fair < 1:
            return
        half = self.model.half_spread(now, fair)
        quoted = self.quoted_fair
        if not force and quoted is not None:
            threshold = self._cfg.requote_threshold
            assert self.quoted_half is not None  # set and cleared together with quoted_fair
            if abs(fair - quoted) < threshold and abs(half - self.quoted_half) < threshold:
                return
        parts = self.model.fair_parts(now)
        if not force or cause is None:
            # A ladder names the input that moved its fair value most; one forced by a decision
            # of its own (restore, size change, venue cancel) names that decision.
            cause = self._mover(parts, cause)
        self._quoted_parts = parts
        self._requote(fair, half, cause)

    def _mover(self, parts: dict, cause: int | None) -> int | None:
        """The event of the fair-value input that moved most since the last ladder (module
        docstring); ``cause`` when none moved or the input has no event yet."""
        before = self._quoted_parts
        if before is None:
            return cause
        best = None
        for name, value in parts.items():
            seq = self._seqs.get(name)
            if seq is None:
                continue
            change = abs(value - before[name])
            if change and (best is None or (change, seq) > best):
                best = (change, seq)
        return cause if best is None else best[1]

    def _requote(self, fair: int, half: int, cause: int | None) -> None:
        cfg = self._cfg
        send = self._gateway.send
        me = self.account_id
        next_id = self._next_order_id
        send(me, CancelAll(), cause)
        sides: tuple[tuple[int, int], ...] = ((BUY, -1), (SELL, 1))
        room = None  # unwinding: one side, at most the position in all
        if self.withdrawn is not None:
            position = self.model.position_lots
            sides = ((SELL, 1),) if position > 0 else ((BUY, -1),)
            room = abs(position)
        self._gen += 1
        gen = self._gen
        live = self._live
        live.clear()
        pending = self._pending
        sizes = cfg.level_sizes
        last = len(sizes) - 1
        factor = self.size_ppb
        count = 0
        # Never cross the touch it saw: a maker posts, it does not take.
        ask, bid = self.model.ask, self.model.bid
        bid_cap = None if ask is None else ask - 1
        ask_floor = None if bid is None else bid + 1
        for level in range(cfg.levels):
            size = sizes[level if level < last else last]
            if factor != RATE_SCALE:
                size = max(1, div_round(size * factor, RATE_SCALE, DOWN))
            if room is not None:
                size = min(size, room)
                if not size:
                    break
                room -= size
            offset = half + level * cfg.level_spacing
            for side, sign in sides:
                price = fair + sign * offset
                if side == BUY:
                    if bid_cap is not None and price > bid_cap:
                        price = bid_cap
                elif ask_floor is not None and price < ask_floor:
                    price = ask_floor
                if price < 1:
                    continue
                order_id = next_id()
                send(me, SubmitOrder(order_id, side, price, size, post_only=True), cause)
                live.add(order_id)
                pending[order_id] = gen
                count += 1
        self._gen_unacked = count
        self._gen_clean = True
        self._venue_origin = False
        self.quoted_fair = fair
        self.quoted_half = half
        self.ladders_sent += 1

    def _cancel_quotes(self, cause: int) -> None:
        self._gateway.send(self.account_id, CancelAll(), cause)
        self._live.clear()
        self.quoted_fair = self.quoted_half = None

    def _emit(self, now, cause, reason: str, action: str, value: int, threshold: int) -> int:
        return self._log.emit(
            now,
            "maker_state",
            cause,
            account_id=self.account_id,
            state=self.state(now),
            reason=reason,
            action=action,
            value=value,
            threshold=threshold,
            size_ppb=self.size_ppb,
        )

    def _withdraw(self, now: int, reason: str, value: int, threshold: int, cause) -> None:
        self.withdrawn = reason
        self._calm_since = None
        self._restore_token += 1
        seq = self._emit(now, cause, reason, "cancel_all", value, threshold)
        self._cancel_quotes(seq)
        self._requote_now(now, seq)

    def _restore(self, token: int) -> None:
        if token != self._restore_token or self.withdrawn is None or self.stopped:
            return
        now = self._env.now
        anchor = self.model.anchor()
        if self.model.over(now, anchor) is not None:
            self._calm_since = None
            return
        value, threshold = self.model.measure(self.withdrawn, now, anchor)
        self.withdrawn = None
        self._calm_since = None
        self._set_size(min(self.size_ppb, self._cfg.restore_size))
        seq = self._emit(now, self._calm_cause, "calm", "restore", value, threshold)
        self._requote_now(now, seq)

    # -- rejections, venue cancels and size --------------------------------------------------------
    def on_order_update(self, now: int, seq: int, update) -> None:
        status = update.status
        order_id = update.order_id
        if status == "accepted" or status == "rejected":
            gen = self._pending.pop(order_id, None)
            if gen is None:
                return
            current = gen == self._gen
            if current:
                self._gen_unacked -= 1
            if status == "accepted":
                if current and self._gen_unacked == 0 and self._gen_clean:
                    self._rejected_ladders = 0
                return
            self._live.discard(order_id)
            if update.reason == "post_only_would_cross":
                # The book moved through the quote on its way: nothing to back off from.
                self.crossing_rejects += 1
                return
            if current:
                self._gen_clean = False
            if gen > self._handled_gen and not self.stopped:
                self._handled_gen = self._gen
                self._pause(now, seq, "rejected")
        elif order_id in self._live:
            self._live.discard(order_id)
            if status in ("cancelled", "expired"):
                self._venue_cancel(now, seq)

    def _venue_cancel(self, now: int, seq: int) -> None:
        """The venue cancelled a live quote this maker had not asked to cancel."""
        if not self._can_quote(now):
            return
        if self._venue_origin:
            self._handled_gen = self._gen
            self._pause(now, seq, "venue_cancel")
        elif not self._venue_requote_pending:
            self._venue_requote_pending = True
            self._env.call_at(0, Phase.AGENT, self._requote_after_venue_cancel, seq)

    def _requote_after_venue_cancel(self, cause: int) -> None:
        self._venue_requote_pending = False
        gen = self._gen
        self._requote_now(self._env.now, cause)
        if self._gen != gen:
            self._venue_origin = True

    def _pause(self, now: int, cause: int, reason: str) -> None:
        """Back off after a rejected ladder (or a venue-cancelled re-post), or stop."""
        cfg = self._cfg
        self._rejected_ladders += 1
        count = self._rejected_ladders
        self._set_size(max(1, div_round(self.size_ppb, 2, DOWN)))
        if cfg.reject_stop_after and count >= cfg.reject_stop_after:
            self.stopped = True
            self._size_token += 1
            seq = self._emit(now, cause, reason, "stop", count, cfg.reject_stop_after)
        else:
            pause = min(cfg.reject_backoff_max, cfg.reject_backoff << min(count - 1, 62))
            self._backoff_until = now + pause
            self._resume_token += 1
            self._env.call_at(pause, Phase.AGENT, self._resume, self._resume_token)
            seq = self._emit(now, cause, reason, "backoff", pause, cfg.reject_backoff_max)
        self._cancel_quotes(seq)

    def _resume(self, token: int) -> None:
        """The back-off is over (no event of its own: the backoff event gave its length)."""
        if token != self._resume_token:
            return
        now = self._env.now
        self._requote_now(now, None)

    def _set_size(self, size_ppb: int) -> None:
        self.size_ppb = size_ppb
        self._size_token += 1
        if size_ppb < RATE_SCALE:
            self._env.call_at(self._cfg.size_recovery, Phase.AGENT, self._grow, self._size_token)

    def _grow(self, token: int) -> None:
        if token != self._size_token or self.stopped:
            return
        now = self._env.now
        self.size_ppb = min(RATE_SCALE, self.size_ppb * 2)
        if self.size_ppb < RATE_SCALE:
            self._env.call_at(self._cfg.size_recovery, Phase.AGENT, self._grow, token)
        seq = self._emit(now, None, "size_recovery", "size_up", self.size_ppb, RATE_SCALE)
        self._requote_now(now, seq)

    def _timer(self):
        env = self._env
        interval = self._cfg.requote_interval
        while True:
            yield env.at(interval, Phase.AGENT)
            self._requote_now(env.now, None)
