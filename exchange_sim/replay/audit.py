"""``exchange-sim replay``: drive the checks over a run directory's log, then its summary.

:func:`replay` streams ``events.jsonl`` once (:mod:`.stream`), hands each event to its type's
check (one dict lookup per line), and at ``run_end`` compares ``summary.json``'s figures with the
rebuilt state. It returns a :class:`ReplayResult`: ``consistent``, or the first divergence (its
``seq``, field, recorded and recomputed value), or the damage found in the log (truncated, a gap,
garbage) with the last good ``seq``. ``until`` stops after that ``seq`` and keeps the state for
:func:`~exchange_sim.replay.view.state_lines`.
"""

from __future__ import annotations

import os
from collections import Counter
from operator import itemgetter

import orjson

from exchange_sim.core.errors import DataError, InputError
from exchange_sim.replay import collateral_checks, liquidation_checks, market_checks, money_checks
from exchange_sim.replay.perpetuals import Perpetuals
from exchange_sim.replay.state import Divergence, ReplayState
from exchange_sim.replay.stream import DigestMismatch, LogDamage, LogReader, damage
from exchange_sim.replay.summary import check_summary

HANDLERS = {**market_checks.HANDLERS, **money_checks.HANDLERS, **liquidation_checks.HANDLERS}
COLLATERAL_HANDLERS = {**HANDLERS, **collateral_checks.HANDLERS}
"""A run with collateral assets: its events, and the trade and hand-off checks wrapped."""


class ReplayResult:
    """What a replay found: ``status`` is ``consistent``, ``stopped`` (at ``until``),
    ``divergent`` (``divergence``) or ``damaged`` (``damage``); ``lines`` were checked."""

    __slots__ = ("counts", "damage", "divergence", "lines", "state", "status")

    def __init__(self, status, state, lines, counts, divergence=None, damage=None) -> None:
        self.status = status
        self.state = state
        self.lines = lines
        self.counts = counts
        self.divergence = divergence
        self.damage = damage

    @property
    def ok(self) -> bool:
        return self.status in ("consistent", "stopped")


def load_run_config(run_dir: str):
    """The run's resolved config from ``RUN_DIR/config.toml`` (bad input: :class:`InputError`)."""
    from exchange_sim.runner.config import load_config_file

    if not os.path.isdir(run_dir):
        raise InputError("RUN_DIR", run_dir, "not a run directory")
    path = os.path.join(run_dir, "config.toml")
    if not os.path.isfile(path):
        raise InputError(path, path, "missing: a run directory holds config.toml")
    return load_config_file(path)


