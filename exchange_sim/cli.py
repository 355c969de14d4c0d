"""Command line: ``exchange-sim run | validate``.

Bad input (config, override, data file) prints one line ``exchange-sim: error: ...`` naming the
key or line and the value, exits with status 2 and writes nothing. An internal failure during a
run exits 1 and leaves ``<dir>.failed/error.txt``.
"""

from __future__ import annotations

import argparse
import sys

from exchange_sim import __version__
from exchange_sim.config.schema import LoadedConfig, load_config, load_data
from exchange_sim.core.errors import InputError
from exchange_sim.core.units import Scale

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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

    validate = commands.add_parser("validate", help="check a config without running it")
    validate.add_argument("config", nargs="?", help="TOML config (default: built-in defaults)")
    validate.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    return parser


def _load(args: argparse.Namespace) -> LoadedConfig:
    overrides = tuple(args.set)
    if getattr(args, "seed", None) is not None:
        if args.seed < 0:
            raise InputError("--seed", args.seed, "must be >= 0")
        overrides += (f"run.seed={args.seed}",)
    if args.config is None:
        return load_data({}, ".", overrides)
    return load_config(args.config, overrides)


def _print_summary(directory: str, summary: dict, scale: Scale) -> None:
    print(f"run directory: {directory}")
    print(
        f"simulated {summary['sim_time_s']:g} s in {summary['wall_time_s']:.3f} s wall; "
        f"{summary['event_count']} events ({summary['events_per_second']:,} events/s)"
    )
    for name, count in summary["events_by_type"].items():
        print(f"  {name:<24} {count}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        loaded = _load(args)
        if args.command == "validate":
            print(
                f"config ok: {args.config or '<built-in defaults>'} (sha256 {loaded.sha256()[:16]})"
            )
            return EXIT_OK
        from exchange_sim.sim.rundir import execute

        try:
            result = execute(loaded, args.out)
        except InputError:
            raise
        except Exception as exc:  # a bug: reported briefly, traceback kept in the run dir
            print(
                f"exchange-sim: internal error: {type(exc).__name__}: {exc} "
                f"(traceback in the run's .failed directory)",
                file=sys.stderr,
            )
            return EXIT_INTERNAL
    except InputError as exc:
        print(f"exchange-sim: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _print_summary(result.directory, result.summary, loaded.scale)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
