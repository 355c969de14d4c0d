"""What a replay rebuilds from the log, and how a recomputed value is compared with the record.

The state is built with the venue's own pure components, fed only from the log: one
:class:`~exchange_sim.replay.book.ReplayBook` per market (the venue's queue rules), the accounts
:class:`Ledger` (its ``apply_fill``, ``deposit``, ``withdraw`` and ``adjust_collateral`` are the
rules the run used), one :class:`SpotLedger` per spot market, the insurance fund's balance, the
vault's cash, recorded bad debt, the funding residue and the ADL ranker (and, for a run with
collateral assets, their books and prices: :mod:`.collateral_checks`). Their ``log`` is a
:class:`Capture`: what they would have written is kept and compared with what the run wrote.
Rules and parameters (fees, margin tiers, the liquidation policy, the vault's capital) come from
the run's ``config.toml``; every state change comes from the log.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from exchange_sim.accounts.inverse_ledger import InverseLedger
from exchange_sim.accounts.ledger import Ledger
from exchange_sim.accounts.margin_config import build_tiers
from exchange_sim.liquidation.adl import AdlRanker
from exchange_sim.markets.spot_ledger import SpotLedger
from exchange_sim.replay.book import ReplayBook


class Divergence(Exception):
    """A recorded value differs from its recomputation (or an event is impossible here)."""

    def __init__(self, seq: int, field: str, recorded: object, recomputed: object) -> None:
        self.seq, self.field, self.recorded, self.recomputed = seq, field, recorded, recomputed
        super().__init__(f"seq {seq}: {field} recorded {recorded!r}, recomputed {recomputed!r}")


class Capture:
    """The ``log`` handed to the rebuilt components: keeps the payloads they would emit."""

    __slots__ = ("payloads", "seq")

    def __init__(self) -> None:
        self.payloads: list[tuple[str, dict]] = []
        self.seq = 0

    def emit(self, ts: int, type: str, cause: int | None, **payload) -> int:
        self.payloads.append((type, payload))
        return self.seq

    def emit_record(self, record: dict) -> int:
        payload = dict(record)
        del payload["seq"], payload["ts"], payload["type"], payload["cause"]
        self.payloads.append((record["type"], payload))
        return self.seq

    def take(self) -> list[tuple[str, dict]]:
        payloads, self.payloads = self.payloads, []
        return payloads


def compare(event: dict, recomputed: dict, fields) -> None:
    """Raise :class:`Divergence` at the first of ``fields`` whose recorded value differs."""
    for field in fields:
        value = recomputed[field]
        recorded = event.get(field)
        if recorded != value or type(recorded) is not type(value):
            raise Divergence(event["seq"], field, recorded, value)


def expect(event: dict, field: str, value: object) -> None:
    """Raise :class:`Divergence` unless the event's ``field`` is ``value`` (a JSON ``true`` is
    not the number 1)."""
    recorded = event.get(field)
    if recorded != value or type(recorded) is not type(value):
        raise Divergence(event["seq"], field, recorded, value)


class PerpetualSections:
    """The run's config as one of its ``perpetuals[]`` sees it: that perpetual's own sections
    (index, mark, margin, matching, funding, liquidation), the root's for everything else."""

    __slots__ = ("_perpetual", "_root")
    OWN = frozenset(("index", "mark", "margin", "matching", "funding", "liquidation"))

    def __init__(self, root, perpetual) -> None:
        self._root = root
        self._perpetual = perpetual

    def __getattr__(self, name: str):
        return getattr(self._perpetual if name in PerpetualSections.OWN else self._root, name)


