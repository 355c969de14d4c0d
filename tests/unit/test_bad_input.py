"""Bad input through the CLI: one line naming the key or file:line and the value, exit 2, no files.

Every test runs with the working directory at ``tmp_path`` (so a default ``runs/`` would land
there) and ``--out`` two directories deep (so a created parent would show), then checks that
``tmp_path`` holds exactly what the test wrote before the command.
"""

from __future__ import annotations

import os

import pytest

RUN_ARGS = ("--set", "run.duration=2s")


@pytest.fixture
def reject(cli, tmp_path, monkeypatch):
    """Run a command expected to be refused; check the whole contract; return the message."""
    monkeypatch.chdir(tmp_path)

    def check(*args: str) -> str:
        before = sorted(os.listdir(tmp_path))
        status, out, err = cli(*args)
        assert status == 2, (out, err)
        assert out == ""
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert err.startswith("exchange-sim: error: ")
        assert "Traceback" not in err
        assert sorted(os.listdir(tmp_path)) == before
        return err.strip()

    return check


def _out(tmp_path) -> str:
    return str(tmp_path / "nested" / "deeper" / "run")


def _csv_config(tmp_path, rows: bytes | str) -> str:
    data = rows if isinstance(rows, bytes) else rows.encode()
    (tmp_path / "prices.csv").write_bytes(b"timestamp,price\n" + data)
    config = tmp_path / "c.toml"
    config.write_text('[index.process]\nkind = "csv"\npath = "prices.csv"\n')
    return str(config)


# --- 1. CSV problems are found before anything is created, and by validate -----------------------


def test_bad_csv_row_on_run_leaves_no_failed_dir_and_no_parents(reject, tmp_path):
    """A bad CSV row is reported before the run directory (or its parents) exists."""
    config = _csv_config(tmp_path, "0,100.0\n1000,abc\n")
    err = reject("run", config, "--out", _out(tmp_path), *RUN_ARGS)
    assert "prices.csv:3: price is not a decimal number (got 'abc')" in err


def test_bad_csv_row_on_validate(reject, tmp_path):
    """validate reads the CSV: a bad row is an error, not 'config ok'."""
    config = _csv_config(tmp_path, "0,100.0\n1000,abc\n")
    assert "prices.csv:3: price is not a decimal number (got 'abc')" in reject("validate", config)


def test_csv_kind_without_path_on_validate(reject):
    """kind = "csv" with no path names index.process.path."""
    err = reject("validate", "--set", 'index.process.kind="csv"')
    assert "index.process.path: a CSV path is required (got '')" in err


def test_missing_csv_file_on_run(reject, tmp_path):
    """A CSV path that does not exist names the key and the path; nothing is created."""
    err = reject(
        "run", "--out", _out(tmp_path), "--set", 'index.process.kind="csv"',
        "--set", 'index.process.path="nope.csv"',
    )  # fmt: skip
    assert "index.process.path: cannot read" in err
    assert "nope.csv" in err


# --- 2. step risk limits are checked at load -----------------------------------------------------

STEP_INVERTED = (
    "--set", 'margin.kind="step"',
    "--set", "margin.base_maintenance_rate=0.5",
    "--set", "margin.base_initial_rate=0.1",
)  # fmt: skip


def test_step_maintenance_above_initial_on_run(reject, tmp_path):
    """A base MM rate above the base IM rate is bad input (not an internal error) on run."""
    err = reject("run", "--out", _out(tmp_path), *RUN_ARGS, *STEP_INVERTED)
    assert "margin: base_maintenance_rate 0.5 must be below base_initial_rate 0.1" in err


def test_step_maintenance_above_preset_initial_on_validate(reject):
    """A field left out comes from the preset (IM 0.01 for bitmex_xbtusd_2020) and is checked."""
    err = reject(
        "validate", "--set", 'margin.kind="step"', "--set", "margin.base_maintenance_rate=0.02"
    )
    assert "margin: base_maintenance_rate 0.02 must be below base_initial_rate 0.01" in err


