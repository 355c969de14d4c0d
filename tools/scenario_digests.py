"""Run every shipped scenario (``configs/scenarios/*.toml``) and print the sha256 of its event log.

    python tools/scenario_digests.py                      # prints {"name": digest, ...} as JSON
    python tools/scenario_digests.py --out FILE           # also writes that JSON to FILE
    python tools/scenario_digests.py --check FILE         # compares with FILE; exit 1 on a change
    python tools/scenario_digests.py --only cascade,calm  # a subset

A performance change must leave every log byte-identical (or say which event changed and why):
record the digests before the change, make it, and ``--check`` after. Each run uses the
scenario's own duration and seed, in-process, with no run directory written.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time

import exchange_sim as es

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def digests(only: set[str] | None = None) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "configs", "scenarios", "*.toml"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if only and name not in only:
            continue
        start = time.perf_counter()
        result = es.run(path)
        found[name] = result.summary["log_digest_sha256"]
        print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    parser.add_argument("--check")
    parser.add_argument("--only", help="comma-separated scenario names")
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
        changed = [n for n in found if expected.get(n) != found[n]]
        for name in changed:
            print(f"CHANGED: {name}", file=sys.stderr)
        print(f"{len(found) - len(changed)} of {len(found)} identical", file=sys.stderr)
        return 1 if changed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
