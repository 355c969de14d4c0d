"""One trader's account on the instrument, and the fee schedule (pure data).

The ledger (:mod:`exchange_sim.accounts.ledger`) is the only writer of an :class:`Account`.
Units: money minor units, prices ticks, sizes lots, rates ppb.
"""

from __future__ import annotations

import attrs


@attrs.define(slots=True)
class Account:
    """One trader's account on the instrument (mutable; the ledger is its only writer)."""

    account_id: int
    isolated: bool = False
    leverage: int = 20
    owner: str = ""
    """The participant (or group) that holds the account, or the venue holder's name."""
    role: str = ""
    """What kind of owner it is: a participant kind (``market_maker``, ``noise``,
    ``leveraged``, ``arbitrageur``, ...) or ``insurance_fund`` / ``vault``."""
    wallet: int = 0
    isolated_margin: int = 0
    size_lots: int = 0
    entry_notional: int = 0
    realised_pnl: int = 0
    fees_paid: int = 0
    deposited: int = 0
    withdrawn: int = 0
    liquidation_price: int | None = None
    margin_call_price: int | None = None
    bankruptcy_price: int | None = None
    tier_step_price: int | None = None
    holdings: dict[str, int] | None = None
    """Units of each collateral asset the account holds as margin besides its wallet (cross only;
    :mod:`.collateral`), in the asset's minor units (the settlement asset's decimals); ``None``
    (not an empty dict: no memory per account) when it holds none."""

    @property
    def signed_entry_notional(self) -> int:
        return self.entry_notional if self.size_lots >= 0 else -self.entry_notional

    @property
    def collateral(self) -> int:
        """The margin balance excluding this position's uPnL (wallet, or the isolated bucket)."""
        return self.isolated_margin if self.isolated else self.wallet

    @property
    def holder(self) -> Account:
        """The account whose wallet and collateral assets back this one: itself (a
        :class:`LinkedAccount` answers its home account)."""
        return self


@attrs.frozen(kw_only=True)
class FeeSchedule:
    """Trading fees as rates in ppb (a user writes ``maker_fee = 0.0002`` for 2 bp)."""

    maker_fee_ppb: int = attrs.field(
        default=200_000, metadata={"unit": "rate", "help": "maker fee (negative = rebate)"}
    )
    taker_fee_ppb: int = attrs.field(
        default=500_000, metadata={"unit": "rate", "help": "taker fee"}
    )


class LinkedAccount(Account):
    """The same trader's account in another perpetual's ledger: its own position (and isolated
    bucket), but the wallet of its ``home`` account (one wallet backs every position of a cross
    account; :mod:`exchange_sim.venue.cross_margin`). Money into or out of the wallet, fees and
    realised PnL in this ledger all move the home account's wallet."""

    __slots__ = ("home",)
    home: Account

    def __init__(self, home: Account, isolated: bool, leverage: int, owner: str, role: str):
        object.__setattr__(self, "home", home)
        super().__init__(
            home.account_id,
            isolated=isolated,
            leverage=leverage,
            owner=owner,
            role=role,
            wallet=home.wallet,
        )

    @property
    def wallet(self) -> int:
        return self.home.wallet

    @wallet.setter
    def wallet(self, value: int) -> None:
        self.home.wallet = value

    @property
    def holder(self) -> Account:
        return self.home
