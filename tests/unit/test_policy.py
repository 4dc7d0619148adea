import dataclasses
from typing import Any

import pytest

from hub.config import REPO_ROOT, TenantRight, TenantSettings, load_tenants
from hub.contract import Job, Requester, Subject
from hub.errors import ApprovalRequired, InvalidInput, NotAllowed
from hub.policy import decide, load_policy
from hub.status.mapping import load_catalogue

GENT = load_tenants(REPO_ROOT / "mappings/tenants")["gent"]
RULES = load_policy()
CATALOGUE = load_catalogue()
PERSON = "85073003328"
OTHER = "93051822361"
NOTARY = "0566988259"  # listed in mappings/tenants/gent.toml
ASSOCIATION = "V0001001"
HOUSEHOLD = 1473
NATIONALITY = 1474

PARAMETERS: dict[str, dict[str, Any]] = {
    "population.attest": {"attest": "household-composition"},
    "civil-status.act": {"act": "birth"},
    "criminal-record.extract": {"model": "595"},
}
PRODUCTS = {"population.attest": HOUSEHOLD, "civil-status.act": 1490,
            "criminal-record.extract": 1500}


def _job(requester: Requester, job_type: str = "population.attest", *,
         product_id: int | None = None, parameters: dict[str, Any] | None = None) -> Job:
    return Job("job-policy-1", job_type, "gent", requester, Subject("person", PERSON),
               product_id or PRODUCTS[job_type], "D", parameters or PARAMETERS[job_type])


def _company(basis: str | None = "legal-representative", acting: str | None = OTHER,
             identifier: str = NOTARY, capacity: str = "company") -> Requester:
    return Requester(capacity, identifier, True, basis=basis, acting_person=acting)


def _with_rights(*rights: TenantRight) -> TenantSettings:
    return dataclasses.replace(GENT, rights=rights)


def test_self() -> None:
    assert decide(_job(Requester("person", PERSON, True)), GENT, RULES).rule == "self"


def test_listed_company_right_with_its_basis_and_acting_person() -> None:
    decision = decide(_job(_company()), GENT, RULES, CATALOGUE)
    assert decision.rule == f"listed-right:{NOTARY}"


def test_listed_company_only_for_its_job_types() -> None:
    with pytest.raises(NotAllowed) as info:
        decide(_job(_company(), "criminal-record.extract"), GENT, RULES, CATALOGUE)
    assert info.value.details["rule"] == "third-party"


@pytest.mark.parametrize(
    ("requester", "unmet"),
    [
        (_company(basis=None), "basis"),
        (_company(acting=None), "acting-person"),
        (_company(basis=None, acting=None), "basis"),
    ],
)
def test_a_listed_right_without_basis_or_acting_person_is_never_automatic(
    requester: Requester, unmet: str
) -> None:
    # population.attest: the third-party outcome is an employee's approval.
    with pytest.raises(ApprovalRequired) as info:
        decide(_job(requester), GENT, RULES, CATALOGUE)
    assert info.value.details == {"rule": "listed-right-unmet", "right": NOTARY, "unmet": unmet}


def test_a_basis_the_right_does_not_grant_is_never_automatic() -> None:
    tenant = _with_rights(TenantRight(kbo=NOTARY, job_types=("population.attest",),
                                      bases=("product-right",), products=(HOUSEHOLD,)))
    with pytest.raises(ApprovalRequired) as info:
        decide(_job(_company("legal-representative")), tenant, RULES, CATALOGUE)
    assert info.value.details["unmet"] == "basis-not-granted"
    assert decide(_job(_company("product-right")), tenant, RULES, CATALOGUE).rule == \
        f"listed-right:{NOTARY}"


def test_a_product_right_is_checked_per_product() -> None:
    nationality = {"attest": "belgian-nationality"}
    # The notary's product right lists household composition, not nationality.
    with pytest.raises(ApprovalRequired) as info:
        decide(_job(_company("product-right"), product_id=NATIONALITY, parameters=nationality),
               GENT, RULES, CATALOGUE)
    assert info.value.details["unmet"] == "product-not-granted"
    # Naming a listed product_id does not make another attest one of its products.
    with pytest.raises(ApprovalRequired) as info:
        decide(_job(_company("product-right"), product_id=HOUSEHOLD, parameters=nationality),
               GENT, RULES, CATALOGUE)
    assert info.value.details["unmet"] == "product-not-granted"
    # A legal representative has the right for every product of the type.
    decision = decide(_job(_company(), product_id=NATIONALITY, parameters=nationality),
                      GENT, RULES, CATALOGUE)
    assert decision.rule == f"listed-right:{NOTARY}"


