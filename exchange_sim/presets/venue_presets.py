"""Venue presets as config data (the same form a TOML file has).

``venue.preset = "binance"`` lays the preset's tables *under* the user's config: every key the
user writes wins, key by key (tables merge; a ``kind`` change replaces the table). Sources are the
sections of ``shared/reference/exchange_mechanics.md``; ``docs/mechanics.md`` explains each preset.
Values the reference does not give are marked *assumption* there.
"""

from __future__ import annotations

from typing import Any

from exchange_sim.config.loader import dump_section
from exchange_sim.core.errors import ConfigError
from exchange_sim.funding import config as funding_presets


def _funding(rule) -> dict:
    return {"enabled": True, "rule": dump_section(rule, None)}


def _binance() -> dict:
    return {
        # §1.1: median(index x funding basis, index + MA(30 one-second basis points), last).
        "mark": {
            "rule": {"kind": "binance", "basis_window": "30s", "basis_cadence": "1s"},
            "cadence": "1s",
        },
        # §2.1: leverage brackets with the maintenance-amount recurrence (illustrative BTCUSDT).
        "margin": {"kind": "brackets", "preset": "binance_btcusdt_illustrative"},
        # §7: market orders do not trade beyond a band around the mark (5 %, PERCENT_PRICE).
        "matching": {"price_band_ppb": "0.05"},
        "liquidation": {
            # §4.1: one IOC to restore maintenance, then takeover by the fund at bankruptcy.
            "policy": {"kind": "binance"},
            "liquidation_fee": "0.003",  # §4.1: 0.3 % on BTCUSDT (2019-2020 FAQ)
            "waterfall": ["book", "fund", "adl"],
            "fund_position_limit": "1",  # §5.1: fund position <= 100 % of its balance
            # §5.3: LeveragePnl ranking, closed at the bankruptcy price of the liquidated order.
            "adl": {"ranking": "binance", "close_price": "bankruptcy", "trigger": "fund_exhausted"},
        },
        "funding": _funding(funding_presets.BINANCE),  # §6.2
    }


def _bitmex() -> dict:
    return {
        "mark": {"rule": {"kind": "bitmex"}, "cadence": "1s"},  # §1.2 fair price
        # §2.2 step risk limits: XBTUSD's 200 XBT base limit and 100 XBT step, restated for a
        # USDT-settled contract at 10,000 USD/XBT (assumption: the 2020 table is in XBT).
        "margin": {
            "kind": "step",
            "preset": "bitmex_xbtusd_2020",
            "base_risk_limit": "2000000",
            "step": "1000000",
            # §2.2, §3.2: MM includes the commission to close ("exit taker fee", [3p]/[uncertain]):
            # the default taker fee, 5 bp (assumption: the reference gives no BitMEX fee). A
            # config with another fees.taker_fee_ppb sets margin.trigger_rate_added to it.
            "trigger_rate_added": "0.0005",
        },
        "liquidation": {
            # §4.2: FOK down a risk tier, then takeover with a limit at bankruptcy; no fee: the
            # lost maintenance margin goes to the fund.
            "policy": {"kind": "tiered"},
            "liquidation_fee": "0",
            "waterfall": ["book", "fund", "adl"],
            # §5.2: PnL% x effective leverage, bankruptcy price of the initial liquidated order.
            "adl": {"ranking": "bitmex", "close_price": "bankruptcy", "trigger": "fund_exhausted"},
        },
        "funding": _funding(funding_presets.BITMEX),  # §6.3
    }


def _bitmex_inverse(preset: dict) -> dict:
    """The BitMEX preset on an inverse (coin-margined) instrument such as XBTUSD itself: the
    step risk limits in XBT as the 2020 table gives them (§2.2: 200 XBT base, 100 XBT step; no
    restatement), and an impact margin of 0.02 XBT (assumption: the linear preset's 200 USDT
    at 10,000 USD/XBT; the reference gives no BitMEX impact notional)."""
    margin = dict(preset["margin"], base_risk_limit="200", step="100")
    funding = dict(preset["funding"])
    funding["rule"] = dict(funding["rule"], impact_margin="0.02")
    return dict(preset, margin=margin, funding=funding)


