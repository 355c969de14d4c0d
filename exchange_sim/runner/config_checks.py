"""Cross-section checks of the root config (:class:`~exchange_sim.runner.config.SimConfig`):
several perpetuals and collateral assets against the participants that use them. Each raises
:class:`~exchange_sim.config.loader.FieldProblem` naming the key and the value."""

from __future__ import annotations

from exchange_sim.agents.config import LeveragedTraderConfig
from exchange_sim.agents.flow_config import InformedTraderConfig, SpotArbitrageurConfig
from exchange_sim.config.loader import FieldProblem
from exchange_sim.pricing.index import SpotIndex


def check_perpetuals(root, markets: list[str]) -> None:
    """The perpetuals[] section against the rest: unique symbols, index sources, which
    participants trade them and whose accounts they share (``SimConfig`` validation)."""
    symbols = [root.instrument.symbol] + [p.symbol for p in root.perpetuals]
    root.index_correlation.check_perpetuals(
        [("index.process", root.index.process)]
        + [
            (f"perpetuals[{i}].index.process", p.index.process)
            for i, p in enumerate(root.perpetuals)
        ]
    )
    own_grids = {
        p.symbol for p in root.perpetuals if p.tick_size is not None or p.lot_size is not None
    }
    for i, participant in enumerate(root.participants):
        if getattr(participant, "market", "") not in own_grids:
            continue
        if isinstance(participant, InformedTraderConfig) or (
            getattr(participant, "reference", "index") == "fundamental"
        ):
            raise FieldProblem(
                f"participants[{i}].market",
                participant.market,
                "the fundamental value is priced on the instrument's grid: a trader reading it "
                "cannot trade a perpetual with a grid of its own",
            )
    for i, perpetual in enumerate(root.perpetuals):
        own_grid = perpetual.symbol in own_grids
        if own_grid and isinstance(perpetual.index.process, SpotIndex):
            raise FieldProblem(
                f"perpetuals[{i}].index.process.kind",
                "spot",
                "a perpetual with a grid of its own cannot take its index from the spot markets "
                "(their prices are on the instrument's grid)",
            )
        if symbols.count(perpetual.symbol) > 1 or perpetual.symbol in markets:
            raise FieldProblem(
                f"perpetuals[{i}].symbol",
                perpetual.symbol,
                "must differ from the instrument's, the other perpetuals' and the spot "
                "markets' names",
            )
        process = perpetual.index.process
        if isinstance(process, SpotIndex):
            for j, source in enumerate(process.sources):
                if source.market not in markets:
                    raise FieldProblem(
                        f"perpetuals[{i}].index.process.sources[{j}].market",
                        source.market,
                        f"no such spot market (spot_markets: {', '.join(markets) or 'none'})",
                    )
    for i, participant in enumerate(root.participants):
        market = getattr(participant, "market", "")
        if market in symbols[1:] and isinstance(participant, SpotArbitrageurConfig):
            raise FieldProblem(
                f"participants[{i}].market", market, "a spot arbitrageur trades the instrument"
            )
        shared = getattr(participant, "accounts_of", "")
        if shared:
            owners = [p for p in root.participants if p.name == shared]
            if not owners or not isinstance(owners[0], LeveragedTraderConfig):
                raise FieldProblem(
                    f"participants[{i}].accounts_of", shared, "no leveraged group of that name"
                )
            owner = owners[0]
            assert isinstance(participant, LeveragedTraderConfig)
            if getattr(owner, "accounts_of", ""):
                raise FieldProblem(
                    f"participants[{i}].accounts_of",
                    shared,
                    "that group shares accounts itself",
                )
            if owners[0] is participant or root.participants.index(owner) > i:
                raise FieldProblem(
                    f"participants[{i}].accounts_of", shared, "must name an earlier group"
                )
            if owner.count != participant.count or owner.market == market:
                raise FieldProblem(
                    f"participants[{i}].accounts_of",
                    shared,
                    "the group must have the same count and trade another perpetual",
                )
            if owner.margin_mode != participant.margin_mode:
                raise FieldProblem(
                    f"participants[{i}].margin_mode",
                    participant.margin_mode,
                    f"must equal {shared}'s ({owner.margin_mode}): one account, one mode",
                )