class ReplayState:
    """Everything rebuilt so far (see the module docstring)."""

    __slots__ = (
        "adl_group",
        "adl_plan",
        "bad_debt",
        "books",
        "busy",
        "capture",
        "clawback",
        "collateral",
        "config",
        "counts",
        "fills",
        "fund_account",
        "fund_balance",
        "fund_initial",
        "fund_injected",
        "funding_jobs",
        "funding_residue",
        "funding_samples",
        "funding_settlements",
        "impact_notional",
        "incoming",
        "index",
        "initial_tiers",
        "last_check",
        "last_trade",
        "ledger",
        "liquidation_orders",
        "liquidations_triggered",
        "loaded",
        "margin_checks",
        "mark",
        "mptl",
        "next_epoch",
        "pending_fill",
        "pending_takeover",
        "pending_top_up",
        "perpetuals",
        "policy",
        "ranker",
        "seq",
        "spot",
        "spot_fills",
        "symbol",
        "trades",
        "ts",
        "vault_account",
        "vault_capital",
        "vault_cash",
        "votes",
    )

    def __init__(self, loaded, perpetual=None) -> None:
        """``perpetual``: one of the config's ``perpetuals[]`` (its own book, ledger, fund,
        funding and liquidation rules; no spot market), or ``None`` for the first perpetual."""
        config = loaded.config if perpetual is None else PerpetualSections(loaded.config, perpetual)
        scale = loaded.scale if perpetual is None else loaded.scale_of(perpetual.symbol)
        self.loaded = loaded
        self.config = config
        self.mptl = mptl = scale.valuation  # an inverse contract's InverseContract
        self.symbol = config.instrument.symbol if perpetual is None else perpetual.symbol
        self.capture = capture = Capture()
        self.ledger = ledger = (InverseLedger if scale.inverse else Ledger)(
            capture,
            scale.inverse_k or scale.money_per_tick_lot,
            build_tiers(config.margin, scale),
            config.fees,
            config.risk.margin_call_ratio,
            maintenance_on_entry=config.margin.maintenance_basis == "entry",
        )
        self.books: dict[str, ReplayBook] = {self.symbol: ReplayBook()}
        perp_book = self.books[self.symbol]
        ledger.open_orders = perp_book.open_orders
        ledger.mark_price = lambda: self.mark
        ledger.fallback_price = lambda: self.index
        self.perpetuals: Any = None
        """With several perpetuals, on the first's state: every perpetual's
        (:class:`~exchange_sim.replay.perpetuals.Perpetuals`); ``None`` otherwise."""
        self.collateral: Any = None
        """The collateral assets' replay (:mod:`.collateral_checks`), or ``None`` without any."""
        self.spot: dict[str, SpotLedger] = {}
        for spot in config.spot_markets if perpetual is None else ():
            book = self.books[spot.name] = ReplayBook()
            spot_ledger = SpotLedger(
                capture, spot.name, scale.money_per_tick_lot, spot.maker_fee_ppb, spot.taker_fee_ppb
            )
            spot_ledger.open_orders = book.open_orders
            self.spot[spot.name] = spot_ledger
        liquidation = config.liquidation
        self.policy = liquidation.policy.KIND
        self.ranker = AdlRanker(liquidation.adl, mptl, scale.money_decimals)
        self.fund_initial = self.fund_balance = liquidation.insurance_fund.initial_balance
        self.fund_injected = 0
        self.vault_capital = self.vault_cash = (
            liquidation.vault.capital if "vault" in liquidation.waterfall else None
        )
        self.fund_account: int | None = None
        self.vault_account: int | None = None
        self.bad_debt = 0
        self.mark: int | None = None
        self.index: int | None = None
        self.last_trade: int | None = None
        self.incoming: dict | None = None
        """The order that takes liquidity in the trades that follow (last accepted or amended)."""
        self.fills: deque = deque()
        """Expected ``position`` events: (account, side, price, lots, fee_ppb, cause seq)."""
        self.spot_fills: deque = deque()
        """Expected ``spot_fill`` payloads, recomputed at their trade."""
        self.liquidation_orders: dict[int, tuple] = {}
        self.pending_fill: tuple[int, int, int] | None = None  # (seq, delta, shortfall)
        self.pending_takeover: tuple | None = None
        self.pending_top_up: tuple[int, int] | None = None
        self.adl_group: tuple | None = None
        self.adl_plan: deque = deque()
        self.clawback: tuple | None = None
        """The charges still due of the clawback in progress, its residue and amount covered."""
        self.busy: set[int] = set()
        self.funding_jobs: dict[int, list] = {}
        self.funding_samples: list[int] = []
        rule = config.funding.rule
        voting = rule.averaging == "median_mean" and rule.vote_interval > 0
        self.votes: list[int] | None = [] if voting else None
        """dYdX votes since the last sample epoch (``None``: each premium is a sample)."""
        self.next_epoch = rule.sampling
        self.impact_notional: int | None = None
        self.initial_tiers = ledger.tiers
        self.funding_residue = 0
        self.funding_settlements = 0
        self.liquidations_triggered = 0
        self.last_check: tuple | None = None
        self.trades = 0
        self.margin_checks = 0
        self.counts: Counter[str] = Counter()
        """Lines per type (a whole chunk is counted when it is read)."""
        self.seq = -1
        self.ts = 0
        """Where a replay stopped (``--until``)."""

    @property
    def book(self) -> ReplayBook:
        return self.books[self.symbol]

    def account(self, event: dict, field: str = "account_id"):
        account = self.ledger.accounts.get(event[field])
        if account is None:
            raise Divergence(event["seq"], field, event[field], "no such account")
        return account

    def venue_accounts(self) -> set[int]:
        return {a for a in (self.fund_account, self.vault_account) if a is not None}

    def credit(self, ev: dict, account, amount: int) -> None:
        """:meth:`LiquidationAccounting.credit`: a flat isolated account's negative bucket first."""
        if amount <= 0:
            return
        if account.isolated and not account.size_lots and account.isolated_margin < 0:
            take = min(amount, -account.isolated_margin)
            account.isolated_margin += take
            amount -= take
            if not amount:
                self.ledger.refresh(ev["ts"], account, ev["seq"])
                return
        self.ledger.adjust_collateral(ev["ts"], account.account_id, amount, ev["seq"])

    def money_identity(self) -> tuple[int, int]:
        """``(held, put_in)`` as :func:`~exchange_sim.liquidation.accounting.money_identity`."""
        ledger = self.ledger
        held = (
            ledger.money_in_accounts()
            + ledger.fees_collected
            + ledger.value_residue
            + self.fund_balance
            + (self.vault_cash or 0)
            - self.bad_debt
            + self.funding_residue
        )
        put_in = (
            ledger.total_deposits
            - ledger.total_withdrawals
            + self.fund_initial
            + self.fund_injected
            + (self.vault_capital or 0)
            + ledger.collateral.desk_paid
        )
        return held, put_in
