"""``exchange-sim redrive``: the recorded order flow fed into a fresh venue, with no participants.

The venue is built by the one assembly (:class:`~exchange_sim.venue.venue.Venue`) from the run's
``config.toml`` (plus ``--set`` overrides); instead of participants, :class:`InputFeeder` opens the
recorded accounts (same ids, margin modes, leverage) and hands each recorded input to the venue at
its recorded time: a command to the perpetual's or a spot market's gateway in the ``MATCH`` phase
of its arrival instant (same-instant commands in log order), a participant's logged decision
written again in the ``AGENT`` phase. Exogenous prices (index path, news, the fundamental value)
come from the config and its seed as in the original run.

Without overrides the new log must be the original byte for byte after the header line: the
venue's own orders get their recorded ids and every command its recorded cause. With overrides
the result is a counterfactual with frozen order flow: the same commands at the same times,
whatever the venue now does. Commands then name no cause (what they reacted to is not in the new
log), participants' logged decisions are left out, and the venue's own orders get fresh ids above
every id in the original log. Participants do not react: a trader the original venue liquidated
keeps sending the orders it sent then, a maker keeps quoting where it quoted; see the README.
"""

from __future__ import annotations

import os

import orjson

from exchange_sim.core.errors import DataError, InputError
from exchange_sim.kernel.environment import Phase
from exchange_sim.replay.audit import load_run_config
from exchange_sim.replay.inputs import (
    AGENT,
    COLLATERAL_BOOK,
    RecordedInputs,
    RedriveError,
    collateral_order_ids,
)
from exchange_sim.replay.perpetuals import Linking
from exchange_sim.replay.stream import LogDamage
from exchange_sim.venue.venue import Venue

FORCED = ("run.amplification=false",)
"""A re-drive never runs the amplification baseline (it has no participants to remove)."""
REFUSED = ("run.seed", "run.name", "participants", "spot_markets", "index", "fundamental")
"""Overrides a re-drive refuses: they would change the recorded inputs or the exogenous path."""


class _Silent:
    """The gateway's end of a recorded account: no reports are wanted."""

    __slots__ = ("account_id",)

    def __init__(self, account_id: int) -> None:
        self.account_id = account_id

    def on_order_update(self, now, seq, update) -> None:
        return None

    def on_fill(self, now, seq, fill) -> None:
        return None


