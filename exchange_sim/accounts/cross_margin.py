"""Cross margin over several perpetuals (pure): one wallet backs every position of an account.

A trader's account exists once per perpetual ledger (the instrument's and each
``perpetuals[]``'s); one of them is the *home* account holding the wallet, the others are
:class:`~exchange_sim.accounts.account.LinkedAccount` views of it. In cross mode the account's
margin is one pool (Binance ``WB - TMM1 + UPNL1``, exchange_mechanics.md §2.1 and §3.1; dYdX's
subaccount, §2.5 and §3.5; Hyperliquid's cross account value, §2.6):

``equity = wallet + Σ_i uPnL_i(mark_i) + collateral value``, ``MM = Σ_i MM_i(mark_i)``

and the account is liquidatable when ``equity < MM``, so a loss in one market can liquidate a
position in another. Isolated positions keep their own buckets and are left out of the pool.

**Triggers on several marks.** Equity moves with every market's mark, so no single liquidation
price exists. As for a collateral asset (:mod:`exchange_sim.accounts.collateral`), the slack
``S = equity - MM`` at current prices is split over the account's *dimensions* (each position's
mark, each collateral price) in proportion to their exposure (notional, or collateral value),
``keep_d = floor(S x E_d / Σ E)``, in one canonical order (the ledgers' order), so every ledger
computes the same split. A position's trigger is solved with every other dimension at its current
term less what it keeps (the reference's cross formula with ``TMM1`` and ``UPNL1`` reserved);
while no mark or price has crossed its trigger, ``equity >= MM`` holds exactly. Whenever the
account changes in any ledger, or a check finds it safe, the split is made again in all of them
(:meth:`CrossMargin.refresh`), so the triggers always come from one split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from exchange_sim.core.rounding import DOWN, div_round


def split_slack(slack: int, exposures: list[int]) -> list[int]:
    """``floor(slack x E_d / Σ E)`` for each exposure (all 0 without slack or exposure); the sum
    never exceeds ``slack``: the rounding leftover stays unallocated (on the safe side)."""
    total = sum(exposures)
    if slack <= 0 or total <= 0:
        return [0] * len(exposures)
    return [div_round(slack * e, total, DOWN) for e in exposures]


class CrossMargin:
    """The venue's perpetual ledgers and the accounts that are one account across them."""

    __slots__ = ("changed", "ledgers", "members")

    def __init__(self) -> None:
        self.ledgers: list = []
        self.members: dict[int, list] = {}
        """account id -> ``[(ledger, account), ...]`` in ledger order, for linked accounts only."""
        self.changed: Callable[[int, int, int | None], None] | None = None
        """``changed(now, account_id, cause)``: told after a re-split (the venue re-indexes)."""

    def add_ledger(self, ledger) -> None:
        ledger.cross = self
        self.ledgers.append(ledger)

    def link(self, ledger, account) -> None:
        """``account`` (in ``ledger``) is one of ``account_id``'s accounts."""
        entries = self.members.setdefault(account.account_id, [])
        entries.append((ledger, account))
        order = {id(led): i for i, led in enumerate(self.ledgers)}
        entries.sort(key=lambda entry: order[id(entry[0])])

    def is_member(self, account) -> bool:
        return account.account_id in self.members and not account.isolated

    def peers(self, account, ledger) -> Iterator[tuple]:
        """The account's cross positions in the *other* ledgers: ``(ledger, account, price)``."""
        for other_ledger, other in self.members.get(account.account_id, ()):
            if other_ledger is not ledger and not other.isolated:
                yield other_ledger, other, other_ledger.current_price(other)

    def other_equity(self, account, ledger) -> int:
        """The other cross positions' uPnL plus any collateral value their accounts hold."""
        total = 0
        for other_ledger, other, price in self.peers(account, ledger):
            if other.size_lots:
                total += other_ledger.unrealised_pnl(other, price)
            if other.holdings:
                total += other_ledger.collateral_value(other)
        return total

    def other_margin_in_use(self, account, ledger) -> int:
        """What the account's cross positions in the other ledgers take from the one wallet
        before a new order or a withdrawal here: each one's initial margin and resting orders'
        margin, and its unrealised loss (a profit is not usable: as in one ledger,
        :meth:`~exchange_sim.accounts.pretrade.PreTradeChecks.available_balance`)."""
        total = 0
        for other_ledger, other, price in self.peers(account, ledger):
            if other.size_lots:
                upnl = other_ledger.unrealised_pnl(other, price)
                total += other_ledger.tiers.initial_margin(
                    other_ledger.notional(other, price), other.leverage
                )
                if upnl < 0:
                    total -= upnl
            total += other_ledger._order_margin(other, price)
        return total

    def other_order_margin(self, account, ledger) -> int:
        """The margin the account's resting orders in the other ledgers hold back from the one
        wallet (an isolated account's: its positions' margin is in their own buckets)."""
        total = 0
        for other_ledger, other in self.members.get(account.account_id, ()):
            if other_ledger is not ledger:
                total += other_ledger._order_margin(other, other_ledger.current_price(other))
        return total

    def other_maintenance(self, account, ledger) -> int:
        return sum(
            other_ledger.position_maintenance(other, price)
            for other_ledger, other, price in self.peers(account, ledger)
            if other.size_lots
        )

    def other_call_level(self, account, ledger) -> int:
        return sum(
            other_ledger.position_call_level(other, price)
            for other_ledger, other, price in self.peers(account, ledger)
            if other.size_lots
        )

    def close_first(self, account_id: int, rule: str):
        """The ledger of the account's cross position the venue closes first
        (``risk.close_first``): ``largest_margin`` (the largest maintenance margin) or
        ``largest_loss`` (the largest unrealised loss), at current prices, ties to the earlier
        ledger; None for ``triggered`` (the market whose check found it) or without one."""
        if rule == "triggered":
            return None
        best = best_key = None
        for ledger, account in self.members.get(account_id, ()):
            if not account.size_lots or account.isolated:
                continue
            price = ledger.current_price(account)
            if rule == "largest_loss":
                key = -ledger.unrealised_pnl(account, price)
            else:
                key = ledger.position_maintenance(account, price)
            if best_key is None or key > best_key:
                best, best_key = ledger, key
        return best

    def holds_any(self, account_id: int) -> bool:
        """Whether the account holds a position in any ledger."""
        return any(a.size_lots for _l, a in self.members.get(account_id, ()))

    def holds_elsewhere(self, account_id: int, ledger) -> bool:
        """Whether the account holds a position in a ledger other than ``ledger``."""
        return any(
            a.size_lots for other, a in self.members.get(account_id, ()) if other is not ledger
        )

    def refresh(self, now: int, account_id: int, cause: int | None) -> None:
        """Split the account's slack again in every ledger (at the current prices) and tell
        the venue, which re-indexes it where it is watched."""
        for ledger, account in self.members.get(account_id, ()):
            ledger.refresh_prices(account)
        if self.changed is not None:
            self.changed(now, account_id, cause)
