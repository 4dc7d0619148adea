"""Who may ask for what: automatic delivery, a human's approval, or a refusal.

Decided before any back end is called, from data: ``mappings/policy.toml`` (per job type), the
tenant's list of companies and associations with rights (``mappings/tenants/<slug>.toml``) and
the product catalogue (``mappings/products.toml``). Every decision names the rule that made it;
that name goes into the result and the audit.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hub.config import REPO_ROOT, TenantRight, TenantSettings
from hub.contract import Job
from hub.errors import ApprovalRequired, ConfigurationError, InvalidInput, NotAllowed
from hub.status.mapping import Catalogue, load_catalogue

__all__ = [
    "LISTED_RIGHT",
    "Decision",
    "PolicyRules",
    "check_product",
    "decide",
    "job_kind",
    "kind_of",
    "load_policy",
    "unmet_condition",
]

POLICY_FILE = REPO_ROOT / "mappings/policy.toml"
OUTCOMES = frozenset({"approval", "refuse", "adapter"})
LISTED_RIGHT = "listed-right"
"""``decided_by`` of a job a listed right let through: ``listed-right:<holder>``."""


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


def _apply(outcome: str, rule: str, reason: str, **details: str) -> Decision:
    if outcome == "approval":
        raise ApprovalRequired(reason, details={"rule": rule, **details})
    if outcome == "refuse":
        raise NotAllowed(reason, code="NOT_ENTITLED", details={"rule": rule, **details})
    return Decision(rule=f"{rule}:adapter-decides", reason=reason)


def kind_of(parameters: Mapping[str, Any]) -> str | None:
    """The kind within a job type (attest, act, model, product), as the catalogue keys it."""
    for key in ("attest", "act", "model", "product"):
        value = parameters.get(key)
        if isinstance(value, str):
            return value
    return None


def job_kind(job: Job) -> str | None:
    return kind_of(job.parameters)


def check_product(job: Job, catalogue: Catalogue) -> None:
    """Raise ``PRODUCT_MISMATCH`` unless ``job.product_id`` is one of its type's products."""
    if catalogue.belongs(job.type, job.product_id):
        return
    raise InvalidInput(
        f"product {job.product_id} is not a product of {job.type} in the product catalogue",
        code="PRODUCT_MISMATCH",
        details={"rule": "product", "product_id": job.product_id,
                 "products": sorted(catalogue.products_of(job.type))},
    )


def _holds(right: TenantRight, capacity: str, identifier: str) -> bool:
    if capacity == "company":
        return bool(right.kbo) and right.kbo == identifier
    if capacity == "association":
        return bool(right.association) and right.association == identifier
    return False


def unmet_condition(right: TenantRight, job: Job, catalogue: Catalogue) -> str | None:
    """What the job lacks to use ``right`` (None: it meets it).

    ``basis`` (none named), ``basis-not-granted`` (one the right does not give),
    ``acting-person`` (no natural person named), ``product-not-granted`` (a product right
    for other products: the job's product_id or the product of the kind it asks).
    """
    requester = job.requester
    if requester.basis is None:
        return "basis"
    if requester.basis not in right.bases:
        return "basis-not-granted"
    if not requester.acting_person:
        return "acting-person"
    if requester.basis == "product-right":
        entry = catalogue.entry(job.type, job_kind(job))
        asked = entry.id if entry is not None else None
        if job.product_id not in right.products or asked not in right.products:
            return "product-not-granted"
    return None


_UNMET = {
    "basis": "names no requester.basis",
    "basis-not-granted": "names a basis the right does not grant",
    "acting-person": "names no acting_person",
    "product-not-granted": "asks for a product the right does not list",
}


def decide(
    job: Job, tenant: TenantSettings, rules: PolicyRules, catalogue: Catalogue | None = None,
) -> Decision:
    """The decision for ``job``; raises :class:`ApprovalRequired`, :class:`NotAllowed`, or
    :class:`InvalidInput` (``PRODUCT_MISMATCH``)."""
    catalogue = catalogue or load_catalogue()
    check_product(job, catalogue)
    requester = job.requester
    third_party, unauthenticated = rules.for_type(job.type)
    if not requester.authenticated:
        return _apply(unauthenticated, "unauthenticated",
                      "the requester did not log in with a secure method")
    if job.subject.kind == requester.capacity and requester.identifier == job.subject.identifier:
        return Decision(rule="self", reason="a logged-in requester asking about themself")
    unmet: tuple[TenantRight, str] | None = None
    for right in tenant.rights:
        if not _holds(right, requester.capacity, requester.identifier) \
                or job.type not in right.job_types:
            continue
        missing = unmet_condition(right, job, catalogue)
        if missing is None:
            return Decision(
                rule=f"{LISTED_RIGHT}:{right.holder}",
                reason=f"{right.name or right.holder} may receive {job.type} automatically "
                       f"({requester.basis})",
            )
        unmet = unmet or (right, missing)
    if unmet is not None:
        # A right the job does not meet gives nothing: the requester is any third party.
        right, missing = unmet
        return _apply(third_party, f"{LISTED_RIGHT}-unmet",
                      f"{right.name or right.holder} has a listed right for {job.type}, but the "
                      f"job {_UNMET[missing]}; handled as any third party's request",
                      right=right.holder, unmet=missing)
    return _apply(third_party, "third-party",
                  f"a {requester.capacity} asking about someone else without a listed right")
