"""Shared run directories for the analysis tests: one real cascade run, and synthetic logs of any
length (valid lines, seq, run_end count and digest) for the streaming and memory tests."""

from __future__ import annotations

import hashlib
import os
import shutil

import orjson
import pytest

from exchange_sim.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


@pytest.fixture(scope="session")
def cascade_run(tmp_path_factory) -> str:
    """A real run of configs/scenarios/cascade.toml (liquidations, a fund, ADL)."""
    out = tmp_path_factory.mktemp("cascade") / "run"
    config = os.path.join(ROOT, "configs", "scenarios", "cascade.toml")
    assert main(["run", config, "--out", str(out)]) == 0
    return str(out)


def write_synthetic(run_dir, config_from: str, lines: int) -> str:
    """A run directory whose log has ``lines`` lines: run_start, then a repeating pattern of
    index_price, order_accepted and trade events, then run_end; config.toml is copied from
    ``config_from``."""
    os.makedirs(run_dir, exist_ok=True)
    shutil.copy(os.path.join(config_from, "config.toml"), os.path.join(run_dir, "config.toml"))
    digest = hashlib.sha256()
    path = os.path.join(run_dir, "events.jsonl")
    with open(path, "wb") as handle:

        def put(record: dict) -> None:
            data = orjson.dumps(record) + b"\n"
            digest.update(data)
            handle.write(data)

        put(
            {"seq": 0, "ts": 0, "type": "run_start", "cause": None, "schema_version": 1,
             "package_version": "0", "seed": 1, "config_sha256": "0" * 64,
             "scenario": "synthetic", "duration_ns": lines * 1_000_000}
        )  # fmt: skip
        for seq in range(1, lines - 1):
            ts = seq * 1_000_000
            head = {"seq": seq, "ts": ts, "cause": None}
            kind = seq % 3
            if kind == 0:
                put({**head, "type": "index_price", "price": 500_000 + seq % 97, "ts_source": ts})
                continue
            if kind == 1:
                put(
                    {"seq": seq, "ts": ts, "type": "order_accepted", "cause": None,
                     "market": "BTCUSDT", "order_id": seq, "account_id": seq % 50,
                     "side": 1 if seq % 2 else -1,
                     "price_ticks": None if seq % 7 == 0 else 499_000 + seq % 2000,
                     "size_lots": 1 + seq % 300, "tif": "GTC", "post_only": False,
                     "reduce_only": False, "tag": "", "ts_sent": ts - 1000}
                )  # fmt: skip
                continue
            put(
                {"seq": seq, "ts": ts, "type": "trade", "cause": seq - 1, "market": "BTCUSDT",
                 "trade_id": seq,
                 "maker_order_id": 1, "taker_order_id": seq - 1, "maker_account_id": 1,
                 "taker_account_id": seq % 50, "price_ticks": 500_000, "size_lots": 1 + seq % 9,
                 "aggressor_side": 1, "maker_tag": "", "taker_tag": "liquidation"}
            )  # fmt: skip
        final = {"seq": lines - 1, "ts": lines * 1_000_000, "type": "run_end", "cause": None}
        handle.write(
            orjson.dumps({**final, "event_count": lines - 1, "digest_sha256": digest.hexdigest()})
            + b"\n"
        )
    return str(run_dir)


def reseal(path: str, lines: list[bytes]) -> None:
    """Write ``lines`` (run_end last) back to ``path`` with run_end's count and digest redone,
    so a test can plant a bad value that only the value checks can catch."""
    body = lines[:-1]
    end = orjson.loads(lines[-1])
    end["seq"] = len(body)
    end["event_count"] = len(body)
    end["digest_sha256"] = hashlib.sha256(b"".join(body)).hexdigest()
    with open(path, "wb") as handle:
        handle.writelines([*body, orjson.dumps(end) + b"\n"])
