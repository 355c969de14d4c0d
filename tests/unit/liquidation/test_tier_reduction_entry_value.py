"""The tiered policy's FillOrKill measured on the value the tier is taken on (Bybit §2.3, §4.3).

Under ``maintenance_basis = "entry"`` (Bybit USDT: ``PositionValue = size x EntryPrice``) the risk
tier, and so the tier the FillOrKill must bring the position below, is that of the entry value,
not of the notional at the mark.

Brackets: 1 % up to 50,000 of notional (50x), 2.5 % above (20x, cum = 50,000 x 1.5 % = 750).
Long 100 at 1,000: entry value 100,000, tier 1, MM = 100,000 x 2.5 % - 750 = 1,750. At mark 450
the notional is 45,000 (tier 0), but the entry value is still 100,000 (tier 1). Tier 0 needs the
remaining entry value 100,000 - 1,000 X < 50,000: X >= 51 (X = 50 leaves exactly 50,000, the
second bracket's floor).
"""

from __future__ import annotations

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.liquidation import planners
from exchange_sim.liquidation.config import LiquidationConfig, TieredPolicyConfig
from tests.scenario.liquidation_harness import S, Venue

TWO_BRACKETS = BracketTiers.from_brackets(
    [(0, 50_000, 50, 10_000_000, 0), (50_000, 10**15, 20, 25_000_000, None)]
)
ENTRY_BRACKETS = {
    "kind": "brackets",
    "maintenance_basis": "entry",
    "brackets": [
        {
            "notional_floor": 0,
            "notional_cap": 50_000,
            "max_leverage": 50,
            "maintenance_rate": "0.01",
        },
        {
            "notional_floor": 50_000,
            "notional_cap": 10**15,
            "max_leverage": 20,
            "maintenance_rate": "0.025",
        },
    ],
}
TIERED = LiquidationConfig(policy=TieredPolicyConfig(), liquidation_fee=0, max_retries=1)


def _long_100_at_1000():
    ledger = Ledger(MemoryLog(), 1, TWO_BRACKETS, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    account = ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 56_000, None)
    ledger.apply_fill(0, 0, account, 1, 1_000, 100, 0)
    return account


def test_on_entry_the_fok_brings_the_entry_value_below_the_tier():
    """Entry value 100,000 (tier 1) at mark 450: 51 lots (see the module docstring)."""
    account = _long_100_at_1000()
    assert planners.tier_reduction_lots(account, 450, TWO_BRACKETS, 1, on_entry=True) == 51


def test_on_the_mark_the_same_position_is_already_in_the_lowest_tier():
    """At mark 450 the notional 45,000 is tier 0: on the mark there is nothing to reduce."""
    account = _long_100_at_1000()
    assert planners.tier_reduction_lots(account, 450, TWO_BRACKETS, 1) is None


def test_tiered_policy_sends_the_entry_value_fok_under_maintenance_on_entry():
    """Through the engine, entry basis: wallet 56,000, mark 450: equity 56,000 - 55,000 = 1,000
    < MM 1,750: liquidatable. Bankruptcy price 1,000 - 560 = 440. The FOK is for 51 lots at 440
    (not the takeover limit for all 100 the mark's tier would give); it fills at the 450 bid:
    realised 51 x (450 - 1,000) = -28,050, wallet 27,950, 49 lots left with entry value 49,000
    (tier 0, MM 490), equity 27,950 + 49 x 450 - 49,000 = 1,000 >= 490: recovered."""
    venue = Venue(TIERED, tiers=ENTRY_BRACKETS)
    venue.account(10, 56_000)
    venue.account(11, 1_000_000)
    venue.pair(10, 11, 100, 1_000)
    venue.quote(1, 450, 60)
    venue.index_at(0, 450)
    venue.run(S)
    orders = [
        (e["purpose"], e["tif"], e["size_lots"], e["price_ticks"])
        for e in venue.events("liquidation_order")
        if e["account_id"] == 10
    ]
    assert orders == [("tier_reduce", "FOK", 51, 440)]
    assert venue.state(10) == (49, 49_000, 27_950)
    assert venue.events("liquidation_finished")[0]["outcome"] == "recovered"


def test_on_entry_the_remaining_value_rounds_as_the_ledger_removes_basis():
    """Long 3 lots with entry value 74,999 (tier 1): closing 1 removes ceil(74,999 / 3) =
    25,000 of a long's basis (the ledger's rounding), leaving 49,999: tier 0 after one lot. (A
    basis removed rounding down would leave 50,000, the floor of tier 1, and ask for 2.)"""
    ledger = Ledger(MemoryLog(), 1, TWO_BRACKETS, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    account = ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 10_000, None)
    ledger.apply_fill(0, 0, account, 1, 24_999, 1, 0)
    ledger.apply_fill(0, 0, account, 1, 25_000, 2, 0)
    assert planners.tier_reduction_lots(account, 20_000, TWO_BRACKETS, 1, on_entry=True) == 1
    ledger.apply_fill(0, 0, account, -1, 20_000, 1, 0)
    assert account.entry_notional == 49_999
