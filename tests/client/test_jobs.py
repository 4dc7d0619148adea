"""The typed jobs of loket_hub.jobs give bodies the job schema accepts, and their value types
are the schema's."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from hub.contract_decoding import decode_job, job_schema
from loket_hub import jobs
from loket_hub.jobs import (
    Association,
    CivilStatusAct,
    Company,
    ContactDetailsChange,
    CriminalRecordExtract,
    Person,
    PopulationAttest,
    PrefillForm,
    SelfRegistrationUrl,
    Subject,
)

INSZ = "85073003328"
COMMON: dict[str, Any] = {"tenant": "gent", "requester": Person(INSZ), "dossier_id": "DOS-1"}

EXAMPLES = [
    PopulationAttest(**COMMON, product_id=1473, attest="household-composition"),
    PopulationAttest(**COMMON, product_id=1473, attest="proof-of-life", language="fr",
                     purpose="asked at the counter", created_at="2026-11-23T10:15:00Z"),
    CivilStatusAct(**COMMON, product_id=1490, act="birth"),
    CivilStatusAct(**COMMON, product_id=1490, act="marriage", form="copy",
                   act_reference="REF-1", relationship="descendant", subject="46061400105",
                   language="nl"),
    CriminalRecordExtract(**COMMON, product_id=1500, model="595"),
    CriminalRecordExtract(**COMMON, product_id=1501, model="596.2", activity="JEUGDWERK",
                          remark="for the youth club", language="de"),
    ContactDetailsChange(**COMMON, product_id=1510, email="jan@example.org"),
    ContactDetailsChange(**COMMON, product_id=1510, phone="09 123 45 67", mobile="0470 12 34 56",
                         store_in_register=True, language="en"),
    PrefillForm(**COMMON, product_id=1520, question_ids=("person_requester_1_street",),
                claims={"first_name": "Jan"}),
    PrefillForm(tenant="gent", requester=Company("0202.239.951", acting_person=INSZ,
                                                 basis="legal-representative"),
                subject=Subject("0202239951", kind="company"), dossier_id="DOS-2",
                product_id=1520, question_ids=()),
    SelfRegistrationUrl(**COMMON, product_id=1530, environment="test", kind="user-right",
                        target_group="burgers", user_right="right-1"),
    SelfRegistrationUrl(tenant="gent", dossier_id="DOS-3", product_id=1530,
                        requester=Association("V1234567", acting_person=INSZ,
                                              basis="product-right"),
                        subject=Subject("V1234567", kind="association"), environment="production",
                        kind="work-relation", target_group="x", application="app",
                        context="ctx", organisation_code="0202239951"),
]


@pytest.mark.parametrize("job", EXAMPLES, ids=lambda j: j.type)
def test_every_typed_job_is_valid_against_the_schema(job: Any) -> None:
    body = job.to_dict()
    validator = Draft202012Validator(job_schema(), format_checker=FormatChecker())
    assert [e.message for e in validator.iter_errors(body)] == []
    assert body["type"] == job.type
    # And the hub reads it as that job.
    decoded = decode_job(json.dumps(body).encode(), body["job_id"])
    assert decoded.type == job.type
    assert decoded.parameters == body["parameters"]


def test_every_job_type_of_the_schema_has_its_class() -> None:
    classes = {cls.type for cls in vars(jobs).values()
               if isinstance(cls, type) and issubclass(cls, jobs._Job) and cls is not jobs._Job}
    assert classes == set(job_schema()["properties"]["type"]["enum"])


@pytest.mark.parametrize(("literal", "pointer"), [
    (jobs.Attest, "population_attest_parameters/properties/attest"),
    (jobs.Act, "civil_status_parameters/properties/act"),
    (jobs.ActForm, "civil_status_parameters/properties/form"),
    (jobs.Relationship, "civil_status_parameters/properties/relationship"),
    (jobs.Model, "criminal_record_parameters/properties/model"),
    (jobs.Language, "population_attest_parameters/properties/language"),
    (jobs.Basis, "requester/properties/basis"),
    (jobs.SubjectKind, "subject/properties/kind"),
])
def test_the_value_types_are_the_schema_enums(literal: Any, pointer: str) -> None:
    node: Any = job_schema()["$defs"]
    for part in pointer.split("/"):
        node = node[part]
    assert list(typing.get_args(literal)) == node["enum"]


def test_what_the_schema_would_refuse_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="activity"):
        CriminalRecordExtract(**COMMON, product_id=1501, model="596.1")
    with pytest.raises(ValueError, match="phone, mobile or e-mail"):
        ContactDetailsChange(**COMMON, product_id=1510)
    with pytest.raises(ValueError, match="application or a user right"):
        SelfRegistrationUrl(**COMMON, product_id=1530, environment="test", kind="user-right",
                            target_group="x", application="a", user_right="b")
    company = PrefillForm(tenant="gent", requester=Company("0202239951"), dossier_id="D",
                          product_id=1520, question_ids=())
    with pytest.raises(ValueError, match="names its subject"):
        company.to_dict()


def test_each_job_gets_its_own_id_unless_given() -> None:
    first, second = (PopulationAttest(**COMMON, product_id=1473, attest="main-residence")
                     for _ in range(2))
    assert first.job_id != second.job_id
    given = PopulationAttest(**COMMON, product_id=1473, attest="main-residence",
                             job_id="job-0000-0042")
    assert given.to_dict()["job_id"] == "job-0000-0042"
