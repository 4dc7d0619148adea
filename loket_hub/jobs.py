"""Typed jobs: one class per job type of contract v1, each giving the JSON body to publish.

    job = PopulationAttest(tenant="gent", requester=Person("85073003328"), product_id=1473,
                           dossier_id="DOS-2026-000123", attest="household-composition")
    result = await client.request(job)

The values each field takes are the schema's (``hub/schemas/job-v1.json``, explained in
``docs/contract.md``); a test checks these types against it. ``product_id`` is the product in
the municipality's catalogue (``mappings/products.toml`` of the hub), ``subject`` defaults to
the requester when the requester is a person. Identifiers may keep their separators: the hub
normalises them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from loket_hub.contract import CONTRACT_VERSION

__all__ = [
    "Association",
    "CivilStatusAct",
    "Company",
    "ContactDetailsChange",
    "CriminalRecordExtract",
    "Person",
    "PopulationAttest",
    "PrefillForm",
    "SelfRegistrationUrl",
    "Subject",
]

Language = Literal["nl", "fr", "de", "en"]
Attest = Literal[
    "belgian-nationality", "household-composition", "main-residence",
    "main-residence-history-municipality", "main-residence-history", "proof-of-life",
    "residence-and-nationality", "residence-for-marriage", "legal-cohabitation",
    "burial-manner",
]
Act = Literal[
    "adoption", "belgian-nationality", "divorce", "recognition", "recognition-before-birth",
    "declaration-of-absence", "gender-change", "stillborn-child", "choice-of-name",
    "name-change", "first-name-change", "birth", "marriage", "death",
]
ActForm = Literal["extract", "copy"]
Relationship = Literal["ascendant", "descendant", "spouse", "legal-representative", "heir",
                       "legal-interest"]
Model = Literal["593", "595", "596.1", "596.2"]
Basis = Literal["legal-representative", "product-right"]
SubjectKind = Literal["person", "company", "association"]


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


@dataclass(frozen=True)
class Person:
    """A citizen asking for themselves: their INSZ; ``authenticated`` when they logged in with
    eID or itsme."""

    identifier: str
    authenticated: bool = True
    name: str | None = None

    capacity: ClassVar[str] = "person"

    def to_dict(self) -> dict[str, Any]:
        return _without_none({"capacity": self.capacity, "identifier": self.identifier,
                              "authenticated": self.authenticated, "name": self.name})


@dataclass(frozen=True)
class Company:
    """A company (KBO number) acting through a person (``acting_person``, an INSZ) on a
    ``basis``."""

    identifier: str
    acting_person: str | None = None
    basis: Basis | None = None
    authenticated: bool = True
    name: str | None = None

    capacity: ClassVar[str] = "company"

    def to_dict(self) -> dict[str, Any]:
        return _without_none({
            "capacity": self.capacity, "identifier": self.identifier,
            "authenticated": self.authenticated, "basis": self.basis,
            "acting_person": self.acting_person, "name": self.name,
        })


@dataclass(frozen=True)
class Association(Company):
    """An association (``V`` + 7 digits) acting through a person."""

    capacity: ClassVar[str] = "association"


@dataclass(frozen=True)
class Subject:
    """About whom or what the job asks; a plain string where a subject is expected is a
    person's INSZ."""

    identifier: str
    kind: SubjectKind = "person"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "identifier": self.identifier}


@dataclass(frozen=True, kw_only=True)
class _Job:
    tenant: str
    requester: Person | Company | Association
    product_id: int
    dossier_id: str
    subject: Subject | str | None = None
    job_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    purpose: str | None = None
    created_at: str | None = None

    type: ClassVar[str]

    def parameters(self) -> dict[str, Any]:
        raise NotImplementedError

    def _subject(self) -> Subject:
        if isinstance(self.subject, Subject):
            return self.subject
        if isinstance(self.subject, str):
            return Subject(self.subject)
        if isinstance(self.requester, Person):
            return Subject(self.requester.identifier)
        raise ValueError(f"a {self.type} job of a {self.requester.capacity} names its subject")

    def to_dict(self) -> dict[str, Any]:
        """The job's JSON body (contract v1)."""
        return _without_none({
            "contract_version": CONTRACT_VERSION,
            "job_id": self.job_id,
            "type": self.type,
            "tenant": self.tenant,
            "requester": self.requester.to_dict(),
            "subject": self._subject().to_dict(),
            "product_id": self.product_id,
            "dossier_id": self.dossier_id,
            "purpose": self.purpose,
            "created_at": self.created_at,
            "parameters": self.parameters(),
        })


