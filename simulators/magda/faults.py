"""Injected faults, set through the control API and consumed by the SOAP endpoint in order."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "FAULT_KINDS",
    "PADDING_CODE",
    "SIGNING_FAULT_KINDS",
    "FaultPlan",
    "FaultRule",
    "FaultRuleError",
    "parse_fault_rule",
]

FAULT_KINDS = (
    "http-500",
    "timeout",
    "magda-error",
    "soap-fault",
    "malformed-xml",
    "entity-declaration",
    "tampered-reply-signature",
    "tampered-reply-attachment",
    "unsigned-reply",
    "huge-answer",
)
SIGNING_FAULT_KINDS = ("tampered-reply-signature", "tampered-reply-attachment")
"""Kinds that need reply signing switched on (``reply_signing`` in the settings)."""
PADDING_CODE = "99000"
"""The simulator's own code for the huge-answer padding warning (no MAGDA code)."""
_MAX_PADDING = 64 * 1024 * 1024
_LEVELS = ("antwoord", "repliek")
_TYPES = ("FOUT", "WAARSCHUWING", "INFORMATIE")


class FaultRuleError(ValueError):
    """A fault rule from the control API is not acceptable."""


@dataclass
class FaultRule:
    """One fault to inject ``times`` more times, for one service (or any) and one INSZ (or any).

    ``kind``: ``http-500`` (a bare HTTP 500, as from a proxy), ``timeout`` (wait ``delay_ms``,
    then answer normally), ``magda-error`` (an Uitzondering ``code`` on the Antwoord or Repliek
    ``level``), ``soap-fault`` (HTTP 500 with a SOAP Fault), ``malformed-xml`` (HTTP 200 with a
    truncated document), ``entity-declaration`` (HTTP 200, the document starts with a DOCTYPE
    declaring an internal entity the Body uses), ``tampered-reply-signature`` (signed, then one
    character of the Body changed; needs reply signing), ``tampered-reply-attachment`` (signed,
    then one byte of the first MTOM part changed; a reply without one has its Body changed
    instead; needs reply signing), ``unsigned-reply`` (no signature even
    with reply signing on) or ``huge-answer`` (the normal answer plus a WAARSCHUWING
    :data:`PADDING_CODE` whose Diagnose is padded to ``size_bytes``).

    ``rate`` (0 < rate <= 1) is the chance that a matching call is hit; a call that is spared
    does not use up one of the ``times``. A load test sets ``rate`` 0.3 and a large ``times``
    for "30 % of the calls fail".

    With ``timeout``, ``malformed-xml`` and the reply kinds the service still does its work, so
    a registration is recorded even when its answer is then lost or spoilt.
    """

    kind: str
    times: int = 1
    service: str | None = None
    insz: str | None = None
    code: str = "90000"
    level: str = "antwoord"
    type: str = "FOUT"
    oorsprong: str = "MAGDA"
    diagnose: str = "Gesimuleerde fout"
    delay_ms: int = 60_000
    faultstring: str = "Gesimuleerde SOAP-fout"
    size_bytes: int = 3_000_000
    rate: float = 1.0

    def matches(self, service: str, insz: str | None) -> bool:
        """Whether this rule applies to a call about ``insz`` to ``service``."""
        return (
            self.times > 0
            and self.service in (None, service)
            and self.insz in (None, insz)
        )

    def to_json(self) -> dict[str, Any]:
        """The rule as the control API shows it."""
        return asdict(self)


def parse_fault_rule(data: Mapping[str, Any], services: Iterable[str]) -> FaultRule:
    """Build a rule from control-API JSON, refusing unknown keys, kinds and services."""
    if not isinstance(data, Mapping):
        raise FaultRuleError("a fault rule is a JSON object")
    unknown = set(data) - set(FaultRule.__dataclass_fields__)
    if unknown:
        raise FaultRuleError(f"unknown fields: {', '.join(sorted(unknown))}")
    try:
        rule = FaultRule(**data)
    except TypeError as exc:
        raise FaultRuleError(str(exc)) from exc
    known = set(services)
    checks = (
        (rule.kind in FAULT_KINDS, f"kind must be one of {', '.join(FAULT_KINDS)}"),
        (rule.service is None or rule.service in known, f"unknown service {rule.service!r}"),
        (_positive_int(rule.times), "times must be a positive integer"),
        (_positive_int(rule.delay_ms) or rule.delay_ms == 0, "delay_ms must be an integer >= 0"),
        (_positive_int(rule.size_bytes) and rule.size_bytes <= _MAX_PADDING,
         f"size_bytes must be an integer from 1 to {_MAX_PADDING}"),
        (_probability(rule.rate), "rate must be a number above 0 and at most 1"),
        (rule.level in _LEVELS, "level must be antwoord or repliek"),
        (rule.type in _TYPES, "type must be FOUT, WAARSCHUWING or INFORMATIE"),
        (rule.insz is None or (isinstance(rule.insz, str) and rule.insz.isdigit()),
         "insz must be a string of digits"),
        (all(isinstance(v, str) and v for v in (rule.code, rule.oorsprong, rule.diagnose,
                                                rule.faultstring)),
         "code, oorsprong, diagnose and faultstring must be non-empty strings"),
    )
    for ok, message in checks:
        if not ok:
            raise FaultRuleError(message)
    return rule


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _probability(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1


class FaultPlan:
    """The pending rules; a call consumes one use of the first rule that matches it."""

    def __init__(self, chance: random.Random | None = None) -> None:
        self._rules: list[FaultRule] = []
        self._chance = chance or random.Random()

    def add(self, rule: FaultRule) -> None:
        """Queue a rule after the ones already pending."""
        self._rules.append(rule)

    def take(self, service: str, insz: str | None) -> FaultRule | None:
        """Consume one use of the first matching rule and return it, or None."""
        for rule in self._rules:
            if rule.matches(service, insz):
                if rule.rate < 1 and self._chance.random() >= rule.rate:
                    continue
                rule.times -= 1
                if rule.times == 0:
                    self._rules.remove(rule)
                return rule
        return None

    def clear(self) -> int:
        """Drop every pending rule; return how many there were."""
        count = len(self._rules)
        self._rules.clear()
        return count

    def pending(self) -> list[dict[str, Any]]:
        """The pending rules as JSON."""
        return [rule.to_json() for rule in self._rules]
