"""The insurance fund: an exact money ledger with a peak and a windowed drawdown trigger.

One :class:`InsuranceFund` object is one fund; whether a venue keeps one per instrument or one
shared by several (Binance 2020: shared except BTCUSDT and ETHUSDT; OKX: per business line,
underlying and settlement currency; exchange_mechanics.md §5.1) is the caller's choice of how many
objects to make.

Accounting (BitMEX, Bybit, Binance; exchange_mechanics.md §5.1): a liquidation fill that closes
``size_lots`` of a position at ``fill_price_ticks`` changes the fund by
``(fill - bankruptcy) * size * money_per_tick_lot * side + liquidation_fee`` with ``side = +1``
when a long is closed: positive when the fill is better than the bankruptcy price. Prices are
ticks and sizes lots, so the amount is an exact integer and no rounding is involved.

The balance never goes below zero: a payment larger than the balance pays what there is and
reports the rest as a *shortfall* (bad debt for ADL or socialisation to absorb).

ADL triggers (§5.1): :meth:`InsuranceFund.exhausted` (BitMEX: "the contract's fund is depleted")
and :meth:`InsuranceFund.drawdown_exceeded` (OKX and WOO X: "a straight-line decrease of 30 % from
the peak value ... within 8 hours"). The latter reads the maximum balance over the last window from
a monotonic deque, so a call costs amortised O(1), not O(history).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import attrs

from exchange_sim.core.contract import InverseContract, Valuation
from exchange_sim.core.units import NS_PER_HOUR, RATE_SCALE

DEFAULT_MAX_WINDOW_NS = 8 * NS_PER_HOUR
"""OKX's drawdown window (exchange_mechanics.md §5.1)."""


@attrs.frozen(kw_only=True)
class InsuranceFundConfig:
    initial_balance: int = attrs.field(
        default=500_000_000_000,
        metadata={"unit": "money", "min": 0, "help": "balance the fund starts with"},
    )


def liquidation_fill_delta(
    side: int,
    fill_price_ticks: int,
    bankruptcy_price_ticks: int,
    size_lots: int,
    money_per_tick_lot: Valuation,
    liquidation_fee: int,
) -> int:
    """What a liquidation fill owes the fund (negative: what the fund owes), money minor units.

    ``(fill - bankruptcy) * size * money_per_tick_lot * side + fee`` (§5.1), ``side = +1`` when a
    long is being closed (sold), ``-1`` for a short (bought back); ``size_lots`` is unsigned.
    Exact: no division. An inverse contract (``money_per_tick_lot`` its
    :class:`~exchange_sim.core.contract.InverseContract`): ``-side x (value(fill) -
    value(bankruptcy))`` of the closing fill, in coin.
    """
    if isinstance(money_per_tick_lot, InverseContract):
        return (
            money_per_tick_lot.settlement_delta(
                side, size_lots, fill_price_ticks, bankruptcy_price_ticks
            )
            + liquidation_fee
        )
    return (
        fill_price_ticks - bankruptcy_price_ticks
    ) * size_lots * money_per_tick_lot * side + liquidation_fee


