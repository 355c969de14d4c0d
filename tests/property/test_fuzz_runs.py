"""Fuzzing whole runs: random small configs within the documented ranges, random seeds, and random
order streams full of malformed commands. None may crash, break conservation of money, or make a
log depend on the process (PYTHONHASHSEED).

The strategies are committed so the suite keeps fuzzing; ``--hypothesis-profile=long`` (see
tests/conftest.py) gives each test a much larger budget on demand.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import exchange_sim as es
from exchange_sim.events.log import MemoryLog
from exchange_sim.kernel.environment import Phase
from exchange_sim.kernel.latency import ConstantLatency
from exchange_sim.matching.orders import GTC
from exchange_sim.runner.population import populate
from exchange_sim.venue.messages import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Deposit,
    SubmitOrder,
    Withdraw,
)
from exchange_sim.venue.venue import Venue

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRESETS = ("binance", "bitmex", "bybit", "okx", "dydx", "hyperliquid")


def budget(examples: int) -> int:
    """``examples`` under the default profile; scaled by the profile's max_examples / 100, so
    ``--hypothesis-profile=long`` (1000) runs ten times as many."""
    return max(examples, examples * settings.default.max_examples // 100)


RUNS = settings(max_examples=budget(6), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def small_configs(draw) -> tuple[str, ...]:
    """``--set`` overrides of the built-in market (a maker, noise traders, a leveraged crowd),
    each within the range docs/config.md documents; leverage within every venue's cap (20x)."""
    leverages = draw(st.lists(st.integers(1, 20), min_size=1, max_size=3, unique=True))
    return (
        f"run.seed={draw(st.integers(0, 2**32))}",
        f"run.duration={draw(st.integers(1, 6))}s",
        f'venue.preset="{draw(st.sampled_from(PRESETS))}"',
        f"index.cadence={draw(st.sampled_from(['100ms', '250ms', '1s']))}",
        f"index.process.volatility_annual={draw(st.integers(0, 300)) / 100}",
        f"index.process.jump_intensity_per_day={draw(st.integers(0, 5000))}",
        f"participants.noise.count={draw(st.integers(1, 25))}",
        f"participants.noise.rate_per_second={draw(st.integers(1, 40)) / 10}",
        f"participants.leveraged.count={draw(st.integers(1, 60))}",
        f"participants.leveraged.leverages={leverages}",
        f"liquidation.throughput={draw(st.integers(0, 50))}",
        f"liquidation.insurance_fund.initial_balance={draw(st.integers(0, 10**6))}",
        f'risk.margin_check_latency={{kind="constant", value="{draw(st.integers(0, 500))}ms"}}',
        'run.check="every-event"',
    )


@RUNS
@given(overrides=small_configs())
def test_a_random_small_config_runs_and_conserves_money(overrides):
    """Any documented config runs to its end with every invariant checked after every step
    (docs/invariants.md): reaching the summary proves none broke."""
    result = es.run({}, overrides=overrides)
    assert result.summary["invariant_checks"]["checks"] > 0


CLOSE_FIRST = ("largest_margin", "largest_loss", "triggered")


@st.composite
def two_market_configs(draw) -> tuple[str, ...]:
    """Overrides of configs/scenarios/contagion_two_markets.toml (two perpetuals, one crowd in
    both from the same accounts): preset, margin mode, close-first rule, crowd, leverage, crash
    depth, the shared fund and ETH's own tick drawn; every invariant checked after every
    step."""
    mode = draw(st.sampled_from(["cross", "isolated"]))
    count = draw(st.integers(1, 30))
    low = draw(st.integers(44000, 50000))
    return (
        f"run.seed={draw(st.integers(0, 2**32))}",
        f"run.duration={draw(st.integers(45, 75))}s",
        f'venue.preset="{draw(st.sampled_from(PRESETS))}"',
        f'risk.close_first="{draw(st.sampled_from(CLOSE_FIRST))}"',
        f'participants.btc_longs.margin_mode="{mode}"',
        f'participants.eth_longs.margin_mode="{mode}"',
        f"participants.btc_longs.count={count}",
        f"participants.eth_longs.count={count}",
        f"participants.btc_longs.leverages=[{draw(st.integers(2, 20))}]",
        f"participants.eth_longs.leverages=[{draw(st.integers(2, 20))}]",
        f"perpetuals.0.shared_insurance_fund={draw(st.sampled_from(['true', 'false']))}",
        f"perpetuals.0.tick_size={draw(st.sampled_from(['0.01', '0.05', '0.1']))}",
        f'index.process.points=[{{at="0s", price=50000}}, {{at="40s", price=50000}}, '
        f'{{at="60s", price={low}}}]',
        'run.check="every-event"',
    )