def check_collateral(root, markets: list[str]) -> None:
    """The collateral[] section against the rest: unique assets, book names and grids, and
    the participants that deposit them (``SimConfig`` validation)."""
    assets = [c.asset for c in root.collateral]
    if len(set(assets)) != len(assets):
        raise FieldProblem("collateral", assets, "collateral assets must be unique")
    for i, config in enumerate(root.collateral):
        book = f"{config.asset}{root.instrument.settlement_asset}"
        if config.asset == root.instrument.settlement_asset:
            raise FieldProblem(
                f"collateral[{i}].asset", config.asset, "is the settlement asset itself"
            )
        if book in markets or book == root.instrument.symbol:
            raise FieldProblem(
                f"collateral[{i}].asset", config.asset, f"its book's name {book} is taken"
            )
        if (config.book.tick_ppb * config.book.lot_units) % 1_000_000_000:
            raise FieldProblem(
                f"collateral[{i}].book.lot_units",
                config.book.lot_units,
                "tick x lot must be a whole number of money minor units",
            )
    for i, participant in enumerate(root.participants):
        asset = getattr(participant, "collateral_asset", "")
        if asset and asset not in assets:
            raise FieldProblem(
                f"participants[{i}].collateral_asset",
                asset,
                f"not an accepted collateral asset (collateral: {', '.join(assets) or 'none'})",
            )
        units = getattr(participant, "collateral_deposit", 0)
        if bool(asset) != bool(units):
            raise FieldProblem(
                f"participants[{i}].collateral_deposit",
                units,
                "collateral_asset and collateral_deposit go together",
            )
        holdings = getattr(participant, "collateral", ())
        seen = {asset} if asset else set()
        for j, holding in enumerate(holdings):
            key = f"participants[{i}].collateral[{j}]"
            if holding.asset not in assets:
                raise FieldProblem(
                    f"{key}.asset",
                    holding.asset,
                    f"not an accepted collateral asset (collateral: {', '.join(assets) or 'none'})",
                )
            if holding.asset in seen:
                raise FieldProblem(f"{key}.asset", holding.asset, "listed twice for this group")
            seen.add(holding.asset)
            if not holding.deposit:
                raise FieldProblem(f"{key}.deposit", holding.deposit, "must be above 0")
        if seen and getattr(participant, "margin_mode", "cross") != "cross":
            raise FieldProblem(
                f"participants[{i}].margin_mode",
                getattr(participant, "margin_mode", ""),
                "collateral assets back cross margin only",
            )


INVERSE_POLICIES = ("binance", "tiered", "hyperliquid", "market")
"""Liquidation policies an inverse contract runs with (dYdX's fillable-price algebra is linear)."""


def check_inverse(root) -> None:
    """An inverse (coin-margined) instrument runs alone: no other perpetuals (their cross margin
    would add coin and quote money), no spot markets or collateral assets (quote-priced), no
    backstop vault, and a liquidation policy whose arithmetic is ported to inverse value."""
    if root.instrument.contract != "inverse":
        return
    why = "not supported with an inverse instrument (instrument.contract = 'inverse')"
    for key in ("perpetuals", "spot_markets", "collateral"):
        if getattr(root, key):
            raise FieldProblem(key, f"{len(getattr(root, key))} entries", why)
    liquidation = root.liquidation
    if liquidation.policy.KIND not in INVERSE_POLICIES:
        raise FieldProblem(
            "liquidation.policy.kind",
            liquidation.policy.KIND,
            f"{why}; use one of {', '.join(INVERSE_POLICIES)}",
        )
    if "vault" in liquidation.waterfall:
        raise FieldProblem("liquidation.waterfall", "vault", why)
