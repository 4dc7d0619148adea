"""Status events → DOSIS uploads: the shape of ``dosis.md``, citizen texts, what gets pushed."""

from __future__ import annotations

import dataclasses
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from hub.config import REPO_ROOT, load_tenants
from hub.messages import StatusEvent
from hub.status.mapping import (
    HUB_STATUSES,
    dossier_payload,
    load_catalogue,
    load_status_table,
    load_status_texts,
    local_date_time,
    not_for_profile,
    notification_bundle,
    product_for,
    upload_id_for,
)
from tests.simulators.dosis.factories import reference_sample

TENANTS = load_tenants(REPO_ROOT / "mappings/tenants")
GENT = TENANTS["gent"]
TABLE = load_status_table()
TEXTS = load_status_texts()
CATALOGUE = load_catalogue()
EVENT: dict[str, Any] = {
    "event_id": "0b8f3a64-2f5b-5b8e-9f43-3e1f0e5a2b11",
    "job_id": "job-1",
    "type": "population.attest",
    "kind": "household-composition",
    "tenant": "gent",
    "dossier_id": "DOS-1",
    "product_id": 1473,
    "applicant": {"capacity": "person", "identifier": "85073003328", "authenticated": True},
    "approved": False,
    "status": "delivered",
    "error_code": None,
    "note": "back office: completed",
    "at": "2026-07-24T10:00:00.123+00:00",
}


def ev(data: dict[str, Any]) -> StatusEvent:
    return StatusEvent.from_dict(data)


def payload(status: str = "delivered", **changes: Any) -> dict[str, Any]:
    event = {**EVENT, "status": status, **changes}
    return dossier_payload(ev(event), GENT, TABLE.statuses[status], texts=TEXTS,
                           catalogue=CATALOGUE)


