"""Preflight: every check of user input that can fail without running anything.

The loader checks each key, its type, unit and range, and each section's own consistency. What
it cannot check is what needs more than one section or a file: the index CSV (read and parsed in
full), the margin tiers (built on the instrument's grid), and values converted onto that grid when
the simulation is built. :func:`preflight` does those, so that ``exchange-sim validate`` refuses
everything ``exchange-sim run`` would, and ``run`` refuses it before creating any directory.

Everything raised here is an :class:`~exchange_sim.core.errors.InputError` naming the key (or
``file:line``) and the value.
"""

from __future__ import annotations

from exchange_sim.accounts.margin_config import build_tiers
from exchange_sim.core.contract import lots_value
from exchange_sim.core.errors import ConfigError
from exchange_sim.funding.premium import rule_impact_notional_minor
from exchange_sim.funding.scheduler import max_leverage_margin_rates_ppb
from exchange_sim.pricing.csv_replay import read_price_csv
from exchange_sim.pricing.index import CsvIndex
from exchange_sim.runner.budget import check_step_budget
from exchange_sim.runner.config import LoadedConfig
from exchange_sim.runner.counterfactual import check_amplification


def preflight(loaded: LoadedConfig, participants: bool = True) -> None:
    """Raise an ``InputError`` for the first problem :func:`Simulation` would meet when built.

    Pure: reads the CSV files (if any, every perpetual's) but writes nothing and starts nothing.
    ``participants`` false skips the checks of what the participants could do (leverage,
    entries): a re-drive feeds recorded orders, its participants never act.
    """
    config = loaded.config
    scale = loaded.scale
    check_amplification(loaded)
    indexes = [(config.index.process, scale)] + [
        (p.index.process, loaded.scale_of(p.symbol)) for p in config.perpetuals
    ]
    for process, grid in indexes:
        if isinstance(process, CsvIndex):
            snap = process.off_grid == "nearest"
            read_price_csv(process.path, loaded.base_dir, grid, snap, process.column)
    try:
        tiers = build_tiers(config.margin, scale)
    except ValueError as exc:
        margin = config.margin
        raise ConfigError("margin", f"{margin.KIND} {margin.preset}", str(exc)) from None
    if config.funding.enabled:
        _check_funding(config.funding.rule, scale, tiers)
    perpetual_tiers = {config.instrument.symbol: (tiers, config.margin, "margin")}
    for number, perpetual in enumerate(config.perpetuals):
        key = f"perpetuals[{number}].margin"
        try:  # on its own grid, as its instrument builds them
            built = build_tiers(perpetual.margin, loaded.scale_of(perpetual.symbol))
        except ValueError as exc:
            raise ConfigError(key, _tiers_name(perpetual.margin), str(exc)) from None
        perpetual_tiers[perpetual.symbol] = (built, perpetual.margin, key)
    if participants:
        _check_leverage(config, perpetual_tiers)
        _check_entries(config, loaded)
    check_step_budget(config)


def _check_leverage(config, perpetual_tiers) -> None:
    """No perpetual trader asks for more leverage than its perpetual's margin tiers allow
    anywhere (their first tier's cap): such a trader would only ever be rejected at entry, so
    the config could not mean what it says. ``perpetual_tiers``: each perpetual's symbol ->
    (tiers, margin config, its key); a trader with no ``market`` trades the first perpetual, one
    whose ``market`` is no perpetual's trades spot (no leverage involved)."""
    first = config.instrument.symbol
    for index, participant in enumerate(config.participants):
        market = getattr(participant, "market", "") or first
        if market not in perpetual_tiers:
            continue  # a spot trader: no leverage involved
        tiers, margin, key = perpetual_tiers[market]
        cap = tiers.max_leverage(0)
        for name in ("leverage", "leverages"):
            value = getattr(participant, name, None)
            if value is None:
                continue
            values = value if isinstance(value, tuple) else (value,)
            over = [v for v in values if v > cap]
            if over:
                raise ConfigError(
                    f"participants[{index}].{name}",
                    value if isinstance(value, int) else list(value),
                    f"{max(over)}x is above the {cap}x the margin tiers allow ({market}'s "
                    f"{key}: {_tiers_name(margin)}); such traders could never open a position",
                )


def _check_entries(config, loaded) -> None:
    """A leveraged group whose largest entry (``deposit x leverage x position_fraction`` of
    notional at its perpetual's index start price) is below one lot could never open a
    position: it is a population that cannot trade. Skipped when the index has no start price
    (spot-built or replayed: the entry price is not known before the run)."""
    perpetuals = {p.symbol: p for p in config.perpetuals}
    scale = loaded.scale

    def money(minor: int) -> str:
        return format(scale.money_decimal(minor).normalize(), "f")

    for index, participant in enumerate(config.participants):
        fraction = getattr(participant, "position_fraction", None)
        leverages = getattr(participant, "leverages", None)
        if fraction is None or not leverages:
            continue
        market = getattr(participant, "market", "")
        perpetual = perpetuals.get(market)
        process = (perpetual or config).index.process
        start = getattr(process, "start_price", 0)
        if not start:
            continue
        grid = loaded.scale_of(market) if perpetual is not None else scale
        lot_notional = lots_value(grid.valuation, 1, 1, start)  # inverse: ceil(k / start)
        largest = int(participant.deposit * max(leverages) * fraction)
        if largest < lot_notional:
            raise ConfigError(
                f"participants[{index}].deposit",
                money(participant.deposit),
                f"at {max(leverages)}x and position_fraction {fraction} the largest entry is "
                f"{money(largest)}, below one lot ({money(lot_notional)} at the start price): "
                "no account of the "
                "group could ever open a position",
            )


def _tiers_name(margin) -> str:
    """The tier table in use: the preset's name, or the size of a table written out (by the
    config or its venue preset) that replaces it (a step preset with fields of its own says
    which)."""
    rows = getattr(margin, "brackets", None) or getattr(margin, "tiers", None)
    if rows:
        plural = "s" * (len(rows) > 1)
        source = "the config's or its venue preset's"
        return f"{margin.KIND}, a table of {len(rows)} row{plural} ({source})"
    own = [name for name in STEP_FIELDS if getattr(margin, name, None) is not None]
    preset = getattr(margin, "preset", None)
    name = f"{margin.KIND} {preset}" if preset else margin.KIND
    return f"{name} with its own {', '.join(own)}" if own else name


STEP_FIELDS = ("base_risk_limit", "step", "base_maintenance_rate", "base_initial_rate")
"""The step risk limit's fields that replace its preset's."""


def _check_funding(rule, scale, tiers) -> None:
    """The impact margin fits the money grid and, where impact prices are sampled, gives an
    impact notional of at least one minor unit (else the first sample fails mid-run)."""
    key = "funding.rule.impact_margin"
    scale.money_minor(rule.impact_margin, key)
    if rule.premium_formula == "mid":
        return
    initial_rate_ppb, _ = max_leverage_margin_rates_ppb(tiers)
    if rule_impact_notional_minor(rule, scale, initial_rate_ppb) <= 0:
        raise ConfigError(
            key,
            rule.impact_margin,
            f"must give an impact notional of at least one money unit for the "
            f"{rule.premium_formula!r} premium formula",
        )
