"""Several perpetuals per venue and cross margin across them: the reference's cross formulas,
the shared wallet, the slack split, and contagion from one market to another."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exchange_sim as es
from exchange_sim.accounts.cross_margin import CrossMargin, split_slack
from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.core.errors import ConfigError
from exchange_sim.events.log import MemoryLog
from exchange_sim.matching.orders import BUY, SELL, Order
from exchange_sim.runner.simulate import build_venue
from tests.cross_helpers import join

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCENARIO = os.path.join(ROOT, "configs", "scenarios", "contagion_two_markets.toml")
NO_FEES = FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0)
# W1-W2 grid: price tick 0.01 USDT, lot 0.001 (BTC or ETH): 10 minor units (6 decimals).
MPTL = 10


def _pair(btc_mmr_ppb=4_000_000, eth_mmr_ppb=6_500_000, btc_mark=946_281, eth_mark=20_000):
    """A BTC and an ETH ledger joined by cross margin, with one account (id 1) in both."""
    btc = Ledger(
        MemoryLog(), MPTL, BracketTiers.from_brackets([(0, 10**15, 125, btc_mmr_ppb)]), NO_FEES
    )
    eth = Ledger(
        MemoryLog(), MPTL, BracketTiers.from_brackets([(0, 10**15, 100, eth_mmr_ppb)]), NO_FEES
    )
    btc.mark_price = lambda: btc_mark
    eth.mark_price = lambda: eth_mark
    home, linked = join(btc, eth, home_leverage=100, leverage=100, owner="t", role="leveraged")
    return btc, eth, home, linked


def _binance_example():
    """exchange_mechanics.md W1-W2: wallet 10.72 USDT, short 0.005 BTC at 9,451.53 (mark
    9,462.81, MMR 0.4 %), long 1 ETH at 199.53 (mark 200, MMR 0.65 %)."""
    btc, eth, home, linked = _pair()
    btc.deposit(0, 1, 10_720_000, None)
    btc.apply_fill(0, 0, home, SELL, 945_153, 5, 0)
    eth.apply_fill(0, 0, linked, BUY, 19_953, 1_000, 0)
    return btc, eth, home, linked


def test_linked_accounts_share_one_wallet():
    """Money into the home account is the linked account's wallet too; realised PnL in either
    market moves it."""
    btc, eth, home, linked = _pair()
    btc.deposit(0, 1, 1_000, None)
    assert linked.wallet == 1_000
    eth.apply_fill(0, 0, linked, BUY, 100, 10, 0)
    eth.apply_fill(1, 0, linked, SELL, 110, 10, 0)
    assert home.wallet == 1_000 + 10 * 10 * MPTL


def _ten_x_pair():
    """Two ledgers allowing 10x (IM 10 %), marks at 100, no resting orders, one cross account
    (id 1) with 1,000 in its one wallet and a 10x long of 100 lots at 100 in the first market:
    its whole wallet is the first position's initial margin."""
    tiers = BracketTiers.from_brackets([(0, 10**15, 10, 10_000_000, 0)])
    a, b = Ledger(MemoryLog(), 1, tiers, NO_FEES), Ledger(MemoryLog(), 1, tiers, NO_FEES)
    for ledger in (a, b):
        ledger.mark_price = lambda: 100
        ledger.open_orders = lambda account_id: ()
    home, linked = join(a, b, home_leverage=10, leverage=10)
    a.deposit(0, 1, 1_000, None)
    a.apply_fill(0, 0, home, BUY, 100, 100, 0)
    return a, b, home, linked


def test_an_order_in_another_market_counts_the_margin_the_first_uses():
    """The wallet is all the first market's initial margin: an opening order in the second is
    refused (one wallet backs both), as another lot in the first is."""
    _a, b, _home, _linked = _ten_x_pair()
    assert b.pre_trade_check(0, Order(3, 1, BUY, 100, 1)) == "insufficient_margin"


def test_a_withdrawal_through_another_market_keeps_the_margin_in_use():
    """Nothing is available through the second market while the first uses the whole wallet;
    with half the position closed, half the wallet is."""
    a, b, home, linked = _ten_x_pair()
    assert b.available_balance(linked) == 0
    assert b.withdraw(0, 1, 1_000, None)[1] == "insufficient_available"
    a.apply_fill(1, 0, home, SELL, 100, 50, 0)
    assert b.available_balance(linked) == 500