def replay(run_dir: str, until: int | None = None, check_summary_file: bool = True):
    """Replay ``run_dir`` (see the module docstring)."""
    loaded = load_run_config(run_dir)
    path = os.path.join(run_dir, "events.jsonl")
    if not os.path.isfile(path):
        raise InputError(path, path, "missing: a run directory holds events.jsonl")
    st = ReplayState(loaded)
    collateral_checks.setup_collateral(st)
    perpetuals = st.perpetuals = Perpetuals(st) if loaded.config.perpetuals else None
    counts = st.counts
    handlers = HANDLERS if st.collateral is None else COLLATERAL_HANDLERS
    reader = LogReader(path)
    number = 0  # lines read so far: the next line's seq
    ended = False
    stop = -1 if until is None else until
    last_ts = 0
    handlers_get = handlers.get
    event: object = None
    try:
        for events in reader.chunks():
            try:  # each chunk's types counted at once, in C; a damaged line is found below
                counts.update(Counter(map(_type_of, events)))
            except (TypeError, KeyError):
                counts.update(Counter(map(_type_of, _until_damage(events))))
            for event in events:
                seq = event["seq"]
                if seq != number or ended:
                    raise _out_of_order(event, number, ended)
                ts = event["ts"]
                cause = event["cause"]
                if ts < last_ts or (cause is not None and not 0 <= cause < seq):
                    raise _bad_time_or_cause(event, last_ts)
                last_ts = ts
                kind = event["type"]
                handler = handlers_get(kind)
                if handler is not None:
                    if perpetuals is None:
                        handler(st, event)
                    else:
                        perpetuals.dispatch(handler, event)
                elif kind == "run_start":
                    _check_start(st, event)
                elif kind == "run_end":
                    for one in (st,) if perpetuals is None else perpetuals.all.values():
                        _check_pending(one, event)
                    if perpetuals is not None:
                        perpetuals.check_end(event)
                    if st.collateral is not None:
                        collateral_checks.check_collateral_end(st, event)
                    reader.check_end(event, number - reader.lines_before)
                    if check_summary_file:
                        check_summary(st, event, _read_summary(run_dir))
                    ended = True
                number += 1
                if seq == stop:
                    st.seq, st.ts = seq, event["ts"]
                    return ReplayResult("stopped", st, number, counts)
        if not ended:
            last = number - 1 if number else None
            raise LogDamage(
                "truncated", number, last, "the log ends without run_end (an interrupted run)"
            )
    except (Divergence, DigestMismatch) as exc:
        return ReplayResult("divergent", st, number, counts, divergence=exc)
    except LogDamage as exc:
        return ReplayResult("damaged", st, number, counts, damage=exc)
    except (LookupError, TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        if not _is_event(event):
            return ReplayResult("damaged", st, number, counts, damage=_not_an_event(event, number))
        field = exc.args[0] if isinstance(exc, KeyError) and exc.args else type(exc).__name__
        broken = Divergence(number, str(field), "malformed event", str(exc) or "a field")
        return ReplayResult("divergent", st, number, counts, divergence=broken)
    if until is not None:
        raise InputError("--until", until, f"beyond the log's last seq {number - 1}")
    return ReplayResult("consistent", st, number, counts)


_type_of = itemgetter("type")


def _until_damage(events: list) -> list:
    """The events of a chunk before its first line that is not an event."""
    for index, event in enumerate(events):
        if not _is_event(event):
            return events[:index]
    return events


def _bad_time_or_cause(event: dict, last_ts: int) -> Divergence:
    """Time never runs back; a cause is an earlier line."""
    seq = event["seq"]
    if event["ts"] < last_ts:
        return Divergence(seq, "ts", event["ts"], f">= {last_ts} (the line before)")
    return Divergence(seq, "cause", event["cause"], f"an earlier seq (< {seq}) or null")


def _is_event(event: object) -> bool:
    return type(event) is dict and "seq" in event and "type" in event and "ts" in event


def _out_of_order(event: dict, number: int, ended: bool) -> LogDamage:
    if ended:
        return damage("after_run_end", number, f"a line after run_end (seq {event['seq']!r})")
    return damage("seq_gap", number, f"expected seq {number}, found {event['seq']!r}")


def _not_an_event(event: object, number: int) -> LogDamage:
    if isinstance(event, LogDamage):
        return event
    return damage("not_json", number, f"not an event object: {str(event)[:60]!r}")


def _check_start(st: ReplayState, event: dict) -> None:
    if event["seq"] != 0:
        raise Divergence(event["seq"], "type", "run_start", "only the first line")
    sha = st.loaded.sha256()
    if event.get("config_sha256") != sha:
        raise Divergence(0, "config_sha256", event.get("config_sha256"), sha)


def _check_pending(st: ReplayState, event: dict) -> None:
    """At ``run_end`` nothing may be left unsettled."""
    if st.fills:
        raise Divergence(event["seq"], "position", "missing", f"{len(st.fills)} fills unapplied")
    if st.spot_fills:
        raise Divergence(event["seq"], "spot_fill", "missing", f"{len(st.spot_fills)} unsettled")
    for seq, job in st.funding_jobs.items():
        if job[0] and len(job[0]) != job[4]:  # a settlement begun and not finished
            raise Divergence(event["seq"], "funding_payment", "missing", f"settlement of {seq}")


def _read_summary(run_dir: str) -> dict | None:
    path = os.path.join(run_dir, "summary.json")
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "rb") as handle:
            return orjson.loads(handle.read())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise DataError(path, str(exc)[:60], "summary.json is not JSON") from None