# --- 3. encodings and malformed fields -----------------------------------------------------------


def test_non_utf8_toml_names_file_and_line(reject, tmp_path):
    """A config that is not UTF-8 names the file and the line of the first bad byte."""
    path = tmp_path / "bad.toml"
    path.write_bytes(b'[run]\nname = "\xff\xfe"\n')
    err = reject("validate", str(path))
    assert f"{path}:2: not UTF-8 text" in err
    assert "\\xff" in err


def test_non_utf8_csv_names_file_and_line(reject, tmp_path):
    """A CSV that is not UTF-8 names the file and the line of the first bad byte."""
    config = _csv_config(tmp_path, b"0,100.0\n1000,1\xe90.0\n")
    err = reject("run", config, "--out", _out(tmp_path), *RUN_ARGS)
    assert "prices.csv:3: not UTF-8 text" in err


def test_csv_double_minus_timestamp_names_file_and_line(reject, tmp_path):
    """'--5' is not an integer timestamp: an error naming file:line and the value."""
    config = _csv_config(tmp_path, "0,100.0\n--5,100.0\n")
    err = reject("validate", config)
    assert "prices.csv:3: timestamp must be integer ns or ISO-8601 (got '--5')" in err


def test_csv_non_ascii_digit_timestamp(reject, tmp_path):
    """A superscript digit passes str.isdigit but is not a timestamp."""
    config = _csv_config(tmp_path, "0,100.0\n\u00b2,100.0\n")
    assert "prices.csv:3: timestamp must be integer ns or ISO-8601" in reject("validate", config)


def test_csv_timestamp_beyond_int64(reject, tmp_path):
    """A timestamp that does not fit the log's 64-bit integers is refused, naming file:line."""
    config = _csv_config(tmp_path, "0,100.0\n9223372036854775808,100.0\n")
    assert "prices.csv:3: timestamp out of range" in reject("validate", config)


def test_unreadable_option_value_is_one_line(reject):
    """An argparse error (bad --seed) is one line too, and status 2."""
    err = reject("run", "--seed", "abc")
    assert "--seed" in err and "'abc'" in err


# --- 4. integers that cannot reach the log; parameters that overflow -----------------------------


def test_seed_at_two_to_the_63_is_refused(reject):
    """run.seed must fit a signed 64-bit integer."""
    err = reject("validate", "--set", "run.seed=9223372036854775808")
    assert "run.seed: must be <= 9223372036854775807 (got 9223372036854775808)" in err


def test_seed_flag_beyond_int64_on_run(reject, tmp_path):
    """--seed goes through the same bound as run.seed."""
    err = reject("run", "--seed", str(2**64), "--out", _out(tmp_path))
    assert f"run.seed: must be <= 9223372036854775807 (got {2**64})" in err


def test_duration_beyond_int64_is_refused(reject, tmp_path):
    """run.duration must be below 2^63 ns."""
    err = reject("run", "--out", _out(tmp_path), "--set", "run.duration=9223372036854775808ns")
    assert "run.duration: must be <= 9223372036854775807ns (got '9223372036854775808ns')" in err


def test_any_integer_field_beyond_int64_is_refused(reject):
    """A plain integer field with no explicit max still has to fit the log."""
    err = reject("validate", "--set", f"matching.max_order_lots={2**64}")
    assert f"matching.max_order_lots: must be <= 9223372036854775807 (got {2**64})" in err


def test_huge_exponent_for_an_integer_field_is_refused_quickly(reject):
    """1e999999999 for an int field is refused by size, not expanded into a billion digits."""
    err = reject("validate", "--set", "log.buffer_lines=1e999999999")
    assert "log.buffer_lines:" in err


