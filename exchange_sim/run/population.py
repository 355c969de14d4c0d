"""Building participants from their configs and connecting them to the venue.

:func:`populate` is the ``populate`` callback of :class:`~exchange_sim.venue.venue.Venue`: it opens
each participant's accounts and connects them, in the config's order.
"""

from __future__ import annotations

from exchange_sim.agents.arbitrageur import BasisArbitrageur
from exchange_sim.agents.config import (
    BasisArbitrageurConfig,
    LeveragedTraderConfig,
    MarketMakerConfig,
)
from exchange_sim.agents.leveraged import LeveragedTraderGroup
from exchange_sim.agents.market_maker import MarketMaker
from exchange_sim.agents.noise import NoiseTraderGroup


class Member:
    """One account of a participant group, as the gateway sees it (responses go to the group)."""

    __slots__ = ("account_id", "group")

    def __init__(self, group, account_id: int) -> None:
        self.group = group
        self.account_id = account_id

    def on_order_update(self, now, seq, order, status) -> None:
        self.group.on_order_update(now, seq, order, status)

    def on_fill(self, now, seq, order, price, size) -> None:
        self.group.on_fill(now, seq, order, price, size)


class _Funding:
    """Opens accounts and deposits their starting money at t = 0 (logged as ``deposit``)."""

    __slots__ = ("_amount", "_ledger", "accounts")

    def __init__(self, ledger, accounts: list[int], amount: int, leverage: int) -> None:
        self._ledger = ledger
        self._amount = amount
        self.accounts = accounts
        for account in accounts:
            ledger.open_account(account, isolated=False, leverage=leverage)

    def start(self) -> None:
        if self._amount:
            for account in self.accounts:
                self._ledger.deposit(0, account, self._amount, None)


def add_participant(venue, cfg) -> list:
    """Create ``cfg``'s participant(s) on ``venue``; return the objects to ``start()``."""
    ids, gateway, ledger = venue.ids, venue.gateway, venue.ledger
    next_order_id = ids.counter("order")
    prefix = f"participant/{cfg.name}"
    request = venue.sampler(cfg.latency.request, f"{prefix}/request")
    response = venue.sampler(cfg.latency.response, f"{prefix}/response")
    if isinstance(cfg, MarketMakerConfig):
        account = ids.next("account")
        funding = _Funding(ledger, [account], cfg.deposit, cfg.leverage)
        maker = MarketMaker(
            venue.env,
            gateway,
            cfg,
            account,
            next_order_id,
            venue.sampler(cfg.index_latency, f"{prefix}/index_latency"),
        )
        gateway.connect(maker, request, response)
        venue.index.listeners.append(maker.on_index)
        return [funding, maker]
    if isinstance(cfg, BasisArbitrageurConfig):
        account = ids.next("account")
        funding = _Funding(ledger, [account], cfg.deposit, cfg.leverage)
        arbitrageur = BasisArbitrageur(
            venue.env,
            gateway,
            cfg,
            account,
            next_order_id,
            venue.sampler(cfg.observation_latency, f"{prefix}/index_latency"),
        )
        gateway.connect(arbitrageur, request, response)
        venue.index.listeners.append(arbitrageur.on_index)
        venue.feed.subscribe(
            arbitrageur.on_snapshot, venue.sampler(cfg.observation_latency, f"{prefix}/feed")
        )
        return [funding, arbitrageur]
    accounts = [ids.next("account") for _ in range(cfg.count)]
    rng = venue.rng.stream(f"{prefix}/flow")
    if isinstance(cfg, LeveragedTraderConfig):
        group = LeveragedTraderGroup(
            venue.env,
            gateway,
            ledger,
            venue.log,
            cfg,
            accounts,
            next_order_id,
            rng,
            venue.sampler(cfg.response.reaction_latency, f"{prefix}/reaction"),
            lambda: venue.index.price,
        )
        for account in accounts:
            venue.risk.margin_call_handlers[account] = group.on_margin_call
        starts = [group]
    else:
        funding = _Funding(ledger, accounts, cfg.deposit, cfg.leverage)
        group = NoiseTraderGroup(venue.env, gateway, cfg, accounts, next_order_id, rng)
        venue.feed.subscribe(group.on_snapshot, venue.sampler(cfg.feed_latency, f"{prefix}/feed"))
        starts = [funding, group]
    for account in accounts:
        gateway.connect(Member(group, account), request, response)
    return starts


def populate(participants) -> callable:
    """The venue's ``populate`` callback for a tuple of participant configs."""

    def build(venue) -> list:
        starts: list = []
        for config in participants:
            starts.extend(add_participant(venue, config))
        return starts

    return build