def test_an_unmet_right_for_a_refused_type_is_refused() -> None:
    tenant = _with_rights(TenantRight(kbo=NOTARY, job_types=("criminal-record.extract",),
                                      bases=("legal-representative",)))
    assert decide(_job(_company(), "criminal-record.extract"), tenant, RULES).rule == \
        f"listed-right:{NOTARY}"
    with pytest.raises(NotAllowed) as info:
        decide(_job(_company(acting=None), "criminal-record.extract"), tenant, RULES)
    assert info.value.code == "NOT_ENTITLED"
    assert info.value.details["rule"] == "listed-right-unmet"


def test_an_unmet_right_for_civil_status_leaves_it_to_the_act_rules() -> None:
    decision = decide(_job(_company(basis=None), "civil-status.act"), GENT, RULES, CATALOGUE)
    assert decision.rule == "listed-right-unmet:adapter-decides"


def test_an_association_is_held_to_its_right_the_same_way() -> None:
    tenant = _with_rights(TenantRight(association=ASSOCIATION, job_types=("population.attest",),
                                      bases=("product-right",), products=(HOUSEHOLD,)))
    association = _company("product-right", identifier=ASSOCIATION, capacity="association")
    assert decide(_job(association), tenant, RULES, CATALOGUE).rule == \
        f"listed-right:{ASSOCIATION}"
    for requester, unmet in [
        (dataclasses.replace(association, basis=None), "basis"),
        (dataclasses.replace(association, acting_person=None), "acting-person"),
        (dataclasses.replace(association, basis="legal-representative"), "basis-not-granted"),
    ]:
        with pytest.raises(ApprovalRequired) as info:
            decide(_job(requester), tenant, RULES, CATALOGUE)
        assert info.value.details["unmet"] == unmet
    with pytest.raises(ApprovalRequired) as info:
        decide(_job(association, product_id=NATIONALITY,
                    parameters={"attest": "belgian-nationality"}), tenant, RULES, CATALOGUE)
    assert info.value.details["unmet"] == "product-not-granted"
    # A company with the association's number-shaped identifier holds nothing.
    with pytest.raises(ApprovalRequired) as info:
        decide(_job(_company()), tenant, RULES, CATALOGUE)
    assert info.value.details["rule"] == "third-party"


@pytest.mark.parametrize(
    ("job_type", "product_id"),
    [("population.attest", 1500), ("civil-status.act", HOUSEHOLD),
     ("criminal-record.extract", 1490), ("population.attest", 999999)],
)
def test_a_product_of_another_type_is_rejected_first(job_type: str, product_id: int) -> None:
    # Even a requester who would be served at once: the product decides before anyone.
    with pytest.raises(InvalidInput) as info:
        decide(_job(Requester("person", PERSON, True), job_type, product_id=product_id),
               GENT, RULES, CATALOGUE)
    assert info.value.code == "PRODUCT_MISMATCH"
    assert info.value.details["rule"] == "product"
    products = info.value.details["products"]
    assert isinstance(products, list) and PRODUCTS[job_type] in products


def test_every_product_of_a_type_and_its_kinds_belongs_to_it() -> None:
    assert CATALOGUE.products_of("population.attest") == frozenset(range(1473, 1482))
    assert CATALOGUE.products_of("criminal-record.extract") == {1500, 1501}
    nationality = _job(Requester("person", PERSON, True), product_id=NATIONALITY,
                       parameters={"attest": "household-composition"})
    assert decide(nationality, GENT, RULES, CATALOGUE).rule == "self"


@pytest.mark.parametrize(
    ("requester", "rule"),
    [
        (Requester("person", OTHER, True), "third-party"),
        (Requester("person", PERSON, False), "unauthenticated"),
        (Requester("company", "0403170701", True), "third-party"),
        (Requester("association", "V0001001", True), "third-party"),
    ],
)
def test_needs_approval(requester: Requester, rule: str) -> None:
    with pytest.raises(ApprovalRequired) as info:
        decide(_job(requester), GENT, RULES)
    assert info.value.details["rule"] == rule


def test_criminal_record_refuses_third_parties_and_unauthenticated() -> None:
    for requester in (Requester("person", OTHER, True), Requester("person", PERSON, False)):
        with pytest.raises(NotAllowed) as info:
            decide(_job(requester, "criminal-record.extract"), GENT, RULES)
        assert info.value.code == "NOT_ENTITLED"


def test_civil_status_leaves_third_parties_to_the_act_rules() -> None:
    decision = decide(_job(Requester("person", OTHER, True), "civil-status.act"), GENT, RULES)
    assert decision.rule == "third-party:adapter-decides"
