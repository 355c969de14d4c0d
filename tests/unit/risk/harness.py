"""A small venue for risk-monitor tests: ledger + risk monitor + a mark driven by a script."""

from __future__ import annotations

import numpy as np

from exchange_sim.accounts.ledger import FeeSchedule, Ledger
from exchange_sim.accounts.margin import BracketTiers
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase, PhasedEnvironment
from exchange_sim.kernel.latency import ConstantLatency, LatencySampler
from exchange_sim.risk.config import RiskConfig
from exchange_sim.risk.monitor import RiskMonitor

MS = 1_000_000
# One tier, 1 % maintenance up to 50x; one tick on one lot is one minor unit (m = 1).
TIERS = BracketTiers.from_brackets([(0, 10**15, 50, 10_000_000, 0)])


def sampler(ns: int) -> LatencySampler:
    return LatencySampler(ConstantLatency(value=ns), np.random.Generator(np.random.PCG64(0)))


class ScriptedMark:
    """Stands in for the mark price service: publishes given prices in the MARK phase."""

    def __init__(self, env, log) -> None:
        self.env = env
        self.log = log
        self.price = None
        self.listeners = []

    def schedule(self, points: list[tuple[int, int]]) -> None:
        for t, price in points:
            self.env.call_at(t, Phase.MARK, lambda _e, p=price: self._publish(p))

    def _publish(self, price: int) -> None:
        if price == self.price:
            return
        self.price = price
        seq = self.log.emit(self.env.now, "mark_price", None, price=price, index_price=price)
        for listener in self.listeners:
            listener(self.env.now, price, seq)


class Venue:
    def __init__(self, check_latency_ns=0, notify_latency_ns=0, **risk_kwargs) -> None:
        self.env = PhasedEnvironment()
        self.log = MemoryLog()
        self.ledger = Ledger(
            self.log,
            1,
            TIERS,
            FeeSchedule(maker_fee_ppb=0, taker_fee_ppb=0),
            risk_kwargs.get("margin_call_ratio", 1_500_000_000),
        )
        self.mark = ScriptedMark(self.env, self.log)
        self.ledger.mark_price = lambda: self.mark.price
        self.risk = RiskMonitor(
            self.env,
            self.log,
            RiskConfig(**risk_kwargs),
            self.ledger,
            self.mark,
            sampler(check_latency_ns),
            sampler(notify_latency_ns),
        )
        self.wire()

    def wire(self) -> None:
        """The risk monitor hears of marks and account changes (as the venue wires it)."""
        self.mark.listeners[:] = [self.risk.on_mark]
        self.ledger.change_listeners[:] = [self.risk.on_account_change]

    def long(self, account_id: int, lots: int, price: int, wallet: int):
        """An account holding a long (filled against an outside account not in the ledger)."""
        ledger = self.ledger
        account = ledger.open_account(account_id, leverage=50)
        ledger.deposit(0, account_id, wallet, None)
        ledger.apply_fill(0, 0, account, 1, price, lots, 0)
        return account

    def falling(self, start: int, ticks_per_step: int, step_ns: int, steps: int, floor: int):
        """A mark that falls ``ticks_per_step`` every ``step_ns`` down to ``floor``."""
        points = [(0, start)]
        for i in range(1, steps + 1):
            points.append((i * step_ns, max(floor, start - i * ticks_per_step)))
        self.mark.schedule(points)

    def events(self, type_: str) -> list[dict]:
        return self.log.of_type(type_)