def test_an_unrealised_loss_in_one_market_is_not_available_in_the_other():
    """At a mark of 95 the first position has lost 500 (IM 950): 1,000 - 950 - 500 < 0, so
    nothing is available in the second market; a profit would not be usable either."""
    a, b, _home, linked = _ten_x_pair()
    a.mark_price = lambda: 95
    assert b.available_balance(linked) == -450
    a.mark_price = lambda: 105
    assert b.available_balance(linked) == 1_000 - 1_050


def _resting_order_pair(isolated: bool):
    """Two 10x ledgers (marks at 100), one account (id 1) flat in both with 1,000 in its one
    wallet and a resting buy of 100 lots at 100 in the first (its margin: 1,000). Returns the
    second ledger and the account there."""
    tiers = BracketTiers.from_brackets([(0, 10**15, 10, 10_000_000, 0)])
    a, b = Ledger(MemoryLog(), 1, tiers, NO_FEES), Ledger(MemoryLog(), 1, tiers, NO_FEES)
    resting = Order(10, 1, BUY, 100, 100)
    for ledger in (a, b):
        ledger.mark_price = lambda: 100
    a.open_orders = lambda account_id: [resting] if account_id == 1 else []
    b.open_orders = lambda account_id: []
    if isolated:
        cross = CrossMargin()
        cross.add_ledger(a)
        cross.add_ledger(b)
        home = a.open_account(1, isolated=True, leverage=10)
        linked = b.open_linked_account(home, True, 10, "", "leveraged")
        cross.link(a, home)
        cross.link(b, linked)
    else:
        _home, linked = join(a, b, home_leverage=10, leverage=10)
    a.deposit(0, 1, 1_000, None)
    return b, linked


def test_resting_orders_in_one_market_hold_back_margin_in_the_other():
    """Flat in both, 1,000 in the wallet and a resting 10x buy of 100 lots at 100 in the first
    market (its margin: 1,000): nothing is available through the second."""
    b, linked = _resting_order_pair(isolated=False)
    assert b.available_balance(linked) == 0
    assert b.pre_trade_check(0, Order(3, 1, BUY, 100, 1)) == "insufficient_margin"


def test_isolated_accounts_over_two_markets_share_what_resting_orders_hold():
    """Isolated positions over two markets still draw on one wallet: a resting order in the
    first holding it all leaves nothing to order or withdraw through the second."""
    b, linked = _resting_order_pair(isolated=True)
    assert b.available_balance(linked) == 0
    assert b.pre_trade_check(0, Order(3, 1, BUY, 100, 100)) == "insufficient_margin"


def test_before_the_first_mark_the_available_balance_reads_the_index():
    """No mark yet, the index at 100: a 10x long of 100 lots holds the whole wallet of 1,000 as
    initial margin, so nothing is available (as the pre-trade check already read it)."""
    tiers = BracketTiers.from_brackets([(0, 10**15, 10, 10_000_000, 0)])
    ledger = Ledger(MemoryLog(), 1, tiers, NO_FEES)
    ledger.open_orders = lambda account_id: ()
    ledger.fallback_price = lambda: 100
    account = ledger.open_account(1, leverage=10)
    ledger.deposit(0, 1, 1_000, None)
    ledger.apply_fill(0, 0, account, BUY, 100, 100, 0)
    assert ledger.available_balance(account) == 0
    assert ledger.withdraw(0, 1, 1_000, None)[1] == "insufficient_available"


