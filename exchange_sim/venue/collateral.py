"""Collateral assets of a venue, assembled: each asset's own order book and its price source.

An accepted asset (:class:`~exchange_sim.venue.collateral_config.CollateralConfig`) gets:

* **its own book** against the settlement asset, always simulated (so two runs that differ only in
  the price source see the same market): a spot market on the asset's grid, a ladder of resting
  orders on both sides of ``reference_price`` from one liquidity account (owner
  ``collateral_liquidity``), and scripted market sells from an outside holder
  (owner ``collateral_seller``, ``book.dumps``);
* **a price source** the venue values margin with, published as ``collateral_price`` events:
  ``redemption`` publishes the fixed ``reference_price`` once at t = 0 (no cause); ``oracle``
  publishes each configured point at its time (no cause: an outside input); ``book`` publishes
  the book's last trade price whenever it changes (cause: that trade).

Each published price is set in the ledger's
:class:`~exchange_sim.accounts.collateral.CollateralAssets` first, then the risk monitor pops the
accounts whose collateral-price trigger it crossed (:meth:`RiskMonitor.on_collateral_price`).
A book trade publishes in the MATCH phase, at the trade's instant; scripted prices publish in the
MARK phase. Account ids: the two book accounts per asset are opened after every other account.
"""

from __future__ import annotations

from exchange_sim.accounts.collateral import CollateralAssets
from exchange_sim.core.units import RATE_SCALE
from exchange_sim.kernel.environment import Phase
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.markets.config import SpotMarketConfig
from exchange_sim.venue.collateral_config import CollateralConfig
from exchange_sim.venue.messages import Deposit, SubmitOrder
from exchange_sim.venue.spot_market import SpotMarket


class _BookAccount:
    """A scripted account of a collateral book (the gateway's participant; it hears nothing)."""

    __slots__ = ("account_id",)

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id


