"""Collateral assets rebuilt from the log (:mod:`exchange_sim.venue.collateral`).

Set up only for a run whose config accepts collateral (:func:`setup_collateral`): each asset's
own book is rebuilt as a spot market on **its own grid** (``money_per_tick_lot = tick_ppb x
lot_units / 10^9``), the ledger gets the config's haircuts and reference prices, and the
handlers of :data:`HANDLERS` check every collateral event by the ledger's own rules:

* ``collateral_deposit``: the ledger's deposit of the units; the account's units after and their
  haircut value ``floor(units x price x (1 - haircut))`` at the asset's current price;
* ``collateral_price``: by its source, the fixed redemption rate at t = 0, an oracle point at its
  time, or the last trade of the asset's book (its cause) times the book's tick; a book trade
  that moves the price must be followed by its ``collateral_price`` before the book's next trade;
  the price is then what the rebuilt ledger values the asset at (margin checks, liquidations);
* ``collateral_converted``: one per asset held, in the venue's asset order, due right after
  the ``liquidation_triggered`` (their cause) of an account holding collateral; units, price,
  value and wallet after, by the ledger's conversion (whose payment counts as money put in,
  ``desk_paid``);
* at ``run_end``: each asset's units held by accounts plus those the venue took equal the units
  deposited, and ``summary.json``'s ``collateral`` section (:func:`collateral_figures`).
"""

from __future__ import annotations

from exchange_sim.accounts.collateral import CollateralAssets
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.markets.spot_ledger import SpotLedger
from exchange_sim.replay import market_checks, money_checks
from exchange_sim.replay.book import ReplayBook
from exchange_sim.replay.state import Divergence, ReplayState, compare, expect

_DEPOSIT_FIELDS = ("asset", "units", "collateral_units", "value")
_CONVERTED_FIELDS = ("asset", "units", "price_ppb", "value", "wallet")


class CollateralReplay:
    """What a replay keeps of the collateral assets besides the ledger's
    :class:`~exchange_sim.accounts.collateral.CollateralAssets`."""

    __slots__ = (
        "books",
        "configs",
        "conversion_due",
        "converted_rest",
        "last_trade",
        "price_due",
        "published",
    )

    def __init__(self, configs: dict, books: dict[str, str]) -> None:
        self.configs = configs
        """Per asset, its :class:`~exchange_sim.venue.collateral_config.CollateralConfig`."""
        self.books = books
        """Book market name -> asset."""
        self.published: dict[str, tuple[int | None, int]] = dict.fromkeys(configs, (None, 0))
        """Per asset: (last published price ppb, prices published)."""
        self.last_trade: dict[str, int | None] = dict.fromkeys(configs)
        """Per asset: its book's last trade price, ticks."""
        self.price_due: dict[str, tuple[int, int]] = {}
        """Per asset: (trade seq, price ppb) a ``collateral_price`` is still due for."""
        self.conversion_due: tuple[int, int] | None = None
        """(``liquidation_triggered`` seq, account) whose first ``collateral_converted`` is due."""
        self.converted_rest: list[tuple[int, int, dict]] = []
        """The conversion's later events still due: (seq, cause, recomputed payload)."""


def setup_collateral(st: ReplayState) -> None:
    """Rebuild the run's collateral assets (nothing without any): their books as spot markets on
    their own grid, the ledger's haircuts and reference prices."""
    configs = st.config.collateral
    if not configs:
        return
    settlement = st.config.instrument.settlement_asset
    books = {}
    for config in configs:
        name = f"{config.asset}{settlement}"
        book = st.books[name] = ReplayBook()
        mptl = config.book.tick_ppb * config.book.lot_units // RATE_SCALE
        spot = SpotLedger(st.capture, name, mptl, 0, 0)
        spot.open_orders = book.open_orders
        st.spot[name] = spot
        books[name] = config.asset
    st.ledger.collateral = CollateralAssets(
        {c.asset: c.haircut_ppb for c in configs},
        {c.asset: c.reference_price_ppb for c in configs},
    )
    st.collateral = CollateralReplay({c.asset: c for c in configs}, books)


def _state(st: ReplayState) -> CollateralReplay:
    assert st.collateral is not None  # these handlers are installed only with collateral
    return st.collateral


def on_collateral_deposit(st: ReplayState, ev: dict) -> None:
    st.account(ev)
    if not st.ledger.collateral.accepts(ev["asset"]):
        raise Divergence(ev["seq"], "asset", ev["asset"], "an accepted collateral asset")
    st.ledger.deposit(
        ev["ts"], ev["account_id"], ev["units"], None, ev["ts_sent"], ev["purpose"], ev["asset"]
    )
    kind, payload = st.capture.take()[0]
    expect(ev, "type", kind)
    compare(ev, payload, _DEPOSIT_FIELDS)


def on_collateral_price(st: ReplayState, ev: dict) -> None:
    cr = _state(st)
    asset = ev["asset"]
    config = cr.configs.get(asset)
    if config is None:
        raise Divergence(ev["seq"], "asset", asset, "an accepted collateral asset")
    source = config.price_source
    expect(ev, "source", source)
    price = ev["price_ppb"]
    if source == "book":
        due = cr.price_due.pop(asset, None)
        if due is None:
            raise Divergence(ev["seq"], "cause", ev["cause"], "a trade that moved the price")
        expect(ev, "cause", due[0])
        expect(ev, "price_ppb", due[1])
    else:
        expect(ev, "cause", None)
        if source == "redemption":
            expect(ev, "ts", 0)
            expect(ev, "price_ppb", config.reference_price_ppb)
        elif not any(p.at == ev["ts"] and p.price_ppb == price for p in config.oracle):
            raise Divergence(ev["seq"], "price_ppb", price, "an oracle point at this time")
    last, count = cr.published[asset]
    if price == last:
        raise Divergence(ev["seq"], "price_ppb", price, "a change (the same price is not sent)")
    cr.published[asset] = (price, count + 1)
    st.ledger.collateral.price_ppb[asset] = price


