"""Who may ask for what: automatic delivery, a human's approval, or a refusal.

Decided before any back end is called, from data: ``mappings/policy.toml`` (per job type) and the
tenant's list of companies and associations with rights. Every decision names the rule that made
it; that name goes into the result and the audit.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hub.config import REPO_ROOT, TenantSettings
from hub.contract import Job
from hub.errors import ApprovalRequired, ConfigurationError, NotAllowed

__all__ = ["Decision", "PolicyRules", "decide", "load_policy"]

POLICY_FILE = REPO_ROOT / "mappings/policy.toml"
OUTCOMES = frozenset({"approval", "refuse", "adapter"})


@dataclass(frozen=True)
class Decision:
    """An automatic go-ahead and the rule that gave it (refusals and approvals raise)."""

    rule: str
    reason: str


@dataclass(frozen=True)
class PolicyRules:
    third_party: dict[str, str]
    unauthenticated: dict[str, str]

    def for_type(self, job_type: str) -> tuple[str, str]:
        return (
            self.third_party.get(job_type, self.third_party["*"]),
            self.unauthenticated.get(job_type, self.unauthenticated["*"]),
        )


@cache
def load_policy(path: Path = POLICY_FILE) -> PolicyRules:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    defaults = data.get("defaults", {})
    third = {"*": defaults.get("third_party", "approval")}
    unauth = {"*": defaults.get("unauthenticated", "approval")}
    for job_type, entry in data.get("types", {}).items():
        if "third_party" in entry:
            third[job_type] = entry["third_party"]
        if "unauthenticated" in entry:
            unauth[job_type] = entry["unauthenticated"]
    for value in (*third.values(), *unauth.values()):
        if value not in OUTCOMES:
            raise ConfigurationError(f"{path.name}: unknown policy outcome {value!r}")
    return PolicyRules(third_party=third, unauthenticated=unauth)


def _apply(outcome: str, rule: str, reason: str) -> Decision:
    if outcome == "approval":
        raise ApprovalRequired(reason, details={"rule": rule})
    if outcome == "refuse":
        raise NotAllowed(reason, code="NOT_ENTITLED", details={"rule": rule})
    return Decision(rule=f"{rule}:adapter-decides", reason=reason)


def decide(job: Job, tenant: TenantSettings, rules: PolicyRules) -> Decision:
    """The decision for ``job``; raises :class:`ApprovalRequired` or :class:`NotAllowed`."""
    requester = job.requester
    third_party, unauthenticated = rules.for_type(job.type)
    if not requester.authenticated:
        return _apply(unauthenticated, "unauthenticated",
                      "the requester did not log in with a secure method")
    if job.subject.kind == requester.capacity and requester.identifier == job.subject.identifier:
        return Decision(rule="self", reason="a logged-in requester asking about themself")
    for right in tenant.rights:
        holder = right.kbo if requester.capacity == "company" else right.association
        if holder and holder == requester.identifier and job.type in right.job_types:
            return Decision(
                rule=f"listed-right:{holder}",
                reason=f"{right.name or holder} may receive {job.type} automatically",
            )
    return _apply(third_party, "third-party",
                  f"a {requester.capacity} asking about someone else without a listed right")