def test_cross_equity_and_maintenance_span_both_markets():
    """Equity is the wallet plus both positions' uPnL; MM is both positions' MM (W1's TMM1 =
    1.3 USDT and UPNL1 = 0.47 USDT are the ETH terms)."""
    btc, _eth, home, _linked = _binance_example()
    btc_upnl = 5 * (945_153 - 946_281) * MPTL  # short: -56,400 (-0.0564 USDT)
    eth_upnl = 1_000 * (20_000 - 19_953) * MPTL  # +470,000 (0.47 USDT)
    assert btc.equity(home, 946_281) == 10_720_000 + btc_upnl + eth_upnl
    eth_mm = 1_000 * 20_000 * MPTL * 6_500_000 // 10**9  # 1,300,000 (1.3 USDT)
    btc_mm = -(-5 * 946_281 * MPTL * 4_000_000 // 10**9)  # 189,257 (0.189 USDT, rounded up)
    assert btc.maintenance_margin(home, 946_281) == btc_mm + eth_mm


def test_binance_w1_cross_liquidation_price_of_the_btc_short():
    """W1: LP = (10.72 - 1.3 + 0.47 + 0.005 x 9,451.53) / (0.005 x 0.004 + 0.005) = 11,383.99."""
    btc, _eth, home, _linked = _binance_example()
    assert btc.reference_liquidation_price(home) in (1_138_399, 1_138_400)


def test_binance_w2_cross_liquidation_price_of_the_eth_long():
    """W2: LP = (10.72 - 0.189 - 0.0564 - 199.53) / (0.0065 - 1) = 190.29 (the doc's 190.29)."""
    _btc, eth, _home, linked = _binance_example()
    assert eth.reference_liquidation_price(linked) in (19_029, 19_030)


def test_isolated_positions_are_left_out_of_the_pool():
    """An isolated linked position neither adds its PnL to the cross account nor is margined by
    the other market's equity."""
    btc, _eth, home, _linked = _pair()
    iso = Ledger(
        MemoryLog(), MPTL, BracketTiers.from_brackets([(0, 10**15, 100, 6_500_000)]), NO_FEES
    )
    iso.mark_price = lambda: 20_000
    btc.cross.add_ledger(iso)
    isolated = iso.open_linked_account(home, True, 10, "t", "leveraged")
    btc.cross.link(iso, isolated)
    btc.deposit(0, 1, 10_000_000, None)
    btc.apply_fill(0, 0, home, BUY, 946_281, 5, 0)
    before = btc.equity(home, 946_281)
    iso.apply_fill(0, 0, isolated, BUY, 19_000, 1_000, 0)  # +1,000 per lot at the 20,000 mark
    assert btc.equity(home, 946_281) == before - (isolated.isolated_margin)
    assert btc.maintenance_margin(home, 946_281) == btc.position_maintenance(home, 946_281)


def test_split_slack_allocates_by_exposure_and_never_more_than_the_slack():
    """Shares are floor(slack x E / total); nothing without slack."""
    assert split_slack(100, [1, 1, 2]) == [25, 25, 50]
    assert split_slack(10, [1, 1, 1]) == [3, 3, 3]
    assert split_slack(-5, [1, 2]) == [0, 0]


@settings(max_examples=200, deadline=None)
@given(
    wallet=st.integers(1_000, 50_000_000),
    btc_lots=st.integers(-20, 20).filter(bool),
    eth_lots=st.integers(-3_000, 3_000).filter(bool),
    btc_move=st.integers(0, 40_000),
    eth_move=st.integers(0, 1_000),
)
def test_no_liquidation_is_missed_while_no_mark_crossed_its_trigger(
    wallet, btc_lots, eth_lots, btc_move, eth_move
):
    """Whatever the two marks do, as long as each stays on the safe side of its position's
    trigger the account is not liquidatable: the triggers come from one split of the slack."""
    btc, eth, home, linked = _pair()
    btc.deposit(0, 1, wallet, None)
    btc.apply_fill(0, 0, home, BUY if btc_lots > 0 else SELL, 946_281, abs(btc_lots), 0)
    eth.apply_fill(0, 0, linked, BUY if eth_lots > 0 else SELL, 20_000, abs(eth_lots), 0)
    for ledger, account in ((btc, home), (eth, linked)):
        ledger.refresh_prices(account)  # one split at the current marks, in both ledgers
    if btc.is_liquidatable(home, 946_281):
        return  # past maintenance at once: checked immediately by the monitor
    marks = []
    for account, mark, move in ((home, 946_281, btc_move), (linked, 20_000, eth_move)):
        trigger = account.liquidation_price
        if account.size_lots > 0:  # safe at or above the trigger
            low = max(trigger or 1, 1)
            marks.append(max(low, mark - move))
        else:  # safe at or below the trigger
            high = trigger if trigger is not None else mark
            marks.append(min(high, mark + move))
    btc.mark_price = lambda: marks[0]
    eth.mark_price = lambda: marks[1]
    assert not btc.is_liquidatable(home, marks[0])


# -- runs ----------------------------------------------------------------------------------------
SMALL = (
    "run.duration=75s",
    "run.check=every-event",
    "participants.btc_longs.count=40",
    "participants.eth_longs.count=40",
)
ISOLATED = (
    "participants.btc_longs.margin_mode=isolated",
    "participants.eth_longs.margin_mode=isolated",
)


def _run(*overrides: str):
    loaded = es.load_config(SCENARIO, (*SMALL, *overrides))
    log = MemoryLog()
    venue = build_venue(loaded, log)
    venue.run("test")
    return venue, log


@pytest.fixture(scope="module")
def cross_run():
    return _run()


@pytest.fixture(scope="module")
def isolated_run():
    return _run(*ISOLATED)


def _eth_liquidations(log) -> list[dict]:
    return [
        e
        for e in log.events
        if e["type"] == "liquidation_triggered" and e.get("instrument") == "ETHUSDT"
    ]


def test_a_crash_in_btc_liquidates_cross_margined_eth_positions(cross_run):
    """ETH's index never moves, yet ETH positions are liquidated, and the cause chain of one of
    them runs from the ETH liquidation back through a BTC margin check to a BTC mark price."""
    _venue, log = cross_run
    events = {e["seq"]: e for e in log.events}
    crossing = 0
    for event in _eth_liquidations(log):
        check = events[event["cause"]]
        if check.get("instrument") is None and check["type"] == "margin_check":
            origin = events[check["cause"]]
            assert origin["type"] == "mark_price" and origin.get("instrument") is None
            crossing += 1
    assert crossing > 0
    eth_index = {
        e["price"] for e in log.events if e["type"] == "index_price" and e.get("instrument")
    }
    assert len(eth_index) == 1  # flat: the ETH liquidations came from the BTC crash


def test_with_isolated_margin_the_eth_positions_survive(isolated_run):
    """The same crash with every position isolated liquidates nobody in ETH."""
    _venue, log = isolated_run
    assert not _eth_liquidations(log)
    assert any(e["type"] == "liquidation_triggered" for e in log.events)


def test_money_is_conserved_across_both_markets(cross_run):
    """The venue-wide identity holds (the run also checked every invariant at every step)."""
    venue, _log = cross_run
    held, put_in = venue.money_identity()
    assert held == put_in
    for instrument in venue.perpetuals.all.values():
        longs, shorts = instrument.ledger.open_interest_lots()
        assert longs == shorts


def test_a_takeover_leaves_the_wallet_that_backs_another_position(cross_run):
    """A cross account's position taken over by one market's fund while it still holds one in
    the other market moves no collateral into that fund: the wallet is netted, settled when its
    last position closes (each such takeover's ``collateral`` is 0)."""
    _venue, log = cross_run
    positions: dict[tuple[int, str | None], int] = {}
    netted = 0
    for event in log.events:
        market = event.get("instrument")
        if event["type"] == "position":
            positions[(event["account_id"], market)] = event["position_lots"]
        elif event["type"] == "takeover":
            account = event["account_id"]
            if any(lots for (a, m), lots in positions.items() if a == account and m != market):
                assert event["collateral"] == 0, event
                netted += 1
    assert netted > 0


def test_the_close_first_rule_picks_the_market_of_the_first_liquidation(cross_run):
    """With ``largest_margin`` the first liquidation of a cross account closes the position with
    the larger maintenance margin: after BTC's fall, mostly ETH; ``triggered`` closes BTC's."""
    _venue, log = cross_run
    assert _eth_liquidations(log)
    _venue2, triggered_log = _run("risk.close_first=triggered")
    firsts = {}
    for event in triggered_log.events:
        if event["type"] == "liquidation_triggered":
            firsts.setdefault(event["account_id"], event.get("instrument"))
    assert firsts and all(symbol is None for symbol in firsts.values())


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("participants.eth_longs.accounts_of=nobody", "participants[5].accounts_of"),
        ("participants.eth_longs.count=10", "participants[5].accounts_of"),
        ("participants.eth_longs.margin_mode=isolated", "participants[5].margin_mode"),
        ("participants.eth_longs.market=SOLUSDT", "participants[5].market"),
        ("perpetuals.0.symbol=BTCUSDT", "perpetuals[0].symbol"),
    ],
)
def test_bad_perpetual_configs_name_the_key(override, key):
    """A multi-market setup that cannot work is refused, naming the key."""
    with pytest.raises(ConfigError) as caught:
        es.load_config(SCENARIO, (override,))
    assert key in str(caught.value)


