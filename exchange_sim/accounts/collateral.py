"""Collateral in other assets (pure): haircut valuation, and triggers on two prices at once.

An account in cross margin may hold **collateral assets** besides its settlement wallet (a
stablecoin like USDe, BTC, or both): per asset, ``units`` in the asset's minor units (the
settlement asset's decimals). Their margin value counts toward equity (Binance multi-assets mode;
Bybit unified account's collateral value ratio), asset by asset:

``value = floor(units x price x (1 - haircut))``

with ``price`` in parts per billion of a settlement unit per collateral unit (``1.0`` USDT per
USDe is ``1_000_000_000``) and the haircut a rate; rounded down, the exchange's side (the value
backs the trader's margin). Where ``price`` comes from is the asset's *price source*
(:mod:`exchange_sim.venue.collateral`): its own order book, a scripted oracle, or a fixed
redemption rate.

**Several prices, one equity.** With collateral, an account's equity moves with the mark *and*
with each collateral price, so no single liquidation price exists. The ledger splits the
account's slack ``S = equity - MM`` (all at current prices) over its dimensions: each asset
``a`` keeps ``s_a = floor(S x value_a / (Σ values + notional))`` (its share of the exposure,
:func:`~exchange_sim.accounts.cross_margin.split_slack`), the position the rest. The account is
then indexed once per dimension: by the **mark** at which the position alone uses up its share
(the usual trigger price, solved with each asset valued at ``value_a - s_a``), and by each
**collateral price** at which that asset alone loses ``s_a``. While no price has crossed its
trigger, ``equity >= MM`` holds exactly (equity minus MM moves monotonically in each price), so
no liquidation is missed; when any crosses, the risk monitor checks the account exactly and
re-splits. An account without collateral keeps the whole slack on the mark: its trigger is
unchanged. The margin-call trigger is split the same way on ``equity - factor x MM``. Assets go
in the venue's order (``[[collateral]]``), so every ledger derives the same split.
"""

from __future__ import annotations

from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import RATE_SCALE

PRICE_SCALE = RATE_SCALE
"""Collateral prices are settlement units per collateral unit in parts per billion."""
_SCALE2 = PRICE_SCALE * RATE_SCALE


def haircut_value(units: int, price_ppb: int, haircut_ppb: int) -> int:
    """``floor(units x price x (1 - haircut))`` in settlement minor units (rounded down: the
    exchange's side)."""
    if units <= 0 or price_ppb <= 0:
        return 0
    return div_round(units * price_ppb * (RATE_SCALE - haircut_ppb), _SCALE2, DOWN)


def collateral_trigger_price(units: int, target_value: int, haircut_ppb: int) -> int:
    """The lowest collateral price (ppb) at which ``haircut_value`` is still ``>= target_value``:
    the account is watched for a price *below* it. ``ceil(target x 10^18 / (units x (1 - h)))``;
    0 for a target of 0 or less (never crossed)."""
    if target_value <= 0 or units <= 0:
        return 0
    return div_round(target_value * _SCALE2, units * (RATE_SCALE - haircut_ppb), UP)


class CollateralAssets:
    """The venue's accepted collateral assets: their haircuts, current prices, the trigger prices
    of the accounts holding them, and what the venue's conversion desk took in (mutable; the
    ledger owns it).

    ``triggers[account_id][asset] = (liquidation, margin_call)`` collateral prices (ppb); an
    account is checked when that asset's price falls *below* either."""

    __slots__ = ("deposited", "desk_paid", "desk_units", "haircut_ppb", "price_ppb", "triggers")

    def __init__(self, haircuts_ppb: dict[str, int], prices_ppb: dict[str, int]) -> None:
        self.haircut_ppb = dict(haircuts_ppb)
        self.price_ppb = dict(prices_ppb)
        self.triggers: dict[int, dict[str, tuple[int, int]]] = {}
        self.deposited = dict.fromkeys(haircuts_ppb, 0)
        """Units deposited per asset (the right side of the per-asset identity)."""
        self.desk_units = dict.fromkeys(haircuts_ppb, 0)
        """Units the venue took over from liquidated accounts."""
        self.desk_paid = 0
        """Settlement money the venue paid for them (money the venue put in)."""

    def accepts(self, asset: str) -> bool:
        return asset in self.haircut_ppb

    def value(self, asset: str, units: int) -> int:
        return haircut_value(units, self.price_ppb[asset], self.haircut_ppb[asset])

    def holdings_value(self, holdings: dict[str, int]) -> int:
        """``Σ value(asset, units)``: each asset rounded down on its own (as each is valued)."""
        value = self.value
        return sum(value(asset, units) for asset, units in holdings.items())

    def in_order(self, holdings: dict[str, int]) -> list[tuple[str, int]]:
        """``(asset, units)`` of the holdings in the venue's asset order (the canonical order of
        every split and conversion), without zero holdings."""
        return [(a, holdings[a]) for a in self.haircut_ppb if holdings.get(a)]

    def trigger(self, asset: str, units: int, target_value: int) -> int:
        return collateral_trigger_price(units, target_value, self.haircut_ppb[asset])
