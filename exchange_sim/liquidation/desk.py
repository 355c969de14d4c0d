"""The liquidation desk (SimPy shell): sends the venue's own orders and settles their fills.

Orders go straight to the matching engine at the current instant, always from the desk's or the
engine's own ``Phase.LIQUIDATE`` callbacks (the matching engine raises on re-entry from its
listeners). A trade listener catches fills of the desk's orders: those of an order just sent are
settled as soon as ``submit`` returns; those of a *resting* order filled by someone else (the
tiered policy's limit at the bankruptcy price) in a ``LIQUIDATE`` callback of the same instant.

**Holders** (insurance fund, backstop vault) unwind what they took over on their own schedule:
every ``unwind.interval`` a market IOC for ``unwind.fraction`` of their position (at least a lot),
tagged ``takeover`` (fund) or ``backstop`` (vault), subject to the price band like any market
order; their realised result is swept into the fund balance / vault cash after each batch of fills.
"""

from __future__ import annotations

from collections.abc import Callable

from exchange_sim.kernel.environment import Phase
from exchange_sim.liquidation import planners
from exchange_sim.liquidation.policies import FEE_NONE, Job
from exchange_sim.matching.orders import IOC, Order


class OrderRecord:
    """What the desk knows about one of its orders. ``side``: of the position it closes."""

    __slots__ = ("account_id", "bankrupt_price", "fee_mode", "holder", "job", "purpose", "side")

    def __init__(self, job, holder, account_id, purpose, fee_mode, bankrupt_price, side) -> None:
        self.job = job
        self.holder = holder
        self.account_id = account_id
        self.purpose = purpose
        self.fee_mode = fee_mode
        self.bankrupt_price = bankrupt_price
        self.side = side


class Holder:
    """A venue holder's unwind state: its ledger account, schedule, order tag and purpose."""

    __slots__ = (
        "account_id",
        "config",
        "last_seq",
        "name",
        "orders",
        "purpose",
        "scheduled",
        "tag",
    )

    def __init__(self, name: str, account_id: int, config, purpose: str, tag: str) -> None:
        self.name = name
        self.account_id = account_id
        self.config = config
        self.purpose = purpose
        self.tag = tag
        self.scheduled = False
        self.last_seq = 0
        self.orders = 0


