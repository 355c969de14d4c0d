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

Memory: one small record per account. Definitions of the outputs: ``docs/metrics.md``.
"""

from __future__ import annotations

from exchange_sim.analysis.valuation import open_pnl, position_notional, value_side
from exchange_sim.core.rounding import DOWN, div_round
from exchange_sim.core.units import RATE_SCALE

UNKNOWN_ROLE = "unknown"
TRADER_ROLE = "leveraged"
HOLDER_ROLES = ("insurance_fund", "vault")


class AccountState:
    """What the metrics need of one account (money minor units, lots)."""

    __slots__ = (
        "deposits",
        "entry",
        "fees",
        "fees_paid",
        "funding",
        "iso",
        "isolated",
        "losing",
        "position",
        "realised",
        "role",
        "socialised",
        "wallet",
        "withdrawals",
    )

    def __init__(self) -> None:
        self.role: str | None = None
        self.isolated = False
        self.position = 0
        self.entry = 0
        self.wallet = 0
        self.iso = 0
        self.realised = 0
        self.losing = 0
        self.fees = 0
        self.fees_paid = 0
        self.funding = 0
        self.socialised = 0
        self.deposits = 0
        self.withdrawals = 0

    @property
    def signed_entry(self) -> int:
        return self.entry if self.position >= 0 else -self.entry

    def adjust(self, amount: int) -> None:
        """``Ledger.adjust_collateral``: the isolated bucket while an isolated position is open,
        else the wallet."""
        if self.isolated and self.position:
            self.iso += amount
        else:
            self.wallet += amount

    def credit(self, amount: int) -> None:
        """``Settlement.credit``: a flat isolated account's negative bucket is filled first."""
        if amount <= 0:
            return
        if self.isolated and not self.position and self.iso < 0:
            take = min(amount, -self.iso)
            self.iso += take
            amount -= take
        if amount:
            self.adjust(amount)

    def unrealised(self, mark: int | None, valuation) -> int:
        """Open PnL at ``mark`` (0 when flat; with no mark, the position is valued at its
        entry): linear ``position x mark x m - signed entry notional``, inverse the ledger's
        (a long's ``entry - ceil(Q k / P)``, :func:`~exchange_sim.analysis.valuation.open_pnl`)."""
        if mark is None or not self.position:
            return 0
        return open_pnl(valuation, self.position, self.entry, mark)


