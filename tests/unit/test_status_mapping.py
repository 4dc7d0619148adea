"""Status events → DOSIS payloads and notifications; the status table as data."""

from __future__ import annotations

from pathlib import Path

from hub.config import REPO_ROOT, load_tenants
from hub.status.mapping import (
    HUB_STATUSES,
    dossier_payload,
    load_status_table,
    notification_bundle,
    product_for,
)

GENT = load_tenants(REPO_ROOT / "mappings/tenants")["gent"]
EVENT = {
    "event_id": "0b8f3a64-2f5b-5b8e-9f43-3e1f0e5a2b11",
    "job_id": "job-1",
    "type": "population.attest",
    "tenant": "gent",
    "dossier_id": "DOS-1",
    "product_id": 1473,
    "applicant": {"capacity": "person", "identifier": "85073003328"},
    "status": "delivered",
    "note": None,
    "at": "2026-11-24T10:00:00.000+00:00",
}


def test_every_hub_status_is_mapped_to_an_accepted_phase_and_code() -> None:
    assert load_status_table().problems() == []


def test_an_unmapped_status_is_found(tmp_path: Path) -> None:
    text = (REPO_ROOT / "mappings/statuses.toml").read_text()
    broken = tmp_path / "statuses.toml"
    broken.write_text(text.replace('cancelled           = { fase = "Afgerond",      code = '
                                   '"Stopgezet" }\n', "").replace(
        'failed              = { fase = "Beslissing",    code = "InWacht"',
        'failed              = { fase = "Beslissing",    code = "Bestaatniet"'))
    problems = load_status_table.__wrapped__(broken).problems()
    assert any("'cancelled' has no Flemish phase" in p for p in problems)
    assert any("Beslissing/Bestaatniet" in p for p in problems)
    assert "cancelled" in HUB_STATUSES


def test_dossier_payload_carries_what_dosis_needs() -> None:
    flemish = load_status_table().statuses["delivered"]
    payload = dossier_payload(EVENT, GENT, flemish)
    assert payload["Identificatie"] == {"Bron": "urn://gent.be/cs-connector/loket-hub",
                                        "DossierNummer": "DOS-1"}
    assert payload["UploadId"] == EVENT["event_id"]
    assert payload["Status"]["VlaamsFase"] == "Afgerond"
    assert payload["Status"]["VlaamsCode"] == "Goedgekeurd"
    assert payload["Producten"] == [{"Id": 1473}]
    assert payload["Agenten"] == [{"Identificatie": "85073003328",
                                   "Toegangsrechten": [{"Code": "Raadpleger"}]}]
    assert payload["TypeDossierCode"] == "DossierStatus"
    assert payload["DossierBeheerder"]["Naam"] == "Stad Gent"


def test_notification_bundle_has_the_required_keys() -> None:
    flemish = load_status_table().statuses["delivered"]
    bundle = notification_bundle(EVENT, GENT, flemish)
    keys = {p["Sleutel"] for p in bundle["SleutelWaardeParen"]}
    assert keys == {"DossierNummer", "StatusVlaamseCode", "StatusVlaamseFase"}
    assert bundle["TransactieId"] == "urn://gent.be/cs-connector/loket-hub/DOS-1"
    assert bundle["Categorie"] == "DossierWijziging"


def test_products_per_type_and_kind() -> None:
    assert product_for("population.attest", "proof-of-life") == 1477
    assert product_for("population.attest", "unknown-kind") == 1473
    assert product_for("criminal-record.extract", "596.2") == 1501
    assert product_for("nothing.here") is None