class OrderDesk:
    """See the module docstring. ``on_filled(now, job)`` is called for a job whose resting order
    was filled by someone else; ``stepped(now)`` after each of the desk's own callbacks."""

    def __init__(
        self, env, log, engine, ledger, mark_service, waterfall, next_order_id, config
    ) -> None:
        self._env = env
        self._log = log
        self.engine = engine
        self.ledger = ledger
        self._mark = mark_service
        self.waterfall = waterfall
        self.accounting = waterfall.accounting
        self.next_order_id = next_order_id
        self.orders: dict[int, OrderRecord] = {}
        self._fills: list = []
        self._submitting = False
        self._drain_pending = False
        self.on_filled: Callable[[int, Job], None] = lambda now, job: None
        self.stepped: Callable[[int], None] = lambda now: None
        self.holders = {
            "fund": Holder(
                "fund", waterfall.fund_account_id, config.fund_unwind, "fund_unwind", "takeover"
            ),
        }
        if waterfall.vault is not None:
            self.holders["vault"] = Holder(
                "vault", waterfall.vault.account_id, config.vault.unwind, "vault_unwind", "backstop"
            )
        waterfall.holder_added = self.holder_added

    # -- orders --------------------------------------------------------------------------------
    def send(self, now: int, order: Order, record: OrderRecord, cause: int) -> tuple[int, bool]:
        """Submit ``order`` and settle its immediate fills; returns (lots filled, resting)."""
        self.orders[order.order_id] = record
        self._submitting = True
        try:
            self.engine.submit(now, order, cause)
        finally:
            self._submitting = False
        resting = order.order_id in self.engine.book.orders
        touched = self._process_fills(now)
        if not resting:
            self.orders.pop(order.order_id, None)
        for job in touched:
            if job is not record.job:
                self.on_filled(now, job)
        return order.size_lots - order.remaining_lots, resting

    def cancel(self, now: int, account_id: int, order_id: int, cause: int) -> None:
        """Cancel a resting order of the desk's (its fills so far are settled first)."""
        self.flush(now)
        if order_id in self.engine.book.orders:
            self.engine.cancel(now, account_id, order_id, cause)
        self.orders.pop(order_id, None)

    def flush(self, now: int) -> None:
        """Settle fills of resting orders that arrived since the last callback."""
        for job in self._process_fills(now):
            self.on_filled(now, job)

    def on_trade(self, now: int, seq: int, maker, taker, price: int, size: int) -> None:
        orders = self.orders
        if maker.order_id in orders:
            self._fills.append((seq, maker, price, size))
        if taker.order_id in orders:
            self._fills.append((seq, taker, price, size))
        if self._fills and not self._submitting and not self._drain_pending:
            self._drain_pending = True
            self._env.call_at(0, Phase.LIQUIDATE, self._drain)

    def _drain(self, _event) -> None:
        self._drain_pending = False
        now = self._env.now
        self.flush(now)
        self.stepped(now)

    def _process_fills(self, now: int) -> list[Job]:
        """Settle the caught fills in order; a holder's realised result is swept once per batch
        (the ledger has applied the whole batch by then)."""
        fills = self._fills
        if not fills:
            return []
        self._fills = []
        mark = self._mark.price or 0
        ledger, accounting = self.ledger, self.accounting
        touched: list[Job] = []
        holders: dict[str, list] = {}
        for trade_seq, order, price, size in fills:
            record = self.orders.get(order.order_id)
            if record is None:
                continue
            account = ledger.accounts[record.account_id]
            holder = record.holder
            fee_mode = FEE_NONE if holder is not None else record.fee_mode
            seq = accounting.settle_fill(
                now,
                trade_seq,
                account,
                order.order_id,
                record.purpose,
                fee_mode,
                record.side,
                price,
                size,
                record.bankrupt_price,
                mark,
            )
            if holder is not None:
                batch = holders.setdefault(holder.name, [holder, 0, price, seq])
                batch[1] += order.side * size
                batch[2], batch[3] = price, seq
                continue
            job = record.job
            job.last_seq = seq
            if job not in touched:
                touched.append(job)
            if order.remaining_lots == 0 and job.resting_order_id == order.order_id:
                job.resting_order_id = None
                self.orders.pop(order.order_id, None)
        for holder, lots, price, seq in holders.values():
            holder.last_seq = self._sweep(now, holder, seq, "unwind", lots, price, mark)
        return touched

    # -- holders -------------------------------------------------------------------------------
    def holder_added(self, name: str, cause: int) -> None:
        """A holder received a position (cause: the takeover): schedule its unwind."""
        holder = self.holders[name]
        holder.last_seq = cause
        if not holder.scheduled:
            holder.scheduled = True
            self._env.call_at(holder.config.interval, Phase.LIQUIDATE, self._unwind_tick, holder)

    def _sweep(
        self,
        now: int,
        holder: Holder,
        cause: int,
        action: str,
        lots: int,
        price: int | None,
        mark: int,
    ) -> int:
        if holder.name == "fund":
            return self.accounting.sweep_fund(now, cause)
        seq = self.waterfall.vault.sweep(self.ledger, now, cause, action, None, lots, price, mark)
        return cause if seq is None else seq

    def _unwind_tick(self, holder: Holder) -> None:
        holder.scheduled = False
        now = self._env.now
        self.flush(now)
        account = self.ledger.accounts[holder.account_id]
        mark = self._mark.price
        size = account.size_lots
        if size and mark is not None:
            side = -1 if size > 0 else 1
            lots = planners.share_lots(abs(size), holder.config.fraction)
            holder.orders += 1
            order_id = self.next_order_id()
            holder.last_seq = self._log.emit_record(
                {
                    "seq": 0,
                    "ts": now,
                    "type": "liquidation_order",
                    "cause": holder.last_seq,
                    "account_id": holder.account_id,
                    "order_id": order_id,
                    "purpose": holder.purpose,
                    "side": side,
                    "price_ticks": None,
                    "size_lots": lots,
                    "tif": IOC,
                    "attempt": holder.orders,
                    "mark_price": mark,
                    "bankruptcy_price_ticks": None,
                }
            )
            record = OrderRecord(
                None, holder, holder.account_id, holder.purpose, FEE_NONE, None, -side
            )
            order = Order(order_id, holder.account_id, side, None, lots, tif=IOC, tag=holder.tag)
            self.send(now, order, record, holder.last_seq)
        holder.last_seq = self._sweep(now, holder, holder.last_seq, "settle", 0, None, mark or 0)
        if account.size_lots:
            self.holder_added(holder.name, holder.last_seq)
        self.stepped(now)
