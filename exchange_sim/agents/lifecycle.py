"""The leveraged traders' life cycle: arrivals over the run, holding times, stops, re-entries.

Switched on by any life-cycle key of :class:`~exchange_sim.agents.config.LeveragedTraderConfig`
(``arrival = "poisson"``, a ``holding`` distribution, a ``stop_loss`` or ``take_profit``, a
``reentry_probability``); with all of them at their defaults the group behaves, draws and logs
exactly as before (one entry, held until the venue closes it). Its random draws come from the
group's own ``life`` stream, so turning it on never shifts the group's other draws.

* **Arrival** ``poisson``: each trader's first entry comes an exponential wait (mean
  ``1/arrival_rate``) after ``entry_start``, so entries spread over the whole run.
* **Holding time**: from its first opening fill, a trader holds for ``holding_time`` (``fixed``)
  or an exponential draw of that mean, then closes its position (``trader_exit`` with reason
  ``holding_time`` and cause ``null``: its own timer).
* **Stop-loss / take-profit** (:class:`~exchange_sim.agents.holdings.Holdings`): triggered by the
  price the trader observes (``trigger_price``: the index, or the trades of its feed
  subscription), a crossed level closing the position with the price update as cause.
* **Margin calls**: answered as before; a ``reduce`` is also logged as an exit with reason
  ``margin_call_reduce`` (cause: the ``margin_call_response``).
* **Re-entry**: when it learns it is flat after an exit (its own exit filled, or the venue
  liquidated or deleveraged it; not after an entry the venue refused), with
  ``reentry_probability`` it opens a new position after an exponential wait of mean
  ``reentry_delay``: long with ``long_fraction``, sized as the first entry at the index it last
  saw. It is logged as ``trader_entry`` (reason ``reentry``) whose cause is the ``trader_exit``
  it follows.
"""

from __future__ import annotations

from exchange_sim.agents.draws import BlockDraws
from exchange_sim.agents.holdings import Holdings
from exchange_sim.core.units import NS_PER_S
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL


def _exponential(mean_ns: int):
    return lambda r, n: r.exponential(mean_ns, n).astype("int64") + 1


class LifeCycle:
    """The life-cycle half of a :class:`~exchange_sim.agents.leveraged.LeveragedTraderGroup`."""

    __slots__ = (
        "_cfg",
        "_env",
        "_group",
        "_holding_draws",
        "_log",
        "_reentry_draws",
        "_rng",
        "_uniform",
        "holdings",
    )

    def __init__(self, group, env, gateway, log, config, account_ids, next_order_id, rng):
        self._group = group
        self._env = env
        self._log = log
        self._cfg = config
        self._rng = rng
        self.holdings = holdings = Holdings(
            env,
            gateway,
            log,
            config.name,
            account_ids,
            next_order_id,
            config.stop_loss,
            config.take_profit,
        )
        holdings.on_opened = self._opened
        holdings.on_flat = self._flat
        self._uniform = BlockDraws(rng, lambda r, n: r.random(n))
        self._holding_draws = BlockDraws(rng, _exponential(config.holding_time))
        self._reentry_draws = BlockDraws(rng, _exponential(config.reentry_delay))

    def arrivals(self, account_ids: list[int]) -> list[int]:
        """Each trader's first entry time under ``arrival = "poisson"``, ns, in member order
        (empty at a zero rate: nobody enters)."""
        cfg = self._cfg
        rate = float(cfg.arrival_rate)
        if rate <= 0:
            return []
        waits = self._rng.exponential(NS_PER_S / rate, size=len(account_ids)).astype("int64")
        return [cfg.entry_start + int(wait) for wait in waits.tolist()]

    # -- holding time ----------------------------------------------------------------------------
    def _opened(self, now: int, account_id: int) -> None:
        cfg = self._cfg
        if cfg.holding == "forever":
            return
        delay = cfg.holding_time if cfg.holding == "fixed" else self._holding_draws.next()
        epoch = self.holdings.members[account_id].epoch
        self._env.call_at(delay, Phase.AGENT, self._holding_over, (account_id, epoch))

    def _holding_over(self, payload) -> None:
        account_id, epoch = payload
        holding = self.holdings.members[account_id]
        if holding.epoch == epoch and not holding.exiting and holding.position:
            self.holdings.exit(account_id, "holding_time", None, None)

    # -- re-entry --------------------------------------------------------------------------------
    def _flat(self, now: int, account_id: int, exit_seq: int | None) -> None:
        probability = self._cfg.reentry_probability
        if exit_seq is None or not probability or self._uniform.next() >= float(probability):
            return
        epoch = self.holdings.members[account_id].epoch
        self._env.call_at(
            self._reentry_draws.next(), Phase.AGENT, self._reenter, (account_id, epoch, exit_seq)
        )

    def _reenter(self, payload) -> None:
        account_id, epoch, exit_seq = payload
        holding = self.holdings.members[account_id]
        group = self._group
        price = group.index_price
        if holding.epoch != epoch or holding.position or price is None:
            return
        side = BUY if self._uniform.next() < float(self._cfg.long_fraction) else SELL
        lots = group.entry_lots(account_id, price)
        if lots <= 0:
            return
        seq = self._log.emit(
            self._env.now,
            "trader_entry",
            exit_seq,
            account_id=account_id,
            participant=self._cfg.name,
            reason="reentry",
            side=side,
            lots=lots,
            price_ticks=price,
            signal_ppb=None,
        )
        self.holdings.open(account_id, side, lots, seq)

    # -- observation -----------------------------------------------------------------------------
    def on_trades(self, now: int, update) -> None:
        """Feed handler (trade channel) when stops trigger on the last trade."""
        trades = update.trades
        if not trades:
            return
        low = high = trades[0]
        for trade in trades:
            if trade[2] < low[2]:
                low = trade
            if trade[2] > high[2]:
                high = trade
        self.holdings.observe(low[2], low[1], high[2], high[1])