@dataclass(frozen=True, kw_only=True)
class PopulationAttest(_Job):
    """A population-register certificate (signed XML and PDF)."""

    attest: Attest
    language: Language | None = None

    type: ClassVar[str] = "population.attest"

    def parameters(self) -> dict[str, Any]:
        return _without_none({"attest": self.attest, "language": self.language})


@dataclass(frozen=True, kw_only=True)
class CivilStatusAct(_Job):
    """An extract or copy of a civil-status act (DABS); ``act_reference`` picks one act,
    ``relationship`` declares the requester's relation when they do not appear in it."""

    act: Act
    form: ActForm | None = None
    act_reference: str | None = None
    relationship: Relationship | None = None
    language: Language | None = None

    type: ClassVar[str] = "civil-status.act"

    def parameters(self) -> dict[str, Any]:
        return _without_none({"act": self.act, "form": self.form,
                              "act_reference": self.act_reference,
                              "relationship": self.relationship, "language": self.language})


@dataclass(frozen=True, kw_only=True)
class CriminalRecordExtract(_Job):
    """An extract of the criminal record; models 596.1 and 596.2 need an ``activity``."""

    model: Model
    activity: str | None = None
    language: Language | None = None
    remark: str | None = None

    type: ClassVar[str] = "criminal-record.extract"

    def __post_init__(self) -> None:
        if self.model in ("596.1", "596.2") and not self.activity:
            raise ValueError(f"a model {self.model} extract names its activity")

    def parameters(self) -> dict[str, Any]:
        return _without_none({"model": self.model, "activity": self.activity,
                              "language": self.language, "remark": self.remark})


@dataclass(frozen=True, kw_only=True)
class ContactDetailsChange(_Job):
    """New contact details, forwarded to the municipality's back office
    (``backoffice.forward``, product ``contact-details``)."""

    phone: str | None = None
    mobile: str | None = None
    email: str | None = None
    store_in_register: bool | None = None
    language: Language | None = None

    type: ClassVar[str] = "backoffice.forward"

    def __post_init__(self) -> None:
        if not (self.phone or self.mobile or self.email):
            raise ValueError("a change of contact details gives a phone, mobile or e-mail")

    def parameters(self) -> dict[str, Any]:
        contact = _without_none({"phone": self.phone, "mobile": self.mobile,
                                 "email": self.email})
        return _without_none({"product": "contact-details", "contact": contact,
                              "store_in_register": self.store_in_register,
                              "language": self.language})


@dataclass(frozen=True, kw_only=True)
class PrefillForm(_Job):
    """The values the registers know for a form's questions; ``claims`` are the login's."""

    question_ids: tuple[str, ...]
    claims: dict[str, str] | None = None

    type: ClassVar[str] = "prefill.form"

    def parameters(self) -> dict[str, Any]:
        return _without_none({"question_ids": list(self.question_ids), "claims": self.claims})


@dataclass(frozen=True, kw_only=True)
class SelfRegistrationUrl(_Job):
    """A link to register oneself for a user right or work relation; exactly one of
    ``application`` and ``user_right``."""

    environment: Literal["test", "production"]
    kind: Literal["user-right", "work-relation"]
    target_group: str
    application: str | None = None
    user_right: str | None = None
    context: str | None = None
    organisation_code: str | None = None

    type: ClassVar[str] = "usermgmt.self-registration-url"

    def __post_init__(self) -> None:
        if (self.application is None) == (self.user_right is None):
            raise ValueError("a self-registration link names an application or a user right")

    def parameters(self) -> dict[str, Any]:
        return _without_none({
            "environment": self.environment, "kind": self.kind,
            "target_group": self.target_group, "application": self.application,
            "user_right": self.user_right, "context": self.context,
            "organisation_code": self.organisation_code,
        })