def on_trade(st: ReplayState, ev: dict) -> None:
    """A trade; on a collateral book, the price it publishes (``book`` source) is due next."""
    market_checks.on_trade(st, ev)
    cr = _state(st)
    asset = cr.books.get(ev["market"])
    if asset is None:
        return
    if asset in cr.price_due:
        raise Divergence(ev["seq"], "type", "trade", f"the collateral_price of {asset} first")
    price = ev["price_ticks"]
    cr.last_trade[asset] = price
    config = cr.configs[asset]
    price_ppb = price * config.book.tick_ppb
    if config.price_source == "book" and price_ppb != cr.published[asset][0]:
        cr.price_due[asset] = (ev["seq"], price_ppb)


def on_liquidation_triggered(st: ReplayState, ev: dict) -> None:
    """A hand-off (its bankruptcy price at the collateral's current value); an account holding
    collateral (or, several perpetuals, whose home account does) has it converted next, by the
    ledger holding it."""
    account = st.account(ev)
    holder = account.holder
    if holder.holdings:
        st.ledger.refresh_prices(account)
    money_checks.on_liquidation_triggered(st, ev)
    if holder.holdings:
        _state(st).conversion_due = (ev["seq"], account.account_id)


def on_collateral_converted(st: ReplayState, ev: dict) -> None:
    cr = _state(st)
    if cr.converted_rest:  # the next asset of the conversion under way
        seq, cause, payload = cr.converted_rest.pop(0)
        expect(ev, "seq", seq)
        expect(ev, "cause", cause)
        compare(ev, payload, ("account_id", *_CONVERTED_FIELDS))
        return
    due = cr.conversion_due
    if due is None or due[0] != ev["seq"] - 1:
        raise Divergence(ev["seq"], "cause", ev["cause"], "a liquidation_triggered just before")
    expect(ev, "cause", due[0])
    expect(ev, "account_id", due[1])
    cr.conversion_due = None
    st.ledger.convert_collateral(ev["ts"], st.ledger.accounts[due[1]], ev["seq"])
    payloads = [payload for _, payload in st.capture.take()]
    compare(ev, payloads[0], _CONVERTED_FIELDS)
    cr.converted_rest = [
        (ev["seq"] + i, due[0], payload) for i, payload in enumerate(payloads[1:], start=1)
    ]


def on_liquidation_started(st: ReplayState, ev: dict) -> None:
    _check_nothing_due(st, ev)
    money_checks.on_liquidation_started(st, ev)


def _check_nothing_due(st: ReplayState, ev: dict) -> None:
    cr = _state(st)
    if cr.conversion_due is not None:
        raise Divergence(
            ev["seq"], "collateral_converted", "missing", f"after seq {cr.conversion_due[0]}"
        )
    if cr.converted_rest:
        raise Divergence(
            ev["seq"], "collateral_converted", "missing", f"at seq {cr.converted_rest[0][0]}"
        )
    for asset, (seq, _) in cr.price_due.items():
        raise Divergence(ev["seq"], "collateral_price", "missing", f"{asset} after seq {seq}")


def check_collateral_end(st: ReplayState, run_end: dict) -> None:
    """At ``run_end``: nothing due, and each asset's units conserved."""
    _check_nothing_due(st, run_end)
    for asset, (held, deposited) in units_identity(st).items():
        if held != deposited:
            raise Divergence(run_end["seq"], f"collateral.{asset}.units_held", deposited, held)


def _accounts(st: ReplayState):
    """Every perpetual's accounts (a linked account holds no collateral itself)."""
    states = (st,) if st.perpetuals is None else st.perpetuals.all.values()
    for one in states:
        yield from one.ledger.accounts.values()


def units_identity(st: ReplayState) -> dict[str, tuple[int, int]]:
    """Per asset ``(units held by accounts and the venue, units deposited)``."""
    collateral = st.ledger.collateral
    held = dict(collateral.desk_units)
    for account in _accounts(st):
        for asset, units in (account.holdings or {}).items():
            held[asset] += units
    return {asset: (held[asset], collateral.deposited[asset]) for asset in held}


def collateral_figures(st: ReplayState) -> tuple[dict, int]:
    """``summary.json``'s ``collateral`` section (per asset) and
    ``collateral_paid_by_venue_minor``, recomputed."""
    cr = _state(st)
    collateral = st.ledger.collateral
    held = {asset: 0 for asset in cr.configs}
    for account in _accounts(st):
        for asset, units in (account.holdings or {}).items():
            held[asset] += units
    section = {}
    for asset, config in cr.configs.items():
        last = cr.last_trade[asset]
        section[asset] = {
            "price_source": config.price_source,
            "final_price_ppb": collateral.price_ppb[asset],
            "book_last_trade_price_ppb": None if last is None else last * config.book.tick_ppb,
            "prices_published": cr.published[asset][1],
            "units_deposited": collateral.deposited[asset],
            "units_held_by_accounts": held[asset],
            "units_taken_by_venue": collateral.desk_units[asset],
        }
    return section, collateral.desk_paid


HANDLERS = {
    "collateral_deposit": on_collateral_deposit,
    "collateral_price": on_collateral_price,
    "collateral_converted": on_collateral_converted,
    "trade": on_trade,
    "liquidation_triggered": on_liquidation_triggered,
    "liquidation_started": on_liquidation_started,
}
"""The handlers a run with collateral adds to (or wraps in) the replay's."""