def test_gbm_drift_that_would_overflow_is_refused(reject, tmp_path):
    """A drift of 1e12 a year overflows exp(); it is bounded at load, naming the key."""
    err = reject("run", "--out", _out(tmp_path), "--set", "index.process.drift_annual=1e12")
    assert "index.process.drift_annual: must be <= 100 (got 1E+12)" in err


@pytest.mark.parametrize(
    ("key", "value", "bound"),
    [
        ("index.process.volatility_annual", "1000", "<= 100"),
        ("index.process.jump_mean", "-1000", ">= -10"),
        ("index.process.jump_std", "1000", "<= 10"),
        ("index.process.jump_intensity_per_day", "1e9", "<= 10000"),
    ],
)
def test_gbm_parameters_are_bounded(reject, key, value, bound):
    """Volatility, jump sizes and jump intensity have bounds that keep the path finite."""
    assert f"{key}: must be {bound}" in reject("validate", "--set", f"{key}={value}")


def test_lognormal_latency_sigma_is_bounded(reject):
    """A lognormal sigma large enough to overflow a 64-bit draw is refused."""
    err = reject(
        "validate",
        "--set", 'index.oracle_latency.kind="lognormal"',
        "--set", "index.oracle_latency.sigma=1000",
    )  # fmt: skip
    assert "index.oracle_latency.sigma: must be <= 10 (got 1000)" in err


# --- 5. decimals are parsed exactly, and absurdly long ones are refused --------------------------


def test_price_with_more_than_28_digits_is_refused(reject):
    """50000.00000000000000000000000001 is not 500000 ticks: it is refused (too many digits)."""
    err = reject(
        "validate", "--set", 'index.process.start_price="50000.00000000000000000000000001"'
    )
    assert "index.process.start_price: too many significant digits" in err
    assert "50000.00000000000000000000000001" in err


def test_absurdly_long_number_is_refused(reject):
    """A 10,000-digit number is refused by length, naming the key."""
    err = reject("validate", "--set", f'index.process.volatility_annual="0.{"1" * 10_000}"')
    assert "index.process.volatility_annual: too many significant digits" in err


# --- 7. the CLI never lets bad input escape as a traceback; bugs are exit 1 ----------------------


def test_out_under_a_file_is_bad_input(reject, tmp_path):
    """An --out whose parent is a file names --out; nothing is created."""
    (tmp_path / "file").write_text("x")
    err = reject("run", "--out", str(tmp_path / "file" / "run"), *RUN_ARGS)
    assert "--out: cannot create" in err


def test_unexpected_error_in_validate_is_internal_one_line(cli, tmp_path, monkeypatch):
    """A bug (not bad input) while loading exits 1 with one line and no traceback."""
    from exchange_sim import cli as cli_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli_module, "load_config", broken)
    monkeypatch.chdir(tmp_path)
    status, _, err = cli("validate")
    assert status == 1
    assert err.count("\n") == 1
    assert err.startswith("exchange-sim: internal error: RuntimeError: boom")
    assert "Traceback" not in err
    assert os.listdir(tmp_path) == []


def test_zero_impact_margin_with_impact_prices_is_refused(reject, tmp_path):
    """dYdX samples impact prices; an impact margin of 0 would fail at the first sample."""
    err = reject(
        "run", "--out", _out(tmp_path), *RUN_ARGS,
        "--set", 'venue.preset="dydx"', "--set", "funding.rule.impact_margin=0",
    )  # fmt: skip
    assert "funding.rule.impact_margin: must give an impact notional" in err
    assert "(got 0)" in err


def test_off_grid_impact_margin_is_refused_on_validate(reject):
    """The impact margin must be a whole number of money minor units (6 decimals by default)."""
    err = reject(
        "validate", "--set", "funding.enabled=true", "--set", "funding.rule.impact_margin=0.0000001"
    )
    assert "funding.rule.impact_margin: not a whole multiple of the money unit" in err


