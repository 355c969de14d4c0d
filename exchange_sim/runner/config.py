"""The root config: every section of a run, and loading it from TOML with overrides."""

from __future__ import annotations

import hashlib
import os
import tomllib
from decimal import Decimal
from typing import Any

import attrs
import orjson

from exchange_sim.accounts.ledger import FeeSchedule
from exchange_sim.accounts.margin_config import BracketTiersConfig, MarginTiersConfig
from exchange_sim.agents.config import (
    AdaptiveMakerConfig,
    BasisArbitrageurConfig,
    ExecutionConfig,
    LeveragedTraderConfig,
    MarketMakerConfig,
    NoiseTraderConfig,
)
from exchange_sim.agents.flow_config import InformedTraderConfig, SpotArbitrageurConfig
from exchange_sim.agents.trader_config import (
    CarryTraderConfig,
    DipBuyerConfig,
    LiquidationHunterConfig,
    OracleManipulatorConfig,
    TrendFollowerConfig,
)
from exchange_sim.config.loader import FieldProblem, dump_section, load_section
from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import MAX_INT, Scale, to_decimal
from exchange_sim.funding.config import FundingConfig
from exchange_sim.liquidation.config import LiquidationConfig
from exchange_sim.markets.config import FundamentalConfig, SpotMarketConfig
from exchange_sim.matching.config import MatchingConfig
from exchange_sim.presets.venue_presets import PRESET_NAMES, apply_preset
from exchange_sim.pricing.correlation import IndexCorrelationConfig
from exchange_sim.pricing.index import CsvIndex, IndexConfig, SpotIndex
from exchange_sim.pricing.mark_config import MarkConfig
from exchange_sim.risk.config import RiskConfig
from exchange_sim.runner.config_checks import check_collateral, check_inverse, check_perpetuals
from exchange_sim.runner.perpetual_config import PerpetualConfig
from exchange_sim.venue.collateral_config import CollateralConfig
from exchange_sim.venue.intervention_config import InterventionConfig
from exchange_sim.venue.stress_config import StressConfig

ParticipantConfig = (
    MarketMakerConfig
    | NoiseTraderConfig
    | LeveragedTraderConfig
    | BasisArbitrageurConfig
    | InformedTraderConfig
    | SpotArbitrageurConfig
    | AdaptiveMakerConfig
    | ExecutionConfig
    | TrendFollowerConfig
    | DipBuyerConfig
    | CarryTraderConfig
    | LiquidationHunterConfig
    | OracleManipulatorConfig
)


@attrs.frozen(kw_only=True)
class RunConfig:
    name: str = attrs.field(
        default="run",
        metadata={"plain_name": True, "help": "scenario name, used in run directory names"},
    )
    seed: int = attrs.field(
        default=1, metadata={"min": 0, "max": MAX_INT, "help": "root seed of all RNG streams"}
    )
    duration: int = attrs.field(
        default=60_000_000_000,
        metadata={"unit": "duration", "min": 1, "max": MAX_INT, "help": "simulated time to run"},
    )
    verify_money: bool = attrs.field(
        default=False,
        metadata={"help": "check the money identity after every liquidation step (slower)"},
    )
    amplification: bool = attrs.field(
        default=False,
        metadata={
            "help": "also run the counterfactual baseline (same config and seed, "
            "risk.forced_closures = false) and report amplification = drawdown with forced "
            "closures / without, for the perp and the index"
        },
    )
    check: str = attrs.field(
        default="end",
        metadata={
            "choices": ("end", "every-event", "off"),
            "help": "when the invariant checker runs (docs/invariants.md): once at the end, "
            "after every step that wrote an event (slower), or never",
        },
    )
    step_budget: int = attrs.field(
        default=100_000_000,
        metadata={
            "min": 1,
            "max": MAX_INT,
            "help": "refuse a run whose clocks and rates schedule more steps than this (a lower "
            "bound, docs/config.md); raise it to run a larger study on purpose",
        },
    )


