"""Command line: ``exchange-sim run | validate | sweep | compare | cascade | replay | redrive |
report | export | clean``.

Bad input (config, override, data file, command line) prints one line ``exchange-sim: error: ...``
naming the key or line and the value, exits with status 2 and writes nothing: ``validate`` and
``run`` both run the :func:`~exchange_sim.runner.preflight.preflight` checks, ``run`` before it
creates any directory. Anything else is a bug: one line ``exchange-sim: internal error: ...`` and
status 1; a run that had started leaves ``<dir>.failed/error.txt`` with the traceback, and
``EXCHANGE_SIM_TRACEBACK=1`` prints it for a failure before that.

SIGINT (Ctrl-C) and SIGTERM stop ``run``, ``redrive`` and ``sweep`` cleanly: one line, no
traceback, status 130 or 143; a run leaves ``<dir>.failed/`` with the log up to that point and an
``error.txt`` that says it was interrupted. A write that fails (a full disk, ``ulimit -f``, a quota)
is an I/O error: one line naming the path, status 1. Only a process killed outright leaves its
temporary directory; the next ``run`` reports it and ``exchange-sim clean`` removes it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import NoReturn

from exchange_sim import __version__
from exchange_sim.core.errors import InputError, RunInterrupted, RunIOError
from exchange_sim.runner.api import load_config
from exchange_sim.runner.config import LoadedConfig
from exchange_sim.runner.preflight import preflight

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_SIGNAL = {"SIGINT": 130, "SIGTERM": 143}
"""128 + the signal's number, as a shell reports a process stopped by it."""


def exit_at_once(status: int) -> None:
    """Exit with ``status`` without the interpreter's own exit, after an interrupted sweep.

    The interpreter's exit would join the process pool's result thread, which a worker killed
    mid-result leaves blocked for ever (``PoolExecutor.close``). The pool's semaphores are
    released first (multiprocessing's exit finalizers of priority >= 0, which join nothing);
    otherwise its resource tracker, which outlives us and ignores SIGTERM, warns on stderr about
    leaked semaphores.
    """
    import multiprocessing.util

    multiprocessing.util._run_finalizers(0)  # type: ignore[attr-defined]  # not in typeshed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"exchange-sim: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="exchange-sim",
        description="Simulator of a perpetual-futures exchange, for liquidation cascades.",
    )
    parser.add_argument("--version", action="version", version=f"exchange-sim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario and write a run directory")
    run.add_argument("config", nargs="?", help="TOML config (default: built-in defaults)")
    run.add_argument("--seed", type=int, help="root seed (overrides run.seed)")
    run.add_argument("--out", help="run directory to create (default: a fresh one under runs/)")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set index.cadence=500ms (repeatable)",
    )
    run.add_argument(
        "--quiet", action="store_true", help="no progress bar (it only shows on a terminal)"
    )
    run.add_argument(
        "--check",
        choices=("every-event", "end", "off"),
        help="when the invariant checker runs (overrides run.check; default end)",
    )

    _sweep_parser(commands)

    validate = commands.add_parser("validate", help="check a config without running it")
    validate.add_argument("config", nargs="?", help="TOML config (default: built-in defaults)")
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")

    cascade = commands.add_parser(
        "cascade", help="verify a run's log and show which liquidations fed which"
    )
    cascade.add_argument("run_dir", help="a run directory (or its events.jsonl)")
    cascade.add_argument("--json", action="store_true", help="print the summary as JSON")
    cascade.add_argument(
        "--edges", metavar="FILE", help="write the parent -> child edge list to FILE (CSV)"
    )
    replay = commands.add_parser(
        "replay",
        help="rebuild a run's state from its log alone and check every recorded result",
    )
    replay.add_argument("run_dir", help="a run directory")
    replay.add_argument(
        "--until", type=int, metavar="SEQ", help="stop after event SEQ and print the state there"
    )
    redrive = commands.add_parser(
        "redrive",
        help="feed a run's recorded order flow into a fresh venue without participants",
    )
    redrive.add_argument("run_dir", help="a run directory")
    redrive.add_argument("--out", required=True, help="the new run directory to create")
    redrive.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a counterfactual: another venue rule, e.g. --set liquidation.adl.ranking=bitmex",
    )
    clean = commands.add_parser(
        "clean", help="remove the temporary directories that killed runs left behind"
    )
    clean.add_argument("roots", nargs="*", default=["runs"], help="where to look (default: runs)")
    clean.add_argument("--dry-run", action="store_true", help="list them, remove nothing")
    report = commands.add_parser(
        "report", help="write RUN_DIR/report/report.html (self-contained) and its figures"
    )
    report.add_argument("run_dir", help="a run directory, or a sweep directory")
    compare = commands.add_parser(
        "compare",
        help="paired differences between a sweep factor's values, seed by seed, with 95 %% CIs",
    )
    compare.add_argument("sweep_dir", help="a sweep directory (results.parquet, points.json)")
    compare.add_argument(
        "--by", required=True, metavar="FACTOR", help="factor key, factor:<key> or a unique suffix"
    )
    compare.add_argument(
        "--baseline", metavar="VALUE", help="value compared against (default: the first one)"
    )
    compare.add_argument("--out", metavar="FILE", help="CSV (default: SWEEP_DIR/compare-<key>.csv)")
    compare.add_argument(
        "--metrics", metavar="M1,M2", help="metric names or results.parquet columns (default: all)"
    )
    export = commands.add_parser(
        "export", help="write one Parquet file per event type (exact ints and user units)"
    )
    export.add_argument("run_dir", help="a run directory")
    export.add_argument("--format", choices=("parquet",), default="parquet")
    export.add_argument("--out", help="directory for the files (default: RUN_DIR/parquet)")
    return parser


