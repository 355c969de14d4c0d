"""Per-account state replayed from the log: positions, collateral, PnL parts and roles.

Each account's position and cost basis come from its ``position`` events; its collateral
(``wallet + isolated_margin``) is set from every event that logs it (``deposit``, ``withdrawal``,
``position``, ``liquidation_finished``) and moved by the events that name an amount without the
balance after: ``funding_payment``, ``socialised_loss``, ``bad_debt`` (the write-off credited back
to the account), ``liquidation_fill.fund_delta`` (taken from, or paid to, the account),
``takeover.collateral`` (given to the holder after the transfer), a fund ``cover`` caused by an
``adl`` (paid to the deleveraged account) and the fund's own sweeps (``takeover_pnl`` /
``takeover_loss``). The moves mirror the ledger's (``Ledger.adjust_collateral`` and
``Settlement.credit``), so the sum of ``collateral - signed entry notional`` over all accounts is
the ledger's ``money_in_accounts`` at every point of the log (a test checks it on real runs).
An inverse contract's entry term has the other sign (``collateral + side x entry value``,
``InverseLedger.money_in_accounts``) and its open PnL is the ledger's
(:func:`~exchange_sim.analysis.valuation.open_pnl`).

Memory: one list slot per account and figure, no object per account
(:mod:`~exchange_sim.analysis.metrics_columns`). Definitions of the outputs: ``docs/metrics.md``.
"""

from __future__ import annotations

from exchange_sim.analysis.metrics_columns import ABSENT, AccountColumns
from exchange_sim.analysis.valuation import position_notional, value_side
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE

UNKNOWN_ROLE = "unknown"
TRADER_ROLE = "leveraged"
HOLDER_ROLES = ("insurance_fund", "vault")


