"""The step budget: refuse a run whose own clocks and rates say it could not finish.

A config can validate key by key and still describe a run nobody meant: an index cadence of one
nanosecond, noise traders at 10^13 orders a second, a clock of a microsecond over a hundred days.
:func:`estimate_steps` adds up what the config itself schedules over ``run.duration``:

- every periodic clock (a duration field named ``cadence``, ``basis_cadence``, ``interval`` or
  ``*_interval``, other than a retry) fires ``duration // period`` times, once per account of a
  participant group (``count``);
- every Poisson rate (``rate_per_second``) fires ``rate x count x seconds`` times.

It is a **lower bound** on the simulation's scheduled steps: responses, trades, liquidations and
the events a step emits come on top, and a clock that a disabled feature would own is counted
anyway (so a switched-off feature with an absurd clock is still refused, never silently kept).
:func:`check_step_budget` refuses a run above ``run.step_budget`` (default 100 million), naming the
largest contributor. The shipped scenarios count 540 to 49,200 steps each (their logs hold 2.4
to 49 times more events: makers' requotes, trades and liquidations are not counted), so the
default leaves room for studies thousands of times larger and still refuses the absurd: a 1 ns
index cadence over a minute is 6 x 10^10 steps.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from exchange_sim.core.errors import ConfigError
from exchange_sim.core.units import NS_PER_S, format_duration

_PERIOD_NAMES = ("cadence", "basis_cadence", "interval")
_NOT_A_CLOCK = ("retry_interval",)


def _is_clock(name: str, meta) -> bool:
    if meta.get("unit") != "duration" or name in _NOT_A_CLOCK:
        return False
    return name in _PERIOD_NAMES or name.endswith("_interval")


def _members(item) -> int:
    """The accounts a participant group stands for (``count``), 1 for anything else."""
    count = getattr(item, "count", 1)
    return count if isinstance(count, int) else 1


def _walk(obj, path: str, duration_ns: int, count: int, out: list) -> None:
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        key = f"{path}.{field.name}" if path else field.name
        if attrs.has(type(value)):
            if getattr(value, "CLOCK_WHEN_ENABLED", False) and not value.enabled:
                continue  # a policy that is off schedules nothing
            _walk(value, key, duration_ns, count, out)
        elif isinstance(value, tuple) and value and attrs.has(type(value[0])):
            for index, item in enumerate(value):
                _walk(item, f"{key}[{index}]", duration_ns, count * _members(item), out)
        elif isinstance(value, int) and _is_clock(field.name, field.metadata) and value > 0:
            out.append((key, format_duration(value), count * (duration_ns // value)))
        elif field.name == "rate_per_second" and isinstance(value, Decimal):
            steps = int(value * count * duration_ns / NS_PER_S)
            out.append((key, str(value), steps))


def estimate_steps(config) -> tuple[int, list[tuple[str, str, int]]]:
    """``(total, [(key, value, steps), ...])``: the steps the config's clocks and rates schedule
    over ``run.duration`` (a lower bound), largest contributor first. (``run`` itself holds no
    clock: its duration is the span, not a period.)"""
    found: list[tuple[str, str, int]] = []
    _walk(config, "", config.run.duration, 1, found)
    found.sort(key=lambda row: -row[2])
    return sum(row[2] for row in found), found


def check_step_budget(config) -> None:
    """Refuse a run whose lower-bound step count is above ``run.step_budget``."""
    total, found = estimate_steps(config)
    budget = config.run.step_budget
    if total <= budget:
        return
    key, value, steps = found[0]
    raise ConfigError(
        key,
        value,
        f"over run.duration = {format_duration(config.run.duration)} this schedules {steps:,} "
        f"steps (the whole run at least {total:,}), above run.step_budget = {budget:,}; "
        "raise run.step_budget to run it on purpose",
    )
