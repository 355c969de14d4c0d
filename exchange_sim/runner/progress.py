"""A progress bar for long runs, on stderr: simulated time done, events per second, ETA.

Shown only when stderr is a terminal and the run has taken about two seconds already (a short
run prints nothing), never with ``--quiet``. It reads the wall clock, which is display only: the
run is cut into slices of simulated time between which the bar is updated, and slicing adds no
event and changes nothing in the log (see :meth:`exchange_sim.venue.venue.Venue.run`).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from exchange_sim.core.units import NS_PER_S

SHOW_AFTER_S = 2.0
REFRESH_S = 0.2


class RunProgress:
    """The ``progress(now_ns)`` callback of a run; :meth:`close` removes the bar."""

    def __init__(self, duration_ns: int, log, stream: TextIO | None = None) -> None:
        from tqdm import tqdm

        self._log = log
        self._start = time.perf_counter()
        self._done_s = 0.0
        self._bar = tqdm(
            total=duration_ns / NS_PER_S,
            unit="sim s",
            delay=SHOW_AFTER_S,
            mininterval=REFRESH_S,
            file=stream if stream is not None else sys.stderr,
            leave=False,
            dynamic_ncols=True,
            bar_format="{l_bar}{bar}| {n:.1f}/{total:.1f} sim s [{elapsed}<{remaining}{postfix}]",
        )

    def __call__(self, now_ns: int) -> None:
        done = now_ns / NS_PER_S
        self._bar.update(done - self._done_s)
        self._done_s = done
        elapsed = time.perf_counter() - self._start
        if elapsed > 0:
            self._bar.set_postfix_str(f"{self._log.seq / elapsed:,.0f} events/s", refresh=False)

    def close(self) -> None:
        self._bar.close()


def wants_progress(quiet: bool, stream: TextIO | None = None) -> bool:
    """A bar only on a terminal, and not when asked to be quiet."""
    stream = stream if stream is not None else sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()
