"""The repertorium rule: GeefPersoon/GeefHistoriekPersoon only after RegistreerInschrijving."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import aiohttp
import pytest
from lxml import etree

from simulators.magda import MagdaSimulatorSettings, start_magda_simulator
from simulators.population_data import WELL_KNOWN, Population
from tests.simulators.conftest import (
    CLIENT_ID,
    BuildRequest,
    Call,
    SoapReply,
    history_inhoud,
    person_inhoud,
    registration_inhoud,
)

Control = Any
SUBJECT = WELL_KNOWN["single"]
OTHER_CLIENT = "kb.vlaanderen.be/aiv/another-client"
PERSON_SERVICES = ("GeefPersoon", "GeefHistoriekPersoon")
ANSWER = {"GeefPersoon": "Persoon", "GeefHistoriekPersoon": "HistoriekPersoon"}
"""The element under Inhoud that each service answers with."""


def _inhoud(service: str, insz: str) -> dict[str, Any]:
    if service == "GeefHistoriekPersoon":
        return history_inhoud(insz, dt.date(2000, 1, 1), "0")
    return person_inhoud(insz)


def _antwoord(reply: SoapReply) -> etree._Element:
    assert reply.status == 200, reply.body[:300]
    antwoord: etree._Element = reply.payload.find("Repliek/Antwoorden/Antwoord")
    return antwoord


def _uitzonderingen(antwoord: etree._Element) -> list[tuple[str, str, str]]:
    return [
        (u.findtext("Identificatie") or "", u.findtext("Type") or "", u.findtext("Oorsprong") or "")
        for u in antwoord.findall("Uitzonderingen/Uitzondering")
    ]


@pytest.mark.parametrize("service", PERSON_SERVICES)
async def test_register_then_ask(
    call: Call, control: Control, schemas: dict[str, etree.XMLSchema], service: str
) -> None:
    unregistered = await call(service, _inhoud(service, SUBJECT))
    assert schemas[service].validate(unregistered.payload), schemas[service].error_log
    antwoord = _antwoord(unregistered)
    assert antwoord.find("Inhoud") is None
    assert _uitzonderingen(antwoord) == [("40003", "FOUT", "MAGDA")]
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Diagnose") == (
        "Geen inschrijving in het repertorium voor dit INSZ"
    )

    registered = await call("RegistreerInschrijving", registration_inhoud(SUBJECT))
    schema = schemas["RegistreerInschrijving"]
    assert schema.validate(registered.payload), schema.error_log
    antwoord = _antwoord(registered)
    assert antwoord.findtext("Inhoud/Resultaat") == "1"
    assert antwoord.find("Uitzonderingen") is None

    answered = _antwoord(await call(service, _inhoud(service, SUBJECT)))
    assert answered.findtext(f"Inhoud/{ANSWER[service]}/INSZ") == SUBJECT
    assert answered.find("Uitzonderingen") is None

    again = await call("RegistreerInschrijving", registration_inhoud(SUBJECT))
    assert schema.validate(again.payload), schema.error_log
    antwoord = _antwoord(again)
    assert antwoord.findtext("Inhoud/Resultaat") == "1"
    assert _uitzonderingen(antwoord) == [("40143", "WAARSCHUWING", "MAGDA")]
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Diagnose") == "INSZ reeds ingeschreven"

    # The registration belongs to the client that made it.
    other = _antwoord(await call(service, _inhoud(service, SUBJECT), client_id=OTHER_CLIENT))
    assert _uitzonderingen(other) == [("40003", "FOUT", "MAGDA")]

    _, calls = await control("GET", "calls")
    assert [c["outcome"] for c in calls] == [
        "not-registered", "ok", "ok", "already-registered", "not-registered"
    ]
    assert calls[1]["service"] == "RegistreerInschrijving" and calls[1]["insz"] == SUBJECT


async def test_registrations_are_listed_and_cleared(call: Call, control: Control) -> None:
    await call("RegistreerInschrijving", registration_inhoud([SUBJECT, WELL_KNOWN["mover"]]))
    await call("RegistreerInschrijving", registration_inhoud(SUBJECT, OTHER_CLIENT),
               client_id=OTHER_CLIENT)
    status, registrations = await control("GET", "registrations")
    assert status == 200
    assert [(r["client"], r["insz"]) for r in registrations] == [
        (CLIENT_ID, SUBJECT), (CLIENT_ID, WELL_KNOWN["mover"]), (OTHER_CLIENT, SUBJECT)
    ]
    first = registrations[0]
    assert (first["begin"], first["einde"], first["hoedanigheid"], first["afzender"]) == (
        "2025-01-01", "2025-12-31", "1234", CLIENT_ID
    )
    assert await control("DELETE", "registrations") == (200, {"cleared": 3})
    assert await control("GET", "registrations") == (200, [])
    antwoord = _antwoord(await call("GeefPersoon", person_inhoud(SUBJECT)))
    assert _uitzonderingen(antwoord) == [("40003", "FOUT", "MAGDA")]


async def test_household_service_is_not_subject_to_the_repertorium(call: Call) -> None:
    antwoord = _antwoord(await call("GeefGezinssamenstelling", person_inhoud(SUBJECT)))
    assert antwoord.find("Inhoud/Gezinsleden") is not None
    assert antwoord.find("Uitzonderingen") is None


@pytest.mark.parametrize(
    ("insz", "code"), [(WELL_KNOWN["unknown"], "30003"), (WELL_KNOWN["invalid_check"], "20002")]
)
async def test_registering_an_unknown_or_invalid_insz_fails(
    call: Call, control: Control, insz: str, code: str
) -> None:
    antwoord = _antwoord(await call("RegistreerInschrijving", registration_inhoud(insz)))
    assert antwoord.find("Inhoud") is None
    assert [c for c, _, _ in _uitzonderingen(antwoord)] == [code]
    assert await control("GET", "registrations") == (200, [])


@pytest.mark.parametrize("where", ["BetrokkenSubject", "Subject"])
async def test_a_wrong_subject_type_is_not_registered(
    call: Call, control: Control, schemas: dict[str, etree.XMLSchema], where: str
) -> None:
    # MAGDA's schema takes any text as a Type (it was an enumeration in ours): MAGDA answers
    # Resultaat 0 for a subject it cannot place, here an organisation type or a person's INSZ
    # named as a company (OND).
    inhoud = registration_inhoud(SUBJECT)
    if where == "BetrokkenSubject":
        inhoud["Inschrijving"]["BetrokkenSubject"]["Type"] = "ORG"
    else:
        inhoud["Inschrijving"]["BetrokkenSubject"]["Subjecten"]["Subject"][0]["Type"] = "OND"
    reply = await call("RegistreerInschrijving", inhoud)
    assert schemas["RegistreerInschrijving"].validate(reply.payload)
    antwoord = _antwoord(reply)
    resultaat = antwoord.find("Inhoud/Resultaat")
    assert (resultaat.text, resultaat.get("Beschrijving")) == ("0", "Niet geslaagd")
    assert antwoord.find("Uitzonderingen") is None
    assert await control("GET", "registrations") == (200, [])


async def test_a_registration_for_another_client_or_backwards_period_is_refused(
    call: Call, control: Control
) -> None:
    other = registration_inhoud(SUBJECT, OTHER_CLIENT)  # sent as CLIENT_ID
    backwards = registration_inhoud(SUBJECT)
    backwards["Inschrijving"]["Periode"] = {"Begin": "2025-12-31", "Einde": "2025-01-01"}
    for inhoud in (other, backwards):
        antwoord = _antwoord(await call("RegistreerInschrijving", inhoud))
        assert antwoord.findtext("Inhoud/Resultaat") == "0"
    assert await control("GET", "registrations") == (200, [])


async def test_a_company_registers_by_its_kbo_number(call: Call, control: Control) -> None:
    inhoud = registration_inhoud("0566988259")
    inhoud["Inschrijving"]["BetrokkenSubject"] = {
        "Type": "OND", "Subjecten": {"Subject": [{"Type": "OND", "Sleutel": "0566988259"}]}}
    antwoord = _antwoord(await call("RegistreerInschrijving", inhoud))
    assert antwoord.findtext("Inhoud/Resultaat") == "1"
    _, registrations = await control("GET", "registrations")
    assert [(r["insz"], r["subject_type"]) for r in registrations] == [("0566988259", "OND")]
    inhoud["Inschrijving"]["BetrokkenSubject"]["Subjecten"]["Subject"][0]["Sleutel"] = (
        "0566988258")
    antwoord = _antwoord(await call("RegistreerInschrijving", inhoud))
    assert [c for c, _, _ in _uitzonderingen(antwoord)] == ["20007"]


async def test_the_rule_can_be_switched_off(
    settings: MagdaSimulatorSettings, population: Population,
    build_service_request: BuildRequest, http: aiohttp.ClientSession,
) -> None:
    relaxed = dataclasses.replace(settings, enforce_repertorium=False)
    async with await start_magda_simulator(relaxed, population) as simulator:
        for service in PERSON_SERVICES:
            body = build_service_request(service, _inhoud(service, SUBJECT))
            async with http.post(simulator.url_for(service), data=body,
                                 headers={"Content-Type": "text/xml"}) as response:
                reply = SoapReply(response.status, response.content_type, await response.read())
            assert _antwoord(reply).findtext(f"Inhoud/{ANSWER[service]}/INSZ") == SUBJECT


async def test_faults_match_the_registration_subject_and_the_work_is_still_done(
    call: Call, control: Control
) -> None:
    status, _ = await control("POST", "faults", {
        "kind": "malformed-xml", "service": "RegistreerInschrijving", "insz": SUBJECT,
    })
    assert status == 201
    reply = await call("RegistreerInschrijving", registration_inhoud(SUBJECT))
    assert reply.status == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(reply.body)
    # The answer was lost, the registration was not: registering again only warns.
    _, registrations = await control("GET", "registrations")
    assert [r["insz"] for r in registrations] == [SUBJECT]
    again = _antwoord(await call("RegistreerInschrijving", registration_inhoud(SUBJECT)))
    assert [c for c, _, _ in _uitzonderingen(again)] == ["40143"]
