"""The balances of one spot market (pure): quote money and base inventory per account.

A spot account holds ``quote`` (money minor units of the quote asset, the same unit as the
perpetual's settlement asset) and ``base`` (lots of the base asset). No leverage, no shorting: a
buy must be covered by free quote (its limit price x size plus the fee: per lot, the larger of
the maker and taker fees rounded up, the most its fills can cost however they come, since a
resting order pays the maker fee and each fill's fee is rounded up on its own), a sell by free
base; what resting orders have reserved is not free (read from the book, like the perpetual's
ledger reads its order margin). Orders must carry a limit price (a market order is refused: a
spot venue needs a price to reserve the quote a buy may spend).

**Fills**: the buyer pays ``price x lots x m`` plus its fee and receives ``lots``; the seller
receives the notional less its fee and gives ``lots``; fees (rounded UP) go to the market's fee
ledger. So ``Σ quote + fees_collected == quote deposits - withdrawals`` and ``Σ base == base
deposits`` hold exactly after every event (:meth:`SpotLedger.identity`).
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.core.rounding import UP, div_round
from exchange_sim.core.units import RATE_SCALE

QUOTE = ""
"""The asset of a deposit into a spot account's quote balance (the settlement asset)."""
BASE = "base"
"""The asset of a deposit into a spot account's base inventory (lots)."""


class SpotAccount:
    """One account's balances on one spot market (the spot ledger is its only writer)."""

    __slots__ = ("account_id", "base", "fees_paid", "owner", "quote", "role")

    def __init__(self, account_id: int, owner: str = "", role: str = "") -> None:
        self.account_id = account_id
        self.quote = 0
        self.base = 0
        self.fees_paid = 0
        self.owner = owner
        self.role = role

    @property
    def size_lots(self) -> int:
        """The base inventory, lots (a fill report's position on a spot market)."""
        return self.base


