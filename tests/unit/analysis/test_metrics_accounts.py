"""Trader and per-role metrics on hand-written logs: realised losses, net results, roles, and the
replay of each account's collateral. Scale: tick 0.5, lot 0.1, m = 5 (test_metrics_script).
"""

from __future__ import annotations

from exchange_sim.analysis.metrics import MetricsCollector
from tests.unit.analysis.test_metrics_script import SCALE, S, Script


def _two_traders(script: Script) -> None:
    """Accounts 1 and 2 deposit 100000 each. Account 1 buys 10 lots at 100 from account 2
    (notional 10 x 100 x 5 = 5000; fees: taker 3, maker 1), then sells 4 back at 90: basis
    removed 5000 x 4/10 = 2000, exit 4 x 90 x 5 = 1800, so account 1 realises -200 (fee 2) and
    account 2 +200 (fee 1). The final mark is 90."""
    script.deposit(0, 1, 100000, 100000)
    script.deposit(0, 2, 100000, 100000)
    script.position(1 * S, 2, -1, 100, 10, position=-10, entry=5000, wallet=99999, fee=1)
    script.position(1 * S, 1, 1, 100, 10, position=10, entry=5000, wallet=99997, fee=3)
    script.position(2 * S, 2, 1, 90, 4, position=-6, entry=3000, wallet=100198, fee=1, realised=200)
    script.position(2 * S, 1, -1, 90, 4, position=6, entry=3000, wallet=99795, fee=2, realised=-200)
    script.mark(3 * S, 90)


def test_trader_realised_losses_are_losing_fills_plus_fees_paid():
    """Without account_opened every account is a trader: losses on losing fills 200, fees paid
    3 + 2 + 1 + 1 = 7, realised losses 207; net realised 200 - 200 - 7 = -7."""
    script = Script()
    _two_traders(script)
    traders = script.metrics()["traders"]
    assert traders["roles_known"] is False
    assert traders["role"] == "unknown"
    assert traders["accounts"] == 2
    assert traders["losses_on_losing_fills_minor"] == 200
    assert traders["fees_paid_minor"] == 7
    assert (traders["realised_losses_minor"], traders["realised_losses"]) == (207, 2.07)
    assert traders["realised_pnl_minor"] == 0
    assert traders["net_realised_pnl_minor"] == -7


def test_net_result_counts_the_open_position_at_the_final_mark():
    """Account 1: 6 long from 3000 is worth 6 x 90 x 5 = 2700 (-300), net 99795 - 300 - 100000 =
    -505; account 2: +300, net 100198 + 300 - 100000 = 498. One trader lost money."""
    script = Script()
    _two_traders(script)
    traders = script.metrics()["traders"]
    assert traders["unrealised_pnl_end_minor"] == -300 + 300
    assert traders["net_result_minor"] == -505 + 498
    assert traders["lost_money"] == 1
    assert traders["deposits_minor"] == 200000
    assert (traders["long_end_lots"], traders["short_end_lots"]) == (6, 6)


def test_holders_of_takeovers_are_venue_accounts_not_traders():
    """Account 3 (deposit 100) is long 2 lots from 100 (entry 1000); the fund's account 9 takes it
    over at 95: account 3 realises 2 x 95 x 5 - 1000 = -50 and gives its leftover 50 to the
    fund. Trader 3 nets -100 (-50 realised, -50 transferred); the fund's account holds 2 lots
    from 950 and at mark 90 is at 2 x 90 x 5 - 950 = -50."""
    script = Script()
    script.deposit(0, 3, 100, 100)
    script.position(1 * S, 3, 1, 100, 2, position=2, entry=1000, wallet=100)
    seq = script.takeover(2 * S, 3, "insurance_fund", 9, position=2, price=95, collateral=50)
    script.position(2 * S, 3, -1, 95, 2, position=0, entry=0, wallet=50, realised=-50, cause=seq)
    script.position(2 * S, 9, 1, 95, 2, position=2, entry=950, wallet=0, cause=seq)
    script.fund(2 * S, 50, 1050, "collateral", cause=seq)
    script.mark(3 * S, 90)
    result = script.metrics()
    traders, fund_role = result["traders"], result["roles"]["insurance_fund"]
    assert traders["accounts"] == 1
    assert traders["net_result_minor"] == -100
    assert traders["realised_pnl_minor"] == -50
    assert traders["liquidation_transfers_minor"] == -50
    assert fund_role["accounts"] == 1
    assert fund_role["net_result_minor"] == -50


def test_account_opened_roles_pick_the_leveraged_accounts_as_traders():
    """With account_opened, traders are the role ``leveraged``; every role gets its totals."""
    script = Script()
    script.opened(1, "leveraged")
    script.opened(2, "market_maker")
    _two_traders(script)
    result = script.metrics()
    traders = result["traders"]
    assert (traders["roles_known"], traders["role"]) == (True, "leveraged")
    assert traders["accounts"] == 1
    assert traders["net_result_minor"] == -505
    assert traders["realised_losses_minor"] == 200 + 5
    assert result["roles"]["market_maker"]["net_result_minor"] == 498


