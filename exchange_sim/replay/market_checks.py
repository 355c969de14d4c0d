"""Books, orders and trades rebuilt from the log, each trade checked against the book.

Book rule (as :mod:`exchange_sim.matching.rebuild`): an accepted limit order joins the back of its
level at once; a trade reduces the maker and, if resting, the taker; a cancel or expiry removes the
order; an amend resizes in place or moves the order to the back of its new level. A trade must be
against a resting maker at the head of the best level of its side, at the maker's price, for no
more than either side has left, between the accounts that own the orders; the taker is the order
accepted (or amended) last. Its fills are then expected as ``position`` events (perpetual, applied
by the ledger at the event, :mod:`.money_checks`) or ``spot_fill`` events (recomputed here by the
spot ledger, compared at the event).
"""

from __future__ import annotations

from exchange_sim.replay.book import BUY, OrderView
from exchange_sim.replay.state import Divergence, ReplayState, compare, expect

SIDES = (1, -1)
TIFS = ("GTC", "IOC", "FOK")
CANCEL_REASONS = ("user", "cancel_all", "self_trade", "liquidation", "adl")
EXPIRY_REASONS = ("ioc_remainder", "no_liquidity", "price_band", "fok_unfillable")


def _bad_order(ev: dict) -> None:
    expect(ev, "side", 1 if ev["side"] not in SIDES else ev["side"])
    expect(ev, "tif", "GTC" if ev["tif"] not in TIFS else ev["tif"])
    for flag in ("post_only", "reduce_only"):
        if type(ev[flag]) is not bool:
            raise Divergence(ev["seq"], flag, ev[flag], "true or false")
    raise Divergence(ev["seq"], "ts_sent", ev["ts_sent"], f"<= ts {ev['ts']}")


_SPOT_FILL_FIELDS = (
    "market",
    "account_id",
    "side",
    "price_ticks",
    "size_lots",
    "fee",
    "quote",
    "base",
)


def on_order_accepted(st: ReplayState, ev: dict) -> None:
    book = st.books.get(ev["market"])
    if book is None:
        raise Divergence(ev["seq"], "market", ev["market"], "no such market")
    order_id = ev["order_id"]
    orders = book.orders
    if order_id in orders:
        raise Divergence(ev["seq"], "order_id", order_id, "already resting")
    price = ev["price_ticks"]
    side = ev["side"]
    tif = ev["tif"]
    seq = ev["seq"]
    post_only = ev["post_only"]
    if (
        side not in SIDES
        or tif not in TIFS
        or ev["ts_sent"] > ev["ts"]
        or type(post_only) is not bool
        or type(ev["reduce_only"]) is not bool
    ):
        _bad_order(ev)
    previous = st.incoming
    if previous is not None and previous["tif"] != "GTC" and previous["order_id"] in orders:
        raise Divergence(seq, "order_id", order_id, f"{previous['tif']} order rests")
    # The event itself is the order (see book.py); ReplayBook.add inlined: most lines are quotes.
    ev["remaining_lots"] = ev["size_lots"]
    st.incoming = ev
    if price is not None:
        levels = book.bids if side == BUY else book.asks
        level = levels.get(price)
        if level is None:
            levels[price] = {order_id: ev}
        else:
            level[order_id] = ev
        orders[order_id] = ev


def on_order_removed(st: ReplayState, ev: dict) -> None:
    """``order_cancelled`` and ``order_expired``: the unfilled remainder leaves the book."""
    if ev["reason"] not in (CANCEL_REASONS if ev["type"] == "order_cancelled" else EXPIRY_REASONS):
        raise Divergence(ev["seq"], "reason", ev["reason"], "a known reason")
    book = st.books[ev["market"]]
    order = book.orders.get(ev["order_id"])
    resting = order is not None
    if order is None:
        order = st.incoming
        if order is None or order["order_id"] != ev["order_id"]:
            raise Divergence(ev["seq"], "order_id", ev["order_id"], "not resting")
    if (
        ev["remaining_lots"] != order["remaining_lots"]
        or ev["account_id"] != order["account_id"]
        or ev["side"] != order["side"]
        or ev["price_ticks"] != order["price_ticks"]
    ):
        expect(ev, "account_id", order["account_id"])
        expect(ev, "side", order["side"])
        expect(ev, "price_ticks", order["price_ticks"])
        expect(ev, "remaining_lots", order["remaining_lots"])
    if resting:
        book.remove(order)
    order["remaining_lots"] = 0


def on_order_amended(st: ReplayState, ev: dict) -> None:
    book = st.books[ev["market"]]
    order = book.orders.get(ev["order_id"])
    if order is None:
        raise Divergence(ev["seq"], "order_id", ev["order_id"], "not resting")
    expect(ev, "account_id", order["account_id"])
    expect(ev, "old_price_ticks", order["price_ticks"])
    expect(ev, "old_size_lots", order["size_lots"])
    size = ev["size_lots"]
    remaining = size - (order["size_lots"] - order["remaining_lots"])
    expect(ev, "remaining_lots", remaining)
    keeps = ev["price_ticks"] == order["price_ticks"] and size <= order["size_lots"]
    expect(ev, "priority_kept", keeps)
    if keeps:
        order["size_lots"] = size
        order["remaining_lots"] = remaining
    else:
        book.remove(order)
        order["price_ticks"] = ev["price_ticks"]
        order["size_lots"] = size
        order["remaining_lots"] = remaining
        book.add(order)
        order["seq"] = ev["seq"]
        st.incoming = order