class CollateralMarket:
    """One collateral asset: its book, its scripted liquidity and seller, its price source."""

    __slots__ = (
        "_monitors",
        "_next_order_id",
        "book_market",
        "config",
        "last_published_ppb",
        "liquidity_account",
        "prices_published",
        "seller_account",
        "venue",
    )

    def __init__(self, venue, config: CollateralConfig) -> None:
        self.venue = venue
        self.config = config
        book = config.book
        settlement = venue.config.instrument.settlement_asset
        money_per_tick_lot = book.tick_ppb * book.lot_units // RATE_SCALE
        spot_config = SpotMarketConfig(
            name=f"{config.asset}{settlement}", maker_fee_ppb=0, taker_fee_ppb=0
        )
        self.book_market = SpotMarket(
            venue.env, venue.log, spot_config, money_per_tick_lot, venue.ids
        )
        self._next_order_id = venue.ids.counter("order")
        self._monitors = [instrument.risk for instrument in venue.perpetuals.all.values()]
        """Every perpetual's risk monitor: a cross account's collateral backs its positions in
        every market, and each monitor watches the accounts holding a position in its own."""
        self.last_published_ppb: int | None = None
        self.prices_published = 0
        zero = LatencySampler(
            ConstantLatency(value=0), venue.rng.stream(f"collateral/{config.asset}")
        )
        ledger, gateway = self.book_market.ledger, self.book_market.gateway
        self.liquidity_account = venue.ids.next("account")
        self.seller_account = venue.ids.next("account")
        for account_id, owner in (
            (self.liquidity_account, "collateral_liquidity"),
            (self.seller_account, "collateral_seller"),
        ):
            ledger.open_account(account_id, owner, "collateral_book")
            gateway.connect(_BookAccount(account_id), zero, zero, wants_responses=False)

    @property
    def asset(self) -> str:
        return self.config.asset

    def start(self) -> None:
        """Fund and post the ladder and schedule the dumps (t = 0), and the price source."""
        config, book = self.config, self.config.book
        env = self.venue.env
        gateway = self.book_market.gateway
        centre = config.reference_price_ppb // book.tick_ppb
        lots_per_level = book.units_per_level // book.lot_units
        money_per_tick_lot = book.tick_ppb * book.lot_units // RATE_SCALE
        bids = [centre - (i + 1) * book.level_spacing_ticks for i in range(book.levels)]
        asks = [centre + (i + 1) * book.level_spacing_ticks for i in range(book.levels)]
        quote = sum(bids) * lots_per_level * money_per_tick_lot
        gateway.send(self.liquidity_account, Deposit(quote), None)
        gateway.send(
            self.liquidity_account, Deposit(lots_per_level * len(asks), "deposit", "base"), None
        )
        for price in bids:
            order = SubmitOrder(self._next_order_id(), 1, price, lots_per_level)
            gateway.send(self.liquidity_account, order, None)
        for price in asks:
            order = SubmitOrder(self._next_order_id(), -1, price, lots_per_level)
            gateway.send(self.liquidity_account, order, None)
        dumped = sum(dump.units for dump in book.dumps) // book.lot_units
        if dumped:
            gateway.send(self.seller_account, Deposit(dumped, "deposit", "base"), None)
        for dump in book.dumps:
            env.call_at(dump.at, Phase.AGENT, self._dump, dump.units // book.lot_units)
        source = config.price_source
        if source == "book":
            self.book_market.engine.trade_listeners.append(self._on_book_trade)
        elif source == "oracle":
            for point in config.oracle:
                env.call_at(point.at, Phase.MARK, self._publish_scheduled, point.price_ppb)
        else:
            env.call_at(0, Phase.MARK, self._publish_scheduled, config.reference_price_ppb)

    def _dump(self, lots: int) -> None:
        order = SubmitOrder(self._next_order_id(), -1, 1, lots, tif="IOC")  # any price
        self.book_market.gateway.send(self.seller_account, order, None)

    def _on_book_trade(self, now: int, seq: int, maker, taker, price: int, size: int) -> None:
        self._publish(now, price * self.config.book.tick_ppb, seq)

    def _publish_scheduled(self, price_ppb: int) -> None:
        self._publish(self.venue.env.now, price_ppb, None)

    def _publish(self, now: int, price_ppb: int, cause: int | None) -> None:
        if price_ppb == self.last_published_ppb:
            return
        self.last_published_ppb = price_ppb
        self.prices_published += 1
        asset = self.config.asset
        collateral = self.venue.ledger.collateral
        collateral.price_ppb[asset] = price_ppb
        seq = self.venue.log.emit(
            now,
            "collateral_price",
            cause,
            asset=asset,
            price_ppb=price_ppb,
            source=self.config.price_source,
        )
        for monitor in self._monitors:
            monitor.on_collateral_price(now, asset, price_ppb, seq)

    def results(self) -> dict:
        """The asset's end state for ``summary.json``."""
        collateral = self.venue.ledger.collateral
        asset = self.config.asset
        held = sum(
            a.holdings.get(asset, 0)
            for instrument in self.venue.perpetuals.all.values()
            for a in instrument.ledger.accounts.values()
            if a.holdings
        )
        return {
            "price_source": self.config.price_source,
            "final_price_ppb": collateral.price_ppb[asset],
            "book_last_trade_price_ppb": (
                None
                if self.book_market.state.last_trade_price is None
                else self.book_market.state.last_trade_price * self.config.book.tick_ppb
            ),
            "prices_published": self.prices_published,
            "units_deposited": collateral.deposited[asset],
            "units_held_by_accounts": held,
            "units_taken_by_venue": collateral.desk_units[asset],
        }


def build_collateral(venue) -> dict[str, CollateralMarket]:
    """The venue's collateral markets (none unless configured); registers the assets with every
    perpetual's ledger (one shared :class:`CollateralAssets`) at their reference prices."""
    configs = venue.config.collateral
    if not configs:
        return {}
    assets = CollateralAssets(
        {c.asset: c.haircut_ppb for c in configs},
        {c.asset: c.reference_price_ppb for c in configs},
    )
    for instrument in venue.perpetuals.all.values():  # one set of assets, prices and triggers
        instrument.ledger.collateral = assets
    return {c.asset: CollateralMarket(venue, c) for c in configs}