class InputFeeder:
    """Opens the recorded accounts on a venue and feeds it the recorded inputs (see the module
    docstring); ``faithful`` keeps causes, decisions and the venue's recorded order ids."""

    def __init__(self, inputs: RecordedInputs, faithful: bool, first_fresh_id: int) -> None:
        self.inputs = inputs
        self.faithful = faithful
        self.fed = 0
        self._fresh = first_fresh_id
        self._venue: Venue | None = None

    def populate(self, venue: Venue) -> list:
        """The venue's ``populate`` callback: the recorded accounts, in their order."""
        self._venue = venue
        _, accounts, spot_accounts = self._read(self.inputs.header)
        highest = 0
        home_of = _home_markets(venue.config)
        cross = venue.perpetuals.cross
        linking = None if cross is None else Linking(cross)
        for event in accounts:
            if event["role"] in ("insurance_fund", "vault"):
                continue
            account_id = event["account_id"]
            instrument = venue.perpetuals.all[event.get("instrument") or venue.instrument.symbol]
            home = home_of.get(event["participant"])
            if home is not None:  # a group trading another group's accounts (accounts_of)
                assert linking is not None  # accounts_of needs several perpetuals
                linking.open(
                    venue.perpetuals.all[home].ledger,
                    instrument.ledger,
                    account_id,
                    event["isolated"],
                    event["leverage"],
                    event["participant"],
                    event["role"],
                )
            else:
                account = instrument.ledger.open_account(
                    account_id,
                    event["isolated"],
                    event["leverage"],
                    event["participant"],
                    event["role"],
                )
                if linking is not None:
                    linking.opened(instrument.ledger, account)
            # A silent account sends nothing and gets no responses: it has no link latencies
            # (Gateway.connect's annotation does not yet say that None is allowed then).
            instrument.gateway.connect(_Silent(account_id), None, None, wants_responses=False)  # type: ignore[arg-type]  # never responds, never draws
            highest = max(highest, account_id)
        if linking is not None and linking.waiting:
            raise DataError(self.inputs.path, sorted(linking.waiting)[:3], "no home account")
        for event in spot_accounts:
            if event["role"] == COLLATERAL_BOOK:
                continue  # opened by the venue's collateral book itself, after every account
            market = venue.spot_markets[event["market"]]
            account_id = event["account_id"]
            market.ledger.open_account(account_id, event["participant"], event["role"])
            market.gateway.connect(_Silent(account_id), None, None, wants_responses=False)  # type: ignore[arg-type]  # never responds, never draws
            highest = max(highest, account_id)
        for _ in range(highest):  # participants' ids run from 1: the venue's holders come next
            venue.ids.next("account")
        return [self]

    def next_order_id(self) -> int:
        """The venue's own next order id: the recorded one (faithful), else a fresh one."""
        queue = self.inputs.desk_order_ids
        if self.faithful and queue:
            return queue.popleft()
        self._fresh += 1
        return self._fresh

    @property
    def venue(self) -> Venue:
        """The venue being re-driven (set by :meth:`populate`, which runs before any event)."""
        assert self._venue is not None
        return self._venue

    def attach_collateral_books(self, venue: Venue, recorded: dict) -> None:
        """Each collateral book's scripted orders get their recorded ids (faithful: ``recorded``,
        per book market), else fresh ones: the venue issues them itself, they are not fed."""
        for collateral_market in venue.collateral_markets.values():
            queue = recorded.get(collateral_market.book_market.name)

            def next_id(queue=queue) -> int:
                if self.faithful and queue:
                    return queue.popleft()
                self._fresh += 1
                return self._fresh

            collateral_market._next_order_id = next_id

    def start(self) -> None:
        for instrument in self.venue.perpetuals.all.values():
            assert instrument.liquidation is not None
            instrument.liquidation.desk.next_order_id = self.next_order_id
        self._schedule()

    def _read(self, step):
        """``step()`` of the recorded inputs; a log that cannot be read to the end is bad input
        (:class:`DataError`: the run directory is then not written)."""
        try:
            return step()
        except (RedriveError, LogDamage) as exc:
            raise DataError(self.inputs.path, str(exc)[:100], "cannot be re-driven") from None

    def _schedule(self) -> None:
        while True:
            found = self._read(self.inputs.next)
            if found is None:
                return
            if found.phase == AGENT and not self.faithful:
                continue
            break
        env = self.venue.env
        if found.ts < env.now:
            raise DataError(self.inputs.path, found.ts, f"an input stamped before {env.now} ns")
        phase = Phase.AGENT if found.phase == AGENT else Phase.MATCH
        env.call_at(found.ts - env.now, phase, self._fire, found)

    def _fire(self, found) -> None:
        venue = self.venue
        self.fed += 1
        if found.event is not None:
            event = found.event
            payload = {k: v for k, v in event.items() if k not in ("seq", "ts", "type", "cause")}
            venue.log.emit(event["ts"], event["type"], event["cause"], **payload)
        else:
            perpetual = venue.perpetuals.extra.get(found.market)
            if perpetual is not None:
                gateway = perpetual.gateway
            else:
                gateway = (
                    venue.spot_markets[found.market].gateway if found.market else venue.gateway
                )
            cause = found.cause if self.faithful else None
            gateway.arrive(found.account_id, found.command, cause, found.ts_sent)
        self._schedule()


def _home_markets(config) -> dict[str, str]:
    """A leveraged group with ``accounts_of`` -> the symbol of the ledger holding its home
    accounts (the named group's market), as :mod:`exchange_sim.runner.population` opens them."""
    markets = {
        p.name: getattr(p, "market", "") or config.instrument.symbol for p in config.participants
    }
    return {
        p.name: markets[p.accounts_of] for p in config.participants if getattr(p, "accounts_of", "")
    }


def with_overrides(original, overrides: tuple[str, ...]):
    """The run's resolved config with ``overrides``. A saved config holds every rule its preset
    set, written out, so ``venue.preset=X`` alone would change nothing: here it first drops every
    key a venue preset sets (a table with a ``kind`` whole; the fund's size stays), so preset
    ``X`` and the defaults fill them (mark, margin, price band, liquidation policy, fees,
    waterfall, ADL, funding rule); the other overrides then apply on top."""
    from exchange_sim.presets.venue_presets import PRESETS
    from exchange_sim.runner.config import load_data, parse_override

    data = original.to_data()
    rest = []
    for text in overrides:
        path, value = parse_override(text)
        if path == ["venue", "preset"]:
            for preset in PRESETS.values():
                _drop_governed(data, preset())
            data.setdefault("venue", {})["preset"] = value
        else:
            rest.append(text)
    return load_data(data, original.base_dir, tuple(rest))