def on_cancel_rejected(st: ReplayState, ev: dict) -> None:
    order = st.books[ev["market"]].orders.get(ev["order_id"])
    reason = "unknown_order" if order is None else "not_owner"
    if order is not None and order["account_id"] == ev["account_id"]:
        reason = "(the order rests and is the account's)"
    expect(ev, "reason", reason)


def on_trade(st: ReplayState, ev: dict) -> None:
    market = ev["market"]
    book = st.books[market]
    seq = ev["seq"]
    st.trades += 1
    expect(ev, "trade_id", st.trades)
    maker = book.orders.get(ev["maker_order_id"])
    if maker is None:
        raise Divergence(seq, "maker_order_id", ev["maker_order_id"], "not resting")
    side = maker["side"]
    price = maker["price_ticks"]
    expect(ev, "price_ticks", price)
    expect(ev, "maker_account_id", maker["account_id"])
    expect(ev, "aggressor_side", -side)
    expect(ev, "maker_tag", maker["tag"])
    best = book.best_bid() if side == BUY else book.best_ask()
    if price != best or book.head(side, price) is not maker:
        raise Divergence(
            seq, "maker_order_id", maker["order_id"], f"not first in the queue at {best}"
        )
    taker = st.incoming
    if taker is None or taker["order_id"] != ev["taker_order_id"]:
        raise Divergence(
            seq,
            "taker_order_id",
            ev["taker_order_id"],
            None if taker is None else taker["order_id"],
        )
    expect(ev, "taker_account_id", taker["account_id"])
    expect(ev, "taker_tag", taker["tag"])
    expect(ev, "cause", taker["seq"])
    if taker["post_only"]:
        raise Divergence(seq, "taker_order_id", taker["order_id"], "a post-only order never takes")
    size = ev["size_lots"]
    most = min(maker["remaining_lots"], taker["remaining_lots"])
    if not 0 < size <= most:
        raise Divergence(seq, "size_lots", size, f"between 1 and {most}")
    book.reduce(maker, size)
    if taker["order_id"] in book.orders:
        book.reduce(taker, size)
    else:
        taker["remaining_lots"] -= size
    if market == st.symbol:
        st.last_trade = price
        fees = st.ledger.fees
        st.fills.append((maker["account_id"], side, price, size, fees.maker_fee_ppb, seq))
        st.fills.append((taker["account_id"], -side, price, size, fees.taker_fee_ppb, seq))
    else:
        spot = st.spot[market]
        spot.on_trade(ev["ts"], seq, OrderView(maker), OrderView(taker), price, size)
        st.spot_fills.extend(payload for _, payload in st.capture.take())


def on_spot_fill(st: ReplayState, ev: dict) -> None:
    if not st.spot_fills:
        raise Divergence(ev["seq"], "type", "spot_fill", "no trade left to settle")
    compare(ev, st.spot_fills.popleft(), _SPOT_FILL_FIELDS)


def on_spot_deposit(st: ReplayState, ev: dict) -> None:
    spot = st.spot[ev["market"]]
    spot.deposit(
        ev["ts"],
        ev["account_id"],
        ev["amount"],
        None,
        ev["ts_sent"],
        asset="base" if ev["asset"] == "base" else "",
    )
    compare(ev, st.capture.take()[-1][1], ("quote", "base"))


def on_spot_withdrawal(st: ReplayState, ev: dict) -> None:
    spot = st.spot[ev["market"]]
    spot.withdraw(ev["ts"], ev["account_id"], ev["amount"], None, ev["ts_sent"])
    kind, payload = st.capture.take()[-1]
    expect(ev, "type", kind)
    compare(ev, payload, ("quote",))


def on_spot_account_opened(st: ReplayState, ev: dict) -> None:
    st.spot[ev["market"]].open_account(ev["account_id"], ev["participant"], ev["role"])


def on_account_opened(st: ReplayState, ev: dict) -> None:
    role = ev["role"]
    st.ledger.open_account(
        ev["account_id"], ev["isolated"], ev["leverage"], ev["participant"], role
    )
    if role == "insurance_fund":
        st.fund_account = ev["account_id"]
    elif role == "vault":
        st.vault_account = ev["account_id"]


def on_mark_price(st: ReplayState, ev: dict) -> None:
    st.mark = ev["price"]


def on_index_price(st: ReplayState, ev: dict) -> None:
    st.index = ev["price"]


HANDLERS = {
    "account_opened": on_account_opened,
    "spot_account_opened": on_spot_account_opened,
    "order_accepted": on_order_accepted,
    "order_cancelled": on_order_removed,
    "order_expired": on_order_removed,
    "order_amended": on_order_amended,
    "cancel_rejected": on_cancel_rejected,
    "trade": on_trade,
    "spot_fill": on_spot_fill,
    "spot_deposit": on_spot_deposit,
    "spot_withdrawal": on_spot_withdrawal,
    "mark_price": on_mark_price,
    "index_price": on_index_price,
}
