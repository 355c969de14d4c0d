"""Funding's SimPy shell: *when* premiums are sampled, rates computed and payments settled.

The maths lives in the pure modules (:mod:`.premium`, :mod:`.rate`, :mod:`.settlement`); this
module only decides the instants, reads the venue's state at them and applies the results. All
of its work runs in :attr:`~exchange_sim.kernel.environment.Phase.FUNDING`, i.e. after the instant's
matching, mark update, margin checks and liquidations.

Timeline (``rule`` is a :class:`~exchange_sim.funding.config.FundingRule`; times in ns from t = 0):

* **Premium samples** at every multiple of ``rule.sampling`` (from ``sampling`` on, not at 0):
  impact bid/ask of the impact notional from the book (``impact``, ``impact_mid``) or best
  bid/ask (``mid``), against the reference of the rule (``index``; ``mark`` = the mark service's
  price; ``oracle`` = the index publisher's price: this venue's oracle *is* its index), one
  ``premium_sample`` event each. A sample that cannot be taken (no index yet; no mark yet for a
  mark reference; a missing side for the mid formulas) is skipped without an event.
* **dYdX votes** (``averaging = "median_mean"`` with ``vote_interval > 0``, §6.6): a premium is
  taken (and logged as ``premium_sample``) every ``vote_interval``; at each ``sampling`` multiple
  the sample is the median of the votes since the last sample, zero-padded to
  ``min_votes_per_sample``. Like dYdX, a sample is made at every sample epoch even with no votes
  (it is then 0). With ``vote_interval = 0`` each sample is one premium, unpadded.
* **Rate** at every multiple ``T`` of ``rule.interval``: the samples of ``(T - interval, T]``
  (the sample taken at ``T`` is the last of its interval) go through
  :func:`~exchange_sim.funding.rate.funding_rate` with the cap inputs of the margin tiers at max
  leverage; one ``funding_rate`` event. The mark rule is told the new rate for the next interval
  (``set_funding(rate, T + interval, interval)``: Binance Price 1 §1.1, BitMEX Fair Basis §1.2).
  With ``rule.rate_fixed_before = lead > 0`` (OKX §6.5: the rate of 07:59 is paid at 08:00) the
  rate is computed and logged at ``T - lead`` from the samples of ``(T - interval - lead,
  T - lead]`` (the first window starts at 0; the ``funding_rate`` event's window is that one);
  samples after the fix count toward the next rate; at ``T`` the fixed rate is paid and told to
  the mark rule.
  With ``rule.in_maintenance_margin`` (BitMEX) the ledger is told the rate right after its
  ``funding_rate`` event (:meth:`~exchange_sim.accounts.ledger.Ledger.set_funding_maintenance`):
  the paying side's maintenance rate includes it from then on, every position is re-priced, and
  any trigger it makes crossed is caused by that event.
  [assumption] An interval with no sample at all (e.g. no index published yet) is averaged as a
  single zero premium (so the rate is the interest term, like dYdX's zero padding); its event has
  ``sample_count = 0``.
* **Settlement** at ``T + rule.settlement_delay``: the positions are **snapshotted at T** (Binance
  §6.2: "only positions open at the timestamp pay"), as is the settlement price (mark or oracle,
  ``rule.settlement_price``). Payments are exact integers from
  :func:`~exchange_sim.funding.payments.settle_rows` (payers round UP, receivers DOWN, in the
  exchange's favour); each is logged as ``funding_payment`` and applied at once with
  ``ledger.adjust_collateral(now, account, amount, cause=<its funding_payment seq>)``, which
  re-prices the account's triggers and tells the ledger's change listeners, so the risk monitor
  checks (and liquidates) an account that a payment pushes under maintenance with that seq as
  cause. A position opened after ``T`` neither pays nor receives; one closed after ``T`` but
  before the delayed settlement still does. [assumption] When such a payment leaves the flat
  account with negative collateral (a liquidation emptied it meanwhile), the deficit is recorded
  as bad debt (``bad_debt``, caused by the payment) and the account is credited back to zero:
  the receivers are paid in full, the venue carries the loss as it carries any bankruptcy. If the
  settlement price is unknown at ``T``, nothing is paid for the interval.

**Conservation**: each settlement's payments plus its residue sum to exactly 0; the residue (>= 0,
below the number of positions) is logged as ``funding_residue`` and added to
:attr:`FundingScheduler.residue_balance` (the exchange's ``funding_residue`` ledger). So at every
instant ``Σ funding payments applied + residue_balance == 0``, and the run's money identity holds
with ``residue_balance`` counted as one more exchange ledger.

Sources: ``reference/exchange_mechanics.md`` §6.1-§6.7 (formulas, IMN, schedules), §8 items 1-3.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from exchange_sim.core.rounding import UP, div_round
from exchange_sim.core.units import RATE_SCALE, Scale
from exchange_sim.funding.config import FundingRule
from exchange_sim.funding.payments import FUNDING_RESIDUE_LEDGER, settle_rows
from exchange_sim.funding.premium import (
    premium_for_rule_ppb,
    record_premium_sample,
    rule_impact_notional_minor,
)
from exchange_sim.funding.rate import (
    FundingRate,
    funding_rate,
    padded_median_ppb,
    record_funding_rate,
)
from exchange_sim.kernel.environment import Phase
from exchange_sim.matching.orders import BUY, SELL


def max_leverage_margin_rates_ppb(tiers) -> tuple[int, int]:
    """``(initial, maintenance)`` margin rates of the first (max-leverage) tier, ppb.

    The cap inputs of §6.2 (Binance: ``k x MMR`` at max leverage) and §6.6 (dYdX: ``IMF - MMF``)
    and the IMN divisor (``margin / IMR at max leverage``). The initial rate is the model's own
    (``initial_rate_ppb``, BitMEX steps) or ``1 / max leverage`` rounded UP (a rate the trader
    owes; exact for 20x = 5 %). The maintenance rate is the tier's own: a rate added for the
    liquidation trigger (``margin.trigger_rate_added``, OKX §2.4, BitMEX §2.2) is not part of it.
    """
    initial_rate = getattr(tiers, "initial_rate_ppb", None)
    if initial_rate is not None:
        initial = initial_rate(0)
    else:
        initial = div_round(RATE_SCALE, tiers.max_leverage(0), UP)
    return initial, tiers.maintenance_rate_ppb(0) - tiers.maintenance_rate_added_ppb


class FundingScheduler:
    """Samples, rates and settles funding for one instrument (see the module docstring)."""

    __slots__ = (
        "_book",
        "_emit",
        "_env",
        "_fixed",
        "_index",
        "_index_seq",
        "_initial_rate_ppb",
        "_last_sample_seq",
        "_log",
        "_maintenance_rate_ppb",
        "_mark",
        "_mptl",
        "_next_boundary",
        "_next_fix",
        "_next_sample",
        "_next_vote",
        "_samples",
        "_votes",
        "impact_notional_minor",
        "last_rate",
        "ledger",
        "residue_balance",
        "rule",
        "settlements",
        "shortfall_listener",
    )

    def __init__(
        self,
        env,
        log,
        rule: FundingRule,
        ledger,
        book,
        index_publisher,
        mark_service,
        scale: Scale,
        tiers,
    ) -> None:
        needs_mark = "mark" in (rule.premium_reference, rule.settlement_price)
        if needs_mark and mark_service is None:
            raise ValueError("this funding rule uses the mark price but no mark service was given")
        self._env = env
        self._log = log
        self._emit = log.emit
        self.rule = rule
        self.ledger = ledger
        self._book = book
        self._index = index_publisher
        self._mark = mark_service
        self._mptl = scale.valuation
        self._initial_rate_ppb, self._maintenance_rate_ppb = max_leverage_margin_rates_ppb(tiers)
        self.impact_notional_minor = rule_impact_notional_minor(rule, scale, self._initial_rate_ppb)
        self._index_seq: int | None = None
        self._last_sample_seq: int | None = None
        self._samples: list[int] = []
        self._votes: list[int] = []
        voting = rule.averaging == "median_mean" and rule.vote_interval > 0
        self._next_vote: int | None = rule.vote_interval if voting else None
        self._next_sample = rule.sampling
        self._next_boundary = rule.interval
        self._next_fix = rule.interval - rule.rate_fixed_before
        self._fixed: tuple[FundingRate, int] | None = None
        """The rate fixed ahead of the next funding timestamp and its ``funding_rate`` seq."""
        self.residue_balance = 0
        """Money minor units held by the exchange's ``funding_residue`` ledger (>= 0)."""
        self.shortfall_listener: Callable[[int, Any, int, int], None] | None = None
        """``listener(now, account, payment_seq, settlement_price)`` after a payment leaves a
        flat account with negative collateral (it closed after the snapshot and cannot pay from a
        position): the venue records the deficit as bad debt (``Venue._wire_liquidation``)."""
        self.settlements = 0
        self.last_rate: FundingRate | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Tell the mark rule when the first funding is, and schedule the first wake-up."""
        if self._mark is not None:
            self._mark.rule.set_funding(0, self.rule.interval, self.rule.interval)
        self._schedule_next()

    def on_index(self, now: int, price: int, seq: int) -> None:
        self._index_seq = seq

    def _schedule_next(self) -> None:
        wake = min(self._next_sample, self._next_boundary, self._next_fix)
        if self._next_vote is not None and self._next_vote < wake:
            wake = self._next_vote
        self._env.call_at(wake - self._env.now, Phase.FUNDING, self._wake)

    def _wake(self, _event) -> None:
        """One instant's work in a fixed order: vote, then sample, then rate and settlement."""
        now = self._env.now
        rule = self.rule
        next_vote = self._next_vote
        if next_vote is not None and now == next_vote:
            premium = self._take_premium(now)
            if premium is not None:
                self._votes.append(premium)
            self._next_vote = next_vote + rule.vote_interval
        if now == self._next_sample:
            if self._next_vote is not None:
                self._samples.append(padded_median_ppb(self._votes, rule.min_votes_per_sample))
                self._votes = []
            else:
                premium = self._take_premium(now)
                if premium is not None:
                    self._samples.append(premium)
            self._next_sample += rule.sampling
        if now == self._next_fix and rule.rate_fixed_before:
            self._fixed = self._fix_rate(now)
            self._next_fix += rule.interval
        if now == self._next_boundary:
            self._fund(now)
            if not rule.rate_fixed_before:
                self._next_fix += rule.interval
            self._next_boundary += rule.interval
        self._schedule_next()

    # -- premium -------------------------------------------------------------------------------
    def _take_premium(self, now: int) -> int | None:
        """One premium from the book as it stands now; logged as ``premium_sample``."""
        index = self._index.price
        if index is None:
            return None
        rule = self.rule
        mark = self._mark.price if self._mark is not None else None
        if rule.premium_reference == "mark" and mark is None:
            return None
        book = self._book
        if rule.premium_formula == "mid":
            bid, ask = book.best_bid(), book.best_ask()
        else:
            notional = self.impact_notional_minor
            bid = book.impact_price(BUY, notional, self._mptl)
            ask = book.impact_price(SELL, notional, self._mptl)
        premium = premium_for_rule_ppb(
            rule, bid=bid, ask=ask, index_ticks=index, mark_ticks=mark, oracle_ticks=index
        )
        if premium is None:
            return None
        reference = mark if rule.premium_reference == "mark" else index
        assert reference is not None  # no premium (above) with a "mark" reference and no mark
        self._last_sample_seq = record_premium_sample(
            self._log,
            now,
            self._index_seq,
            bid=bid,
            ask=ask,
            reference=rule.premium_reference,
            reference_ticks=reference,
            index_ticks=index,
            premium_ppb=premium,
        )
        return premium

    # -- rate and settlement ---------------------------------------------------------------------
    def _fix_rate(self, now: int) -> tuple[FundingRate, int]:
        """The rate from the samples since the last fix; one ``funding_rate`` event. Returns the
        rate and that event's seq."""
        rule = self.rule
        samples = self._samples
        self._samples = []
        result = funding_rate(
            rule,
            samples or [0],
            maintenance_margin_rate_ppb=self._maintenance_rate_ppb,
            initial_margin_rate_ppb=self._initial_rate_ppb,
        )
        self.last_rate = result
        start = now - rule.interval
        rate_seq = record_funding_rate(
            self._log,
            now,
            self._last_sample_seq,
            interval_start_ts=start if start > 0 else 0,
            interval_end_ts=now,
            sample_count=len(samples),
            result=result,
        )
        self._last_sample_seq = None
        if rule.in_maintenance_margin:
            self.ledger.set_funding_maintenance(now, result.rate_ppb, rate_seq)
        return result, rate_seq

    def _fund(self, now: int) -> None:
        """At funding timestamp ``now``: rate (or the one fixed ahead), mark feed, position
        snapshot, settlement."""
        rule = self.rule
        fixed = self._fixed
        if fixed is None:
            result, rate_seq = self._fix_rate(now)
        else:
            result, rate_seq = fixed
            self._fixed = None
        if self._mark is not None:
            self._mark.rule.set_funding(result.rate_ppb, now + rule.interval, rule.interval)
        price = self._settlement_price()
        if price is None:
            return
        positions = [
            (a.account_id, a.size_lots) for a in self.ledger.accounts.values() if a.size_lots
        ]
        job = (positions, price, result.rate_ppb, rate_seq)
        if rule.settlement_delay == 0:
            self._settle(job)
        else:
            self._env.call_at(rule.settlement_delay, Phase.FUNDING, self._settle, job)

    def _settlement_price(self) -> int | None:
        if self.rule.settlement_price == "mark":
            return self._mark.price
        return self._index.price

    def _settle(self, job) -> None:
        """Pay the snapshot ``positions`` at ``price`` and ``rate``; credit the residue."""
        positions, price, rate, cause = job
        now = self._env.now
        rows, residue = settle_rows(positions, price, rate, self._mptl)
        emit = self._emit
        adjust = self.ledger.adjust_collateral
        for account_id, size_lots, amount in rows:
            seq = emit(
                now,
                "funding_payment",
                cause,
                account=account_id,
                size_lots=size_lots,
                price_ticks=price,
                rate_ppb=rate,
                amount_minor=amount,
            )
            adjust(now, account_id, amount, seq)
            if amount < 0 and self.shortfall_listener is not None:
                account = self.ledger.accounts[account_id]
                if not account.size_lots and (account.wallet < 0 or account.isolated_margin < 0):
                    self.shortfall_listener(now, account, seq, price)
        self.residue_balance += residue
        self.settlements += 1
        emit(
            now,
            "funding_residue",
            cause,
            ledger=FUNDING_RESIDUE_LEDGER,
            residue_minor=residue,
            payment_count=len(rows),
            rate_ppb=rate,
            price_ticks=price,
        )
