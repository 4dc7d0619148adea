"""Injected faults, queued through the control API and consumed by the endpoints in order."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "ENDPOINTS",
    "FAULT_KINDS",
    "TRANSPORT_KINDS",
    "FaultPlan",
    "FaultRule",
    "FaultRuleError",
    "parse_fault_rule",
]

ENDPOINTS = ("token", "dossiers", "resultaten", "notificaties")
TRANSPORT_KINDS = ("http-503", "http-500", "http-404", "empty-200", "timeout")
FAULT_KINDS = (*TRANSPORT_KINDS, "refuse-result")


class FaultRuleError(ValueError):
    """A fault rule from the control API is not acceptable."""


@dataclass
class FaultRule:
    """One fault to inject ``times`` more times on one endpoint.

    ``http-503``/``http-500``/``http-404``: answer that status (with a DOSIS error body) before
    doing anything (nothing is recorded). ``empty-200``: answer 200 with an empty JSON object
    before doing anything, an answer that is not the documented one.
    ``timeout``: do the work (an upload *is* recorded), then wait ``delay_ms`` before answering,
    as a reply lost on the way back. ``refuse-result`` (``dossiers`` only): the next upload
    that is accepted as new fails on processing (``Succes: false`` with a ``Fouten`` entry).

    ``rate`` (0 < rate <= 1) is the chance that a call to ``endpoint`` is hit; a spared call
    does not use up one of the ``times``.
    """

    endpoint: str
    kind: str
    times: int = 1
    delay_ms: int = 60_000
    rate: float = 1.0

    def to_json(self) -> dict[str, Any]:
        """The rule as the control API shows it."""
        return asdict(self)


def _count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def parse_fault_rule(data: Any) -> FaultRule:
    """Build a rule from control-API JSON, refusing unknown keys, endpoints and kinds."""
    if not isinstance(data, dict):
        raise FaultRuleError("a fault rule is a JSON object")
    unknown = set(data) - set(FaultRule.__dataclass_fields__)
    if unknown:
        raise FaultRuleError(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        rule = FaultRule(**data)
    except TypeError as exc:
        raise FaultRuleError(str(exc)) from exc
    checks = (
        (rule.endpoint in ENDPOINTS, f"endpoint must be one of {', '.join(ENDPOINTS)}"),
        (rule.kind in FAULT_KINDS, f"kind must be one of {', '.join(FAULT_KINDS)}"),
        (rule.kind != "refuse-result" or rule.endpoint == "dossiers",
         "refuse-result only applies to the dossiers endpoint"),
        (_count(rule.times, 1), "times must be a positive integer"),
        (_count(rule.delay_ms, 0), "delay_ms must be an integer >= 0"),
        (isinstance(rule.rate, int | float) and not isinstance(rule.rate, bool)
         and 0 < rule.rate <= 1, "rate must be a number above 0 and at most 1"),
    )
    for ok, message in checks:
        if not ok:
            raise FaultRuleError(message)
    return rule


class FaultPlan:
    """The pending rules; a call consumes one use of the first rule that applies to it."""

    def __init__(self, chance: random.Random | None = None) -> None:
        self._rules: list[FaultRule] = []
        self._chance = chance or random.Random()

    def add(self, rule: FaultRule) -> None:
        """Queue a rule after the ones already pending."""
        self._rules.append(rule)

    def take(self, endpoint: str, kinds: Iterable[str]) -> FaultRule | None:
        """Consume one use of the first pending rule for ``endpoint`` of one of ``kinds``.

        Transport faults and ``refuse-result`` act at different moments of a call, so each
        moment takes only its own kinds: a queued refusal does not hold back a 503.
        """
        wanted = set(kinds)
        for rule in self._rules:
            if rule.endpoint == endpoint and rule.kind in wanted:
                if rule.rate < 1 and self._chance.random() >= rule.rate:
                    continue
                rule.times -= 1
                if rule.times == 0:
                    self._rules.remove(rule)
                return rule
        return None

    def pending(self) -> list[dict[str, Any]]:
        """The pending rules as JSON."""
        return [rule.to_json() for rule in self._rules]

    def clear(self) -> int:
        """Drop every pending rule; return how many there were."""
        count = len(self._rules)
        self._rules.clear()
        return count