@attrs.frozen(kw_only=True)
class InstrumentConfig:
    symbol: str = attrs.field(default="BTCUSDT", metadata={"help": "instrument name"})
    settlement_asset: str = attrs.field(default="USDT", metadata={"help": "margin/settle asset"})
    tick_size: Decimal = attrs.field(
        default=Decimal("0.1"), metadata={"unit": "decimal", "help": "price increment (quote)"}
    )
    lot_size: Decimal = attrs.field(
        default=Decimal("0.001"), metadata={"unit": "decimal", "help": "size increment (base)"}
    )
    money_decimals: int = attrs.field(
        default=6, metadata={"min": 0, "max": 18, "help": "decimals of the settlement asset"}
    )
    contract: str = attrs.field(
        default="linear",
        metadata={
            "choices": ("linear", "inverse"),
            "help": "linear: quote-settled, lots of base (BTCUSDT); inverse: coin-margined, "
            "settled in the base asset, lots of contracts of contract_value quote each (XBTUSD)",
        },
    )
    contract_value: Decimal = attrs.field(
        default=Decimal("0"),
        metadata={
            "unit": "decimal",
            "help": "inverse only: quote value of one contract (XBTUSD: 1 USD); 0 for linear",
        },
    )

    def __attrs_post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError("tick_size and lot_size must be positive")
        if self.contract == "inverse" and self.contract_value <= 0:
            raise FieldProblem(
                "contract_value", self.contract_value, "an inverse contract needs a value > 0"
            )
        if self.contract == "linear" and self.contract_value:
            raise FieldProblem(
                "contract_value", self.contract_value, "only an inverse contract has a value"
            )

    def scale(self) -> Scale:
        if self.contract == "inverse":
            return Scale.build_inverse(
                self.tick_size,
                self.lot_size,
                self.money_decimals,
                self.contract_value,
                "instrument",
            )
        return Scale.build(self.tick_size, self.lot_size, self.money_decimals, "instrument")


@attrs.frozen(kw_only=True)
class LogConfig:
    buffer_lines: int = attrs.field(
        default=1024, metadata={"min": 1, "help": "event lines buffered before each write"}
    )


@attrs.frozen(kw_only=True)
class VenueConfig:
    preset: str = attrs.field(
        default="custom",
        metadata={
            "choices": PRESET_NAMES,
            "help": "rule set laid under this config (mark, margin, liquidation, ADL, funding); "
            "custom = none",
        },
    )