def _bybit() -> dict:
    return {
        # §1.3: median(price 1, index + MA(5-minute basis, every second), last traded price).
        "mark": {
            "rule": {"kind": "binance", "basis_window": "5min", "basis_cadence": "1s"},
            "cadence": "1s",
        },
        # §2.3: tiers with an MM deduction, modelled with the bracket recurrence (assumption:
        # the illustrative table stands in for Bybit's own risk-limit table); MM on the position
        # value at entry (§2.3), so the liquidation price is §3.3's formula (W7).
        "margin": {
            "kind": "brackets",
            "preset": "binance_btcusdt_illustrative",
            "maintenance_basis": "entry",
        },
        "liquidation": {
            "policy": {"kind": "tiered"},  # §4.3
            "liquidation_fee": "0",
            "waterfall": ["book", "fund", "adl"],
            "adl": {"ranking": "bitmex", "close_price": "bankruptcy", "trigger": "fund_exhausted"},
        },
        "funding": _funding(funding_presets.BYBIT),  # §6.4
    }


OKX_LIQUIDATION_FEE = "0.0005"
"""OKX's liquidation (clearance) fee rate: the fee the fund takes (§4.4) and the rate the trigger
adds to MMR (§2.4). The value is an assumption: the reference names the fee but gives no rate."""


def _okx() -> dict:
    return {
        "mark": {
            "rule": {"kind": "okx", "basis_window": "60s", "basis_cadence": "1s"},
            "cadence": "1s",
        },  # §1.4 (window: assumption)
        # The reference gives no OKX tier table (§2.4: "tiered MMR by number of contracts"):
        # the illustrative brackets stand in (assumption). §2.4: liquidation when the margin
        # ratio < MMR + liquidation fee rate: the fee rate is added to the trigger.
        "margin": {
            "kind": "brackets",
            "preset": "binance_btcusdt_illustrative",
            "trigger_rate_added": OKX_LIQUIDATION_FEE,
        },
        "liquidation": {
            "policy": {"kind": "tiered"},  # §4.4: partial down to tier 1, then full at bankruptcy
            "liquidation_fee": OKX_LIQUIDATION_FEE,  # assumption: a clearance fee to the fund
            "waterfall": ["book", "fund", "adl"],
            # §5.5: leverage PnL% ranking, closed at the mark; §5.1: 30 % drawdown in 8 h.
            "adl": {
                "ranking": "bitmex",
                "close_price": "mark",
                "trigger": "fund_drawdown",
                "drawdown_ppb": "0.3",
                "drawdown_window": "8h",
            },
        },
        "funding": _funding(funding_presets.OKX),  # §6.5
    }


def _dydx() -> dict:
    return {
        "mark": {"rule": {"kind": "dydx"}, "cadence": "1s"},  # §1.5 oracle price
        # §2.5 large-cap tier: IMF 5 % (20x), MMF 3 %.
        "margin": {
            "kind": "brackets",
            "brackets": [
                {
                    "notional_floor": "0",
                    "notional_cap": "1000000000000",
                    "max_leverage": 20,
                    "maintenance_rate": "0.03",
                    "maintenance_amount": "0",
                }
            ],
        },
        "liquidation": {
            "policy": {"kind": "dydx"},  # §4.5 with mainnet genesis parameters
            "liquidation_fee": "0",
            # §4.5 step 7, §5.6: a liquidation that fills nothing goes straight to deleveraging
            # (the fund only covers per-fill losses inside the policy; it takes nothing over).
            "waterfall": ["book", "adl"],
            # §5.6: deleveraging at the bankruptcy price; the code iterates counterparties from a
            # pseudo-random start rather than ranking them: modelled as pro rata (assumption).
            "adl": {
                "ranking": "pro_rata",
                "close_price": "bankruptcy",
                "trigger": "fund_exhausted",
            },
        },
        "funding": _funding(funding_presets.DYDX),  # §6.6
    }


