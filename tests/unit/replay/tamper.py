"""Helpers that damage a copy of a run directory's log the way a forger or a crash would."""

from __future__ import annotations

import hashlib
import os
import shutil

import orjson


def copy_run(src: str, dst: str) -> str:
    shutil.copytree(src, dst)
    return dst


def read_lines(run_dir: str) -> list[bytes]:
    with open(os.path.join(run_dir, "events.jsonl"), "rb") as handle:
        return handle.readlines()


def write_lines(run_dir: str, lines: list[bytes], redigest: bool = True) -> None:
    """Write ``lines`` back; with ``redigest`` the ``run_end`` line gets the digest (and count) of
    the lines before it, so only a recomputation can tell the log was changed."""
    if redigest and lines and b'"type":"run_end"' in lines[-1]:
        body = lines[:-1]
        end = orjson.loads(lines[-1])
        end["seq"] = len(body)
        end["event_count"] = len(body)
        end["digest_sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
        lines = [*body, orjson.dumps(end) + b"\n"]
    with open(os.path.join(run_dir, "events.jsonl"), "wb") as handle:
        handle.writelines(lines)


def first_seq(lines: list[bytes], type_: str, where=lambda event: True) -> int:
    for line in lines:
        event = orjson.loads(line)
        if event["type"] == type_ and where(event):
            return event["seq"]
    raise LookupError(type_)


def set_field(run_dir: str, seq: int, field: str, value) -> None:
    """Change one field of the event at ``seq`` (digest recomputed)."""
    lines = read_lines(run_dir)
    event = orjson.loads(lines[seq])
    assert field in event, field
    event[field] = value
    lines[seq] = orjson.dumps(event) + b"\n"
    write_lines(run_dir, lines)
