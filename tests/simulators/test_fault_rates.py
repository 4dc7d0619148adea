"""Fault rules with a ``rate``: a share of the matching calls is hit, the rest pass untouched.

The load tests rely on this for "30 % of the calls fail or time out", so the share and the
bookkeeping of ``times`` are checked on both simulators' plans with a seeded chance.
"""

from __future__ import annotations

import random

import pytest

from simulators.dosis import faults as dosis_faults
from simulators.magda import faults as magda_faults


def test_magda_rate_hits_about_that_share_and_spared_calls_keep_their_times() -> None:
    plan = magda_faults.FaultPlan(random.Random(7))
    plan.add(magda_faults.parse_fault_rule(
        {"kind": "http-500", "times": 1_000_000, "rate": 0.3}, ["GeefPersoon"]))
    hits = sum(plan.take("GeefPersoon", None) is not None for _ in range(10_000))
    assert 2_800 <= hits <= 3_200
    assert plan.pending()[0]["times"] == 1_000_000 - hits


def test_magda_a_spared_call_falls_through_to_the_next_rule() -> None:
    plan = magda_faults.FaultPlan(random.Random(1))
    plan.add(magda_faults.FaultRule(kind="http-500", times=10_000, rate=0.5))
    plan.add(magda_faults.FaultRule(kind="timeout", times=10_000, rate=0.5))
    kinds = [getattr(plan.take("GeefPersoon", None), "kind", None) for _ in range(4_000)]
    # 50 % the first rule, 25 % the second, 25 % nothing.
    assert 1_850 <= kinds.count("http-500") <= 2_150
    assert 900 <= kinds.count("timeout") <= 1_100
    assert 900 <= kinds.count(None) <= 1_100


def test_dosis_rate_hits_about_that_share() -> None:
    plan = dosis_faults.FaultPlan(random.Random(3))
    plan.add(dosis_faults.parse_fault_rule(
        {"endpoint": "dossiers", "kind": "http-503", "times": 50_000, "rate": 0.2}))
    hits = sum(plan.take("dossiers", ("http-503",)) is not None for _ in range(10_000))
    assert 1_800 <= hits <= 2_200
    assert plan.take("token", ("http-503",)) is None


def test_a_rate_of_one_hits_every_call_and_uses_times_up() -> None:
    plan = magda_faults.FaultPlan()
    plan.add(magda_faults.FaultRule(kind="http-500", times=3))
    assert [plan.take("X", None) is not None for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize("rate", [0, -0.1, 1.5, "0.3", True])
def test_bad_rates_are_refused(rate: object) -> None:
    with pytest.raises(magda_faults.FaultRuleError, match="rate"):
        magda_faults.parse_fault_rule({"kind": "http-500", "rate": rate}, [])
    with pytest.raises(dosis_faults.FaultRuleError, match="rate"):
        dosis_faults.parse_fault_rule({"endpoint": "dossiers", "kind": "http-500", "rate": rate})
