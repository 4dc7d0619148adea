"""Injected faults of ``POST /requests``, queued through the control API, consumed in order."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FAULT_KINDS", "FaultPlan", "FaultRule", "FaultRuleError", "parse_fault_rule"]

FAULT_KINDS = ("http-503", "timeout")


class FaultRuleError(ValueError):
    """A fault rule from the control API is not acceptable."""


@dataclass
class FaultRule:
    """One fault for the next ``times`` requests.

    ``http-503``: answer 503 before anything else (nothing is recorded). ``timeout``: take the
    request (it *is* recorded and its script starts), then wait ``delay_ms`` before answering,
    as a reply lost on the way back — the hub's retry must not open a second case.
    """

    kind: str
    times: int = 1
    delay_ms: int = 60_000

    def to_json(self) -> dict[str, Any]:
        """The rule as the control API shows it."""
        return asdict(self)


def _count(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def parse_fault_rule(data: Any) -> FaultRule:
    """Build a rule from control-API JSON, refusing unknown keys and kinds."""
    if not isinstance(data, dict):
        raise FaultRuleError("a fault rule is a JSON object")
    unknown = set(data) - set(FaultRule.__dataclass_fields__)
    if unknown:
        raise FaultRuleError(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        rule = FaultRule(**data)
    except TypeError as exc:
        raise FaultRuleError(str(exc)) from exc
    if rule.kind not in FAULT_KINDS:
        raise FaultRuleError(f"kind must be one of {', '.join(FAULT_KINDS)}")
    if not _count(rule.times, 1):
        raise FaultRuleError("times must be a positive integer")
    if not _count(rule.delay_ms, 0):
        raise FaultRuleError("delay_ms must be an integer >= 0")
    return rule


class FaultPlan:
    """The pending rules; each request consumes one use of the first."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        """Queue a rule after the ones already pending."""
        self._rules.append(rule)

    def take(self) -> FaultRule | None:
        """Consume one use of the first pending rule, if any."""
        if not self._rules:
            return None
        rule = self._rules[0]
        rule.times -= 1
        if rule.times == 0:
            self._rules.pop(0)
        return rule

    def pending(self) -> list[dict[str, Any]]:
        """The pending rules as JSON."""
        return [rule.to_json() for rule in self._rules]

    def clear(self) -> int:
        """Drop every pending rule; return how many there were."""
        count = len(self._rules)
        self._rules.clear()
        return count