def test_collateral_moves_without_a_balance_are_replayed():
    """Account 1 (deposit 10000) buys 10 at 100 (entry 5000), pays funding 7, is liquidated for
    4 lots at 98 (realised 4 x 98 x 5 - 2000 = -40) and pays a liquidation fee of 20 to the fund
    (fund_delta). Final mark 98: open PnL 6 x 98 x 5 - 3000 = -60. Net result
    9933 - 60 - 10000 = -127 = -40 - 7 - 20 - 60; the fee is a liquidation transfer."""
    script = Script()
    script.deposit(0, 1, 10000, 10000)
    script.position(1 * S, 1, 1, 100, 10, position=10, entry=5000, wallet=10000)
    script.funding_payment(2 * S, 1, 10, 100, 1, -7)
    script.position(3 * S, 1, -1, 98, 4, position=6, entry=3000, wallet=9953, realised=-40)
    script.liq_fill(3 * S, 1, "reduce", 98, 4, fund_delta=20, position=6)
    script.mark(4 * S, 98)
    traders = script.metrics()["traders"]
    assert traders["funding_minor"] == -7
    assert traders["liquidation_transfers_minor"] == -20
    assert traders["unrealised_pnl_end_minor"] == -60
    assert traders["net_result_minor"] == -127


def test_a_fund_cover_caused_by_an_adl_pays_the_deleveraged_account_only_when_it_is_negative():
    """ADL closes account 2's short at a loss leaving its wallet at -30; the fund's cover of 30
    (cause: the adl) pays it back to 0. The next cover with the same cause is the liquidated
    account 1's (settled at its finish), not account 2's: account 2 nets 0 - 1000 = -1000."""
    script = Script()
    script.deposit(0, 2, 1000, 1000)
    script.position(1 * S, 2, -1, 100, 2, position=-2, entry=1000, wallet=1000)
    seq = script.adl(2 * S, account=2, counterparty=1, size=2, price=203)
    # the liquidated account 1 (no collateral left) realises -5 and ends at -5
    script.position(2 * S, 1, -1, 203, 2, position=0, entry=0, wallet=-5, realised=-5, cause=seq)
    # account 2 buys back 2 at 203: realised 1000 - 2 x 203 x 5 = -1030, wallet -30
    script.position(2 * S, 2, 1, 203, 2, position=0, entry=0, wallet=-30, realised=-1030, cause=seq)
    script.fund(2 * S, -30, 970, "cover", cause=seq)
    script.fund(2 * S, -5, 965, "cover", cause=seq)
    script.finished(2 * S, 1, "deleveraged", wallet=0, cause=seq)
    roles = script.metrics()["roles"]["unknown"]
    assert roles["net_result_minor"] == -1000 + 0  # account 2 at 0, account 1 at 0
    assert roles["realised_pnl_minor"] == -1030 - 5
    assert roles["liquidation_transfers_minor"] == 30 + 5  # both covers, to their accounts


def test_a_makers_rebate_is_a_fee_rebate_not_a_fee_paid():
    """Account 2 makes two fills with a rebate each (fee -1), account 1 pays 3 on one: fees 1
    net, fees paid 3 (the positive fees only), rebates 2, realised losses 0 + 3."""
    script = Script()
    script.deposit(0, 1, 100000, 100000)
    script.deposit(0, 2, 100000, 100000)
    script.position(1 * S, 2, -1, 100, 10, position=-10, entry=5000, wallet=100001, fee=-1)
    script.position(1 * S, 1, 1, 100, 10, position=10, entry=5000, wallet=99997, fee=3)
    script.position(2 * S, 2, -1, 100, 10, position=-20, entry=10000, wallet=100002, fee=-1)
    traders = script.metrics()["traders"]
    assert traders["fees_minor"] == 1
    assert traders["fees_paid_minor"] == 3
    assert traders["fee_rebates_minor"] == 2
    assert traders["realised_losses_minor"] == 3


def test_accounts_named_only_by_events_are_present_and_holes_are_not():
    """Accounts 2 and 5 are named by deposits: they and only they are replayed (ids 0, 1, 3, 4
    are holes in the columns), in id order, each with its own figures."""
    script = Script()
    script.deposit(0, 5, 300, 300)
    script.deposit(0, 2, 100, 100)
    collector = MetricsCollector(SCALE)
    for event in script.events:
        collector.add(event)
    accounts = collector.accounts
    assert accounts.ids() == [2, 5]
    assert accounts.state(3) is None and accounts.state(9) is None
    assert (accounts.state(5).deposits, accounts.state(2).wallet) == (300, 100)
    assert collector.result()["traders"]["accounts"] == 2