def test_margin_tier_value_error_becomes_a_margin_config_error(reject, monkeypatch):
    """A ValueError building the tiers is bad input naming margin, not an internal error."""
    from exchange_sim.runner import preflight as preflight_module

    def refuse(config, scale):
        raise ValueError("bracket 2: maintenance rate must not decrease")

    monkeypatch.setattr(preflight_module, "build_tiers", refuse)
    err = reject("validate")
    assert "margin: bracket 2: maintenance rate must not decrease (got 'brackets " in err


def test_input_error_after_the_run_started_removes_what_it_created(reject, tmp_path, monkeypatch):
    """Bad input met only once the run is under way (a CSV edited after the preflight) removes
    the temporary directory and the parents it created: no .failed directory."""
    from exchange_sim.runner import rundir

    monkeypatch.setattr(rundir, "preflight", lambda loaded, participants=True: None)
    config = _csv_config(tmp_path, "0,100.0\n1000,abc\n")
    assert "prices.csv:3: price is not a decimal number" in reject(
        "run", config, "--out", _out(tmp_path), *RUN_ARGS
    )


# --- 9. Hostile input: deep nesting, huge values, names that would escape runs/ ----------------

SHOWN_AT_MOST = 200 + 200  # the bounded excerpt of the value plus the key and the problem


def _file(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


HOSTILE_SETS = [
    ("deep_key", "a" + ".a" * 3000 + "=1", "--set: 3001 key segments; no config key has that many"),
    ("nul_in_name", 'run.name="a\\u0000b"', "run.name: contains a control character"),
    ("newline_in_name", 'run.name="a\\nb"', "run.name: contains a control character"),
    ("relative_escape", 'run.name="../../x"', "run.name: must be a plain name"),
    ("absolute_name", 'run.name="/tmp/x"', "run.name: must be a plain name"),
    ("hidden_name", 'run.name=".x"', "run.name: must be a plain name"),
    ("long_name", "run.name=" + "x" * 101, "run.name: must be a plain name"),
    ("huge_integer", "run.seed=" + "9" * 5000, "--set: cannot read the value"),
    ("bare_cadence", "index.cadence=1", "index.cadence: a duration needs a unit"),
    ("bare_duration", "run.duration=60", "run.duration: a duration needs a unit"),
    ("bare_zero", "mark.cadence=0", "mark.cadence: a duration needs a unit"),
    (
        "bare_latency",
        'risk.margin_check_latency={kind="constant", value=5}',
        "risk.margin_check_latency.value: a duration needs a unit",
    ),
]


@pytest.mark.parametrize(
    ("override", "message"),
    [case[1:] for case in HOSTILE_SETS],
    ids=[case[0] for case in HOSTILE_SETS],
)
def test_hostile_override_is_one_bounded_line(reject, tmp_path, override, message):
    """Each hostile --set: exit 2, one line naming the key, the value cut short, nothing written."""
    err = reject("run", "--out", _out(tmp_path), "--set", override)
    assert message in err
    assert len(err) < SHOWN_AT_MOST


HOSTILE_FILES = [
    ("deep_inline_table", "a = " + "{b = " * 1000 + "1" + "}" * 1000 + "\n", "nested too deeply"),
    ("deep_table_header", "[" + ".".join(["a"] * 1000) + "]\nx = 1\n", "a: unknown key"),
    ("ten_megabyte_string", '[run]\nname = "' + "x" * 10_000_000 + '"\n', "longer than 4,096"),
    ("huge_integer_in_file", "[run]\nseed = " + "9" * 5000 + "\n", "cannot read a value"),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [case[1:] for case in HOSTILE_FILES],
    ids=[case[0] for case in HOSTILE_FILES],
)
def test_hostile_config_file_is_one_bounded_line(reject, tmp_path, text, message):
    """A hostile config file: exit 2, one line of bounded length, no RecursionError, no files."""
    config = _file(tmp_path, "c.toml", text)
    err = reject("run", config, "--out", _out(tmp_path))
    assert message in err
    assert len(err) < SHOWN_AT_MOST + len(config)


def test_sweep_name_that_would_escape_is_refused(reject, tmp_path):
    """A sweep's name names its directory: '../x' is refused before anything is written."""
    sweep = _file(tmp_path, "s.toml", '[sweep]\nname = "../x"\nseeds = 1\n')
    err = reject("sweep", sweep, "--out", _out(tmp_path))
    assert "sweep.name" in err and "plain name" in err


# --- 10. Configs that validate but could not mean what they say ----------------------------------

CASCADE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "configs",
    "scenarios",
    "cascade.toml",
)


