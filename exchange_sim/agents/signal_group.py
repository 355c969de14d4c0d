"""Groups of traders that act on a signal: each member enters when the signal passes its own
threshold and exits when it fades, on a stop or on a take-profit.

The signal (in ppb) is computed by the concrete group from what its members observe (a trend
follower's price change over a lookback, a dip buyer's drop from the recent high, a carry trader's
premium of the book over the index). Each member draws its entry threshold uniformly from
``[threshold_min, threshold_max]`` once (from the group's RNG stream), so a strengthening signal
brings members in one by one rather than all at once. A member enters on side
``ORIENTATION x sign(signal)`` (with the signal for a trend follower, against it for the others)
with a market order of ``deposit x leverage x position_fraction`` notional at the price it
observes (at most ``max_position`` lots when the group has one); the entry is logged as
``trader_entry`` whose cause is the update that crossed its threshold, and the order names the
entry. From its first fill it exits (``trader_exit``, reason ``FADE_REASON``) when the signal in
its favour falls below ``exit_fraction`` of its threshold (no fade exit when ``exit_fraction`` is
0), or on its stop-loss or take-profit (:class:`~exchange_sim.agents.holdings.Holdings`,
triggered by the same observed price). Once flat it waits ``cooldown`` before it can enter
again.

Cost per observation: O(log n + members whose threshold or exit level it crossed), never a scan
of the members (waiting members sit in one sorted book by threshold, holders in one per side by
exit level).
"""

from __future__ import annotations

from exchange_sim.agents.holdings import Holdings
from exchange_sim.agents.triggers import Levels
from exchange_sim.core.contract import lots_for_value
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL
from exchange_sim.venue.messages import Deposit


class SignalGroup:
    """The mechanics shared by the trend, dip and carry groups (see the module docstring)."""

    ORIENTATION = 1
    """1: a member trades with the signal's sign; -1: against it."""
    ENTRY_REASON = "trend"
    FADE_REASON = "signal_faded"

    __slots__ = (
        "_cfg",
        "_env",
        "_fade",
        "_fading",
        "_gateway",
        "_log",
        "_money_per_tick_lot",
        "_threshold",
        "_waiting",
        "entries",
        "holdings",
        "members",
        "price",
        "price_seq",
    )

    def __init__(
        self, env, gateway, log, config, account_ids, next_order_id, rng, money_per_tick_lot: int
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._log = log
        self._cfg = config
        self._money_per_tick_lot = money_per_tick_lot
        self.members = account_ids
        thresholds = rng.integers(
            config.threshold_min, config.threshold_max + 1, size=len(account_ids)
        ).tolist()
        self._threshold = dict(zip(account_ids, thresholds, strict=True))
        self._fade = {
            account_id: div_round(threshold * config.exit_fraction, RATE_SCALE, DOWN)
            for account_id, threshold in self._threshold.items()
        }
        self._waiting = Levels(falling=False)
        """Flat members by entry threshold: they enter when |signal| reaches it."""
        for account_id in account_ids:
            self._waiting.add(self._threshold[account_id], account_id, "")
        self._fading = {BUY: Levels(falling=True), SELL: Levels(falling=True)}
        """Holders by exit level, per side: they exit when the signal in their favour drops
        below it."""
        self.holdings = holdings = Holdings(
            env,
            gateway,
            log,
            config.name,
            account_ids,
            next_order_id,
            config.stop_loss,
            config.take_profit,
        )
        holdings.on_flat = self._flat
        holdings.on_opened = self._opened
        self.entries = 0
        """Entries sent so far."""
        self.price: int | None = None
        """The last price the group observed, ticks (what it sizes entries from)."""
        self.price_seq: int | None = None

    def start(self) -> None:
        amount = self._cfg.deposit
        if amount:
            for account_id in self.members:
                self._gateway.send(account_id, Deposit(amount), None)

    # -- decisions -------------------------------------------------------------------------------
    def _on_signal(self, signal: int, seq: int | None, size_price: int | None) -> None:
        """Enter members whose threshold ``|signal|`` reached; exit holders whose signal faded.
        ``seq`` is the update that produced the signal (the entries' and exits' cause)."""
        if self._cfg.exit_fraction:
            fading = self._fading
            for side in (BUY, SELL):
                book = fading[side]
                if len(book):
                    strength = signal * side * self.ORIENTATION
                    for _level, account_id, _tag in book.crossed(strength + 1):
                        self.holdings.exit(account_id, self.FADE_REASON, seq, self.price)
        if not signal or size_price is None:
            return
        magnitude = signal if signal > 0 else -signal
        side = self.ORIENTATION * (1 if signal > 0 else -1)
        for _level, account_id, _tag in self._waiting.crossed(magnitude):
            self._enter(account_id, side, signal, seq, size_price)

    def _enter(self, account_id: int, side: int, signal: int, seq, price: int) -> None:
        cfg = self._cfg
        notional = int(cfg.deposit * cfg.leverage * cfg.position_fraction)
        lots = lots_for_value(self._money_per_tick_lot, notional, price, DOWN)
        if cfg.max_position:
            lots = min(lots, cfg.max_position)
        if lots <= 0:
            self._env.call_at(cfg.cooldown, Phase.AGENT, self._rearm, account_id)
            return
        entry = self._log.emit(
            self._env.now,
            "trader_entry",
            seq,
            account_id=account_id,
            participant=cfg.name,
            reason=self.ENTRY_REASON,
            side=side,
            lots=lots,
            price_ticks=price,
            signal_ppb=signal,
        )
        self.entries += 1
        self.holdings.open(account_id, side, lots, entry)

    def _opened(self, now: int, account_id: int) -> None:
        """Its first opening fill arrived: from now on a fading signal closes the position (a
        fade seen while the entry was in flight is acted on at the next signal update)."""
        if self._cfg.exit_fraction:
            side = 1 if self.holdings.members[account_id].position > 0 else -1
            self._fading[side].add(self._fade[account_id], account_id, "")

    def _flat(self, now: int, account_id: int, exit_seq: int | None) -> None:
        fade = self._fade[account_id]
        for book in self._fading.values():
            book.discard((fade, account_id, ""))
        self._env.call_at(self._cfg.cooldown, Phase.AGENT, self._rearm, account_id)

    def _rearm(self, account_id: int) -> None:
        self._waiting.add(self._threshold[account_id], account_id, "")

    # -- observation helpers -----------------------------------------------------------------------
    def _observe_price(self, price: int, seq: int | None) -> None:
        self.price, self.price_seq = price, seq
        self.holdings.observe(price, seq, price, seq)

    @staticmethod
    def change_ppb(price: int, reference: int) -> int:
        """``(price - reference) / reference`` in ppb, floored."""
        return div_round((price - reference) * RATE_SCALE, reference, DOWN)

    # -- reports ---------------------------------------------------------------------------------
    def on_fill(self, now: int, account_id: int, seq: int, fill) -> None:
        self.holdings.on_fill(now, account_id, seq, fill)

    def on_position_transfer(self, now: int, account_id: int, seq: int, transfer) -> None:
        self.holdings.on_position_transfer(now, account_id, seq, transfer)

    def on_order_update(self, now: int, account_id: int, seq: int, update) -> None:
        self.holdings.on_order_update(now, account_id, seq, update)