@pytest.fixture(scope="module")
def entered():
    """The cross venue after its entries (25 s), before the crash."""
    loaded = es.load_config(SCENARIO, (*SMALL, "run.duration=25s"))
    venue = build_venue(loaded, MemoryLog())
    venue.run("test")
    return venue


def _members(venue):
    btc = venue.instrument.ledger
    eth = venue.perpetuals.extra["ETHUSDT"].ledger
    for account_id, home in btc.accounts.items():
        linked = eth.accounts.get(account_id)
        if linked is not None and home.size_lots and linked.size_lots:
            yield btc, eth, home, linked


def test_a_change_in_one_market_resplits_the_account_in_the_other(entered):
    """A deposit on BTC changes the shared slack: the ETH position's trigger is split again at
    once (it equals a fresh split at the same instant)."""
    btc, eth, home, linked = next(_members(entered))
    btc.deposit(entered.env.now, home.account_id, 5_000_000_000, None)
    after = linked.liquidation_price
    eth.refresh_prices(linked)
    assert linked.liquidation_price == after


def test_largest_margin_closes_the_position_with_the_larger_maintenance_first(entered):
    """The venue's close-first rule hands a cross account to the monitor of its position with
    the larger maintenance margin."""
    checked = 0
    for btc, eth, home, linked in _members(entered):
        btc_mm = btc.position_maintenance(home, btc.current_price(home))
        eth_mm = eth.position_maintenance(linked, eth.current_price(linked))
        if btc_mm == eth_mm:
            continue
        chosen = entered.perpetuals._monitor_for(home.account_id, 0)
        expected = entered.instrument if btc_mm > eth_mm else entered.perpetuals.extra["ETHUSDT"]
        assert chosen is expected.risk
        checked += 1
    assert checked > 5


