"""A forged log (one field changed, digest recomputed) is caught by recomputation at that seq;
a damaged log (a deleted line, a cut file, garbage appended) is reported with the last good seq."""

from __future__ import annotations

import os

import orjson
import pytest

from exchange_sim.replay.audit import replay

from .conftest import caught_at, first_seq, forge, read_lines, write_lines


def test_forged_fill_fee_is_caught(cascade_run, copy_of):
    """A position's fee one minor unit higher (digest recomputed) is caught at that seq."""
    run_dir = copy_of(cascade_run)
    seq = first_seq(run_dir, "position")
    forge(run_dir, seq, "fee", lambda fee: fee + 1)
    divergence = caught_at(run_dir, seq, "fee")
    assert divergence.recorded == divergence.recomputed + 1


def test_forged_trade_price_is_caught(cascade_run, copy_of):
    """A trade printed one tick away from its maker's resting price is caught."""
    run_dir = copy_of(cascade_run)
    seq = first_seq(run_dir, "trade")
    forge(run_dir, seq, "price_ticks", lambda price: price + 1)
    caught_at(run_dir, seq, "price_ticks")


def test_forged_position_wallet_is_caught(cascade_run, copy_of):
    """A wallet after a fill that does not follow the ledger rules is caught."""
    run_dir = copy_of(cascade_run)
    seq = first_seq(run_dir, "position", lambda e: e["realised_pnl"] != 0)
    forge(run_dir, seq, "wallet", lambda wallet: wallet - 1)
    caught_at(run_dir, seq, "wallet")


def test_forged_fund_movement_is_caught(cascade_run, copy_of):
    """An insurance-fund delta that differs from what its cause calls for is caught."""
    run_dir = copy_of(cascade_run)
    seq = first_seq(run_dir, "insurance_fund", lambda e: e["delta"] != 0)
    forge(run_dir, seq, "delta", lambda delta: delta + 1)
    caught_at(run_dir, seq, "delta")


def test_forged_adl_event_is_caught(cascade_run, copy_of):
    """An ADL step closing one lot more than the recomputed allocation is caught."""
    run_dir = copy_of(cascade_run)
    seq = first_seq(run_dir, "adl")
    forge(run_dir, seq, "size", lambda size: size + 1)
    caught_at(run_dir, seq, "size")


def test_forged_vault_cash_is_caught(vault_run, copy_of):
    """A vault cash figure that is not its account's swept result is caught."""
    run_dir = copy_of(vault_run)
    seq = first_seq(run_dir, "vault")
    forge(run_dir, seq, "cash", lambda cash: cash + 1)
    caught_at(run_dir, seq, "cash")


def test_forged_funding_payment_is_caught(funding_run, copy_of):
    """A funding payment one unit off its recomputation is caught."""
    run_dir = copy_of(funding_run)
    seq = first_seq(run_dir, "funding_payment")
    forge(run_dir, seq, "amount_minor", lambda amount: amount - 1)
    caught_at(run_dir, seq, "amount_minor")


def test_forged_premium_sample_is_caught(funding_run, copy_of):
    """A premium sample that is not what the rebuilt book, index and mark give is caught."""
    run_dir = copy_of(funding_run)
    seq = first_seq(run_dir, "premium_sample")
    forge(run_dir, seq, "premium_ppb", lambda premium: premium + 1)
    caught_at(run_dir, seq, "premium_ppb")


def test_forged_summary_figure_is_caught(cascade_run, copy_of):
    """summary.json claiming other fees than the rebuilt ledger collected is caught at run_end."""
    run_dir = copy_of(cascade_run)
    path = os.path.join(run_dir, "summary.json")
    with open(path, "rb") as handle:
        summary = orjson.loads(handle.read())
    summary["fees_collected_minor"] += 1
    with open(path, "wb") as handle:
        handle.write(orjson.dumps(summary))
    last = len(read_lines(run_dir)) - 1
    caught_at(run_dir, last, "summary.fees_collected_minor")


def test_changed_digest_alone_is_caught(cascade_run, copy_of):
    """A run_end digest that does not match the lines is reported as such."""
    run_dir = copy_of(cascade_run)
    lines = read_lines(run_dir)
    forge_end = orjson.loads(lines[-1])
    forge_end["digest_sha256"] = "0" * 64
    write_lines(run_dir, [*lines[:-1], orjson.dumps(forge_end) + b"\n"], redigest=False)
    caught_at(run_dir, len(lines) - 1, "digest_sha256")


def damaged(run_dir: str):
    result = replay(run_dir)
    assert result.status == "damaged", result.divergence
    return result.damage


def test_deleted_line_is_reported_with_last_good_seq(cascade_run, copy_of):
    """A line deleted from the middle is a seq gap after the last good seq."""
    run_dir = copy_of(cascade_run)
    lines = read_lines(run_dir)
    del lines[500]
    write_lines(run_dir, lines)
    damage = damaged(run_dir)
    assert (damage.kind, damage.last_good_seq) == ("seq_gap", 499)


def test_cut_file_is_reported_truncated(cascade_run, copy_of):
    """A file cut in the middle of a line (a killed run) is truncated at the line before."""
    run_dir = copy_of(cascade_run)
    lines = read_lines(run_dir)
    write_lines(run_dir, [*lines[:700], lines[700][:25]], redigest=False)
    damage = damaged(run_dir)
    assert (damage.kind, damage.last_good_seq) == ("truncated", 699)


def test_log_without_run_end_is_reported_truncated(cascade_run, copy_of):
    """A log ending on a whole line but without run_end is truncated at its last seq."""
    run_dir = copy_of(cascade_run)
    lines = read_lines(run_dir)
    write_lines(run_dir, lines[:-1], redigest=False)
    damage = damaged(run_dir)
    assert (damage.kind, damage.last_good_seq) == ("truncated", len(lines) - 2)


@pytest.mark.parametrize("garbage", [b"garbage\n", b'{"seq":99999999}\n', b"\x00\x01"])
def test_appended_garbage_is_reported(cascade_run, copy_of, garbage):
    """Bytes after run_end are reported after the run_end seq (the last good one)."""
    run_dir = copy_of(cascade_run)
    lines = read_lines(run_dir)
    write_lines(run_dir, [*lines, garbage], redigest=False)
    damage = damaged(run_dir)
    assert damage.last_good_seq == len(lines) - 1
    assert damage.kind in ("after_run_end", "not_json", "truncated")


def test_garbage_line_inside_is_reported(cascade_run, copy_of):
    """A line that is not JSON in the middle of the log is reported after the line before."""
    run_dir = copy_of(cascade_run)
    lines = read_lines(run_dir)
    lines[300] = b"not json at all\n"
    write_lines(run_dir, lines)
    damage = damaged(run_dir)
    assert (damage.kind, damage.last_good_seq) == ("not_json", 299)


def test_time_running_back_is_caught(cascade_run, copy_of):
    """An event stamped before the line above it is caught at its seq (digest recomputed)."""
    run_dir = copy_of(cascade_run)
    seq = first_seq(run_dir, "trade", lambda e: e["ts"] > 0)
    forge(run_dir, seq, "ts", lambda ts: 0)
    caught_at(run_dir, seq, "ts")