@settings(max_examples=budget(4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=two_market_configs())
def test_a_random_two_market_config_runs_and_conserves_money(overrides):
    """Two perpetuals with cross or isolated accounts across them, any close-first rule, own or
    shared fund, any preset: the run ends with every invariant checked after every step."""
    scenario = os.path.join(ROOT, "configs", "scenarios", "contagion_two_markets.toml")
    result = es.run(scenario, overrides=overrides)
    assert result.summary["invariant_checks"]["checks"] > 0


@st.composite
def collateral_configs(draw) -> tuple[str, ...]:
    """Overrides of configs/scenarios/collateral_depeg.toml: price source, haircut, dump size,
    crowd and leverage drawn; every invariant checked after every step."""
    return (
        f"run.seed={draw(st.integers(0, 2**32))}",
        f"run.duration={draw(st.integers(35, 60))}s",
        f'collateral.0.price_source="{draw(st.sampled_from(["book", "redemption", "oracle"]))}"',
        f"collateral.0.haircut_ppb={draw(st.integers(0, 50)) / 100}",
        f'collateral.0.oracle=[{{at="30s", price_ppb={draw(st.integers(10, 100)) / 100}}}]',
        f"participants.usde_longs.count={draw(st.integers(1, 40))}",
        f"participants.usde_longs.leverages=[{draw(st.integers(2, 18))}]",
        'run.check="every-event"',
    )


@settings(max_examples=budget(4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=collateral_configs())
def test_a_random_collateral_config_runs_and_conserves_money(overrides):
    """Accounts backed by a collateral asset under any price source and haircut: the run ends
    with money and the asset's units conserved after every step."""
    scenario = os.path.join(ROOT, "configs", "scenarios", "collateral_depeg.toml")
    result = es.run(scenario, overrides=overrides)
    assert result.summary["invariant_checks"]["checks"] > 0


@st.composite
def collateral_two_market_configs(draw) -> tuple[str, ...]:
    """Overrides of tests/unit/replay/collateral_two_markets.toml (cross accounts in ETHUSDT and
    BTCUSDT backed by the home accounts' USDE, or USDE and a second asset): preset (those
    admitting 25x), close-first rule, haircut, depeg depth, whether the home positions close
    before it, crowd size; every invariant checked after every step."""
    second = draw(st.booleans())
    overrides = [
        f"run.seed={draw(st.integers(0, 2**32))}",
        f'venue.preset="{draw(st.sampled_from(("binance", "bybit", "okx", "hyperliquid")))}"',
        f'risk.close_first="{draw(st.sampled_from(CLOSE_FIRST))}"',
        f"collateral.0.haircut_ppb={draw(st.integers(0, 50)) / 100}",
        f'collateral.0.oracle=[{{at="0s", price_ppb=1.0}}, '
        f'{{at="25s", price_ppb={draw(st.integers(1, 100)) / 100}}}]',
        f"participants.eth_longs.count={(count := draw(st.integers(1, 20)))}",
        f"participants.btc_longs.count={count}",
        f"participants.btc_longs.deposit={draw(st.integers(1, 3000))}",
        'run.check="every-event"',
    ]
    if draw(st.booleans()):
        overrides += [
            "participants.eth_longs.holding=fixed",
            "participants.eth_longs.holding_time=12s",
        ]
    if second:  # a second asset on its own oracle, posted by the same accounts
        wbeth = draw(st.integers(1, 100)) / 100
        overrides += [
            'collateral=[{asset="USDE", haircut_ppb=0.1, price_source="oracle", '
            'oracle=[{at="0s", price_ppb=1.0}, {at="25s", price_ppb=0.01}]}, '
            '{asset="WBETH", haircut_ppb=0.2, price_source="oracle", '
            f'oracle=[{{at="0s", price_ppb=1.0}}, {{at="30s", price_ppb={wbeth}}}]}}]',
            'participants.eth_longs.collateral=[{asset="WBETH", deposit=500}]',
        ]
    return tuple(overrides)


@settings(max_examples=budget(4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=collateral_two_market_configs())
def test_a_random_collateral_config_over_two_perpetuals_runs_and_conserves(overrides):
    """Collateral backing accounts in two perpetuals, under any close-first rule, depeg depth and
    one or two assets: money and every asset's units conserved after every step."""
    config = os.path.join(ROOT, "tests", "unit", "replay", "collateral_two_markets.toml")
    result = es.run(config, overrides=overrides)
    assert result.summary["invariant_checks"]["checks"] > 0


@st.composite
def funding_term_configs(draw) -> tuple[str, ...]:
    """The BitMEX preset (funding rate in maintenance margin) with 10 s funding intervals whose
    rate is drawn either side of 0, leverage up to 100x: every invariant checked."""
    rate = draw(st.integers(-50, 50)) / 10_000
    return (
        f"run.seed={draw(st.integers(0, 2**32))}",
        'venue.preset="bitmex"',
        "run.duration=35s",
        "funding.rule.interval=10s",
        "funding.rule.rate_period=10s",
        "funding.rule.sampling=1s",
        f"funding.rule.interest={rate}",
        "funding.rule.clamp=0.01",
        "funding.rule.cap.limit=0.01",
        f"participants.leveraged.leverages=[{draw(st.integers(20, 100))}]",
        f"participants.leveraged.long_fraction={draw(st.integers(0, 10)) / 10}",
        'run.check="every-event"',
    )


@settings(max_examples=budget(4), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=funding_term_configs())
def test_a_random_funding_term_config_runs_and_conserves(overrides):
    """Margins re-priced at every funding rate, for either side paying: the run ends with every
    invariant held after every step."""
    result = es.run({}, overrides=overrides)
    assert result.summary["invariant_checks"]["checks"] > 0


_DIGEST = (
    "import sys, exchange_sim as es; "
    "print(es.run({}, overrides=sys.argv[1:]).summary['log_digest_sha256'])"
)


def _digest_in_process(overrides: tuple[str, ...], hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-c", _DIGEST, *overrides],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return done.stdout.strip()


@settings(max_examples=budget(2), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(overrides=small_configs())
def test_a_random_config_logs_the_same_bytes_under_any_hash_seed(overrides):
    """Two processes with different PYTHONHASHSEED write byte-identical logs (no iteration
    over a hash-ordered set or dict decides anything)."""
    assert _digest_in_process(overrides, "0") == _digest_in_process(overrides, "4242")


# -- malformed commands ---------------------------------------------------------------------

SIDES = st.sampled_from([1, -1, 0, 2])
PRICES = st.one_of(st.none(), st.integers(-5, 2), st.integers(480_000, 520_000), st.just(10**18))
SIZES = st.one_of(st.integers(-3, 3), st.integers(1, 2_000), st.just(10**18))
TIFS = st.sampled_from([GTC, "IOC", "FOK", "XYZ"])


@st.composite
def commands(draw):
    """One command, often malformed: a bad side, price, size or time in force, an unknown or
    someone else's order id, a negative deposit, a withdrawal of more than is held."""
    order_id = draw(st.integers(1, 40))
    kind = draw(st.sampled_from(["submit"] * 5 + ["cancel", "amend", "cancel_all", "money"]))
    if kind == "submit":
        return SubmitOrder(
            order_id,
            draw(SIDES),
            draw(PRICES),
            draw(SIZES),
            tif=draw(TIFS),
            post_only=draw(st.booleans()),
            reduce_only=draw(st.booleans()),
        )
    if kind == "cancel":
        return CancelOrder(order_id)
    if kind == "amend":
        return AmendOrder(order_id, draw(st.one_of(st.none(), PRICES)), draw(st.none() | SIZES))
    if kind == "cancel_all":
        return CancelAll()
    amount = draw(st.integers(-(10**6), 10**12))
    return Deposit(amount) if draw(st.booleans()) else Withdraw(amount)


class Scripted:
    """Sends its commands one per millisecond from t = 1 ms; ignores every response."""

    def __init__(self, account_id: int, gateway, env, script) -> None:
        self.account_id = account_id
        self._gateway = gateway
        self._env = env
        self._script = script

    def start(self) -> None:
        for step, command in enumerate(self._script, start=1):
            self._env.call_at(step * 1_000_000, Phase.AGENT, self._send, command)

    def _send(self, command) -> None:
        self._gateway.send(self.account_id, command, None)

    def on_order_update(self, now, seq, update) -> None:
        return None

    def on_fill(self, now, seq, fill) -> None:
        return None

    def on_transfer(self, now, seq, update) -> None:
        return None


@RUNS
@given(
    scripts=st.lists(st.lists(commands(), min_size=1, max_size=25), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_malformed_commands_are_refused_without_crashing(scripts, seed):
    """Up to three accounts send random, often malformed, commands into the built-in market:
    the run finishes with every invariant checked after every step, and every command is
    answered by an event (a rejection is an event too)."""
    loaded = es.load_config({}, (f"run.seed={seed}", "run.duration=2s", 'run.check="every-event"'))
    build = populate(loaded.config.participants)
    ids = itertools.count()
    accounts: list[int] = []

    def populate_with_scripts(venue) -> list:
        starts = build(venue)
        for script in scripts:
            account = venue.ids.next("account")
            accounts.append(account)
            venue.ledger.open_account(account, False, 20, f"fuzz{next(ids)}", "fuzz")
            trader = Scripted(account, venue.gateway, venue.env, script)
            link = venue.sampler(ConstantLatency(value=1_000_000), f"fuzz/{account}")
            venue.gateway.connect(trader, link, link)
            starts.append(trader)
        return starts

    log = MemoryLog()
    venue = Venue(loaded, log, populate_with_scripts)
    venue.run("fuzz")
    for account, script in zip(accounts, scripts, strict=True):  # every command is answered
        answered = [e for e in log.events if e.get("account_id") == account and e["ts"] > 0]
        # A CancelAll with nothing resting changes nothing and logs nothing; all else answers.
        assert len(answered) >= sum(type(c) is not CancelAll for c in script)
    held, put_in = venue.money_identity()
    assert held == put_in
    bid, ask = venue.book.best_bid(), venue.book.best_ask()
    assert bid is None or ask is None or bid < ask