def _shape(value: Any) -> Any:
    """The JSON shape of a value: keys and types, nulls as any."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_every_hub_status_is_mapped_and_has_a_dutch_text() -> None:
    assert TABLE.problems() == []
    assert TEXTS.problems(TABLE.statuses) == []


def test_an_unmapped_status_is_found(tmp_path: Path) -> None:
    text = (REPO_ROOT / "mappings/statuses.toml").read_text()
    broken = tmp_path / "statuses.toml"
    broken.write_text(text.replace(
        'cancelled           = { fase = "Afgerond",      code = "Stopgezet" }\n', "").replace(
        'code = "InWacht" }', 'code = "Bestaatniet" }'))
    problems = load_status_table.__wrapped__(broken).problems()
    assert any("'cancelled' has no Flemish phase" in p for p in problems)
    assert any("Beslissing/Bestaatniet" in p for p in problems)
    assert "cancelled" in HUB_STATUSES


def test_the_upload_has_the_public_clients_shape() -> None:
    sample = reference_sample()
    ours = payload()
    assert list(ours) == list(sample)
    # Same keys, same types (the sample's manager Naam is null; ours is the tenant's name).
    sample["DossierBeheerder"]["Naam"] = "x"
    sample["Agenten"] = sample["Agenten"][:1]
    ours["Status"]["Actie"] = sample["Status"]["Actie"]
    assert _shape(ours) == _shape(sample)


def test_the_facts_loket_hub_got_wrong() -> None:
    body = payload()
    assert body["WijzigingsDatum"] == "2026-07-24T12:00:00.123"  # Brussels, no offset
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?", body["WijzigingsDatum"])
    assert body["Producten"] == [{"Id": "1473"}]
    assert body["Doorverwijzing"] == "https://eloket.stad.gent/nl/mijnloket/aanvraag/DOS-1"
    assert body["DossierBeheerder"]["Adres"] == {
        "Straat": "Botermarkt", "Nummer": "1", "Postcode": "9000", "Gemeente": "Gent"}
    assert body["Identificatie"] == {"bron": "urn://gent.be/cs-connector/loket-hub",
                                     "dossierNummer": "DOS-1"}
    assert body["Agenten"] == [{"Identificatie": "85073003328",
                                "Toegangsrechten": [{"Code": "Raadpleger"}]}]
    assert body["TypeDossierCode"] == "DossierStatus"


def test_identification_spelling_is_a_setting() -> None:
    event = {**EVENT}
    body = dossier_payload(ev(event), GENT, TABLE.statuses["delivered"], texts=TEXTS,
                           catalogue=CATALOGUE, identification_keys="annotated")
    assert body["Identificatie"] == {"Bron": "urn://gent.be/cs-connector/loket-hub",
                                     "DossierNummer": "DOS-1"}


def test_winter_time_too() -> None:
    assert local_date_time("2026-01-10T23:30:00+00:00", "Europe/Brussels") == \
        "2026-01-11T00:30:00.000"


def test_a_company_agent_gets_the_tenants_right_with_its_context() -> None:
    company = {"capacity": "company", "identifier": "0566988259", "authenticated": True}
    assert payload(applicant=company)["Agenten"] == [{
        "Identificatie": "0566988259",
        "Toegangsrechten": [{"Code": "LokaalLoketGebruiker - eloket"}]}]
    no_context = dataclasses.replace(GENT, company_right_context="")
    body = dossier_payload(ev({**EVENT, "applicant": company}), no_context,
                           TABLE.statuses["delivered"], texts=TEXTS, catalogue=CATALOGUE)
    assert body["Agenten"][0]["Toegangsrechten"] == [{"Code": "LokaalLoketGebruiker"}]
    leuven = dossier_payload(ev({**EVENT, "applicant": company, "tenant": "leuven"}),
                             TENANTS["leuven"], TABLE.statuses["delivered"], texts=TEXTS,
                             catalogue=CATALOGUE)
    assert leuven["Agenten"][0]["Toegangsrechten"] == []


def test_names_and_texts_are_for_citizens_never_internal_notes() -> None:
    body = payload()
    assert body["Naam"] == "Attest van gezinssamenstelling"
    assert body["Status"]["Detail1"] == \
        "Uw document staat 3 maanden klaar op uw persoonlijke pagina."
    assert body["Status"]["Actie"] is None
    assert payload(type="civil-status.act", kind="birth")["Naam"] == \
        "Akte van de burgerlijke stand"
    english = dataclasses.replace(GENT, language="en")
    assert dossier_payload(ev(EVENT), english, TABLE.statuses["delivered"], texts=TEXTS,
                           catalogue=CATALOGUE)["Naam"] == "Household composition certificate"
    for status in TABLE.statuses:
        detail = payload(status)["Status"]["Detail1"]
        assert detail and "back office" not in detail and "{" not in detail, status


def test_a_refusal_says_why_in_plain_words() -> None:
    body = payload("rejected", type="backoffice.forward", kind="contact-details",
                   error_code="NOT_RESIDENT")
    assert body["Status"]["Detail1"] == \
        "U woont niet in Stad Gent. Dien deze aanvraag in bij de gemeente waar u woont."
    assert payload("rejected", error_code="SOMETHING_ELSE")["Status"]["Detail1"].startswith(
        "Uw aanvraag werd geweigerd.")


def test_the_applicant_is_told_to_act_only_when_the_action_is_theirs() -> None:
    mine = payload("backoffice-information-needed", type="backoffice.forward")
    assert mine["Status"]["Actie"]["ActieNodig"] is True
    assert mine["Status"]["Actie"]["Actie"]
    elsewhere = payload("backoffice-information-requested-elsewhere", type="backoffice.forward")
    assert elsewhere["Status"]["Actie"] is None
    assert "U hoeft niets te doen" in elsewhere["Status"]["Detail1"]
    worded = payload("backoffice-information-needed", applicant_message="Een kopie van uw id.")
    assert worded["Status"]["Detail1"].endswith("Een kopie van uw id.")


def test_every_status_its_own_upload_id() -> None:
    ids = {upload_id_for(str(uuid.uuid4())) for _ in range(100)}
    assert len(ids) == 100
    assert all(uuid.UUID(i).version == 4 and i == i.lower() for i in ids)
    assert upload_id_for("same") == upload_id_for("same")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"type": "prefill.form"}, "not-a-dossier"),
    ({"type": "usermgmt.self-registration-url"}, "not-a-dossier"),
    ({"applicant": {**EVENT["applicant"], "authenticated": False}}, "not-authenticated"),
    ({"applicant": {**EVENT["applicant"], "authenticated": False}, "approved": True}, None),
    ({"type": "backoffice.forward"}, None),
    ({}, None),
])
def test_what_reaches_a_profile(changes: dict[str, Any], reason: str | None) -> None:
    assert not_for_profile(ev({**EVENT, **changes}), CATALOGUE) == reason


def test_notifications_and_their_choice() -> None:
    assert TABLE.notifies("received", None)
    assert not TABLE.notifies("backoffice-completed", None)
    assert TABLE.notifies("backoffice-completed", True)
    bundle = notification_bundle(ev(EVENT), GENT, TABLE.statuses["delivered"])
    assert bundle["TransactieId"] == "urn://gent.be/cs-connector/loket-hub/DOS-1"


def test_products_per_type_and_kind() -> None:
    assert product_for("population.attest", "proof-of-life") == 1477
    assert product_for("population.attest", "unknown-kind") == 1473
    assert product_for("criminal-record.extract", "596.2") == 1501
    assert product_for("nothing.here") is None
    assert CATALOGUE.is_dossier("criminal-record.extract")
    assert not CATALOGUE.is_dossier("prefill.form")