class Accounts:
    """Replays account state; also the open interest and the ADL victims' PnL."""

    def __init__(self, valuation) -> None:
        self.valuation = valuation
        """``Scale.valuation``: money per tick-lot, or an inverse contract."""
        self.entry_sign = value_side(valuation, 1)
        """The sign of the entry term of the money identity: 1 linear, -1 inverse."""
        self.accounts: dict[int, AccountState] = {}
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

    def get(self, account_id: int) -> AccountState:
        state = self.accounts.get(account_id)
        if state is None:
            state = self.accounts[account_id] = AccountState()
        return state

    # -- events ---------------------------------------------------------------------------------
    def on_account_opened(self, e: dict) -> None:
        state = self.get(e["account_id"])
        state.role = e["role"]
        state.isolated = bool(e["isolated"])
        self.roles_known = True
        if e["role"] in HOLDER_ROLES:
            self.holders[e["account_id"]] = e["role"]

    def on_mark(self, e: dict) -> None:
        self.mark = e["price"]

    def on_deposit(self, e: dict) -> None:
        state = self.get(e["account_id"])
        state.wallet, state.iso = e["wallet"], e["isolated_margin"]
        state.deposits += e["amount"]

    def on_withdrawal(self, e: dict) -> None:
        state = self.get(e["account_id"])
        state.wallet = e["wallet"]
        state.withdrawals += e["amount"]

    def on_position(self, e: dict) -> None:
        account_id = e["account_id"]
        state = self.get(account_id)
        old, new = state.position, e["position_lots"]
        self.long_lots += max(new, 0) - max(old, 0)
        state.position, state.entry = new, e["entry_notional"]
        state.wallet, state.iso = e["wallet"], e["isolated_margin"]
        if state.iso and not self.roles_known:
            state.isolated = True  # inferred: only an isolated account has a bucket
        realised, fee = e["realised_pnl"], e["fee"]
        state.realised += realised
        state.losing += max(-realised, 0)
        state.fees += fee
        state.fees_paid += max(fee, 0)
        cause = e["cause"]
        taken = self._takeover
        if taken is not None and cause == taken[0] and account_id == taken[1]:
            state.adjust(-taken[2])  # the leftover collateral leaves after the transfer
        adl = self._adl
        if adl is not None and cause == adl[0] and account_id == adl[1]:
            _, _, size, before, entry_before, mark = adl
            if mark is not None:
                sign = 1 if before > 0 else -1
                removed = entry_before - e["entry_notional"]
                value = position_notional(self.valuation, sign * size, mark)
                self.adl_closed_upnl += value_side(self.valuation, sign) * (value - removed)
            self.adl_realised += realised

    def on_funding_payment(self, e: dict) -> None:
        state = self.get(e["account"])
        state.adjust(e["amount_minor"])
        state.funding += e["amount_minor"]

    def on_socialised_loss(self, e: dict) -> None:
        state = self.get(e["account"])
        state.adjust(-e["amount"])
        state.socialised += e["amount"]

    def on_bad_debt(self, e: dict) -> None:
        self.get(e["account"]).credit(e["amount"])

    def on_insurance_fund(self, e: dict) -> None:
        reason = e["reason"]
        if reason in ("takeover_pnl", "takeover_loss"):
            for account_id, holder in self.holders.items():
                if holder == "insurance_fund":
                    self.get(account_id).adjust(-e["delta"])
                    break
        elif reason == "cover" and self._adl is not None and e["cause"] == self._adl[0]:
            # The event does not name the account paid. Caused by an adl, it pays either the
            # deleveraged account (flat and negative right after its fill) or, at the end of the
            # liquidation, the liquidated one (whose liquidation_finished then states its balance).
            target = self.get(self._adl[1])
            if not target.position and (target.wallet < 0 or target.iso < 0):
                target.credit(-e["delta"])

    def on_liquidation_fill(self, e: dict) -> None:
        state = self.get(e["account_id"])
        delta = e["fund_delta"]
        if delta > 0:
            state.adjust(-delta)
        else:
            state.credit(-delta)

    def on_takeover(self, e: dict) -> None:
        self.holders[e["holder_account_id"]] = e["holder"]
        self._takeover = (e["seq"], e["account_id"], e["collateral"])

    def on_vault(self, e: dict) -> None:
        if e["action"] != "takeover":
            self.holders[e["account_id"]] = "vault"
        for account_id, holder in self.holders.items():
            if holder == "vault":
                self.get(account_id).wallet = 0  # swept into the vault's cash

    def on_adl(self, e: dict) -> None:
        account_id = e["account"]
        state = self.get(account_id)
        mark = self.mark
        if account_id not in self.adl_seen:
            self.adl_seen.add(account_id)
            if mark is None:
                self.adl_without_mark += 1
            else:
                upnl = state.unrealised(mark, self.valuation)
                self.adl_upnl_before += upnl
                self.adl_in_profit += upnl > 0
                self.adl_in_loss += upnl < 0
        self._adl = (e["seq"], account_id, e["size"], state.position, state.entry, mark)

    def on_collateral_price(self, e: dict) -> None:
        self.collateral_prices[e["asset"]] = e["price_ppb"]

    def on_collateral_deposit(self, e: dict) -> None:
        """Units of a collateral asset deposited, valued at the asset's last logged price (par
        before any: the traders' deposits are sized at par)."""
        account_id, asset = e["account_id"], e["asset"]
        self.get(account_id)
        self.collateral_units.setdefault(account_id, {})[asset] = e["collateral_units"]
        price = self.collateral_prices.get(asset, RATE_SCALE)
        value = div_round(e["units"] * price, RATE_SCALE, DOWN)
        self.collateral_in[account_id] = self.collateral_in.get(account_id, 0) + value

    def on_collateral_converted(self, e: dict) -> None:
        """The venue took units of the asset and paid ``value`` into the wallet."""
        account_id = e["account_id"]
        held = self.collateral_units.setdefault(account_id, {})
        held[e["asset"]] = held.get(e["asset"], 0) - e["units"]
        self.get(account_id).wallet = e["wallet"]

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
        state = self.get(e["account_id"])
        state.wallet, state.iso = e["wallet"], e["isolated_margin"]

    # -- results --------------------------------------------------------------------------------
    def role_of(self, account_id: int, state: AccountState) -> str:
        if self.roles_known:
            return state.role or UNKNOWN_ROLE
        return self.holders.get(account_id, UNKNOWN_ROLE)

    def trader_role(self) -> str:
        return TRADER_ROLE if self.roles_known else UNKNOWN_ROLE

    def money_in_accounts(self) -> int:
        """``Σ (wallet + isolated_margin - signed entry notional)``, as the ledger defines it
        (inverse: ``+ signed entry value``, ``InverseLedger.money_in_accounts``)."""
        sign = self.entry_sign
        return sum(s.wallet + s.iso - sign * s.signed_entry for s in self.accounts.values())

    def groups(
        self, mark: int | None, shared: frozenset[int] = frozenset()
    ) -> dict[str, dict[str, int]]:
        """Integer totals per role (see ``docs/metrics.md``, section traders). An account in
        ``shared`` (its wallet backs positions in other perpetuals too) counts in this market's
        PnL figures but not in those read from its wallet (``lost_money``, ``net_result``,
        ``liquidation_transfers``, ``collateral_result``, ``deposits``, ``withdrawals``), only
        in the role's ``shared_wallet_accounts``."""
        valuation = self.valuation
        groups: dict[str, dict[str, int]] = {}
        for account_id in sorted(self.accounts):
            state = self.accounts[account_id]
            role = self.role_of(account_id, state)
            group = groups.get(role)
            if group is None:
                group = groups[role] = dict.fromkeys(GROUP_FIELDS, 0)
            unrealised = state.unrealised(mark, valuation)
            net_realised = state.realised - state.fees + state.funding
            group["accounts"] += 1
            group["losses_on_losing_fills"] += state.losing
            group["fees_paid"] += state.fees_paid
            group["fee_rebates"] += state.fees_paid - state.fees
            group["realised_pnl"] += state.realised
            group["fees"] += state.fees
            group["funding"] += state.funding
            group["net_realised_pnl"] += net_realised
            group["socialised_loss"] += state.socialised
            group["unrealised_pnl_end"] += unrealised
            group["long_end_lots"] += max(state.position, 0)
            group["short_end_lots"] += max(-state.position, 0)
            if account_id in shared:
                group["shared_wallet_accounts"] = group.get("shared_wallet_accounts", 0) + 1
                continue
            held = self.collateral_result(account_id)
            net = state.wallet + state.iso + unrealised + held - state.deposits + state.withdrawals
            group["lost_money"] += net < 0
            group["collateral_result"] += held
            group["liquidation_transfers"] += (
                net - net_realised + state.socialised - unrealised - held
            )
            group["net_result"] += net
            group["deposits"] += state.deposits
            group["withdrawals"] += state.withdrawals
        return groups

    def holder_position(self, holder: str, mark: int | None) -> tuple[list[int], int, int, int]:
        """``(accounts, signed lots, signed entry notional, open PnL at mark)`` of a holder kind
        (the entry signed by the position's side, for either contract)."""
        ids = sorted(a for a, s in self.accounts.items() if self.role_of(a, s) == holder)
        lots = sum(self.accounts[a].position for a in ids)
        entry = sum(self.accounts[a].signed_entry for a in ids)
        pnl = sum(self.accounts[a].unrealised(mark, self.valuation) for a in ids)
        return ids, lots, entry, pnl


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
