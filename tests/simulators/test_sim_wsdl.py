"""Our GeefGezinssamenstelling WSDL/XSD: zeep loads them locally and builds valid requests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import zeep
from lxml import etree

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


def test_schema_refuses_a_malformed_insz_and_a_time_without_milliseconds(
    build_request: Callable[..., bytes], household_schema: etree.XMLSchema
) -> None:
    envelope = etree.fromstring(build_request("8567300336", signer=None))
    payload = envelope.find(f"{{{SOAP_NS}}}Body")[0]
    assert not household_schema.validate(payload)
    envelope = etree.fromstring(build_request("85673003360", signer=None))
    payload = envelope.find(f"{{{SOAP_NS}}}Body")[0]
    tijd = payload.find("Verzoek/Context/Bericht/Tijdstip/Tijd")
    tijd.text = "09:15:00"
    assert not household_schema.validate(payload)
