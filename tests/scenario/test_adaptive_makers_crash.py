"""Two adaptive makers with different parameters and noise traders through a scripted 10 % index
crash (30 s to 50 s): each withdraws its depth during the crash and restores it after."""

from __future__ import annotations

import pytest

import exchange_sim as es
from exchange_sim.core.units import NS_PER_S
from exchange_sim.runner.event_catalog import event_types, validate_record

S = NS_PER_S

CONFIG = {
    "run": {"name": "makers_crash", "duration": "100s", "seed": 11},
    "index": {
        "cadence": "1s",
        "process": {
            "kind": "scripted",
            "interpolation": "linear",
            "points": [
                {"at": "0s", "price": 50000},
                {"at": "30s", "price": 50000},
                {"at": "50s", "price": 45000},
                {"at": "100s", "price": 45000},
            ],
        },
    },
    "participants": [
        {
            "kind": "adaptive_maker",
            "name": "tight",
            "levels": 5,
            "level_sizes": ["0.5"],
            "base_half_spread": "0.5",
            "vol_multiplier": "0.2",
            "vol_window": "10s",
            "withdraw_volatility": "0.01",
            "restore_delay": "5s",
        },
        {
            "kind": "adaptive_maker",
            "name": "wide",
            "levels": 3,
            "level_sizes": ["1.0", "2.0"],
            "base_half_spread": "5.0",
            "level_spacing": "2.0",
            "vol_multiplier": "1",
            "vol_window": "20s",
            "withdraw_volatility": "0.02",
            "weight_mid": "0.3",
            "inventory_skew": "1.0",
            "restore_delay": "10s",
            "restore_size": "0.25",
        },
        {"kind": "noise", "name": "noise", "count": 20, "limit_lifetime": "3s"},
    ],
}


@pytest.fixture(scope="module")
def crash():
    result = es.run(CONFIG, keep_events=True)
    events = result.events
    makers = {
        e["account_id"]: e["participant"]
        for e in events
        if e["type"] == "account_opened" and e["role"] == "adaptive_maker"
    }
    return result, events, makers


def _states(events, account):
    return [e for e in events if e["type"] == "maker_state" and e["account_id"] == account]


def _resting(events, account) -> dict[int, int]:
    """The account's resting orders after ``events``: order id -> lots left."""
    left: dict[int, int] = {}
    for e in events:
        kind = e["type"]
        if kind == "order_accepted" and e["account_id"] == account:
            left[e["order_id"]] = e["size_lots"]
        elif kind == "trade":
            for order_id in (e["maker_order_id"], e["taker_order_id"]):
                if order_id in left:
                    left[order_id] -= e["size_lots"]
                    if not left[order_id]:
                        del left[order_id]
        elif kind in ("order_cancelled", "order_expired"):
            left.pop(e["order_id"], None)
    return left


def test_each_maker_withdraws_in_the_crash_and_restores_after(crash):
    """Both makers log `withdrawn` while the index falls (the tight one first: its threshold
    and window are smaller) and `restore` once it has been flat long enough; each withdrawal
    names the index update that pushed its volatility over."""
    _, events, makers = crash
    withdrawn_at = {}
    for account, name in makers.items():
        states = _states(events, account)
        withdrawals = [e for e in states if e["state"] == "withdrawn"]
        restores = [e for e in states if e["action"] == "restore"]
        assert withdrawals and restores, name
        first = withdrawals[0]
        assert 30 * S < first["ts"] < 50 * S
        assert first["reason"] == "volatility" and first["value"] > first["threshold"]
        assert events[first["cause"]]["type"] == "index_price"
        assert restores[-1]["ts"] > 50 * S
        withdrawn_at[name] = first["ts"]
    assert withdrawn_at["tight"] < withdrawn_at["wide"]


def test_no_quotes_while_withdrawn_and_quotes_again_after(crash):
    """A maker sends no order between its withdrawal and its restore; quotes still in flight
    when it withdrew are cancelled by the withdrawal's cancel-all (which names it), so nothing
    of it rests; after the restore it quotes again, naming the restore."""
    _, events, makers = crash
    for account in makers:
        states = _states(events, account)
        withdrawn = next(e for e in states if e["state"] == "withdrawn")
        restored = next(e for e in states if e["action"] == "restore")
        mine = [e for e in events if e.get("account_id") == account]
        accepted = [e for e in mine if e["type"] == "order_accepted"]
        assert not [e for e in accepted if withdrawn["ts"] <= e["ts_sent"] < restored["ts"]]
        assert _resting(events[: withdrawn["seq"]], account)  # it was quoting
        assert _resting(events[: restored["seq"]], account) == {}
        cancels = [e for e in mine if e["type"] == "order_cancelled"]
        assert [e for e in cancels if e["cause"] == withdrawn["seq"]]
        after = [e for e in accepted if e["seq"] > restored["seq"]]
        assert after and after[0]["cause"] == restored["seq"]


def test_money_is_conserved_and_every_event_matches_the_schema(crash):
    """Money held equals money put in; every line (maker_state included) matches its declared
    type and fields."""
    result, events, _ = crash
    assert result.summary["money_held_minor"] == result.summary["money_deposited_net_minor"]
    registry = event_types()
    assert [validate_record(e, registry) for e in events if validate_record(e, registry)] == []