class SpotLedger:
    """Balances of one spot market, with the matching engine's hooks."""

    __slots__ = (
        "_emit_record",
        "_mptl",
        "accounts",
        "base_deposited",
        "fees",
        "fees_collected",
        "market",
        "open_orders",
        "quote_deposited",
        "quote_withdrawn",
    )

    def __init__(
        self, log, market: str, money_per_tick_lot: int, maker_fee_ppb: int, taker_fee_ppb: int
    ):
        self._emit_record = log.emit_record
        self.market = market
        self._mptl = money_per_tick_lot
        self.fees = (maker_fee_ppb, taker_fee_ppb)
        self.accounts: dict[int, SpotAccount] = {}
        self.fees_collected = 0
        self.quote_deposited = 0
        self.quote_withdrawn = 0
        self.base_deposited = 0
        self.open_orders: Callable[[int], list] = lambda account_id: []

    # -- accounts ------------------------------------------------------------------------------
    def open_account(self, account_id: int, owner: str = "", role: str = "") -> SpotAccount:
        if account_id in self.accounts:
            raise ValueError(f"spot account {account_id} exists on {self.market}")
        account = SpotAccount(account_id, owner, role)
        self.accounts[account_id] = account
        return account

    def announce_accounts(self, now: int) -> None:
        """One ``spot_account_opened`` per account, in opening order."""
        for account in self.accounts.values():
            self._emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "spot_account_opened",
                    "cause": None,
                    "market": self.market,
                    "account_id": account.account_id,
                    "participant": account.owner,
                    "role": account.role,
                }
            )

    def deposit(
        self,
        now: int,
        account_id: int,
        amount: int,
        cause: int | None,
        ts_sent: int | None = None,
        purpose: str = "deposit",
        asset: str = QUOTE,
    ) -> tuple[int, str | None]:
        """Credit ``amount`` of quote (minor units) or base (lots, ``asset = "base"``)."""
        account = self.accounts[account_id]
        if amount <= 0 or asset not in (QUOTE, BASE):
            reason = "non_positive_amount" if amount <= 0 else "asset_not_accepted"
            seq = self._emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "deposit_rejected",
                    "cause": cause,
                    "account_id": account_id,
                    "amount": amount,
                    "reason": reason,
                }
            )
            return seq, reason
        if asset == BASE:
            account.base += amount
            self.base_deposited += amount
        else:
            account.quote += amount
            self.quote_deposited += amount
        seq = self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "spot_deposit",
                "cause": cause,
                "market": self.market,
                "account_id": account_id,
                "asset": asset or "quote",
                "amount": amount,
                "ts_sent": now if ts_sent is None else ts_sent,
                "quote": account.quote,
                "base": account.base,
            }
        )
        return seq, None

    def withdraw(
        self, now: int, account_id: int, amount: int, cause: int | None, ts_sent: int | None = None
    ) -> tuple[int, str | None]:
        """Withdraw free quote; otherwise a ``withdrawal_rejected``."""
        account = self.accounts[account_id]
        available = account.quote - self._reserved(account_id)[0]
        if amount <= 0 or amount > available:
            reason = "non_positive_amount" if amount <= 0 else "insufficient_available"
            seq = self._emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "withdrawal_rejected",
                    "cause": cause,
                    "account_id": account_id,
                    "amount": amount,
                    "available": available,
                    "reason": reason,
                }
            )
            return seq, reason
        account.quote -= amount
        self.quote_withdrawn += amount
        seq = self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "spot_withdrawal",
                "cause": cause,
                "market": self.market,
                "account_id": account_id,
                "amount": amount,
                "ts_sent": now if ts_sent is None else ts_sent,
                "quote": account.quote,
            }
        )
        return seq, None

    # -- engine hooks --------------------------------------------------------------------------
    def _buy_cost(self, price: int, lots: int) -> int:
        """The most a buy of ``lots`` at limit ``price`` can cost: per lot, its notional plus the
        larger of the two fees rounded up (fills at a lower price, or of more lots, cost no more:
        ``ceil(n x) <= n ceil(x)``)."""
        per_lot = price * self._mptl
        return lots * (per_lot + div_round(per_lot * max(self.fees), RATE_SCALE, UP))

    def _reserved(self, account_id: int, skip: int | None = None) -> tuple[int, int]:
        """(quote, base) held by the account's resting orders other than order ``skip`` (buys
        reserve what they may still cost, :meth:`_buy_cost`; sells their lots)."""
        quote = base = 0
        for order in self.open_orders(account_id):
            if order.order_id == skip:
                continue
            if order.side > 0:
                quote += self._buy_cost(order.price_ticks, order.remaining_lots)
            else:
                base += order.remaining_lots
        return quote, base

    def pre_trade_check(self, now: int, order) -> str | None:
        account = self.accounts.get(order.account_id)
        if account is None:
            return "unknown_account"
        if order.price_ticks is None:
            return "limit_required"
        # An amend is checked with a copy of the resting order carrying its new price and size:
        # its own reservation is replaced, not added to, and only its remaining lots can fill (a
        # new order's remaining lots are its size).
        reserved_quote, reserved_base = self._reserved(order.account_id, order.order_id)
        lots = order.remaining_lots
        if order.side > 0:
            need = self._buy_cost(order.price_ticks, lots)
            return "insufficient_quote" if need > account.quote - reserved_quote else None
        return "insufficient_base" if lots > account.base - reserved_base else None

    def on_trade(self, now: int, seq: int, maker, taker, price: int, size: int) -> None:
        """Settle both sides of a trade (maker first), one ``spot_fill`` each."""
        maker_fee, taker_fee = self.fees
        self._fill(now, seq, maker, price, size, maker_fee)
        self._fill(now, seq, taker, price, size, taker_fee)

    def _fill(self, now: int, seq: int, order, price: int, lots: int, fee_ppb: int) -> None:
        account = self.accounts[order.account_id]
        notional = price * lots * self._mptl
        fee = div_round(notional * fee_ppb, RATE_SCALE, UP)
        if order.side > 0:
            account.quote -= notional + fee
            account.base += lots
        else:
            account.quote += notional - fee
            account.base -= lots
        account.fees_paid += fee
        self.fees_collected += fee
        self._emit_record(
            {
                "seq": 0,
                "ts": now,
                "type": "spot_fill",
                "cause": seq,
                "market": self.market,
                "account_id": order.account_id,
                "side": order.side,
                "price_ticks": price,
                "size_lots": lots,
                "fee": fee,
                "quote": account.quote,
                "base": account.base,
            }
        )

    # -- conservation --------------------------------------------------------------------------
    def identity(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """``((quote held + fees, quote put in), (base held, base put in))``: equal pairs."""
        quote = sum(a.quote for a in self.accounts.values()) + self.fees_collected
        base = sum(a.base for a in self.accounts.values())
        return (quote, self.quote_deposited - self.quote_withdrawn), (base, self.base_deposited)
