"""Leveraged traders: the positions a cascade liquidates, and how they answer margin calls.

A group of ``count`` accounts, each funded with ``deposit`` and a leverage drawn from
``leverages``. Each opens one position with a market order at a uniform random time in
``[entry_start, entry_end)``: long with probability ``long_fraction``, of notional
``deposit x leverage x position_fraction`` at the price it last saw. On a margin call, after its
``reaction_latency`` it tops up ``top_up_fraction x deposit`` with probability
``top_up_probability``, else reduces its position by ``reduce_fraction`` with probability
``reduce_probability`` (a reduce-only market order), else does nothing; the choice is logged as
``margin_call_response`` with the margin call as its cause.
"""

from __future__ import annotations

from exchange_sim.agents.config import LeveragedTraderConfig
from exchange_sim.agents.draws import BlockDraws
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL, Order
from exchange_sim.venue.gateway import SUBMIT


class LeveragedTraderGroup:
    """The group's accounts (each with its own gateway link) and their margin-call behaviour."""

    __slots__ = (
        "_cfg",
        "_entries",
        "_env",
        "_gateway",
        "_ledger",
        "_log",
        "_next_order_id",
        "_price",
        "_reaction",
        "_uniform",
        "members",
        "sides",
    )

    def __init__(
        self,
        env,
        gateway,
        ledger,
        log,
        config: LeveragedTraderConfig,
        account_ids: list[int],
        next_order_id,
        rng,
        reaction_latency,
        price_source,
    ) -> None:
        self._env = env
        self._gateway = gateway
        self._ledger = ledger
        self._log = log
        self._cfg = config
        self._next_order_id = next_order_id
        self._reaction = reaction_latency
        self._price = price_source
        self.members = account_ids
        count = len(account_ids)
        leverages = rng.choice(config.leverages, size=count).tolist()
        long_fraction = float(config.long_fraction)
        self.sides = {
            account_id: BUY if u < long_fraction else SELL
            for account_id, u in zip(account_ids, rng.random(count).tolist(), strict=True)
        }
        entries = rng.integers(config.entry_start, config.entry_end, size=count).tolist()
        self._entries = list(zip(entries, account_ids, strict=True))
        self._uniform = BlockDraws(rng, lambda r, n: r.random(n))
        for account_id, leverage in zip(account_ids, leverages, strict=True):
            ledger.open_account(
                account_id, isolated=config.margin_mode == "isolated", leverage=int(leverage)
            )

    def start(self) -> None:
        env = self._env
        for account_id in self.members:
            if self._cfg.deposit:
                self._ledger.deposit(env.now, account_id, self._cfg.deposit, None)
        for at, account_id in self._entries:
            env.call_at(at, Phase.AGENT, self._enter, account_id)

    def _enter(self, payload) -> None:
        account_id = payload
        price = self._price()
        if price is None:
            return
        ledger = self._ledger
        account = ledger.accounts[account_id]
        notional = int(self._cfg.deposit * account.leverage * self._cfg.position_fraction)
        lots = div_round(notional, price * ledger.money_per_tick_lot, DOWN)
        if lots <= 0:
            return
        order = Order(
            self._next_order_id(),
            account_id,
            self.sides[account_id],
            None,
            lots,
            ts_sent=self._env.now,
        )
        self._gateway.send(account_id, (SUBMIT, order), None)

    # -- margin calls --------------------------------------------------------------------------
    def on_margin_call(self, now: int, account_id: int, call_seq: int) -> None:
        self._env.call_at(self._reaction.draw(), Phase.AGENT, self._react, (account_id, call_seq))

    def _react(self, payload) -> None:
        account_id, call_seq = payload
        response = self._cfg.response
        now = self._env.now
        account = self._ledger.accounts[account_id]
        u = self._uniform.next()
        top_up = float(response.top_up_probability)
        if not account.size_lots:
            action = "ignore"
        elif u < top_up:
            action = "top_up"
        elif u < top_up + float(response.reduce_probability):
            action = "reduce"
        else:
            action = "ignore"
        seq = self._log.emit(
            now,
            "margin_call_response",
            call_seq,
            account_id=account_id,
            action=action,
            position_lots=account.size_lots,
        )
        if action == "top_up":
            amount = int(self._cfg.deposit * response.top_up_fraction)
            if amount > 0:
                self._ledger.deposit(now, account_id, amount, seq)
        elif action == "reduce":
            size = account.size_lots
            lots = int(abs(size) * response.reduce_fraction)
            if lots > 0:
                side = SELL if size > 0 else BUY
                order = Order(
                    self._next_order_id(),
                    account_id,
                    side,
                    None,
                    lots,
                    reduce_only=True,
                    ts_sent=now,
                )
                self._gateway.send(account_id, (SUBMIT, order), seq)

    def on_order_update(self, now, seq, order, status) -> None:
        return None

    def on_fill(self, now, seq, order, price, size) -> None:
        return None
