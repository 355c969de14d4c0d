"""configs/scenarios/makers_crash.toml: two adaptive makers with different parameters, noise
traders and a TWAP seller through a scripted 10 % index crash (30 s to 50 s): each maker withdraws
its depth during the crash and restores it after."""

from __future__ import annotations

import os

import pytest

import exchange_sim as es
from exchange_sim.analysis.impact import metaorders
from exchange_sim.core.units import NS_PER_S
from exchange_sim.runner.event_catalog import event_types, validate_record

S = NS_PER_S

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "configs", "scenarios", "makers_crash.toml")


@pytest.fixture(scope="module")
def crash():
    result = es.run(SCENARIO, keep_events=True)
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


def test_the_seller_s_metaorder_ends_and_reads_back(crash):
    """The TWAP seller's metaorder ends inside the run; analysis.impact reads it back with the
    logged VWAP and impact, and its filled lots equal its trades."""
    _, events, _ = crash
    (order,) = metaorders(events)
    (end,) = [e for e in events if e["type"] == "metaorder" and e["phase"] == "end"]
    assert (order.end_ts, order.vwap_ticks, order.impact_ppb) == (
        end["ts"],
        end["vwap_ticks"],
        end["impact_ppb"],
    )
    sold = [e for e in events if e["type"] == "trade" and e["taker_account_id"] == order.account_id]
    assert order.filled_lots == sum(e["size_lots"] for e in sold) > 0
    assert order.children == 20
