"""The progress bar and the closing summary: display only, never a change to the run."""

from __future__ import annotations

import io
import os

import exchange_sim as es
from exchange_sim.events.log import EventLog
from exchange_sim.runner import progress as progress_module
from exchange_sim.runner.api import load_config
from exchange_sim.runner.simulate import build_venue
from exchange_sim.runner.terminal import summary_lines


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _log_bytes(loaded, progress) -> bytes:
    sink = io.BytesIO()
    build_venue(loaded, EventLog(sink)).run("test", progress)
    return sink.getvalue()


def test_slicing_a_run_for_progress_leaves_the_log_byte_identical(repo_root):
    """A run cut into slices for the progress bar writes the same log as a run in one go."""
    path = os.path.join(repo_root, "configs", "scenarios", "cascade.toml")
    loaded = load_config(path, ["run.duration=80s"])
    seen = []
    sliced = _log_bytes(loaded, seen.append)
    assert len(seen) > 100 and seen[-1] == 80 * 10**9
    assert sliced == _log_bytes(loaded, None)


def test_the_bar_shows_simulated_time_and_events_per_second_on_a_terminal(monkeypatch):
    """On a terminal, once the delay has passed, the bar shows sim seconds done and events/s."""
    monkeypatch.setattr(progress_module, "SHOW_AFTER_S", 0)
    monkeypatch.setattr(progress_module, "REFRESH_S", 0)

    class Log:
        seq = 5_000

    terminal = FakeTerminal()
    bar = progress_module.RunProgress(10 * 10**9, Log(), terminal)
    bar(4 * 10**9)
    bar(10 * 10**9)
    bar.close()
    text = terminal.getvalue()
    assert "10.0/10.0 sim s" in text
    assert "events/s" in text


def test_no_bar_when_quiet_or_not_a_terminal():
    """``--quiet`` or a pipe turns the bar off."""
    assert progress_module.wants_progress(False, FakeTerminal())
    assert not progress_module.wants_progress(True, FakeTerminal())
    assert not progress_module.wants_progress(False, io.StringIO())


def test_the_closing_summary_reads_like_a_result():
    """The summary names liquidations by outcome, the fund, ADL, bad debt, drawdowns, the money
    check and the run directory, in the settlement asset."""
    result = es.run(
        {
            "run": {"duration": "100s", "name": "crash"},
            "index": {
                "process": {
                    "kind": "scripted",
                    "points": [{"at": "0s", "price": 50000}, {"at": "60s", "price": 46000}],
                }
            },
        }
    )
    text = "\n".join(summary_lines("runs/crash", result.summary))
    for phrase in (
        "run directory: runs/crash",
        "liquidations:",
        "insurance fund: 500,000.00 USDT ->",
        "ADL:",
        "bad debt:",
        "drawdown, peak to trough: index 8.00 %",
        "(conserved to the minor unit)",
    ):
        assert phrase in text