@attrs.frozen(kw_only=True)
class SimConfig:
    run: RunConfig = attrs.field(factory=RunConfig, metadata={"help": "the run"})
    venue: VenueConfig = attrs.field(factory=VenueConfig, metadata={"help": "venue preset"})
    instrument: InstrumentConfig = attrs.field(
        factory=InstrumentConfig, metadata={"help": "the perpetual contract's grid"}
    )
    log: LogConfig = attrs.field(factory=LogConfig, metadata={"help": "event log"})
    index: IndexConfig = attrs.field(factory=IndexConfig, metadata={"help": "index price"})
    matching: MatchingConfig = attrs.field(
        factory=MatchingConfig, metadata={"help": "order validation, self-trade prevention, band"}
    )
    margin: MarginTiersConfig = attrs.field(
        factory=BracketTiersConfig, metadata={"help": "margin tiers"}
    )
    fees: FeeSchedule = attrs.field(factory=FeeSchedule, metadata={"help": "trading fees"})
    mark: MarkConfig = attrs.field(factory=MarkConfig, metadata={"help": "mark price"})
    risk: RiskConfig = attrs.field(
        factory=RiskConfig, metadata={"help": "margin checks and margin calls"}
    )
    liquidation: LiquidationConfig = attrs.field(
        factory=LiquidationConfig, metadata={"help": "liquidation engine, fund, vault, ADL"}
    )
    funding: FundingConfig = attrs.field(
        factory=FundingConfig, metadata={"help": "funding rate and payments"}
    )
    fundamental: FundamentalConfig = attrs.field(
        factory=FundamentalConfig,
        metadata={"help": "the latent fundamental value and its news (the exogenous driver)"},
    )
    spot_markets: tuple[SpotMarketConfig, ...] = attrs.field(
        default=(),
        metadata={"help": "spot markets simulated beside the perpetual (list of tables)"},
    )
    perpetuals: tuple[PerpetualConfig, ...] = attrs.field(
        default=(),
        metadata={
            "help": "more perpetual contracts beside the instrument, on its grid and settled in "
            "its asset, each with its own index, mark, margin, matching, funding and "
            "liquidation sections (list of tables; the venue preset applies to each)"
        },
    )
    index_correlation: IndexCorrelationConfig = attrs.field(
        factory=IndexCorrelationConfig,
        metadata={
            "help": "correlated GBM index paths and common jumps across the instrument and the "
            "perpetuals (off by default)"
        },
    )
    collateral: tuple[CollateralConfig, ...] = attrs.field(
        default=(),
        metadata={
            "help": "assets accepted as margin besides the settlement asset, each with its "
            "haircut, price source and own book (list of tables)"
        },
    )
    interventions: tuple[InterventionConfig, ...] = attrs.field(
        default=(),
        metadata={"help": "interventions on a timeline: a list of tables, each with at and kind"},
    )
    stress: StressConfig = attrs.field(
        factory=StressConfig,
        metadata={"help": "reactive stress-mitigation policies (each off by default)"},
    )
    participants: tuple[ParticipantConfig, ...] = attrs.field(
        factory=lambda: (MarketMakerConfig(), NoiseTraderConfig(), LeveragedTraderConfig()),
        metadata={"help": "who trades: a list of tables, each with a kind"},
    )

    def __attrs_post_init__(self) -> None:
        markets = [spot.name for spot in self.spot_markets]
        if len(set(markets)) != len(markets):
            raise FieldProblem("spot_markets", markets, "spot market names must be unique")
        if self.instrument.symbol in markets:
            raise FieldProblem(
                "spot_markets",
                self.instrument.symbol,
                "a spot market cannot share the perpetual's symbol",
            )
        process = self.index.process
        if isinstance(process, SpotIndex):
            for i, source in enumerate(process.sources):
                if source.market not in markets:
                    raise FieldProblem(
                        f"index.process.sources[{i}].market",
                        source.market,
                        f"no such spot market (spot_markets: {', '.join(markets) or 'none'})",
                    )
        for i, intervention in enumerate(self.interventions):
            market = getattr(intervention, "market", "")
            if market and market not in markets:
                raise FieldProblem(f"interventions[{i}].market", market, "no such spot market")
        self._check_perpetuals(markets)
        known = f"no such spot market (spot_markets: {', '.join(markets) or 'none'})"
        perpetuals = [p.symbol for p in self.perpetuals]
        for i, participant in enumerate(self.participants):
            # Where each participant trades and what it watches: checked here, not only when the
            # venue is built, so that validating a config refuses what a run would.
            for field in ("market", "spot_market"):
                market = getattr(participant, field, "")
                if (
                    market
                    and market not in markets
                    and (field, market) not in (("market", symbol) for symbol in perpetuals)
                ):
                    where = (
                        f"no such market (perpetuals: {', '.join(perpetuals)}; spot_markets: "
                        f"{', '.join(markets) or 'none'})"
                    )
                    raise FieldProblem(
                        f"participants[{i}].{field}", market, where if perpetuals else known
                    )
            if not self.fundamental.enabled:
                needs = "needs fundamental.enabled = true"
                if isinstance(participant, InformedTraderConfig):
                    raise FieldProblem(f"participants[{i}].kind", participant.KIND, needs)
                if getattr(participant, "reference", "index") == "fundamental":
                    raise FieldProblem(f"participants[{i}].reference", "fundamental", needs)
        self._check_collateral(markets)
        check_inverse(self)
        names = [p.name for p in self.participants]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"participant names must be unique; repeated: {', '.join(duplicates)}")

    def _check_perpetuals(self, markets: list[str]) -> None:
        check_perpetuals(self, markets)

    def _check_collateral(self, markets: list[str]) -> None:
        check_collateral(self, markets)