def test_leverage_above_every_tier_is_refused(reject):
    """10000x under Binance's brackets (cap 125x): the trader could never open; exit 2."""
    err = reject("validate", CASCADE, "--set", "participants.longs.leverages=[10000]")
    assert "participants[2].leverages: 10000x is above the 125x the margin tiers allow" in err


def test_leverage_above_a_venues_cap_is_refused(reject):
    """The cascade's 50x longs under Hyperliquid (cap 40x) are refused, naming both figures."""
    err = reject("validate", CASCADE, "--set", "venue.preset=hyperliquid")
    assert "50x is above the 40x the margin tiers allow" in err


def test_leverage_at_the_cap_is_accepted(cli):
    """Exactly the first tier's cap (125x under Binance) is allowed: the bound is inclusive."""
    status, out, _ = cli("validate", CASCADE, "--set", "participants.longs.leverages=[125]")
    assert status == 0 and out.startswith("config ok")


def test_a_one_nanosecond_cadence_is_over_the_step_budget(reject):
    """index.cadence = 1ns over 100 s is 10^11 steps: refused, naming the key and the budget."""
    err = reject("validate", CASCADE, "--set", "index.cadence=1ns")
    assert "index.cadence: over run.duration = 100s this schedules 100,000,000,000 steps" in err
    assert "run.step_budget = 100,000,000" in err


def test_a_hundred_thousand_days_is_over_the_step_budget(reject):
    """A run of 100,000 days of noise traders is refused at its largest contributor."""
    err = reject("validate", CASCADE, "--set", "run.duration=100000d")
    assert err.startswith("exchange-sim: error: participants[1].rate_per_second: over run")


def test_the_step_budget_is_inclusive_and_can_be_raised(cli, reject):
    """A run whose estimate equals run.step_budget is accepted; one step less is refused."""
    import exchange_sim as es
    from exchange_sim.runner.budget import estimate_steps

    total, _ = estimate_steps(es.load_config(CASCADE).config)
    status, out, _ = cli("validate", CASCADE, "--set", f"run.step_budget={total}")
    assert status == 0, out
    err = reject("validate", CASCADE, "--set", f"run.step_budget={total - 1}")
    assert f"the whole run at least {total:,}" in err


def test_step_estimate_counts_clocks_per_account_and_rates(tmp_path):
    """Clocks fire duration // period times per account of a group; rates rate x count x s."""
    import exchange_sim as es
    from exchange_sim.runner.budget import estimate_steps

    loaded = es.load_config(CASCADE, ("run.duration=10s", "participants.noise.count=7"))
    _, rows = estimate_steps(loaded.config)
    found = {key: steps for key, _, steps in rows}
    assert found["index.cadence"] == 10  # 1 s cadence over 10 s
    assert found["participants[1].rate_per_second"] == 35  # 0.5/s x 7 accounts x 10 s


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "liquidation.insurance_fund.initial_balance=-1",
            "initial_balance: must be >= 0 (got -1)",
        ),
        ("participants.0.deposit=-5", "deposit: must be >= 0 (got -5)"),
        ("run.duration=0s", "run.duration: must be >= 1ns (got '0s')"),
    ],
    ids=["money", "money_in_a_group", "duration"],
)
def test_range_errors_are_in_user_units(reject, override, message):
    """A bound and the value are shown as the user wrote them (USDT, durations), never in minor
    units or nanoseconds (was: 'got -1000000' for -1 USDT)."""
    assert message in reject("validate", "--set", override)