def _sweep_parser(commands) -> None:
    sweep = commands.add_parser(
        "sweep", help="run a scenario over factors and seeds into a sweep directory (resumable)"
    )
    sweep.add_argument("sweep_file", help="sweep TOML (docs/sweeps.md)")
    sweep.add_argument("--seeds", type=int, help="number of seeds (overrides sweep.seeds)")
    sweep.add_argument("--out", help="sweep directory (default: sweeps/<name>)")
    backend = sweep.add_mutually_exclusive_group()
    backend.add_argument("--workers", type=int, help="local worker processes (default: one a core)")
    backend.add_argument(
        "--dask-local", type=int, metavar="N", help="start a local Dask cluster of N workers"
    )
    backend.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster"
    )
    sweep.add_argument("--keep-logs", action="store_true", help="keep each run's events.jsonl")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")


def _sweep(args: argparse.Namespace) -> int:
    from exchange_sim.runner.progress import wants_progress
    from exchange_sim.runner.sweep import run_sweep

    try:
        outcome = run_sweep(
            os.fspath(Path(args.sweep_file)),
            seeds=args.seeds,
            out=args.out,
            workers=args.workers,
            dask_local=args.dask_local,
            scheduler=args.scheduler,
            keep_logs=args.keep_logs,
            progress=wants_progress(args.quiet),
        )
    except (KeyboardInterrupt, RunInterrupted) as exc:
        name = exc.signal_name if isinstance(exc, RunInterrupted) else "SIGINT"
        print(
            f"exchange-sim: interrupted by {name}; finished runs are kept: run the same command "
            "to resume",
            file=sys.stderr,
        )
        exit_at_once(EXIT_SIGNAL[name])
    runs = outcome.ok + outcome.failed
    print(
        f"sweep: {runs} runs ({outcome.ok} ok, {outcome.failed} failed, {outcome.skipped} "
        f"already done) on {outcome.executor}"
    )
    print(f"results: {outcome.results}")
    return EXIT_INTERNAL if outcome.failed else EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from exchange_sim.analysis.sweep_data import is_sweep_dir

    if is_sweep_dir(args.run_dir):
        from exchange_sim.analysis.sweep_report import write_sweep_report

        path = write_sweep_report(args.run_dir)
    else:
        from exchange_sim.analysis.report import write_report

        path = write_report(args.run_dir)
    print(f"report: {path}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from exchange_sim.analysis.sweep_data import load_sweep, resolve_factor
    from exchange_sim.analysis.sweep_stats import compare, table, write_csv

    sweep = load_sweep(args.sweep_dir)
    factor = resolve_factor(sweep, args.by)
    names = None
    if args.metrics is not None:
        names = [name.strip() for name in args.metrics.split(",") if name.strip()]
        if not names:
            raise InputError("--metrics", args.metrics, "no metric named")
    metrics, notes = sweep.available(names)
    if not metrics:
        raise InputError("--metrics", args.metrics or "all", "none of them is in the results")
    result = compare(sweep, factor, metrics, args.baseline)
    out = args.out or os.path.join(args.sweep_dir, f"compare-{factor}.csv")
    try:
        write_csv(result.rows, out)
    except OSError as exc:
        raise InputError("--out", out, f"cannot write: {exc.strerror or exc}") from None
    held = ", ".join(result.strata_keys) or "nothing else (one factor)"
    print(f"compare by {factor}: each value minus baseline {result.baseline}, paired by seed")
    print(f"held equal: {held}")
    if result.tied:
        print(f"zipped with it (change with it): {', '.join(result.tied)}")
    print(f"failed runs excluded: {result.failed}")
    print("\n".join(table(result, sweep.settlement_asset())))
    for note in notes:
        print(f"note: {note}")
    print(f"csv: {out}")
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from exchange_sim.analysis.export import export_run

    paths = export_run(args.run_dir, args.out, args.format)
    print(f"{len(paths)} {args.format} files in {os.path.dirname(paths[0]) if paths else args.out}")
    return EXIT_OK


def _cascade(args: argparse.Namespace) -> int:
    import json

    from exchange_sim.analysis.cascade import build_tree
    from exchange_sim.events.reader import iter_log

    path = args.run_dir
    if os.path.isdir(path):
        path = os.path.join(path, "events.jsonl")
    tree = build_tree(iter_log(path), path)
    result = tree.summary()
    if args.edges:
        try:
            result["edges_written"] = tree.write_edges(args.edges)
        except OSError as exc:
            raise InputError(
                "--edges", args.edges, f"cannot write: {exc.strerror or exc}"
            ) from None
    if args.json:
        print(json.dumps(result, indent=2))
        return EXIT_OK
    print(f"log verified: {path}")
    print(
        f"liquidations: {result['liquidations']}: {result['roots']} started by a root, "
        f"{result['fed_by_liquidations']} fed by earlier liquidations "
        f"({result['fed_through_mark']} of them through the mark); "
        f"deepest generation {result['deepest_generation']}"
    )
    print("roots by kind:")
    for kind, count in result["roots_by_kind"].items():
        print(f"  {kind:<16} {count}")
    print("liquidations by generation:")
    for generation, count in result["per_generation"].items():
        print(f"  generation {generation}: {count}")
    if args.edges:
        print(f"edges: {result['edges_written']} written to {args.edges}")
    return EXIT_OK


def _replay(args: argparse.Namespace) -> int:
    """Exit 0 when the log is consistent (or stopped at ``--until``), 1 at the first divergence
    or damage (named with its seq), 2 on bad input."""
    from exchange_sim.replay.audit import replay
    from exchange_sim.replay.view import state_lines

    if args.until is not None and args.until < 0:
        raise InputError("--until", args.until, "must be a seq >= 0")
    result = replay(args.run_dir, args.until)
    if result.status == "stopped":
        print("\n".join(state_lines(result.state)))
        return EXIT_OK
    if result.status == "consistent":
        counts = result.counts
        checked = ", ".join(
            f"{counts.get(kind, 0)} {kind}"
            for kind in ("trade", "position", "insurance_fund", "adl", "vault", "funding_payment")
        )
        print(f"consistent: {result.lines} lines replayed ({checked}); summary and digest match")
        return EXIT_OK
    if result.status == "divergent":
        d = result.divergence
        print(
            f"divergent at seq {d.seq}: {d.field} recorded {d.recorded!r}, "
            f"recomputed {d.recomputed!r}"
        )
        return EXIT_INTERNAL
    damage = result.damage
    print(
        f"{damage.kind.replace('_', ' ')} at line {damage.line}: {damage.detail}; "
        f"last good seq {damage.last_good_seq}"
    )
    return EXIT_INTERNAL


def _redrive(args: argparse.Namespace) -> int:
    """No overrides: exit 0 when the new log is the original's after the header, else 1 naming
    the first line that differs. Overrides: the counterfactual run directory and its summary."""
    from exchange_sim.replay.redrive import redrive

    result = redrive(args.run_dir, args.out, tuple(args.set))
    if args.set:
        print(f"counterfactual (participants frozen, {result.fed} recorded inputs fed):")
        _print_summary(result.directory, result.summary)
        return EXIT_OK
    if result.identical:
        print(
            f"identical: {result.lines} lines after the header match the original "
            f"({result.fed} recorded inputs fed); written to {result.directory}"
        )
        return EXIT_OK
    print(f"differs from the original at line {result.first_difference}; see {result.directory}")
    return EXIT_INTERNAL


def _clean(args: argparse.Namespace) -> int:
    from exchange_sim.runner.clean import find_leftovers, remove_leftovers

    count = total = 0
    for root in args.roots:
        found = find_leftovers(root) if args.dry_run else remove_leftovers(root)
        for path, size in found:
            print(f"{'would remove' if args.dry_run else 'removed'} {path} ({size:,} bytes)")
            count, total = count + 1, total + size
    verb = "found" if args.dry_run else "removed"
    print(f"clean: {count} leftover temporary run directories {verb} ({total:,} bytes)")
    return EXIT_OK


def _report_leftovers(directory: str) -> None:
    """Tell the user about killed runs' leftovers next to the run directory just written."""
    from exchange_sim.runner.clean import find_leftovers

    root = os.path.dirname(os.path.abspath(directory))
    found = find_leftovers(root, recursive=False)
    if found:
        size = sum(s for _, s in found)
        print(
            f"note: {len(found)} temporary run directories left by killed runs in {root} "
            f"({size:,} bytes); `exchange-sim clean {root}` removes them",
            file=sys.stderr,
        )


class _Signals:
    """While a run is in progress, SIGINT and SIGTERM raise :class:`RunInterrupted` in the main
    thread (the run directory then keeps the partial log in ``.failed``); restored on exit."""

    def __enter__(self) -> _Signals:
        def stop(number, frame):
            raise RunInterrupted(signal.Signals(number).name)

        self._previous = {n: signal.signal(n, stop) for n in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)


def _load(args: argparse.Namespace) -> LoadedConfig:
    overrides = tuple(args.set)
    if getattr(args, "check", None) is not None:
        overrides += (f'run.check="{args.check}"',)
    if getattr(args, "seed", None) is not None:
        if args.seed < 0:
            raise InputError("--seed", args.seed, "must be >= 0")
        overrides += (f"run.seed={args.seed}",)
    if args.config is None:
        return load_config({}, overrides)
    return load_config(os.fspath(Path(args.config)), overrides)


def _print_summary(directory: str, summary: dict) -> None:
    from exchange_sim.runner.terminal import summary_lines

    print("\n".join(summary_lines(directory, summary)))


def _internal_error(exc: BaseException) -> int:
    """Report a bug in one line (its traceback on request, or where the run kept it)."""
    notes = "; ".join(getattr(exc, "__notes__", ()))
    hint = notes or "a bug; set EXCHANGE_SIM_TRACEBACK=1 to print the traceback"
    if os.environ.get("EXCHANGE_SIM_TRACEBACK"):
        traceback.print_exception(exc, file=sys.stderr)
    message = " ".join(str(exc).split())
    name = type(exc).__name__
    print(f"exchange-sim: internal error: {name}: {message} ({hint})", file=sys.stderr)
    return EXIT_INTERNAL


def main(argv: list[str] | None = None) -> int:
    try:
        status = _main(argv)
        sys.stdout.flush()
        return status
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a one-line usage error
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        if args.command in ("run", "redrive", "sweep"):
            with _Signals():
                return _dispatch(args)
        return _dispatch(args)
    except (KeyboardInterrupt, RunInterrupted) as exc:
        name = exc.signal_name if isinstance(exc, RunInterrupted) else "SIGINT"
        notes = "; ".join(getattr(exc, "__notes__", ()))
        print(
            f"exchange-sim: interrupted by {name}" + (f"; {notes}" if notes else ""),
            file=sys.stderr,
        )
        return EXIT_SIGNAL[name]
    except RunIOError as exc:
        print(f"exchange-sim: I/O error: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "clean":
            return _clean(args)
        if args.command == "cascade":
            return _cascade(args)
        if args.command == "replay":
            return _replay(args)
        if args.command == "redrive":
            return _redrive(args)
        if args.command == "report":
            return _report(args)
        if args.command == "export":
            return _export(args)
        if args.command == "compare":
            return _compare(args)
        if args.command == "sweep":
            return _sweep(args)
        loaded = _load(args)
        if args.command == "validate":
            preflight(loaded)
            print(
                f"config ok: {args.config or '<built-in defaults>'} (sha256 {loaded.sha256()[:16]})"
            )
            return EXIT_OK
        from exchange_sim.runner.api import run
        from exchange_sim.runner.progress import wants_progress
        from exchange_sim.runner.rundir import claim_fresh_dir

        out = args.out
        if out is None:  # claimed atomically, after the preflight (bad input creates nothing)
            preflight(loaded)
            run_config = loaded.config.run
            out = claim_fresh_dir("runs", run_config.name, run_config.seed)
        result = run(loaded, out=out, progress=wants_progress(args.quiet))
    except InputError as exc:
        print(f"exchange-sim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        raise
    except RunIOError:
        raise
    except OSError as exc:  # a file the command reads or writes outside a run directory
        path = exc.filename or "(no file name)"
        print(f"exchange-sim: I/O error: {path}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception as exc:  # a bug, not bad input
        return _internal_error(exc)
    assert result.directory is not None  # ``out`` is always given, so the run has a directory
    _print_summary(result.directory, result.summary)
    _report_leftovers(result.directory)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
