"""The error hierarchy.

Every error a user can cause with their input is an :class:`InputError`; the CLI turns it into a
one-line message and exit status 2. Anything else escaping a run is a bug and is recorded in the
run directory's ``error.txt``.
"""

from __future__ import annotations

SHOW_CHARS = 200
"""At most this many characters of a bad value are quoted in a message (a 10 MB string or a
table nested a thousand deep is shown as a bounded excerpt, never in full)."""


def _show(value: object) -> str:
    """How a bad value is quoted in a message: decimals plainly, strings quoted, containers
    abbreviated (``reprlib``: a few items, two levels), anything longer than :data:`SHOW_CHARS`
    cut in the middle."""
    import reprlib
    from decimal import Decimal

    if isinstance(value, Decimal):
        text = str(value)
    else:
        shower = reprlib.Repr()
        shower.maxlevel = 2
        shower.maxstring = shower.maxother = shower.maxlong = SHOW_CHARS + 10
        shower.maxdict = shower.maxlist = shower.maxtuple = shower.maxset = 4
        text = shower.repr(value)
    if len(text) > SHOW_CHARS:  # keep both ends: a path's tail, a number's magnitude
        half = (SHOW_CHARS - 3) // 2
        text = text[:half] + "..." + text[-half:]
    return text


class ExchangeSimError(Exception):
    """Base class of every error this package raises on purpose."""


class InputError(ExchangeSimError):
    """Bad user input: a config, an override, a CSV file or an event log.

    ``where`` names the dotted config key, or ``file:line``; ``value`` is the offending value.
    """

    def __init__(self, where: str, value: object, problem: str) -> None:
        self.where = where
        self.value = value
        self.problem = problem
        super().__init__(f"{where}: {problem} (got {_show(value)})")


class ConfigError(InputError):
    """A config key is unknown, of the wrong type, out of range, or inconsistent."""


class UnitError(ConfigError):
    """A decimal value cannot be represented exactly in the integer unit it is converted to."""


class DataError(InputError):
    """A data file (CSV) or event log line is malformed."""


class SimulationError(ExchangeSimError):
    """An internal invariant broke during a run (a bug, never bad input)."""


class RunInterrupted(BaseException):
    """A signal (SIGINT, SIGTERM) stopped a run. A :class:`BaseException`, like
    :class:`KeyboardInterrupt`, so no ``except Exception`` on the way swallows it."""

    def __init__(self, signal_name: str) -> None:
        self.signal_name = signal_name
        super().__init__(signal_name)  # the args pickle back to the same exception

    def __str__(self) -> str:
        return f"interrupted by {self.signal_name}"


class RunIOError(ExchangeSimError):
    """The run could not write its directory: a full disk, a file-size limit, a quota, a
    vanished directory. Not bad input and not a bug: the CLI reports it in one line (exit 1)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(path, problem)  # the args pickle back to the same exception

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"