def test_a_leveraged_group_too_poor_for_one_lot_is_refused(reject):
    """0.5 USDT at 50x and 90 % is a 22.5 USDT entry, below one lot (50 USDT at 50,000): no
    account could ever trade, so the config is refused naming the deposit."""
    err = reject("validate", "--set", "participants.leveraged.deposit=0.5")
    assert "participants[2].deposit: at 50x and position_fraction 0.9 the largest entry" in err
    assert "is 22.5, below one lot (50 at the start price)" in err
    assert "(got '0.5')" in err


def test_a_leveraged_group_that_affords_exactly_one_lot_is_accepted(cli):
    """10 USDT at 10x and 50 % is exactly one lot's 50 USDT: allowed (the bound is inclusive);
    one minor unit less is refused."""
    group = ("--set", "participants.leveraged.leverages=[10]")
    group += ("--set", "participants.leveraged.position_fraction=0.5")
    status, out, _ = cli("validate", *group, "--set", "participants.leveraged.deposit=10")
    assert status == 0, out
    status, _, err = cli("validate", *group, "--set", "participants.leveraged.deposit=9.999999")
    assert status == 2 and "below one lot" in err


CONTAGION = os.path.join(os.path.dirname(CASCADE), "contagion_two_markets.toml")


def test_leverage_on_another_perpetual_is_checked_against_its_own_tiers(reject):
    """Under dYdX (one 20x bracket) the ETH group's 25x is refused, naming its key and ETHUSDT's
    own tier table, though the BTC group stays within 20x."""
    err = reject(
        "validate",
        CONTAGION,
        "--set",
        "venue.preset=dydx",
        "--set",
        "participants.btc_longs.leverages=[15,20]",
    )
    assert "participants[5].leverages: 25x is above the 20x the margin tiers allow" in err
    assert (
        "(ETHUSDT's perpetuals[0].margin: brackets, a table of 1 row "
        "(the config's or its venue preset's))" in err
    )


def test_leverage_refusal_names_the_explicit_table_not_the_unused_preset(reject):
    """A bracket table written out replaces the preset: the refusal says so rather than naming
    the preset field's default (binance_btcusdt_illustrative) that no tier comes from."""
    err = reject("validate", CONTAGION, "--set", "venue.preset=dydx")
    assert (
        "(BTCUSDT's margin: brackets, a table of 1 row (the config's or its venue preset's))" in err
    )
    assert "binance_btcusdt_illustrative" not in err


def test_a_step_preset_with_its_own_fields_says_so():
    """A step risk limit with fields of its own is named as its preset with those fields."""
    from exchange_sim.accounts.margin_config import StepRiskLimitConfig
    from exchange_sim.runner.preflight import _tiers_name

    margin = StepRiskLimitConfig(base_risk_limit=10**8)
    assert _tiers_name(margin) == "step bitmex_xbtusd_2020 with its own base_risk_limit"
    assert _tiers_name(StepRiskLimitConfig()) == "step bitmex_xbtusd_2020"


def test_another_perpetuals_trader_is_held_to_that_perpetuals_tiers_not_the_firsts(reject):
    """ETHUSDT on Hyperliquid-style tiers (cap 40x) beside BTCUSDT on Binance's (125x): the ETH
    group's 50x is refused, naming ETHUSDT's table."""
    err = reject(
        "validate",
        CONTAGION,
        "--set",
        "perpetuals.ETHUSDT.margin.kind=deduction",
        "--set",
        "participants.eth_longs.leverages=[50]",
    )
    assert "50x is above the 40x the margin tiers allow" in err
    assert "(ETHUSDT's perpetuals[0].margin: deduction hyperliquid_btc)" in err
