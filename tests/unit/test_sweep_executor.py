"""The sweep engine drives any executor through one interface, a few tasks at a time."""

from __future__ import annotations

import concurrent.futures

from exchange_sim.runner.sweep import load_results, run_sweep
from exchange_sim.runner.sweep.executors import Executor
from tests.sweep_helpers import write_sweep


class InlineExecutor(Executor):
    """Runs each task in this process when waited for; records the most tasks in flight."""

    name = "inline"
    workers = 1

    def __init__(self) -> None:
        self.queued: list = []
        self.most_in_flight = 0
        self.closed = False

    def submit(self, fn, *args):
        future: concurrent.futures.Future = concurrent.futures.Future()
        self.queued.append((future, fn, args))
        self.most_in_flight = max(self.most_in_flight, len(self.queued))
        return future

    def wait_first(self, futures):
        future, fn, args = self.queued.pop(0)
        future.set_result(fn(*args))
        return {future}

    def close(self, cancel: bool = False) -> None:
        self.closed = True


def test_engine_keeps_at_most_slots_tasks_in_flight(tmp_path):
    """Eight runs on an executor of one worker: never more than 2 x workers submitted at once,
    every run done, the executor closed."""
    path = write_sweep(tmp_path, "", seeds=8)
    executor = InlineExecutor()
    outcome = run_sweep(path, out=tmp_path / "out", executor=executor)
    assert (outcome.ok, outcome.failed) == (8, 0)
    assert executor.most_in_flight == executor.slots == 2
    assert executor.closed
    assert list(load_results(tmp_path / "out")["seed"]) == list(range(1, 9))
