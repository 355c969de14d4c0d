"""Test helper: ledgers joined by cross margin, as the venue joins its perpetuals' ledgers
(:meth:`exchange_sim.venue.perpetuals.Perpetuals.link`)."""

from __future__ import annotations

from exchange_sim.accounts.cross_margin import CrossMargin


def join(home_ledger, other_ledger, account_id: int = 1, home_leverage: int = 20,
         leverage: int = 20, owner: str = "", role: str = ""):  # fmt: skip
    """Join the two ledgers by cross margin and open ``account_id`` in both: its home account in
    ``home_ledger``, a linked account (the home's wallet) in ``other_ledger``. Returns
    ``(home, linked)``."""
    cross = CrossMargin()
    cross.add_ledger(home_ledger)
    cross.add_ledger(other_ledger)
    home = home_ledger.open_account(account_id, leverage=home_leverage)
    linked = other_ledger.open_linked_account(home, False, leverage, owner, role)
    cross.link(home_ledger, home)
    cross.link(other_ledger, linked)
    return home, linked