def _hyperliquid() -> dict:
    return {
        "mark": {"rule": {"kind": "hyperliquid"}, "cadence": "3s"},  # §1.6, oracle every ~3 s
        "margin": {"kind": "deduction", "preset": "hyperliquid_btc"},  # §2.6
        "liquidation": {
            # §4.6: market orders, 20 % slices above 100k, 30 s cooldown, then the backstop vault
            # below 2/3 MM; no conventional insurance fund (§5.7): book -> vault -> ADL.
            "policy": {"kind": "hyperliquid"},
            "liquidation_fee": "0",
            "waterfall": ["book", "vault", "adl"],
            "insurance_fund": {"initial_balance": "0"},
            "adl": {"ranking": "hyperliquid", "close_price": "mark", "trigger": "fund_exhausted"},
        },
        "funding": _funding(funding_presets.HYPERLIQUID),  # §6.7
    }


PRESETS = {
    "binance": _binance,
    "bitmex": _bitmex,
    "bybit": _bybit,
    "okx": _okx,
    "dydx": _dydx,
    "hyperliquid": _hyperliquid,
}
PRESET_NAMES = ("custom", *PRESETS)


def merge_under(base: dict, top: dict) -> dict:
    """``top`` laid over ``base`` key by key; a table with another ``kind`` replaces it whole."""
    out: dict[str, Any] = dict(base)
    for key, value in top.items():
        below = out.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            if "kind" in value and value.get("kind") != below.get("kind"):
                out[key] = value
            else:
                out[key] = merge_under(below, value)
        else:
            out[key] = value
    return out


NO_INVERSE_PRESETS = ("dydx",)
"""Presets of venues that list no inverse contract (dYdX v4 margins every market in USDC, §2.5):
refused on an inverse instrument before their tables, in USDC, are read in coin."""


def _refuse_preset_vault(name: str, preset: dict, data: dict) -> None:
    """A preset whose waterfall ends in a backstop vault (hyperliquid, §5.7) on an inverse
    instrument, where no vault runs, is refused naming ``venue.preset``, unless the user's own
    ``liquidation.waterfall`` replaces the preset's (then the preset's policy runs without it,
    and a vault the user wrote is refused under their key)."""
    waterfall = preset.get("liquidation", {}).get("waterfall", ())
    liquidation = data.get("liquidation")
    own = isinstance(liquidation, dict) and "waterfall" in liquidation
    if "vault" in waterfall and not own:
        raise ConfigError(
            "venue.preset",
            name,
            f"{name}'s backstop vault (liquidation.waterfall {', '.join(waterfall)}) does not run "
            "on an inverse instrument (instrument.contract = 'inverse'); write a "
            'liquidation.waterfall without "vault" to run its other rules',
        )


def apply_preset(data: dict) -> dict:
    """The user's config data with its venue preset's tables laid under it. A preset of a venue
    without inverse contracts on an inverse instrument is refused naming ``venue.preset`` (its
    USDC tables would otherwise fail first, read in coin, under keys the user never wrote)."""
    venue = data.get("venue")
    name = venue.get("preset", "custom") if isinstance(venue, dict) else "custom"
    if name not in PRESETS:
        return data
    preset = PRESETS[name]()
    instrument = data.get("instrument")
    inverse = isinstance(instrument, dict) and instrument.get("contract") == "inverse"
    if inverse and name in NO_INVERSE_PRESETS:
        raise ConfigError(
            "venue.preset",
            name,
            f"{name} has no inverse contracts (instrument.contract = 'inverse')",
        )
    if inverse:
        _refuse_preset_vault(name, preset, data)
    if name == "bitmex" and inverse:
        preset = _bitmex_inverse(preset)
    merged = merge_under(preset, data)
    perpetuals = data.get("perpetuals")
    if isinstance(perpetuals, list):  # each additional perpetual gets the venue's rules too
        sections = ("index", "mark", "margin", "matching", "funding", "liquidation")
        own = {key: preset[key] for key in sections if key in preset}
        merged["perpetuals"] = [
            merge_under(own, table) if isinstance(table, dict) else table for table in perpetuals
        ]
    return merged