class Accounts(AccountColumns):
    """Replays account state into the columns (:class:`AccountColumns`); also the open
    interest and the ADL victims' PnL."""

    def __init__(self, valuation) -> None:
        super().__init__(valuation)
        self.entry_sign = value_side(valuation, 1)
        """The sign of the entry term of the money identity: 1 linear, -1 inverse."""
        self.roles_known = False
        self.holders: dict[int, str] = {}  # holder ledger account -> "insurance_fund" / "vault"
        self.long_lots = 0  # open interest: sum of positive positions
        self.mark: int | None = None
        self._takeover: tuple[int, int, int] | None = None  # (seq, account, collateral)
        self._adl: tuple[int, int, int, int, int, int | None] | None = None
        self.adl_seen: set[int] = set()
        self.adl_upnl_before = 0
        self.adl_in_profit = 0
        self.adl_in_loss = 0
        self.adl_without_mark = 0
        self.adl_closed_upnl = 0
        self.adl_realised = 0
        # Collateral assets (only accounts that deposit one have entries).
        self.collateral_prices: dict[str, int] = {}  # asset -> last price, ppb of par
        self.collateral_units: dict[int, dict[str, int]] = {}  # account -> asset -> units held
        self.collateral_in: dict[int, int] = {}  # account -> value of its deposits, minor units

    def handlers(self) -> dict:
        return {
            "account_opened": self.on_account_opened,
            "mark_price": self.on_mark,
            "deposit": self.on_deposit,
            "withdrawal": self.on_withdrawal,
            "position": self.on_position,
            "funding_payment": self.on_funding_payment,
            "socialised_loss": self.on_socialised_loss,
            "bad_debt": self.on_bad_debt,
            "insurance_fund": self.on_insurance_fund,
            "liquidation_fill": self.on_liquidation_fill,
            "takeover": self.on_takeover,
            "vault": self.on_vault,
            "adl": self.on_adl,
            "liquidation_finished": self.on_liquidation_finished,
            "collateral_price": self.on_collateral_price,
            "collateral_deposit": self.on_collateral_deposit,
            "collateral_converted": self.on_collateral_converted,
        }

    # -- events ---------------------------------------------------------------------------------
    def on_account_opened(self, e: dict) -> None:
        account_id = self.touch(e["account_id"])
        self.role[account_id] = e["role"]
        self.isolated[account_id] = bool(e["isolated"])
        self.roles_known = True
        if e["role"] in HOLDER_ROLES:
            self.holders[account_id] = e["role"]

    def on_mark(self, e: dict) -> None:
        self.mark = e["price"]

    def on_deposit(self, e: dict) -> None:
        account_id = self.touch(e["account_id"])
        self.wallet[account_id], self.iso[account_id] = e["wallet"], e["isolated_margin"]
        deposits, amount = self.deposits, e["amount"]
        before = deposits[account_id]
        deposits[account_id] = before + amount if before else amount  # the event's int, shared

    def on_withdrawal(self, e: dict) -> None:
        account_id = self.touch(e["account_id"])
        self.wallet[account_id] = e["wallet"]
        self.withdrawals[account_id] += e["amount"]

    def on_position(self, e: dict) -> None:
        account_id = e["account_id"]
        role = self.role
        if account_id >= len(role) or role[account_id] is ABSENT:
            self.touch(account_id)
        positions = self.position
        old, new = positions[account_id], e["position_lots"]
        self.long_lots += (new if new > 0 else 0) - (old if old > 0 else 0)
        positions[account_id], self.entry[account_id] = new, e["entry_notional"]
        iso = e["isolated_margin"]
        self.wallet[account_id], self.iso[account_id] = e["wallet"], iso
        if iso and not self.roles_known:
            self.isolated[account_id] = True  # inferred: only an isolated account has a bucket
        realised, fee = e["realised_pnl"], e["fee"]
        if realised:
            self.realised[account_id] += realised
            if realised < 0:
                self.losing[account_id] -= realised
        if fee:
            fees = self.fees
            before = fees[account_id]
            fees[account_id] = before + fee if before else fee  # the event's int, shared
            if fee < 0:
                self.rebates[account_id] = self.rebates.get(account_id, 0) - fee
        cause = e["cause"]
        taken = self._takeover
        if taken is not None and cause == taken[0] and account_id == taken[1]:
            self.adjust(account_id, -taken[2])  # the leftover collateral leaves after the transfer
        adl = self._adl
        if adl is not None and cause == adl[0] and account_id == adl[1]:
            _, _, size, before_lots, entry_before, mark = adl
            if mark is not None:
                sign = 1 if before_lots > 0 else -1
                removed = entry_before - e["entry_notional"]
                value = position_notional(self.valuation, sign * size, mark)
                self.adl_closed_upnl += value_side(self.valuation, sign) * (value - removed)
            self.adl_realised += realised

    def on_funding_payment(self, e: dict) -> None:
        account_id = self.touch(e["account"])
        amount = e["amount_minor"]
        self.adjust(account_id, amount)
        self.funding[account_id] += amount

    def on_socialised_loss(self, e: dict) -> None:
        account_id = self.touch(e["account"])
        self.adjust(account_id, -e["amount"])
        self.socialised[account_id] += e["amount"]

    def on_bad_debt(self, e: dict) -> None:
        self.credit(self.touch(e["account"]), e["amount"])

    def on_insurance_fund(self, e: dict) -> None:
        reason = e["reason"]
        if reason in ("takeover_pnl", "takeover_loss"):
            for account_id, holder in self.holders.items():
                if holder == "insurance_fund":
                    self.adjust(self.touch(account_id), -e["delta"])
                    break
        elif reason == "cover" and self._adl is not None and e["cause"] == self._adl[0]:
            # The event does not name the account paid. Caused by an adl, it pays either the
            # deleveraged account (flat and negative right after its fill) or, at the end of the
            # liquidation, the liquidated one (whose liquidation_finished then states its balance).
            target = self.touch(self._adl[1])
            if not self.position[target] and (self.wallet[target] < 0 or self.iso[target] < 0):
                self.credit(target, -e["delta"])

    def on_liquidation_fill(self, e: dict) -> None:
        account_id = self.touch(e["account_id"])
        delta = e["fund_delta"]
        if delta > 0:
            self.adjust(account_id, -delta)
        else:
            self.credit(account_id, -delta)

    def on_takeover(self, e: dict) -> None:
        self.holders[e["holder_account_id"]] = e["holder"]
        self._takeover = (e["seq"], e["account_id"], e["collateral"])

    def on_vault(self, e: dict) -> None:
        if e["action"] != "takeover":
            self.holders[e["account_id"]] = "vault"
        for account_id, holder in self.holders.items():
            if holder == "vault":
                self.wallet[self.touch(account_id)] = 0  # swept into the vault's cash

    def on_adl(self, e: dict) -> None:
        account_id = self.touch(e["account"])
        mark = self.mark
        if account_id not in self.adl_seen:
            self.adl_seen.add(account_id)
            if mark is None:
                self.adl_without_mark += 1
            else:
                upnl = self.unrealised(account_id, mark)
                self.adl_upnl_before += upnl
                self.adl_in_profit += upnl > 0
                self.adl_in_loss += upnl < 0
        position, entry = self.position[account_id], self.entry[account_id]
        self._adl = (e["seq"], account_id, e["size"], position, entry, mark)

    def on_collateral_price(self, e: dict) -> None:
        self.collateral_prices[e["asset"]] = e["price_ppb"]

    def on_collateral_deposit(self, e: dict) -> None:
        """Units of a collateral asset deposited, valued at the asset's last logged price (par
        before any: the traders' deposits are sized at par)."""
        account_id, asset = self.touch(e["account_id"]), e["asset"]
        self.collateral_units.setdefault(account_id, {})[asset] = e["collateral_units"]
        price = self.collateral_prices.get(asset, RATE_SCALE)
        value = div_round(e["units"] * price, RATE_SCALE, DOWN)
        self.collateral_in[account_id] = self.collateral_in.get(account_id, 0) + value

    def on_collateral_converted(self, e: dict) -> None:
        """The venue took units of the asset and paid ``value`` into the wallet."""
        account_id = self.touch(e["account_id"])
        held = self.collateral_units.setdefault(account_id, {})
        held[e["asset"]] = held.get(e["asset"], 0) - e["units"]
        self.wallet[account_id] = e["wallet"]

    def collateral_result(self, account_id: int) -> int:
        """The account's collateral assets: what its units still held are worth at each asset's
        last price, less what its deposits were worth when made (0 without any)."""
        held = self.collateral_units.get(account_id)
        if held is None:
            return 0
        prices = self.collateral_prices
        worth = sum(
            div_round(units * prices.get(asset, RATE_SCALE), RATE_SCALE, DOWN)
            for asset, units in held.items()
        )
        return worth - self.collateral_in.get(account_id, 0)

    def on_liquidation_finished(self, e: dict) -> None:
        account_id = self.touch(e["account_id"])
        self.wallet[account_id], self.iso[account_id] = e["wallet"], e["isolated_margin"]

    # -- results --------------------------------------------------------------------------------
    def role_of(self, account_id: int) -> str:
        if self.roles_known:
            return self.role[account_id] or UNKNOWN_ROLE
        return self.holders.get(account_id, UNKNOWN_ROLE)

    def trader_role(self) -> str:
        return TRADER_ROLE if self.roles_known else UNKNOWN_ROLE

    def money_in_accounts(self) -> int:
        """``Σ (wallet + isolated_margin - signed entry notional)``, as the ledger defines it
        (inverse: ``+ signed entry value``, ``InverseLedger.money_in_accounts``)."""
        sign = self.entry_sign
        position, entry, wallet, iso = self.position, self.entry, self.wallet, self.iso
        return sum(
            wallet[i] + iso[i] - sign * (entry[i] if position[i] >= 0 else -entry[i])
            for i in self.ids()
        )

    def groups(
        self, mark: int | None, shared: frozenset[int] = frozenset()
    ) -> dict[str, dict[str, int]]:
        """Integer totals per role (see ``docs/metrics.md``, section traders). An account in
        ``shared`` (its wallet backs positions in other perpetuals too) counts in this market's
        PnL figures but not in those read from its wallet (``lost_money``, ``net_result``,
        ``liquidation_transfers``, ``collateral_result``, ``deposits``, ``withdrawals``), only
        in the role's ``shared_wallet_accounts``."""
        groups: dict[str, dict[str, int]] = {}
        rebates = self.rebates
        for account_id in self.ids():
            role = self.role_of(account_id)
            group = groups.get(role)
            if group is None:
                group = groups[role] = dict.fromkeys(GROUP_FIELDS, 0)
            unrealised = self.unrealised(account_id, mark)
            realised, fees = self.realised[account_id], self.fees[account_id]
            funding, socialised = self.funding[account_id], self.socialised[account_id]
            rebate = rebates.get(account_id, 0)
            position = self.position[account_id]
            net_realised = realised - fees + funding
            group["accounts"] += 1
            group["losses_on_losing_fills"] += self.losing[account_id]
            group["fees_paid"] += fees + rebate
            group["fee_rebates"] += rebate
            group["realised_pnl"] += realised
            group["fees"] += fees
            group["funding"] += funding
            group["net_realised_pnl"] += net_realised
            group["socialised_loss"] += socialised
            group["unrealised_pnl_end"] += unrealised
            group["long_end_lots"] += max(position, 0)
            group["short_end_lots"] += max(-position, 0)
            if account_id in shared:
                group["shared_wallet_accounts"] = group.get("shared_wallet_accounts", 0) + 1
                continue
            held = self.collateral_result(account_id)
            deposits, withdrawals = self.deposits[account_id], self.withdrawals[account_id]
            collateral = self.wallet[account_id] + self.iso[account_id]
            net = collateral + unrealised + held - deposits + withdrawals
            group["lost_money"] += net < 0
            group["collateral_result"] += held
            group["liquidation_transfers"] += net - net_realised + socialised - unrealised - held
            group["net_result"] += net
            group["deposits"] += deposits
            group["withdrawals"] += withdrawals
        return groups

    def holder_position(self, holder: str, mark: int | None) -> tuple[list[int], int, int, int]:
        """``(accounts, signed lots, signed entry notional, open PnL at mark)`` of a holder kind
        (the entry signed by the position's side, for either contract)."""
        ids = [a for a in self.ids() if self.role_of(a) == holder]
        position, entry = self.position, self.entry
        lots = sum(position[a] for a in ids)
        signed = sum(entry[a] if position[a] >= 0 else -entry[a] for a in ids)
        pnl = sum(self.unrealised(a, mark) for a in ids)
        return ids, lots, signed, pnl


GROUP_FIELDS = (
    "accounts",
    "lost_money",
    "losses_on_losing_fills",
    "fees_paid",
    "fee_rebates",
    "realised_pnl",
    "fees",
    "funding",
    "net_realised_pnl",
    "socialised_loss",
    "liquidation_transfers",
    "collateral_result",
    "unrealised_pnl_end",
    "net_result",
    "deposits",
    "withdrawals",
    "long_end_lots",
    "short_end_lots",
)
"""The integer totals of one role; money fields are minor units, ``*_lots`` lots."""
