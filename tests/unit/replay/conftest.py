"""Run directories for the replay tests (written once per session, short runs) and helpers that
damage a copy of a log the way a forger or a crash would."""

from __future__ import annotations

import hashlib
import os
import shutil

import orjson
import pytest

from exchange_sim.replay.audit import replay
from exchange_sim.runner.api import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCENARIOS = os.path.join(ROOT, "configs", "scenarios")


def write_run(factory, name: str, *overrides: str) -> str:
    out = factory.mktemp(f"replay-{name}") / "run"
    run(os.path.join(SCENARIOS, f"{name}.toml"), overrides=overrides, out=str(out))
    return str(out)


@pytest.fixture(scope="session")
def cascade_run(tmp_path_factory) -> str:
    """The cascade scenario in full (100 s): liquidations, fund takeovers, bad debt and ADL."""
    return write_run(tmp_path_factory, "cascade")


@pytest.fixture(scope="session")
def vault_run(tmp_path_factory) -> str:
    """The cascade on the Hyperliquid preset (60 s): the backstop vault takes positions over
    and unwinds them."""
    return write_run(
        tmp_path_factory,
        "cascade",
        "run.duration=60s",
        "venue.preset=hyperliquid",
        "participants.longs.leverages=[15, 20, 25, 30, 35, 40]",  # the venue's cap is 40x
    )


@pytest.fixture(scope="session")
def funding_run(tmp_path_factory) -> str:
    """The cascade (60 s) with a 15 s funding interval: settlements before and during the
    crash, one of them still pending at the end (settlement delay)."""
    return write_run(
        tmp_path_factory,
        "cascade",
        "run.duration=60s",
        "funding.rule.interval=15s",
        "funding.rule.rate_period=15s",
    )


POLICIES = {
    "dydx-votes": (
        "venue.preset=dydx",
        "participants.longs.leverages=[10, 15, 20]",  # the venue's cap is 20x
        "funding.rule.interval=15s",
        "funding.rule.rate_period=15s",
    ),
    "okx-tiered": ("venue.preset=okx",),
    "okx-rate-fixed-ahead": (
        "venue.preset=okx",
        "funding.rule.interval=15s",
        "funding.rule.rate_period=15s",
        "funding.rule.sampling=1s",
        "funding.rule.rate_fixed_before=5s",
    ),
    "isolated-bitmex": ("participants.longs.margin_mode=isolated", "venue.preset=bitmex"),
    "socialise": ('liquidation.waterfall=["book","fund","socialise"]',),
    "pro-rata-adl": ("liquidation.adl.ranking=pro_rata",),
    "interventions": (
        'interventions=[{kind="margin_rates", at="40s", factor=2}, '
        '{kind="fund_top_up", at="45s", amount=100000}, {kind="halt", at="50s", duration="3s"}]',
    ),
}


@pytest.fixture(scope="session", params=sorted(POLICIES))
def policy_run(request, tmp_path_factory) -> str:
    """The cascade (60 s) under other close-out policies (dYdX with its funding votes, OKX's
    tiered limit at the bankruptcy price), isolated margin, a clawback stage, a pro-rata ADL,
    and with interventions (margins doubled, a fund top-up, a halt)."""
    return write_run(tmp_path_factory, "cascade", "run.duration=60s", *POLICIES[request.param])


@pytest.fixture
def copy_of(tmp_path):
    """``copy_of(run_dir)``: a copy to damage."""

    def make(run_dir: str) -> str:
        return shutil.copytree(run_dir, str(tmp_path / "copy"))

    return make


def read_lines(run_dir: str) -> list[bytes]:
    with open(os.path.join(run_dir, "events.jsonl"), "rb") as handle:
        return handle.readlines()


def write_lines(run_dir: str, lines: list[bytes], redigest: bool = True) -> None:
    """Write ``lines`` back; with ``redigest`` the ``run_end`` line gets the count and digest of
    the lines before it, so only a recomputation can tell that the log was changed."""
    if redigest and b'"type":"run_end"' in lines[-1]:
        body = lines[:-1]
        end = orjson.loads(lines[-1])
        end["event_count"] = len(body)
        end["digest_sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
        lines = [*body, orjson.dumps(end) + b"\n"]
    with open(os.path.join(run_dir, "events.jsonl"), "wb") as handle:
        handle.writelines(lines)


def first_seq(run_dir: str, type_: str, where=lambda event: True) -> int:
    for line in read_lines(run_dir):
        event = orjson.loads(line)
        if event["type"] == type_ and where(event):
            return event["seq"]
    raise LookupError(type_)


def forge(run_dir: str, seq: int, field: str, change) -> None:
    """Set one field of the event at ``seq`` to ``change(old value)``; digest recomputed."""
    lines = read_lines(run_dir)
    event = orjson.loads(lines[seq])
    assert field in event, field
    event[field] = change(event[field])
    lines[seq] = orjson.dumps(event) + b"\n"
    write_lines(run_dir, lines)


def caught_at(run_dir: str, seq: int, field: str):
    """Replay ``run_dir`` and assert it diverges at ``seq`` on ``field``; return the divergence."""
    result = replay(run_dir)
    assert result.status == "divergent", result.damage
    divergence = result.divergence
    assert (divergence.seq, divergence.field) == (seq, field), divergence
    return divergence
