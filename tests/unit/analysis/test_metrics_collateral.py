"""Traders' results with collateral assets: the units they hold are marked at the asset's last
price and their deposits counted at what they were worth, so a depeg that costs them shows."""

from __future__ import annotations

from exchange_sim.analysis.metrics_accounts import Accounts


def _deposit(accounts: Accounts, units: int, held: int) -> None:
    accounts.on_collateral_deposit(
        {"account_id": 7, "asset": "USDE", "units": units, "collateral_units": held}
    )


def test_collateral_deposited_at_par_and_marked_at_the_last_price():
    """1,000 units deposited before any price (par: 1,000), then priced at 0.66: -340."""
    accounts = Accounts(1)
    _deposit(accounts, 1_000, 1_000)
    accounts.on_collateral_price({"asset": "USDE", "price_ppb": 660_000_000})
    assert accounts.collateral_result(7) == -340


def test_a_deposit_is_worth_the_price_when_it_is_made():
    """At 0.9, 1,000 units are deposited worth 900; marked at 0.9 too, the result is 0."""
    accounts = Accounts(1)
    accounts.on_collateral_price({"asset": "USDE", "price_ppb": 900_000_000})
    _deposit(accounts, 1_000, 1_000)
    assert accounts.collateral_result(7) == 0


def test_units_the_venue_converted_are_gone_and_their_payment_is_in_the_wallet():
    """500 of 1,000 units converted at 0.66 less the haircut (297 into the wallet): the 500 left
    are worth 330, so the collateral result is 330 - 1,000; the wallet holds the 297."""
    accounts = Accounts(1)
    _deposit(accounts, 1_000, 1_000)
    accounts.on_collateral_price({"asset": "USDE", "price_ppb": 660_000_000})
    accounts.on_collateral_converted(
        {"account_id": 7, "asset": "USDE", "units": 500, "value": 297, "wallet": 297}
    )
    assert accounts.collateral_result(7) == -670
    assert accounts.wallet[7] == 297


def test_net_result_counts_the_collateral():
    """An account with only collateral (no money deposited, no trade) has the collateral's
    result as its net result, and lost money when it fell."""
    accounts = Accounts(1)
    accounts.on_account_opened({"account_id": 7, "role": "leveraged", "isolated": False})
    _deposit(accounts, 1_000, 1_000)
    accounts.on_collateral_price({"asset": "USDE", "price_ppb": 660_000_000})
    group = accounts.groups(None)["leveraged"]
    assert group["net_result"] == group["collateral_result"] == -340
    assert group["lost_money"] == 1 and group["liquidation_transfers"] == 0