@attrs.define
class InsuranceFund:
    """One insurance fund's ledger (money in minor units, time in ns).

    ``history`` holds every change as ``(ts, delta, balance, reason, cause_seq)``. ``peak`` is the
    all-time highest balance. ``max_window_ns`` bounds the drawdown windows that can be asked for
    (the deque keeps only what such a window needs). Events go to ``log`` when one is given.
    """

    fund_id: str = "insurance_fund"
    balance: int = 0
    log: Any = None
    max_window_ns: int = DEFAULT_MAX_WINDOW_NS
    created_ts: int = 0
    initial_balance: int = attrs.field(init=False)
    peak: int = attrs.field(init=False)
    last_shortfall: int = attrs.field(init=False, default=0)
    injected: int = attrs.field(init=False, default=0)
    history: list[tuple[int, int, int, str, int | None]] = attrs.field(init=False, factory=list)
    # Windowed maximum: [start_ts, balance, end_ts or None], balances strictly decreasing from the
    # front; the back is always the current balance (end None).
    _window: deque[list] = attrs.field(init=False, factory=deque)

    def __attrs_post_init__(self) -> None:
        if self.balance < 0:
            raise ValueError(f"an insurance fund cannot start negative (got {self.balance})")
        self.initial_balance = self.balance
        self.peak = self.balance
        self._window.append([self.created_ts, self.balance, None])

    # -- changes -----------------------------------------------------------------------------

    def _apply(
        self,
        ts: int,
        delta: int,
        reason: str,
        cause: int | None,
        shortfall: int,
        account_id: int | None = None,
    ) -> None:
        self.last_shortfall = shortfall
        if delta == 0 and shortfall == 0:
            return
        balance = self.balance + delta
        self.balance = balance
        if delta != 0:
            self.history.append((ts, delta, balance, reason, cause))
            if balance > self.peak:
                self.peak = balance
            window = self._window
            window[-1][2] = ts
            while window and window[-1][1] <= balance:
                window.pop()
            window.append([ts, balance, None])
            horizon = ts - self.max_window_ns
            while window[0][2] is not None and window[0][2] <= horizon:
                window.popleft()
        if self.log is not None:
            self.log.emit_record(
                {
                    "seq": 0,
                    "ts": ts,
                    "type": "insurance_fund",
                    "cause": cause,
                    "fund": self.fund_id,
                    "delta": delta,
                    "balance": balance,
                    "reason": reason,
                    "shortfall": shortfall,
                    "account_id": account_id,
                }
            )

    def deposit(
        self,
        ts: int,
        amount: int,
        cause: int | None = None,
        reason: str = "deposit",
        account_id: int | None = None,
    ) -> int:
        """Add ``amount >= 0`` (a fee share, a seed, an injection) paid by ``account_id`` (if an
        account paid it); return the new balance."""
        if amount < 0:
            raise ValueError(f"deposit must be >= 0 (got {amount}); use cover() to pay out")
        self._apply(ts, amount, reason, cause, 0, account_id)
        return self.balance

    def inject(self, ts: int, amount: int, cause: int | None) -> int:
        """Money put into the fund from outside (a top-up): counted in :attr:`injected`, which
        the money identity adds to what was put in."""
        self.injected += amount
        return self.deposit(ts, amount, cause, "top_up")

    def cover(
        self,
        ts: int,
        amount: int,
        cause: int | None = None,
        reason: str = "cover",
        account_id: int | None = None,
    ) -> int:
        """Pay up to ``amount >= 0`` (bad debt) to ``account_id``; return what was paid, never
        more than the balance.

        The unpaid rest is ``amount - covered`` (also in ``last_shortfall`` and the event).
        """
        if amount < 0:
            raise ValueError(f"cover amount must be >= 0 (got {amount})")
        covered = amount if amount <= self.balance else self.balance
        self._apply(ts, -covered, reason, cause, amount - covered, account_id)
        return covered

    def on_liquidation_fill(
        self,
        ts: int,
        side: int,
        fill_price_ticks: int,
        bankruptcy_price_ticks: int,
        size_lots: int,
        money_per_tick_lot: Valuation,
        liquidation_fee: int,
        cause: int | None = None,
        account_id: int | None = None,
    ) -> int:
        """Book one liquidation fill (§5.1); return its delta, money minor units.

        ``side`` is ``+1`` when a long is being closed, ``-1`` for a short. A positive delta (the
        fill beat the bankruptcy price, plus the fee) is credited in full. A negative delta is paid
        as far as the balance allows; the part not paid is left in ``last_shortfall`` (and the
        event's ``shortfall``) for the caller to hand to ADL or socialisation. The returned value is
        always the full §5.1 delta, so ``balance change == max(delta, -balance_before)``.
        """
        delta = liquidation_fill_delta(
            side,
            fill_price_ticks,
            bankruptcy_price_ticks,
            size_lots,
            money_per_tick_lot,
            liquidation_fee,
        )
        if delta >= 0:
            self._apply(ts, delta, "liquidation_fill", cause, 0, account_id)
        else:
            owed = -delta
            paid = owed if owed <= self.balance else self.balance
            self._apply(ts, -paid, "liquidation_fill", cause, owed - paid, account_id)
        return delta

    # -- ADL triggers ------------------------------------------------------------------------

    def exhausted(self, required: int = 0) -> bool:
        """The fund is depleted (balance <= 0) or cannot pay ``required`` in full."""
        return self.balance <= 0 or self.balance < required

    def window_peak(self, now: int, window_ns: int) -> int:
        """Highest balance in force at any time in ``[now - window_ns, now]``, money.

        ``now`` must not be earlier than the last change; ``window_ns <= max_window_ns``.
        """
        if window_ns > self.max_window_ns:
            raise ValueError(
                f"window {window_ns} ns is longer than this fund's max_window_ns "
                f"{self.max_window_ns} ns"
            )
        horizon = now - window_ns
        window = self._window
        while window[0][2] is not None and window[0][2] <= now - self.max_window_ns:
            window.popleft()
        # Front entries are the largest; skip those that ended before this (shorter) window.
        for _start, balance, end in window:
            if end is None or end > horizon:
                return balance
        raise AssertionError("unreachable: the current balance is always in the window")

    def drawdown_exceeded(self, now: int, window_ns: int, threshold_ppb: int) -> bool:
        """The balance fell by at least ``threshold_ppb`` of the window's peak (OKX, §5.1).

        Fires when ``(peak_w - balance) * RATE_SCALE >= threshold_ppb * peak_w`` with ``peak_w``
        the highest balance in force during ``[now - window_ns, now]`` (exact integers; the
        threshold itself fires). Never fires when ``peak_w <= 0``.
        """
        peak_w = self.window_peak(now, window_ns)
        if peak_w <= 0:
            return False
        return (peak_w - self.balance) * RATE_SCALE >= threshold_ppb * peak_w
