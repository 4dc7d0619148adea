import pytest

from hub.config import REPO_ROOT, load_tenants
from hub.contract import Job, Requester, Subject
from hub.errors import ApprovalRequired, NotAllowed
from hub.policy import decide, load_policy

GENT = load_tenants(REPO_ROOT / "mappings/tenants")["gent"]
RULES = load_policy()
PERSON = "85073003328"
OTHER = "93051822361"


def _job(requester: Requester, job_type: str = "population.attest") -> Job:
    return Job("job-policy-1", job_type, "gent", requester, Subject("person", PERSON), 1, "D",
               {"attest": "household-composition"})


def test_self() -> None:
    assert decide(_job(Requester("person", PERSON, True)), GENT, RULES).rule == "self"


def test_listed_company_right() -> None:
    decision = decide(_job(Requester("company", "0566988259", True)), GENT, RULES)
    assert decision.rule == "listed-right:0566988259"


def test_listed_company_only_for_its_job_types() -> None:
    with pytest.raises(NotAllowed):
        decide(_job(Requester("company", "0566988259", True), "criminal-record.extract"),
               GENT, RULES)


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
