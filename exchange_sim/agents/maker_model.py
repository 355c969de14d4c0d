"""What an adaptive market maker knows and the arithmetic it does on it (pure: no venue, no time
of its own). :class:`~exchange_sim.agents.adaptive_maker.AdaptiveMaker` feeds it observations and
reports and asks it for fair value, half spread and the withdrawal measures; the formulas are in
that module's docstring."""

from __future__ import annotations

from fractions import Fraction

from exchange_sim.agents.maker_config import AdaptiveMakerConfig
from exchange_sim.agents.signals import RollingSum, RollingVolatility
from exchange_sim.core.contract import InverseContract, Valuation, lots_value
from exchange_sim.core.rounding import DOWN, UP, div_round
from exchange_sim.core.units import MAX_INT, RATE_SCALE

RATE_SCALE_SQ = RATE_SCALE * RATE_SCALE


class MakerModel:
    """The maker's observations (index, top of book, trade flow, volatility) and its own book
    (position, cash of its fills, deposits), and the measures computed from them."""

    __slots__ = (
        "_cfg",
        "_flow",
        "_mptl",
        "_spot",
        "_vol",
        "_vol_on_index",
        "ask",
        "bid",
        "cash",
        "deposited",
        "index",
        "position_lots",
    )

    def __init__(self, config: AdaptiveMakerConfig, money_per_tick_lot: Valuation) -> None:
        self._cfg = config
        self._mptl = money_per_tick_lot
        self._spot = bool(config.market)
        self._vol = RollingVolatility(config.vol_window)
        self._vol_on_index = config.vol_source == "index"
        self._flow = RollingSum(config.flow_window)
        self.index: int | None = None
        self.bid: int | None = None
        self.ask: int | None = None
        self.position_lots = 0
        self.cash = 0
        """Money its fills moved (minor units): minus side x price x size, fees not seen."""
        self.deposited = 0
        """Deposits less withdrawals the venue confirmed, minor units."""

    # -- observations and reports ----------------------------------------------------------------
    def observe_index(self, now: int, price: int) -> None:
        self.index = price
        if self._vol_on_index:
            self._vol.add(now, price)

    def observe_book(self, now: int, bid: int | None, ask: int | None, trades) -> None:
        """A market-data view: the best bid and ask and the instant's trades (feed tuples)."""
        self.bid = bid
        self.ask = ask
        for trade in trades:
            self._flow.add(now, trade[4] * trade[3])
        if not self._vol_on_index and bid is not None and ask is not None:
            self._vol.add(now, (bid + ask) / 2)

    def trade(self, side: int, price: int, lots: int) -> None:
        """One of its fills, or a position the venue moved onto it (side: what it did)."""
        self.position_lots += side * lots
        mptl = self._mptl
        if isinstance(mptl, InverseContract):
            # inverse: a buy's contracts are worth their coin value back at any later price
            self.cash += side * mptl.fill_value(side, lots, price)
        else:
            self.cash -= side * price * lots * mptl

    # -- measures --------------------------------------------------------------------------------
    def anchor(self) -> int | None:
        """Weighted mean of the last index and mid it saw, floored; before it has seen either,
        its ``initial_price`` (``None`` when that is 0)."""
        cfg = self._cfg
        num = den = 0  # both doubled, so the mid (bid + ask) / 2 stays exact
        if cfg.weight_index and self.index is not None:
            num += 2 * cfg.weight_index * self.index
            den += 2 * cfg.weight_index
        if cfg.weight_mid and self.bid is not None and self.ask is not None:
            num += cfg.weight_mid * (self.bid + self.ask)
            den += 2 * cfg.weight_mid
        if not den:
            return cfg.initial_price or None
        return div_round(num, den, DOWN)

    def net_flow(self, now: int) -> int:
        """Net aggressor volume over ``flow_window`` (buys positive), lots."""
        return self._flow.total(now)

    def fair_value(self, now: int, anchor: int) -> int:
        """``anchor + floor(flow_weight x net flow x anchor) - floor(skew x position / unit)``."""
        cfg = self._cfg
        fair = anchor
        if cfg.flow_weight:
            fair += div_round(cfg.flow_weight * self._flow.total(now) * anchor, RATE_SCALE, DOWN)
        if cfg.inventory_skew:
            fair -= div_round(cfg.inventory_skew * self.position_lots, cfg.skew_unit, DOWN)
        return fair

    def fair_parts(self, now: int) -> dict[str, Fraction]:
        """Fair value as additive parts per input, exact fractions of ticks: ``index`` and
        ``mid`` (their weighted shares of the anchor), ``flow`` and ``skew`` (the terms added
        and taken off). What a ladder names as its cause is the input whose part moved most."""
        cfg = self._cfg
        parts = {"index": Fraction(0), "mid": Fraction(0), "flow": Fraction(0), "skew": Fraction(0)}
        weight = 0
        if cfg.weight_index and self.index is not None:
            weight += cfg.weight_index
        bid, ask = self.bid, self.ask
        mid2 = bid + ask if bid is not None and ask is not None else None  # twice the mid
        if cfg.weight_mid and mid2 is not None:
            weight += cfg.weight_mid
        if weight:
            if cfg.weight_index and self.index is not None:
                parts["index"] = Fraction(cfg.weight_index * self.index, weight)
            if cfg.weight_mid and mid2 is not None:
                parts["mid"] = Fraction(cfg.weight_mid * mid2, 2 * weight)
        anchor = parts["index"] + parts["mid"]
        if cfg.flow_weight:
            parts["flow"] = Fraction(cfg.flow_weight * self._flow.total(now), RATE_SCALE) * anchor
        if cfg.inventory_skew:
            parts["skew"] = Fraction(-cfg.inventory_skew * self.position_lots, cfg.skew_unit)
        return parts

    def volatility_ppb(self, now: int) -> int:
        return self._vol.ppb(now)

    def half_spread(self, now: int, fair: int) -> int:
        """``base_half_spread + ceil(vol_multiplier x sigma x fair)``, ticks."""
        cfg = self._cfg
        extra = cfg.vol_multiplier * self._vol.ppb(now) * fair
        return cfg.base_half_spread + div_round(extra, RATE_SCALE_SQ, UP)

    def margin_use_ppb(self, anchor: int | None) -> int:
        """Initial margin of its position over its estimated equity, ppb, rounded up
        (``MAX_INT`` when the estimate is not positive; always 0 on a spot market, which has no
        margin)."""
        position = self.position_lots
        if not position or anchor is None or self._spot:
            return 0
        mptl = self._mptl
        side = 1 if position > 0 else -1
        notional = lots_value(mptl, side, abs(position), anchor)
        if not isinstance(mptl, InverseContract):
            equity = self.deposited + self.cash + side * notional
        else:  # inverse: a long is worth its entry value less its value now
            equity = self.deposited + self.cash - side * notional
        if equity <= 0:
            return MAX_INT
        return min(MAX_INT, div_round(notional * RATE_SCALE, self._cfg.leverage * equity, UP))

    def over(self, now: int, anchor: int | None) -> tuple[str, int, int] | None:
        """The first measure past its threshold, as ``(reason, value, threshold)``."""
        cfg = self._cfg
        if cfg.withdraw_volatility:
            value = self._vol.ppb(now)
            if value > cfg.withdraw_volatility:
                return "volatility", value, cfg.withdraw_volatility
        if cfg.withdraw_inventory:
            value = abs(self.position_lots)
            if value > cfg.withdraw_inventory:
                return "inventory", value, cfg.withdraw_inventory
        if cfg.withdraw_margin_use:
            value = self.margin_use_ppb(anchor)
            if value > cfg.withdraw_margin_use:
                return "margin_use", value, cfg.withdraw_margin_use
        return None

    def measure(self, reason: str, now: int, anchor: int | None) -> tuple[int, int]:
        """The measure a withdrawal ``reason`` is judged by, and its threshold (a margin call is
        judged by the margin-use estimate)."""
        cfg = self._cfg
        if reason == "volatility":
            return self._vol.ppb(now), cfg.withdraw_volatility
        if reason == "inventory":
            return abs(self.position_lots), cfg.withdraw_inventory
        return self.margin_use_ppb(anchor), cfg.withdraw_margin_use
