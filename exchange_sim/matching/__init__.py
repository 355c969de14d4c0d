"""The order book and matching engine (pure core: no simpy).

Prices are integer ticks, sizes integer lots, times integer nanoseconds.
"""

from exchange_sim.matching.book import Book, PriceLevel
from exchange_sim.matching.config import STP_MODES, MatchingConfig
from exchange_sim.matching.engine import MatchingEngine
from exchange_sim.matching.orders import BUY, FOK, GTC, IOC, LIMIT, MARKET, SELL, Order
from exchange_sim.matching.rebuild import rebuild_book

__all__ = [
    "BUY",
    "FOK",
    "GTC",
    "IOC",
    "LIMIT",
    "MARKET",
    "SELL",
    "STP_MODES",
    "Book",
    "MatchingConfig",
    "MatchingEngine",
    "Order",
    "PriceLevel",
    "rebuild_book",
]