KEPT_UNDER_PRESET = ("insurance_fund",)
"""Sizes, not rules: a preset override keeps the run's (``liquidation.insurance_fund``)."""


def _drop_governed(data: dict, preset: dict) -> None:
    """Remove from ``data`` every key ``preset`` sets (a table with a ``kind``: the table)."""
    for key, value in preset.items():
        if key not in data or key in KEPT_UNDER_PRESET:
            continue
        if isinstance(value, dict) and "kind" not in value and isinstance(data[key], dict):
            _drop_governed(data[key], value)
        else:
            del data[key]


def _max_order_id(path: str) -> int:
    """The highest order id anywhere in the log (fresh ids for a counterfactual start above)."""
    import re

    pattern = re.compile(rb'"order_id":(\d+)')
    highest = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            found = [int(x) for x in pattern.findall(block)]
            if found:
                highest = max(highest, *found)
    return highest


class RedriveResult:
    __slots__ = ("directory", "fed", "first_difference", "identical", "lines", "summary")

    def __init__(self, directory, summary, fed, lines, identical, first_difference) -> None:
        self.directory = directory
        self.summary = summary
        self.fed = fed
        self.lines = lines
        self.identical = identical
        self.first_difference = first_difference


def redrive(run_dir: str, out: str, overrides: tuple[str, ...] = ()) -> RedriveResult:
    """Re-drive ``run_dir`` into the new run directory ``out`` (see the module docstring)."""
    from exchange_sim.runner.rundir import execute

    for override in overrides:
        key = override.split("=", 1)[0].strip()
        if any(key == r or key.startswith(r + ".") for r in REFUSED):
            raise InputError("--set", override, "a re-drive keeps the recorded inputs and path")
    original = load_run_config(run_dir)
    extra = FORCED if not overrides else (*FORCED, "run.verify_money=true", *overrides)
    loaded = with_overrides(original, extra)
    path = os.path.join(run_dir, "events.jsonl")
    if not os.path.isfile(path):
        raise InputError(path, path, "missing: a run directory holds events.jsonl")
    faithful = not overrides
    config = loaded.config
    assets = tuple(c.asset for c in config.collateral)
    inputs = RecordedInputs(
        path, config.instrument.symbol, bool(config.spot_markets), collateral_assets=assets
    )
    feeder = InputFeeder(inputs, faithful, 0 if faithful else _max_order_id(path))
    settlement = config.instrument.settlement_asset
    books = tuple(f"{asset}{settlement}" for asset in assets)
    recorded_ids = collateral_order_ids(path, books) if faithful else {}

    def build(loaded_config, log) -> Venue:
        venue = Venue(loaded_config, log, feeder.populate)
        feeder.attach_collateral_books(venue, recorded_ids)
        return venue

    source = os.path.abspath(run_dir)
    header = (
        f"# re-drive of {source}\n"
        f"# overrides: {', '.join(overrides) if overrides else 'none'}\n"
        "# the recorded order flow fed to a venue without participants; to make it again:\n"
        f"#   exchange-sim redrive {source} --out DIR"
        + "".join(f" --set {o}" for o in overrides)
        + "\n# (running this file directly runs the scenario with its participants)\n"
    )
    record = {"redrive_of": source, "overrides": list(overrides), "faithful": faithful}
    result = execute(
        loaded,
        out,
        False,
        build=build,
        header=header,
        extra={"redrive.json": orjson.dumps(record) + b"\n"},
        check_participants=False,
    )
    new_path = os.path.join(result.directory, "events.jsonl")
    identical, first, lines = (None, None, 0)
    if faithful:
        identical, first, lines = compare_logs(path, new_path)
    return RedriveResult(result.directory, result.summary, feeder.fed, lines, identical, first)


def compare_logs(original: str, new: str) -> tuple[bool, int | None, int]:
    """``(identical after the header line, first differing line number, lines compared)``."""
    with open(original, "rb") as a, open(new, "rb") as b:
        a.readline()
        b.readline()
        number = 1  # lines read from each
        while True:
            left, right = a.readline(), b.readline()
            if left != right:
                return False, number + 1, number
            if not left:
                return True, None, number - 1
            number += 1
