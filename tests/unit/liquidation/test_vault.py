"""The backstop vault: acceptance (its leverage cap), cash sweeps and its PnL (§4.6)."""

from __future__ import annotations

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.liquidation import event_types
from exchange_sim.liquidation.vault import BackstopVault
from exchange_sim.runner.event_catalog import validate_record

REGISTRY = {e.name: e for e in event_types.EVENTS}
TIERS = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])


def _vault(capital=10_000, max_leverage=5):
    log = MemoryLog()
    ledger = Ledger(log, 1, TIERS, FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0))
    ledger.open_account(2)
    return ledger, BackstopVault(2, capital, log, max_leverage), log


def test_accepts_within_its_leverage_cap():
    """Capital 10,000, cap 5x. 100 lots at 937 with mark 935: equity 10,000 - 200 = 9,800 allows
    49,000 of notional, less than 93,500: declined. 50 lots: equity 9,900 allows 49,500 >=
    46,750: accepted."""
    ledger, vault, _ = _vault()
    assert not vault.accepts(ledger, 100, 937, 935, 1)
    assert vault.accepts(ledger, 50, 937, 935, 1)


def test_without_a_cap_it_accepts_while_its_equity_stays_positive():
    """max_leverage 0: any size, as long as cash plus the new position at mark stays > 0."""
    ledger, vault, _ = _vault(capital=100, max_leverage=0)
    assert vault.accepts(ledger, 1_000, 937, 937, 1)
    assert not vault.accepts(ledger, 100, 937, 936, 1)


def test_sweep_moves_the_accounts_realised_result_into_cash():
    """The vault account bought 10 at 900 and sold them at 950: its wallet holds +500, which
    the sweep moves to cash (realised PnL 500) and logs one `vault` event."""
    ledger, vault, log = _vault()
    account = ledger.accounts[2]
    ledger.apply_fill(0, 0, account, 1, 900, 10, 0)
    ledger.apply_fill(1, 0, account, -1, 950, 10, 0)
    seq = vault.sweep(ledger, 1, 7, "unwind", None, -10, 950, 950)
    assert (account.wallet, vault.cash, vault.realised_pnl) == (0, 10_500, 500)
    event = log.events[-1]
    assert event["seq"] == seq and event["cause"] == 7
    assert (event["action"], event["size_lots"], event["position_lots"]) == ("unwind", -10, 0)
    assert validate_record(event, REGISTRY) is None


def test_settle_with_nothing_to_move_logs_nothing():
    ledger, vault, log = _vault()
    before = len(log.events)
    assert vault.sweep(ledger, 1, None, "settle", None, 0, None, 900) is None
    assert len(log.events) == before


def test_receive_adds_cash():
    """A taken-over account's remaining margin handed to the vault."""
    _, vault, _ = _vault()
    vault.receive(25)
    assert (vault.cash, vault.realised_pnl) == (10_025, 25)


def test_accepts_a_takeover_that_reaches_exactly_its_leverage_cap():
    """The vault's collateral cap (§4.6, after JELLYJELLY; modelled as ``max_leverage``,
    docs/mechanics.md: it "accepts while its notional is within 5 x its equity"): a notional
    equal to equity x cap is within it (boundary of ``BackstopVault.accepts``).

    Capital 10,000, cap 5x, taken at the mark 1,000: equity stays 10,000, so 50 lots (50,000 of
    notional, exactly 5 x 10,000) are accepted and 51 (51,000) are not."""
    ledger, vault, _ = _vault()
    assert vault.accepts(ledger, 50, 1_000, 1_000, 1)
    assert not vault.accepts(ledger, 51, 1_000, 1_000, 1)
