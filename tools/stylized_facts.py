"""Measure the stylized facts of run directories and say which hold.

    python tools/stylized_facts.py RUN_DIR [RUN_DIR ...] [--json OUT] [--grid 1s --grid 10s]

Prints a table (fact, holds, measured, target) and every fact's note; ``--json`` also writes the
whole result (``exchange_sim.analysis.stylized.stylized_facts``). Several run directories (e.g.
seeds of one scenario) are pooled: returns and metaorders together, per-run facts by majority.
Bad input (a missing directory, a directory that is not a run, a damaged log, a bad option)
prints one line naming it and exits with status 2. Definitions: docs/stylized_facts.md.
"""

from __future__ import annotations

import argparse
import json
import sys

from exchange_sim.analysis.stylized import DEFAULT_GRIDS, format_table, stylized_facts
from exchange_sim.core.errors import InputError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stylized_facts", description="Measure the stylized facts of run directories."
    )
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories to pool")
    parser.add_argument("--json", metavar="OUT", help="also write the full result as JSON")
    parser.add_argument(
        "--grid",
        action="append",
        metavar="DURATION",
        help="return sampling interval, repeatable or comma-separated (default: 1s and 10s)",
    )
    parser.add_argument("--book-period", help="book sampling period (default: the finest grid)")
    parser.add_argument("--window", default="10s", help="steepest-fall window (default 10s)")
    parser.add_argument("--rebound", default="10s", help="rebound horizon (default 10s)")
    parser.add_argument("--cascade-gap", default="10s", help="gap between cascades (10s)")
    args = parser.parse_args(argv)
    grids = DEFAULT_GRIDS
    if args.grid:
        grids = tuple(part for item in args.grid for part in item.split(",") if part)
    try:
        result = stylized_facts(
            args.runs,
            grids=grids,
            book_period=args.book_period,
            window=args.window,
            rebound=args.rebound,
            cascade_gap=args.cascade_gap,
        )
    except InputError as exc:
        print(f"stylized_facts: error: {exc}", file=sys.stderr)
        return 2
    print(format_table(result))
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(result, handle, indent=1, sort_keys=False, allow_nan=False)
                handle.write("\n")
        except OSError as exc:
            print(f"stylized_facts: error: {args.json}: {exc.strerror}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
