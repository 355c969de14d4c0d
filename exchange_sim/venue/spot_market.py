"""One spot market, assembled: a book and matching engine, its balances, a feed and a gateway.

A spot market is a venue of its own that the perpetual's index can read
(:mod:`exchange_sim.markets.spot_index`). Its events carry its name in ``market``; its accounts
are opened on it by the participants that trade it (an arbitrageur has a perpetual account and a
spot account). Who hears of what, in order (like the perpetual's, see
:mod:`exchange_sim.venue.venue`): a trade reaches the **balances** first (``spot_fill`` events),
then the **gateway** (fill reports), the **feed** and the **price state** the index reads; an
order outcome reaches the gateway, the feed and the price state.
"""

from __future__ import annotations

from exchange_sim.markets.config import SpotMarketConfig
from exchange_sim.markets.spot_index import SpotPriceState
from exchange_sim.markets.spot_ledger import SpotLedger
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.venue.feed import MarketDataFeed
from exchange_sim.venue.gateway import Gateway


class SpotMarket:
    """The parts of one spot market (see the module docstring)."""

    __slots__ = ("config", "engine", "feed", "gateway", "ledger", "name", "state")

    def __init__(self, env, log, config: SpotMarketConfig, money_per_tick_lot: int, ids) -> None:
        self.config = config
        self.name = name = config.name
        self.engine = engine = MatchingEngine(
            log, config.matching, ids.counter("trade"), market=name
        )
        self.ledger = ledger = SpotLedger(
            log, name, money_per_tick_lot, config.maker_fee_ppb, config.taker_fee_ppb
        )
        self.gateway = gateway = Gateway(env, engine, ledger)
        self.feed = feed = MarketDataFeed(env, engine)
        self.state = state = SpotPriceState(name, engine.book)
        engine.pre_trade_check = ledger.pre_trade_check
        ledger.open_orders = engine.book.open_orders
        engine.trade_listeners[:] = [
            ledger.on_trade,
            gateway.on_trade,
            feed.on_trade,
            state.on_trade,
        ]
        engine.order_listeners[:] = [
            gateway.on_order_event,
            feed.on_order_event,
            state.on_order_event,
        ]

    @property
    def book(self):
        return self.engine.book