@attrs.frozen
class LoadedConfig:
    """A resolved config with what it needs to run: its scale and the directory it came from."""

    config: SimConfig
    scale: Scale
    base_dir: str

    @property
    def grids(self) -> dict[str, Scale]:
        """Each perpetual's own grid by symbol (the instrument's for one without a tick or lot
        of its own): what its prices, sizes and money per tick-lot are on."""
        return perpetual_grids(self.config.perpetuals, self.scale)

    def scale_of(self, symbol: str) -> Scale:
        """The grid of the perpetual ``symbol`` (the instrument's for the first)."""
        return self.grids.get(symbol, self.scale)

    def to_data(self) -> dict:
        return dump_section(self.config, self.scale, self.grids)

    def data_files(self) -> dict[tuple[str | int, ...], str]:
        """The data files the run reads: config key (as a path of table names and list
        indices) -> the file's path as resolved against :attr:`base_dir`. Today: a CSV index
        replay, the instrument's and each perpetual's."""
        files: dict[tuple[str | int, ...], str] = {}
        tables: list[tuple[tuple[str | int, ...], object]] = [((), self.config.index.process)]
        tables += [
            (("perpetuals", i), p.index.process) for i, p in enumerate(self.config.perpetuals)
        ]
        for where, process in tables:
            if isinstance(process, CsvIndex) and process.path:
                path = process.path
                full = path if os.path.isabs(path) else os.path.join(self.base_dir, path)
                files[(*where, "index", "process", "path")] = full
        return files

    def sha256(self) -> str:
        """sha256 of the resolved config, canonical JSON; a data file enters by the sha256 of
        its contents instead of its path, so the same inputs hash the same wherever they are
        (and a changed file changes the hash)."""
        data = self.to_data()
        for key, full in self.data_files().items():
            _set_in(data, key, "sha256:" + file_sha256(full, ".".join(map(str, key))))
        canonical = orjson.dumps(data, default=_canonical, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()


def _set_in(data: Any, key: tuple[str | int, ...], value: object) -> None:
    for part in key[:-1]:
        data = data[part]
    data[key[-1]] = value


def file_sha256(path: str, key: str) -> str:
    """The sha256 of a data file's bytes (``key`` names the config key in an error)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    except OSError as exc:
        raise ConfigError(key, path, f"cannot read: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _canonical(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    raise TypeError(f"cannot hash {type(value).__name__}")


MAX_KEY_DEPTH = 8
"""No config key is nested deeper than this (``participants.longs.entry_latency.low`` is 4)."""


def parse_override(text: str) -> tuple[list[str], Any]:
    """``a.b.c=value`` to (path, value); the value is read as TOML, else kept as a string."""
    if "=" not in text:
        raise ConfigError("--set", text, "expected KEY=VALUE, e.g. run.seed=7")
    key, raw = text.split("=", 1)
    path = [part.strip() for part in key.split(".")]
    if not all(path):
        raise ConfigError("--set", text, "empty key segment")
    if len(path) > MAX_KEY_DEPTH:
        raise ConfigError("--set", key, f"{len(path)} key segments; no config key has that many")
    try:
        value = tomllib.loads(f"v = {raw}", parse_float=Decimal)["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ConfigError("--set", text, f"cannot read the value: {exc}") from None
    return path, value


_TABLE_IDS: dict[str, tuple[str, str | None]] = {
    "participants": ("name", None),
    "spot_markets": ("name", attrs.fields_dict(SpotMarketConfig)["name"].default),
    "perpetuals": ("symbol", attrs.fields_dict(PerpetualConfig)["symbol"].default),
    "collateral": ("asset", attrs.fields_dict(CollateralConfig)["asset"].default),
}
"""The key that names a table of each list of tables, and its default when the table leaves
it out (a participant's default name depends on its kind, so none is guessed)."""


def _table_id(list_key: str, table: dict) -> str | None:
    """The name that identifies ``table`` of the list ``list_key`` (a perpetual's ``symbol``, a
    collateral's ``asset``, else its ``name``), or None when it has none."""
    id_key, default = _TABLE_IDS.get(list_key, ("name", None))
    return table.get(id_key, default)


def _pick_table(tables: list, segment: str, key: str) -> dict:
    """The table of a list of tables that ``segment`` names: its index (``0``), its name
    (``name``; a perpetual's ``symbol``, a collateral's ``asset``), or else its ``kind`` when
    exactly one table has it."""
    list_key = key.rsplit(".", 1)[0]
    id_key = _TABLE_IDS.get(list_key, ("name", None))[0]
    candidates = [t for t in tables if isinstance(t, dict)]
    if segment.isdigit():
        index = int(segment)
        if index < len(tables) and isinstance(tables[index], dict):
            return tables[index]
        raise ConfigError(key, segment, f"no such index (have 0..{len(tables) - 1})")
    named = [t for t in candidates if _table_id(list_key, t) == segment]
    if named:
        return named[0]
    kinds = [t for t in candidates if t.get("kind") == segment]
    if len(kinds) == 1:
        return kinds[0]
    have = ", ".join(
        f"{i}: {_table_id(list_key, t) or '?'}"
        + (f" ({t.get('kind', '?')})" if list_key == "participants" or "kind" in t else "")
        for i, t in enumerate(candidates)
    )
    what = f"{id_key}, index or kind" if list_key == "participants" else f"{id_key} or index"
    problem = f"{len(kinds)} groups have this kind" if kinds else f"no such {what}"
    raise ConfigError(key, segment, f"{problem} (have {have or 'none'})")


def _default_tables(key: str) -> list | None:
    """The built-in default of a list of tables absent from a config (as plain data)."""
    field = getattr(attrs.fields(SimConfig), key, None)
    if field is None or not isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
        return None
    default = field.default.factory()
    if not isinstance(default, tuple):
        return None
    scale = InstrumentConfig().scale()
    return [dump_section(item, scale) for item in default]


def apply_override(data: dict, path: list[str], value: Any) -> None:
    """Set ``path`` to ``value``. In a list of tables (``participants``, ``spot_markets``,
    ``perpetuals``, ``collateral``) the segment after the list's key picks a table by index, name
    (a perpetual's ``symbol``, a collateral's ``asset``) or (when exactly one table has it)
    ``kind``: ``participants.0.count=5``, ``participants.longs.count=500``,
    ``participants.leveraged.count=100000``, ``perpetuals.ALTUSDT.tick_size=0.001``. A list left
    at its built-in default is filled in with that default first, so its tables can be reached
    too."""
    node = data
    depth = 0
    while depth < len(path) - 1:
        part = path[depth]
        if depth == 0 and part not in node and depth + 1 < len(path) - 1:
            default = _default_tables(part)
            if default is not None:
                node[part] = default
        child = node.setdefault(part, {})
        if isinstance(child, list) and depth + 1 < len(path) - 1:
            node = _pick_table(child, path[depth + 1], ".".join(path[: depth + 2]))
            depth += 2
            continue
        if not isinstance(child, dict):
            raise ConfigError(".".join(path[: depth + 1]), child, "is not a table")
        node = child
        depth += 1
    node[path[-1]] = value


def load_data(data: dict, base_dir: str = ".", overrides: tuple[str, ...] = ()) -> LoadedConfig:
    for text in overrides:
        try:
            path, value = parse_override(text)
        except RecursionError:
            shown = text if len(text) <= 60 else text[:60] + "..."
            raise ConfigError("--set", shown, "value nested too deeply") from None
        apply_override(data, path, value)
    data = apply_preset(data)
    instrument = load_section(InstrumentConfig, data.get("instrument", {}), "instrument", None)
    scale = instrument.scale()
    grids = _raw_perpetual_grids(data.get("perpetuals"), scale)
    config = load_section(SimConfig, data, "", scale, InstrumentConfig().scale(), grids)
    return LoadedConfig(config, scale, base_dir)


def _grid(tick: Decimal | None, lot: Decimal | None, scale: Scale, key: str) -> Scale:
    return Scale.build(
        scale.tick_size if tick is None else tick,
        scale.lot_size if lot is None else lot,
        scale.money_decimals,
        key,
    )


def perpetual_grids(perpetuals, scale: Scale) -> dict[str, Scale]:
    """``perpetuals[]``' grids by symbol: each one's tick and lot (the instrument's where left
    out) with the instrument's money unit."""
    return {
        p.symbol: _grid(p.tick_size, p.lot_size, scale, "perpetuals")
        for p in perpetuals
        if p.tick_size is not None or p.lot_size is not None
    }


PERPETUAL_DEFAULT_SYMBOL = attrs.fields_dict(PerpetualConfig)["symbol"].default
"""The symbol of a ``[[perpetuals]]`` table that writes none."""


def _raw_perpetual_grids(tables: object, scale: Scale) -> dict[str, Scale]:
    """The same from the config's raw ``[[perpetuals]]`` tables, before they are loaded (their
    values, and their traders', are read on these grids)."""
    grids: dict[str, Scale] = {}
    if not isinstance(tables, list):
        return grids
    for i, table in enumerate(tables):
        symbol = table.get("symbol", PERPETUAL_DEFAULT_SYMBOL) if isinstance(table, dict) else None
        if not isinstance(symbol, str):
            continue
        key = f"perpetuals[{i}]"
        tick, lot = table.get("tick_size"), table.get("lot_size")
        if tick is None and lot is None:
            continue
        tick_dec = None if tick is None else to_decimal(tick, f"{key}.tick_size")
        lot_dec = None if lot is None else to_decimal(lot, f"{key}.lot_size")
        for name, value in (("tick_size", tick_dec), ("lot_size", lot_dec)):
            if value is not None and value <= 0:
                raise ConfigError(f"{key}.{name}", value, "must be positive")
        grids[symbol] = _grid(tick_dec, lot_dec, scale, key)
    return grids


def read_toml(path: str) -> dict:
    """The parsed TOML file; any problem reading it is a :class:`ConfigError` naming the file."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise ConfigError(path, path, "config file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, path, "is a directory, not a config file") from None
    except OSError as exc:
        raise ConfigError(path, path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}:{line}", raw[exc.start : exc.end], "not UTF-8 text") from None
    return parse_toml(text, path)


def parse_toml(text: str, where: str = "<config text>") -> dict:
    """TOML text to data (floats as exact ``Decimal``); a syntax error names ``where``."""
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(where, str(exc), "not valid TOML") from None
    except RecursionError:
        raise ConfigError(where, where, "not valid TOML: nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ConfigError(where, where, f"cannot read a value: {exc}") from None


def load_config_file(path: str, overrides: tuple[str, ...] = ()) -> LoadedConfig:
    """Read a TOML config file, apply ``--set`` overrides, and resolve it strictly (relative
    data paths in it are relative to the file)."""
    data = read_toml(path)
    return load_data(data, os.path.dirname(os.path.abspath(path)), overrides)


def load_toml_text(text: str, base_dir: str, overrides: tuple[str, ...] = ()) -> LoadedConfig:
    """Resolve a config given as TOML text (data paths relative to ``base_dir``)."""
    return load_data(parse_toml(text), base_dir, overrides)