def test_largest_loss_closes_the_position_with_the_larger_unrealised_loss_first():
    """With ``largest_loss`` the position losing more goes first, whatever its margin: a small
    losing ETH long before a large BTC long that gains."""
    btc, eth, home, linked = _pair(btc_mark=1_000_000, eth_mark=19_000)
    btc.deposit(0, 1, 10**9, None)
    btc.apply_fill(0, 0, home, BUY, 990_000, 10, 0)  # gains 1,000,000 (1 USDT), notional 100 USDT
    eth.apply_fill(0, 0, linked, BUY, 20_000, 20, 0)  # loses 200,000 (0.2 USDT), notional 3.8
    cross = btc.cross
    assert cross.close_first(1, "largest_loss") is eth
    assert cross.close_first(1, "largest_margin") is btc
    assert cross.close_first(1, "triggered") is None


def test_an_account_is_in_one_liquidation_at_a_time(cross_run):
    """The monitors watch an account as one: no second liquidation_triggered for an account
    before its first liquidation has finished, whichever market checks it."""
    _venue, log = cross_run
    open_jobs: set[int] = set()
    for event in log.events:
        if event["type"] == "liquidation_triggered":
            assert event["account_id"] not in open_jobs
            open_jobs.add(event["account_id"])
        elif event["type"] == "liquidation_finished":
            open_jobs.discard(event["account_id"])


def test_an_account_pending_a_check_in_one_market_is_pending_in_all(entered, monkeypatch):
    """A check scheduled by the BTC monitor makes the ETH monitor leave the account alone: a
    mark crossing its ETH trigger meanwhile schedules no second check."""
    from exchange_sim.risk.monitor import RiskMonitor

    _btc, _eth, home, _linked = next(_members(entered))
    btc_risk = entered.risk
    eth_risk = entered.perpetuals.extra["ETHUSDT"].risk
    now = entered.env.now
    btc_risk._schedule_check(now, home.account_id, entered.mark.price, None)
    scheduled: list[int] = []
    original = RiskMonitor._schedule_check

    def record(self, now, account_id, mark, cause):
        scheduled.append(account_id)
        original(self, now, account_id, mark, cause)

    monkeypatch.setattr(RiskMonitor, "_schedule_check", record)
    eth_risk.on_mark(now, 1, 10**9)  # a mark of 1 tick crosses every long's trigger
    assert scheduled  # other accounts were checked
    assert home.account_id not in scheduled


@pytest.mark.parametrize("preset", ["binance", "bybit", "hyperliquid"])
def test_the_trigger_index_agrees_with_a_full_scan_across_markets(preset):
    """With ``risk.verify_with_sweep`` every mark update in either market compares the accounts
    the triggers pop with a scan of every account (cross equity and MM): no cross account is
    liquidatable without being popped or already pending in the other market's monitor."""
    venue, log = _run(
        f"venue.preset={preset}",
        "risk.verify_with_sweep=true",
        "participants.btc_longs.leverages=[15, 18]",
        "participants.eth_longs.leverages=[12, 18]",
        'index.process.points=[{at="0s", price=50000}, {at="40s", price=50000}, '
        '{at="70s", price=42000}]',
    )
    assert any(e["type"] == "liquidation_triggered" for e in log.events)
    assert venue.risk.checks > 0
