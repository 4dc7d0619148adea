"""Our WSDL/XSD files: zeep loads them locally and builds valid requests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import zeep
from lxml import etree

from tests.simulators.conftest import (
    BuildRequest,
    history_inhoud,
    person_inhoud,
    registration_inhoud,
    service_file,
)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SERVICE_NS = "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"
WSDL = (
    Path(__file__).resolve().parents[2]
    / "wsdl/magda/GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.wsdl"
)


def test_zeep_loads_the_wsdl_from_a_local_path() -> None:
    client = zeep.Client(str(WSDL))
    operation = client.service._binding._operations["GeefGezinssamenstelling"]
    assert operation.soapaction == ""
    assert client.service._binding_options["address"] == (
        "http://127.0.0.1:8701/GeefGezinssamenstellingDienst-02.02/soap/WebService"
    )
    assert client.get_element("ns0:GeefGezinssamenstelling").qname.namespace == SERVICE_NS


def test_zeep_request_is_namespaced_at_the_root_only_and_schema_valid(
    build_request: Callable[..., bytes], household_schema: etree.XMLSchema
) -> None:
    envelope = etree.fromstring(build_request("85673003360", signer=None))
    payload = envelope.find(f"{{{SOAP_NS}}}Body")[0]
    assert payload.tag == f"{{{SERVICE_NS}}}GeefGezinssamenstelling"
    assert all(etree.QName(e).namespace is None for e in payload.iterdescendants())
    assert payload.findtext("Verzoek/Vragen/Vraag/Inhoud/Criteria/INSZ") == "85673003360"
    assert household_schema.validate(payload), household_schema.error_log


def test_schema_refuses_a_malformed_insz_and_a_time_magda_refuses(
    build_request: Callable[..., bytes], household_schema: etree.XMLSchema
) -> None:
    envelope = etree.fromstring(build_request("8567300336", signer=None))
    payload = envelope.find(f"{{{SOAP_NS}}}Body")[0]
    assert not household_schema.validate(payload)
    envelope = etree.fromstring(build_request("85673003360", signer=None))
    payload = envelope.find(f"{{{SOAP_NS}}}Body")[0]
    tijd = payload.find("Verzoek/Context/Bericht/Tijdstip/Tijd")
    # MAGDA's TijdType: HH:mm, HH:mm:ss or HH:mm:ss.SSS (the hub always sends the last).
    for accepted in ("09:15", "09:15:00", "09:15:00.000"):
        tijd.text = accepted
        assert household_schema.validate(payload), (accepted, household_schema.error_log)
    for refused in ("9:15", "09:15:00.0", "09:15:00.0000", "09:15:00Z"):
        tijd.text = refused
        assert not household_schema.validate(payload), refused


NEW_SERVICES = {
    "GeefPersoon": (
        "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02",
        "GeefPersoonDienst-02.02",
        person_inhoud("85673003360"),
    ),
    "GeefHistoriekPersoon": (
        "http://magda.vlaanderen.be/persoon/soap/geefhistoriekpersoon/v02_02",
        "GeefHistoriekPersoonDienst-02.02",
        history_inhoud("85673003360", dt.date(2005, 6, 1), "1"),
    ),
    "RegistreerInschrijving": (
        "http://webservice.registreerinschrijvingdienst-02_01.repertorium-02_01.vip.vlaanderen.be",
        "RegistreerInschrijvingDienst-02.01",
        registration_inhoud("85673003360"),
    ),
}


@pytest.mark.parametrize("service", sorted(NEW_SERVICES))
def test_new_services_load_in_zeep_and_build_valid_requests(
    service: str, build_service_request: BuildRequest, schemas: dict[str, etree.XMLSchema]
) -> None:
    namespace, path, inhoud = NEW_SERVICES[service]
    client = zeep.Client(str(service_file(service, ".wsdl")))
    assert client.service._binding._operations[service].soapaction == ""
    assert client.service._binding_options["address"] == (
        f"http://127.0.0.1:8701/{path}/soap/WebService"
    )
    envelope = etree.fromstring(build_service_request(service, inhoud, signer=None))
    payload = envelope.find(f"{{{SOAP_NS}}}Body")[0]
    assert payload.tag == f"{{{namespace}}}{service}"
    assert all(etree.QName(e).namespace is None for e in payload.iterdescendants())
    assert schemas[service].validate(payload), schemas[service].error_log


def test_history_criteria_need_the_op_attribute(
    build_service_request: BuildRequest, schemas: dict[str, etree.XMLSchema]
) -> None:
    inhoud = history_inhoud("85673003360", dt.date(2005, 6, 1), "1")
    payload = etree.fromstring(
        build_service_request("GeefHistoriekPersoon", inhoud, signer=None)
    ).find(f"{{{SOAP_NS}}}Body")[0]
    datum = payload.find("Verzoek/Vragen/Vraag/Inhoud/Criteria/Datum")
    assert (datum.text, datum.get("Op")) == ("2005-06-01", "1")
    datum.set("Op", "2")
    assert not schemas["GeefHistoriekPersoon"].validate(payload)
    # Op is optional in MAGDA's schema (DatumOpType): a Datum without it is valid.
    del datum.attrib["Op"]
    history = schemas["GeefHistoriekPersoon"]
    assert history.validate(payload), history.error_log
