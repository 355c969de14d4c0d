"""A run's liquidation and ADL time profile beside Hyperliquid's of 2025-10-10.

    python tools/adl_profile.py RUN_DIR [RUN_DIR ...] [--json OUT]

Prints one row per figure: the measure, each run's value (several run directories, e.g. seeds:
one column each and their median), the published value and its source in
``market_events.md`` §1.7. ``--json OUT`` also writes every run's full profile and the rows.
Definitions: ``docs/metrics.md`` ("ADL profile"). Bad input (a missing directory, a bad log or
config, an unwritable OUT) prints one line naming the path and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import NoReturn

from exchange_sim.analysis.adl_profile import comparison, profile_run_dir
from exchange_sim.core.errors import InputError

EXIT_BAD_INPUT = 2
PROG = "adl_profile"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{PROG}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="a run directory")
    parser.add_argument("--json", metavar="OUT", help="also write the profiles and rows as JSON")
    return parser


def shown(unit: str, value) -> str:
    """A run value as the table shows it (``unit``: see ``adl_profile.UNITS``)."""
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "corr":
        return f"{value:+.3f}"
    if unit == "share":
        return f"{100 * value:.1f} %"
    if unit == "signed_share":
        return f"{100 * value:+.1f} %"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "count" and value == int(value):
        return str(int(value))
    return f"{value:.2f}"


def table(names: list[str], rows: list[dict]) -> list[str]:
    """The side-by-side table as lines: measure, one column per run (and the median of several),
    published, source."""
    header = ["measure", *names]
    if len(names) > 1:
        header.append("median")
    header += ["published", "source"]
    body = []
    for row in rows:
        cells = [row["measure"], *(shown(row["unit"], value) for value in row["runs"])]
        if len(names) > 1:
            cells.append(shown(row["unit"], row["median"]))
        cells += [row["published_text"], row["source"]]
        body.append(cells)
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header) - 1)]

    def line(cells: list[str]) -> str:
        parts = [cell.ljust(width) for cell, width in zip(cells, widths, strict=False)]
        return "  ".join([*parts, cells[-1]]).rstrip()

    return [line(header), line(["-" * w for w in widths] + ["-" * 6]), *map(line, body)]


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a one-line usage error
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        profiles = [profile_run_dir(path) for path in args.run_dirs]
        rows = comparison(profiles)
        if args.json:
            document = {
                "runs": [
                    {"run_dir": path, "profile": result}
                    for path, result in zip(args.run_dirs, profiles, strict=True)
                ],
                "rows": rows,
            }
            try:
                with open(args.json, "w", encoding="utf-8") as handle:
                    json.dump(document, handle, indent=2, allow_nan=False)
                    handle.write("\n")
            except OSError as exc:
                raise InputError(args.json, args.json, f"cannot write: {exc.strerror}") from None
    except InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    names = []
    for path, result in zip(args.run_dirs, profiles, strict=True):
        name = os.path.basename(os.path.normpath(path))
        names.append(f"{name} (seed {result['seed']})" if result["seed"] is not None else name)
    print("\n".join(table(names, rows)))
    if args.json:
        print(f"json: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
