"""The metrics' per-account figures as columns: one list per figure, indexed by account id.

A run's account ids are small and dense (:class:`~exchange_sim.core.ids.IdSource`), so an
account costs one list slot per figure (eight bytes), and a figure that is zero, or the int the
event carried (a deposit's amount, a first fee), is an object shared with others: no object per
account. :class:`AccountColumns` holds them and the moves of collateral that mirror the ledger's;
:class:`~exchange_sim.analysis.metrics_accounts.Accounts` replays the events into them.
:class:`AccountState` is one account's figures read out as a record (results, tests).
"""

from __future__ import annotations

from exchange_sim.analysis.valuation import open_pnl

INT_FIGURES = (
    "position",
    "entry",
    "wallet",
    "iso",
    "realised",
    "losing",
    "fees",
    "funding",
    "socialised",
    "deposits",
    "withdrawals",
)
"""The integer figures kept per account, one column each (rebates are kept sparse)."""


class AccountState:
    """One account's replayed figures (money minor units, lots), as :meth:`Accounts.state`
    reads them out of the columns: a record for results and tests, never kept per account."""

    __slots__ = (
        "deposits",
        "entry",
        "fees",
        "funding",
        "iso",
        "isolated",
        "losing",
        "position",
        "realised",
        "rebates",
        "role",
        "socialised",
        "wallet",
        "withdrawals",
    )

    role: str | None
    isolated: bool
    position: int
    entry: int
    wallet: int
    iso: int
    realised: int
    losing: int
    fees: int
    rebates: int
    funding: int
    socialised: int
    deposits: int
    withdrawals: int

    def __init__(self) -> None:
        self.role = None
        self.isolated = False
        self.rebates = 0
        for name in INT_FIGURES:
            setattr(self, name, 0)

    @property
    def fees_paid(self) -> int:
        """The positive fees: the net fees plus the rebates."""
        return self.fees + self.rebates

    @property
    def signed_entry(self) -> int:
        return self.entry if self.position >= 0 else -self.entry

    def unrealised(self, mark: int | None, valuation) -> int:
        """Open PnL at ``mark`` (0 when flat; with no mark, the position is valued at its
        entry): linear ``position x mark x m - signed entry notional``, inverse the ledger's
        (a long's ``entry - ceil(Q k / P)``, :func:`~exchange_sim.analysis.valuation.open_pnl`)."""
        if mark is None or not self.position:
            return 0
        return open_pnl(valuation, self.position, self.entry, mark)


ABSENT = object()
"""``role`` of an id no event has named (a hole in the columns)."""


class AccountColumns:
    """The per-account figures (money minor units, lots), one list each indexed by account id.
    An id is present once an event names it (``role`` not :data:`ABSENT`). Fee rebates
    (makers' negative fees) are kept only for the accounts that receive one."""

    def __init__(self, valuation) -> None:
        self.valuation = valuation
        """``Scale.valuation``: money per tick-lot, or an inverse contract."""
        # Columns, indexed by account id.
        self.role: list = []  # str, None (no account_opened), or ABSENT
        self.isolated = bytearray()
        self.position: list[int] = []
        self.entry: list[int] = []
        self.wallet: list[int] = []
        self.iso: list[int] = []
        self.realised: list[int] = []
        self.losing: list[int] = []  # losses on losing fills, as a positive amount
        self.fees: list[int] = []  # net of rebates
        self.funding: list[int] = []
        self.socialised: list[int] = []
        self.deposits: list[int] = []
        self.withdrawals: list[int] = []
        self.rebates: dict[int, int] = {}  # account -> rebates received (positive), if any

    # -- columns -------------------------------------------------------------------------------
    def touch(self, account_id: int) -> int:
        """Make ``account_id`` present (all zero, no role) if no event has named it yet;
        return it."""
        role = self.role
        if account_id >= len(role):
            more = account_id + 1 - len(role)
            role.extend([ABSENT] * more)
            self.isolated.extend(bytes(more))
            zeros = [0] * more
            for column in self._int_columns():
                column.extend(zeros)
        if role[account_id] is ABSENT:
            role[account_id] = None
        return account_id

    def _int_columns(self) -> tuple[list[int], ...]:
        return tuple(getattr(self, name) for name in INT_FIGURES)

    def ids(self) -> list[int]:
        """The present accounts, in id order."""
        return [i for i, role in enumerate(self.role) if role is not ABSENT]

    def state(self, account_id: int) -> AccountState | None:
        """The account's figures as one record (``None`` if no event named it)."""
        if account_id >= len(self.role) or self.role[account_id] is ABSENT:
            return None
        state = AccountState()
        state.role = self.role[account_id]
        state.isolated = bool(self.isolated[account_id])
        state.rebates = self.rebates.get(account_id, 0)
        for name in INT_FIGURES:
            setattr(state, name, getattr(self, name)[account_id])
        return state

    def states(self) -> list[tuple[int, AccountState]]:
        """``(account id, figures)`` of every present account, in id order."""
        return [(i, self.state(i)) for i in self.ids()]  # type: ignore[misc]

    def adjust(self, account_id: int, amount: int) -> None:
        """``Ledger.adjust_collateral``: the isolated bucket while an isolated position is open,
        else the wallet."""
        if self.isolated[account_id] and self.position[account_id]:
            self.iso[account_id] += amount
        else:
            self.wallet[account_id] += amount

    def credit(self, account_id: int, amount: int) -> None:
        """``Settlement.credit``: a flat isolated account's negative bucket is filled first."""
        if amount <= 0:
            return
        iso = self.iso[account_id]
        if self.isolated[account_id] and not self.position[account_id] and iso < 0:
            take = min(amount, -iso)
            self.iso[account_id] = iso + take
            amount -= take
        if amount:
            self.adjust(account_id, amount)

    def unrealised(self, account_id: int, mark: int | None) -> int:
        """The account's open PnL at ``mark`` (:meth:`AccountState.unrealised`)."""
        position = self.position[account_id]
        if mark is None or not position:
            return 0
        return open_pnl(self.valuation, position, self.entry[account_id], mark)
