"""``exchange-sim replay`` on the command line: exit codes and what it prints."""

from __future__ import annotations

import os

from .conftest import first_seq, forge, read_lines, write_lines


def test_consistent_run_exits_0(cli, cascade_run):
    """A consistent run prints 'consistent' with the line count and exits 0."""
    status, out, err = cli("replay", cascade_run)
    assert status == 0, err
    lines = len(read_lines(cascade_run))
    assert out.startswith(f"consistent: {lines} lines replayed")


def test_divergence_exits_1_naming_seq_field_and_values(cli, cascade_run, copy_of):
    """A forged field exits 1 naming its seq, the field, the recorded and recomputed value."""
    run_dir = copy_of(cascade_run)
    seq = first_seq(run_dir, "position")
    forge(run_dir, seq, "entry_notional", lambda value: value + 7)
    status, out, _ = cli("replay", run_dir)
    assert status == 1
    assert out.startswith(f"divergent at seq {seq}: entry_notional recorded ")
    assert "recomputed" in out


def test_truncated_log_exits_1_with_last_good_seq(cli, cascade_run, copy_of):
    """A cut log exits 1 saying it is truncated, with the last good seq; no traceback."""
    run_dir = copy_of(cascade_run)
    lines = read_lines(run_dir)
    write_lines(run_dir, [*lines[:40], lines[40][:10]], redigest=False)
    status, out, err = cli("replay", run_dir)
    assert status == 1
    assert out.startswith("truncated at line 41") and "last good seq 39" in out
    assert "Traceback" not in err


def test_until_prints_the_state(cli, cascade_run):
    """--until SEQ stops there and prints the book top, accounts at risk, fund and vault."""
    seq = first_seq(cascade_run, "liquidation_triggered")
    status, out, _ = cli("replay", cascade_run, "--until", str(seq))
    assert status == 0
    assert out.startswith(f"state after seq {seq}")
    for part in ("best bid", "accounts at risk", "insurance fund", "open interest", "mark"):
        assert part in out


def test_bad_input_is_one_line_exit_2(cli, tmp_path, cascade_run):
    """Not a run directory, a missing log, or --until past the end: one line, exit 2."""
    status, _, err = cli("replay", str(tmp_path / "nope"))
    assert status == 2 and err.count("\n") == 1 and "RUN_DIR" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    status, _, err = cli("replay", str(empty))
    assert status == 2 and "config.toml" in err
    status, _, err = cli("replay", cascade_run, "--until", "999999999")
    assert status == 2 and "--until" in err
    assert not os.path.exists(os.path.join(cascade_run, "replay"))
