"""What ``replay --until SEQ`` prints: the rebuilt state at one event, in plain lines."""

from __future__ import annotations

from exchange_sim.replay.collateral_checks import units_identity
from exchange_sim.replay.state import ReplayState

DEPTH_LEVELS = 5
AT_RISK = 5


def at_risk(st: ReplayState, count: int = AT_RISK) -> list[tuple]:
    """The ``count`` traders' accounts nearest their liquidation price at the mark:
    ``(distance ppb, account_id, position lots, liquidation price, wallet)``, nearest first."""
    mark = st.mark
    if mark is None:
        return []
    venue = st.venue_accounts()
    rows = []
    for account in st.ledger.accounts.values():
        price = account.liquidation_price
        if not account.size_lots or price is None or account.account_id in venue:
            continue
        distance = abs(mark - price) * 1_000_000_000 // mark
        rows.append((distance, account.account_id, account.size_lots, price, account.wallet))
    rows.sort()
    return rows[:count]


def state_lines(st: ReplayState) -> list[str]:
    """The state after the last replayed event: touch and depth of every book, mark and index,
    open interest, fund, vault, bad debt, each collateral asset's price and units, and the
    accounts at risk."""
    lines = [f"state after seq {st.seq} (ts {st.ts} ns)"]
    for name, book in st.books.items():
        bid, ask = book.best_bid(), book.best_ask()
        lines.append(f"book {name}: best bid {bid} ticks, best ask {ask} ticks")
        bids = " ".join(f"{p}x{n}" for p, n in book.depth(1, DEPTH_LEVELS))
        asks = " ".join(f"{p}x{n}" for p, n in book.depth(-1, DEPTH_LEVELS))
        lines.append(f"  bids (price x lots): {bids or '-'}")
        lines.append(f"  asks (price x lots): {asks or '-'}")
    longs, shorts = st.ledger.open_interest_lots()
    lines.append(f"mark {st.mark} ticks, index {st.index} ticks, last trade {st.last_trade} ticks")
    lines.append(f"open interest: {longs} lots long, {shorts} lots short")
    lines.append(
        f"insurance fund: {st.fund_balance} minor units; bad debt outstanding {st.bad_debt}"
    )
    if st.vault_account is not None:
        vault = st.ledger.accounts[st.vault_account]
        lines.append(f"vault: cash {st.vault_cash} minor units, position {vault.size_lots} lots")
    if st.collateral is not None:
        prices = st.ledger.collateral.price_ppb
        for asset, (units_held, units_in) in units_identity(st).items():
            lines.append(
                f"collateral {asset}: price {prices[asset]} ppb, {units_held} units held "
                f"(accounts and venue) of {units_in} deposited"
            )
    if st.perpetuals is not None:
        for symbol, other in st.perpetuals.extra.items():
            lines.extend(perpetual_lines(symbol, other))
        held, put_in = st.perpetuals.money_identity()
    else:
        held, put_in = st.money_identity()
    lines.append(f"money: held {held}, put in {put_in} minor units")
    risky = at_risk(st)
    lines.append(f"accounts at risk (nearest their liquidation price): {len(risky)}")
    for distance, account_id, size, price, wallet in risky:
        lines.append(
            f"  account {account_id}: {size} lots, liquidation at {price} ticks "
            f"({distance / 1e7:.2f} % from the mark), wallet {wallet}"
        )
    return lines


def perpetual_lines(symbol: str, st: ReplayState) -> list[str]:
    """Another perpetual's touch, mark, index, open interest and fund (several perpetuals)."""
    book = st.book
    longs, shorts = st.ledger.open_interest_lots()
    return [
        f"perpetual {symbol}: best bid {book.best_bid()} ticks, best ask {book.best_ask()} ticks",
        f"  mark {st.mark} ticks, index {st.index} ticks, last trade {st.last_trade} ticks",
        f"  open interest: {longs} lots long, {shorts} lots short",
        f"  insurance fund: {st.fund_balance} minor units; bad debt outstanding {st.bad_debt}",
    ]
