"""Run every shipped scenario (``configs/scenarios/*.toml``) and print the sha256 of its event log.

    python tools/scenario_digests.py                      # prints {"name": digest, ...} as JSON
    python tools/scenario_digests.py --out FILE           # also writes that JSON to FILE
    python tools/scenario_digests.py --check FILE         # compares with FILE; exit 1 on a change
    python tools/scenario_digests.py --only cascade,calm  # a subset

A performance change must leave every log byte-identical (or say which event changed and why):
record the digests before the change, make it, and ``--check`` after. Each run uses the
scenario's own duration and seed, in-process, with no run directory written.

Each scenario gets two digests: ``log`` (the run's own, over every line before ``run_end``) and
``body`` (every line after ``run_start`` and before ``run_end``). A new config key changes the
resolved config's hash in ``run_start`` and so every ``log`` digest, but not what happened:
``--check --body`` compares only the bodies.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import sys
import time

import exchange_sim as es

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _BodyDigest:
    """A sink that hashes every line but the first (``run_start``) and the last (``run_end``)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._pending = b""
        self._first = True

    def write(self, data: bytes) -> int:
        data = self._pending + data
        cut = data.rfind(b"\n", 0, len(data) - 1) + 1  # keep the last line back (run_end?)
        whole, self._pending = data[:cut], data[cut:]
        if self._first and whole:
            whole = whole[whole.index(b"\n") + 1 :]
            self._first = False
        self._hash.update(whole)
        return len(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digests(only: set[str] | None = None) -> dict[str, dict[str, str]]:
    from exchange_sim.runner.simulate import simulate

    found: dict[str, dict[str, str]] = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "configs", "scenarios", "*.toml"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if only and name not in only:
            continue
        start = time.perf_counter()
        sink = _BodyDigest()
        _, digest = simulate(es.load_config(path), sink)
        found[name] = {"log": digest, "body": sink.hexdigest()}
        print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    parser.add_argument("--check")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument(
        "--body", action="store_true", help="with --check: compare the bodies only (see above)"
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    found = digests(only)
    print(json.dumps(found, indent=1))
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(found, handle, indent=1)
    if args.check:
        with open(args.check) as handle:
            expected = json.load(handle)
        part = "body" if args.body else "log"

        def value(entry):  # a file of plain digests (older form) holds the log digest only
            return entry.get(part) if isinstance(entry, dict) else entry

        changed = [n for n in found if value(expected.get(n, {})) != found[n][part]]
        for name in changed:
            print(f"CHANGED: {name}", file=sys.stderr)
        print(f"{len(found) - len(changed)} of {len(found)} identical", file=sys.stderr)
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
