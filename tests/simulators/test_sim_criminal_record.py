"""The criminal record: request, status progression, MTOM delivery, types, and the control API."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from lxml import etree
from zeep.wsdl.attachments import MessagePack

from simulators.magda import MagdaSimulator, MagdaSimulatorSettings, start_magda_simulator
from simulators.magda.mtom import XOP_NS
from simulators.population_data import WELL_KNOWN, Population
from tests.simulators.conftest import (
    SOAP_NS,
    BuildRequest,
    Call,
    Mtom,
    SoapReply,
    extract_fetch_inhoud,
    extract_request_inhoud,
    pdf_text,
    status_inhoud,
    types_inhoud,
)

EXTRACT = "GeefUittrekselStrafregister"
STATUS = "GeefStatusUittrekselStrafregister"
TYPES = "GeefTypesUittrekselStrafregister"
NUMBER = re.compile(r"[0-9]{8}-[0-9]")
Control = Callable[..., Any]
INFO = "Inhoud/StatusUittrekselStrafregister/InformatieUittreksels/InformatieUittreksel"
_REFERENTIES: dict[str, str] = {}
"""Identificatienummer -> the Referentie it was asked with (MAGDA's status query has no
Identificatienummer criterion: one extract is asked about by its Referentie)."""


async def _raw(simulator: MagdaSimulator, http: aiohttp.ClientSession, build: BuildRequest,
               service: str, inhoud: dict[str, Any]) -> tuple[int, str, bytes]:
    async with http.post(simulator.url_for(service), data=build(service, inhoud),
                         headers={"Content-Type": "text/xml"}) as response:
        return response.status, response.headers["Content-Type"], await response.read()


def _antwoord(reply: SoapReply, schemas: dict[str, etree.XMLSchema], service: str
              ) -> etree._Element:
    assert reply.status == 200, reply.body[:300]
    assert schemas[service].validate(reply.payload), schemas[service].error_log
    antwoord: etree._Element = reply.payload.find("Repliek/Antwoorden/Antwoord")
    return antwoord


def _fout(antwoord: etree._Element) -> str | None:
    assert antwoord.find("Inhoud") is None
    assert antwoord.findtext("Uitzonderingen/Uitzondering/Type") == "FOUT"
    return antwoord.findtext("Uitzonderingen/Uitzondering/Identificatie")


async def _request(call: Call, schemas: dict[str, etree.XMLSchema], insz: str,
                   model: str = "595", **options: Any) -> str:
    options.setdefault("Referentie", f"test-{uuid.uuid4()}")
    antwoord = _antwoord(await call(EXTRACT, extract_request_inhoud(insz, model, **options)),
                         schemas, EXTRACT)
    assert antwoord.find("Uitzonderingen") is None
    extract = antwoord.find("Inhoud/UittrekselStrafregister")
    assert extract is not None
    assert [e.tag for e in extract] == ["INSZ", "Status", "Identificatienummer"]
    assert (extract.findtext("INSZ"), extract.findtext("Status")) == (insz, "IN_BEHANDELING")
    number = extract.findtext("Identificatienummer") or ""
    assert NUMBER.fullmatch(number), number
    _REFERENTIES[number] = options["Referentie"]
    return number


async def _page(call: Call, schemas: dict[str, etree.XMLSchema], **criteria: Any
                ) -> etree._Element:
    antwoord = _antwoord(await call(STATUS, status_inhoud(**criteria)), schemas, STATUS)
    assert antwoord.find("Uitzonderingen") is None
    return antwoord


async def _status(call: Call, schemas: dict[str, etree.XMLSchema], **criteria: Any
                  ) -> list[dict[str, str | None]]:
    antwoord = await _page(call, schemas, **criteria)
    return [{"number": e.findtext("Identificatienummer"), "type": e.findtext("TypeUittreksel"),
             "status": e.findtext("Status"), "downloaded": e.findtext("Gedownload"),
             "requested": e.findtext("DatumAanvraag"), "insz": e.findtext("INSZ"),
             "taal": e.findtext("Taal"), "referentie": e.findtext("Referentie")}
            for e in antwoord.findall(INFO)]


async def _statuses(call: Call, schemas: dict[str, etree.XMLSchema], number: str, times: int
                    ) -> list[str | None]:
    return [(await _status(call, schemas, Referentie=_REFERENTIES[number]))[0]["status"]
            for _ in range(times)]


async def _fetch_status(call: Call, schemas: dict[str, etree.XMLSchema], number: str) -> str:
    """The Status a fetch of an extract that is not ready answers (with no Bestand)."""
    antwoord = _antwoord(await call(EXTRACT, extract_fetch_inhoud(number)), schemas, EXTRACT)
    extract = antwoord.find("Inhoud/UittrekselStrafregister")
    assert extract is not None and extract.find("Bestand") is None
    assert extract.findtext("Identificatienummer") == number
    return extract.findtext("Status") or ""


async def _fetch_error(call: Call, schemas: dict[str, etree.XMLSchema], number: str) -> str | None:
    return _fout(_antwoord(await call(EXTRACT, extract_fetch_inhoud(number)), schemas, EXTRACT))


async def test_a_request_answers_a_number_in_progress(
    call: Call, schemas: dict[str, etree.XMLSchema], settings: MagdaSimulatorSettings
) -> None:
    # The repertorium (on by default) does not apply to the criminal record.
    assert settings.enforce_repertorium
    first = await _request(call, schemas, WELL_KNOWN["single"])
    second = await _request(call, schemas, WELL_KNOWN["single"], "593")
    assert (first, second) == ("24000001-4", "24000002-5")  # a fixed sequence per run


async def test_595_is_ready_after_one_status_query_then_fetched_once(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    number = await _request(call, schemas, WELL_KNOWN["mover"])
    assert await _fetch_status(call, schemas, number) == "IN_BEHANDELING"
    (first,) = await _status(call, schemas, INSZ=WELL_KNOWN["mover"])
    assert first["number"] == number and first["type"] == "595"
    assert (first["status"], first["downloaded"]) == ("IN_BEHANDELING", "0")
    assert (first["insz"], first["taal"]) == (WELL_KNOWN["mover"], "nl")
    assert first["referentie"] == _REFERENTIES[number]
    assert dt.datetime.fromisoformat(first["requested"] or "").tzinfo is not None
    (second,) = await _status(call, schemas, INSZ=WELL_KNOWN["mover"])
    assert (second["status"], second["downloaded"]) == ("KLAAR", "0")
    reply = await call(EXTRACT, extract_fetch_inhoud(number))
    assert reply.content_type.startswith("multipart/related;")
    (third,) = await _status(call, schemas, INSZ=WELL_KNOWN["mover"])
    assert (third["status"], third["downloaded"]) == ("KLAAR", "1")


async def test_596_2_waits_for_the_police_check(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    number = await _request(call, schemas, WELL_KNOWN["single"], "596.2", activity="JEUGDWERK")
    assert await _statuses(call, schemas, number, 4) == ["IN_BEHANDELING"] * 3 + ["KLAAR"]


async def test_a_refused_police_check_ends_refused(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    insz = WELL_KNOWN["police_check_refused"]
    refused = await _request(call, schemas, insz, "596.2", activity="KINDEROPVANG")
    general = await _request(call, schemas, insz, "595")
    assert await _statuses(call, schemas, refused, 4) == ["IN_BEHANDELING"] * 3 + ["GEWEIGERD"]
    assert await _fetch_status(call, schemas, refused) == "GEWEIGERD"
    assert await _statuses(call, schemas, general, 2) == ["IN_BEHANDELING", "KLAAR"]
    statuses = await _status(call, schemas, INSZ=insz)
    assert [s["status"] for s in statuses] == ["GEWEIGERD", "KLAAR"]


@pytest.mark.parametrize(
    ("model", "activity"),
    [("596.1", None), ("596.2", None), ("596.2", "TAXI"), ("596.1", "KINDEROPVANG"),
     ("596.3", None), ("595", "TAXI")],
)
async def test_the_type_must_be_one_of_the_list(
    call: Call, schemas: dict[str, etree.XMLSchema], model: str, activity: str | None
) -> None:
    # A model per activity is asked for with its activity in the code (596.1-TAXI).
    inhoud = extract_request_inhoud(WELL_KNOWN["single"], model, activity=activity)
    assert _fout(_antwoord(await call(EXTRACT, inhoud), schemas, EXTRACT)) == "20121"


@pytest.mark.parametrize(("key", "code"), [("unknown", "30003"), ("invalid_check", "20002")])
async def test_unknown_or_invalid_insz(
    call: Call, schemas: dict[str, etree.XMLSchema], control: Control, key: str, code: str
) -> None:
    inhoud = extract_request_inhoud(WELL_KNOWN[key])
    assert _fout(_antwoord(await call(EXTRACT, inhoud), schemas, EXTRACT)) == code
    assert (await control("GET", "strafregister"))[1]["extracts"] == []


async def test_fetching_an_unknown_number_is_30001(
    call: Call, schemas: dict[str, etree.XMLSchema]
) -> None:
    assert await _fetch_error(call, schemas, "99999999-9") == "30001"


async def test_a_ready_extract_comes_as_an_mtom_attachment_zeep_reads(
    simulator: MagdaSimulator, http: aiohttp.ClientSession, build_service_request: BuildRequest,
    call: Call, schemas: dict[str, etree.XMLSchema],
) -> None:
    number = await _request(call, schemas, WELL_KNOWN["single"], "596.1", activity="TAXI",
                            Opmerking="Aanvraag taxivergunning")
    await _statuses(call, schemas, number, 2)
    status, content_type, body = await _raw(simulator, http, build_service_request, EXTRACT,
                                            extract_fetch_inhoud(number))
    assert status == 200
    assert content_type.startswith(
        'multipart/related; type="application/xop+xml"; start="<root.message@loket-sim>"; '
        'start-info="text/xml"; boundary="')
    reply = Mtom(content_type, body)
    root, attachment = reply.parts
    assert root.headers[b"Content-Type"] == b'application/xop+xml; charset=UTF-8; type="text/xml"'
    assert root.headers[b"Content-ID"] == b"<root.message@loket-sim>"
    assert attachment.headers[b"Content-Type"] == b"application/pdf"
    assert attachment.headers[b"Content-Transfer-Encoding"] == b"binary"
    assert attachment.headers[b"Content-ID"] == f"<uittreksel-{number}@loket-sim>".encode()
    pdf = attachment.content
    assert pdf.startswith(b"%PDF-") and pdf.endswith(b"%%EOF\n")

    # As MAGDA's schema has it, Bestand holds its Naam and the xop:Include itself: the answer is
    # schema-valid as it travels.
    payload = reply.envelope(inline=False).find(f"{{{SOAP_NS}}}Body")[0]
    assert schemas[EXTRACT].validate(payload), schemas[EXTRACT].error_log
    uittreksel = payload.find("Repliek/Antwoorden/Antwoord/Inhoud/UittrekselStrafregister")
    assert [e.tag for e in uittreksel] == ["INSZ", "Status", "Identificatienummer", "Bestand"]
    assert uittreksel.findtext("Identificatienummer") == number
    assert uittreksel.findtext("Status") == "KLAAR"
    bestand = uittreksel.find("Bestand")
    assert bestand.findtext("Naam") == f"uittreksel-strafregister-{number}.pdf"
    include = bestand.find(f"{{{XOP_NS}}}Include")
    assert include is not None and include.get("href") == f"cid:uittreksel-{number}@loket-sim"

    # zeep's own MTOM decoding finds the same attachment.
    # zeep strips CR/LF at both ends of a binary part (zeep.wsdl.attachments.Attachment.content):
    # a PDF ending in "%%EOF\n" loses its last byte there. The MIME part itself is exact.
    assert MessagePack(reply.parts[1:]).attachments[0].content == pdf.rstrip(b"\r\n")

    text = pdf_text(pdf)
    for expected in ("Uittreksel uit het strafregister — model 596.1", number, "Els Maes",
                     "Taxivervoer", "Aanvraag taxivergunning", "Geen veroordelingen",
                     "Geldig tot", "https://verificatie.strafregister.example/uittreksel/",
                     WELL_KNOWN["single"]):
        assert expected in text, expected
    again = await _raw(simulator, http, build_service_request, EXTRACT,
                       extract_fetch_inhoud(number))
    assert Mtom(again[1], again[2]).parts[1].content == pdf


async def test_the_criminal_record_fixture_has_one_conviction(
    simulator: MagdaSimulator, http: aiohttp.ClientSession, build_service_request: BuildRequest,
    call: Call, schemas: dict[str, etree.XMLSchema],
) -> None:
    insz = WELL_KNOWN["criminal_record"]
    number = await _request(call, schemas, insz, INSZOpUittreksel="0")
    await _statuses(call, schemas, number, 2)
    _, content_type, body = await _raw(simulator, http, build_service_request, EXTRACT,
                                       extract_fetch_inhoud(number))
    text = pdf_text(Mtom(content_type, body).parts[1].content)
    assert "model 595" in text and "Jens Mertens" in text
    assert "Sturen onder invloed" in text and "Geen veroordelingen" not in text
    assert insz not in text  # INSZOpUittreksel false


async def test_status_criteria(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    single, mover = WELL_KNOWN["single"], WELL_KNOWN["mover"]
    first = await _request(call, schemas, single, Referentie="dossier-1")
    second = await _request(call, schemas, mover, Referentie="dossier-2")
    third = await _request(call, schemas, single, "596.2", activity="ONDERWIJS")
    assert [s["number"] for s in await _status(call, schemas)] == [first, second, third]
    assert [s["number"] for s in await _status(call, schemas, INSZ=single)] == [first, third]
    assert [s["number"] for s in await _status(call, schemas, Referentie="dossier-2")] == [second]
    both = await _status(call, schemas, INSZ=single, Referentie="dossier-1")
    assert [s["number"] for s in both] == [first]
    # Every listing counted as a query: the 595s are ready now, the 596.2 not yet, and a
    # KlaarVoorDownload query counts too, though it answers the ready ones only.
    ready = await _status(call, schemas, KlaarVoorDownload="1")
    assert [s["number"] for s in ready] == [first, second]
    assert all(s["requested"] and s["type"] == "595" for s in ready)
    (police,) = await _status(call, schemas, INSZ=single, KlaarVoorDownload="0",
                              Referentie=_REFERENTIES[third])
    assert police["type"] == "596.2-ONDERWIJS"
    assert await _status(call, schemas, Referentie="no-such-dossier") == []
    assert await _status(call, schemas, INSZ=WELL_KNOWN["foreigner"]) == []
    reply = await call(STATUS, status_inhoud(INSZ=WELL_KNOWN["invalid_check"]))
    assert _fout(_antwoord(reply, schemas, STATUS)) == "20002"


async def test_status_answers_one_page(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    numbers = [await _request(call, schemas, WELL_KNOWN["single"]) for _ in range(12)]

    def pagina(antwoord: etree._Element) -> tuple[str | None, ...]:
        element = antwoord.find("Inhoud/StatusUittrekselStrafregister/Pagina")
        return tuple(element.findtext(tag) for tag in (
            "Paginanummer", "TotaalAantalPaginas", "TotaalAantalResultaten"))

    first = await _page(call, schemas, INSZ=WELL_KNOWN["single"])  # ten a page unless asked
    assert pagina(first) == ("1", "2", "12")
    assert [e.findtext("Identificatienummer") for e in first.findall(INFO)] == numbers[:10]
    second = await _page(call, schemas, INSZ=WELL_KNOWN["single"],
                         Paginering={"ResultatenPerPagina": 10, "Paginanummer": 2})
    assert pagina(second) == ("2", "2", "12")
    assert [e.findtext("Identificatienummer") for e in second.findall(INFO)] == numbers[10:]
    none = await _page(call, schemas, INSZ=WELL_KNOWN["foreigner"])
    assert pagina(none) == ("1", "0", "0")
    assert none.find("Inhoud/StatusUittrekselStrafregister/InformatieUittreksels") is None


async def test_types(call: Call, schemas: dict[str, etree.XMLSchema]) -> None:
    antwoord = _antwoord(await call(TYPES, types_inhoud()), schemas, TYPES)
    types = {t.findtext("Code"): t.findtext("Omschrijving")
             for t in antwoord.findall("Inhoud/TypesUittreksel")}
    assert list(types) == [
        "593", "595",
        "596.1-BEWAKING", "596.1-TAXI", "596.1-HORECA", "596.1-ONDERWIJS",
        "596.2-ONDERWIJS", "596.2-KINDEROPVANG", "596.2-JEUGDWERK", "596.2-SPORTBEGELEIDING",
        "596.2-GEZONDHEIDSZORG",
    ]
    assert types["596.1-TAXI"] == "Model 596.1 – gereglementeerde activiteit: Taxivervoer"


async def test_control_api(call: Call, schemas: dict[str, etree.XMLSchema],
                           control: Control) -> None:
    assert await control("GET", "strafregister") == (
        200, {"ready_after_polls": 1, "police_check_polls": 3, "extracts": []})
    assert await control("POST", "strafregister", {"ready_after_polls": 0}) == (
        200, {"ready_after_polls": 0, "police_check_polls": 3})
    number = await _request(call, schemas, WELL_KNOWN["single"])
    # Ready at once: no status query needed before the download.
    assert (await call(EXTRACT, extract_fetch_inhoud(number))).status == 200
    assert await control("POST", "strafregister", {"police_check_polls": 1}) == (
        200, {"ready_after_polls": 0, "police_check_polls": 1})
    _, listing = await control("GET", "strafregister")
    (extract,) = listing["extracts"]
    assert extract["identificatienummer"] == number
    assert (extract["status"], extract["gedownload"], extract["type"]) == ("KLAAR", True, "595")
    assert extract["insz"] == WELL_KNOWN["single"] and extract["gemeente"] == "44021"
    for bad in ({"ready_after_polls": -1}, {"ready_after_polls": True}, {"colour": 1}, {}, [1]):
        status, body = await control("POST", "strafregister", bad)
        assert status == 400 and body["error"], bad
    assert await control("DELETE", "strafregister") == (200, {"cleared": 1})
    assert await _fetch_error(call, schemas, number) == "30001"
    assert await _request(call, schemas, WELL_KNOWN["single"]) != number  # never reused


async def test_settings_set_the_progress_model(
    settings: MagdaSimulatorSettings, population: Population, build_service_request: BuildRequest,
    schemas: dict[str, etree.XMLSchema],
) -> None:
    changed = dataclasses.replace(settings, strafregister_ready_after_polls=2,
                                  strafregister_police_check_polls=0, seal_documents=False)
    async with (await start_magda_simulator(changed, population) as simulator,
                aiohttp.ClientSession() as http):
        async def call(service: str, inhoud: dict[str, Any]) -> SoapReply:
            status, content_type, body = await _raw(simulator, http, build_service_request,
                                                    service, inhoud)
            return SoapReply(status, content_type, body)

        general = await _request(call, schemas, WELL_KNOWN["single"])
        police = await _request(call, schemas, WELL_KNOWN["police_check_refused"], "596.2",
                                activity="SPORTBEGELEIDING")
        assert await _statuses(call, schemas, general, 3) == ["IN_BEHANDELING"] * 2 + ["KLAAR"]
        assert await _statuses(call, schemas, police, 1) == ["GEWEIGERD"]
        _, content_type, body = await _raw(simulator, http, build_service_request, EXTRACT,
                                           extract_fetch_inhoud(general))
        pdf = Mtom(content_type, body).parts[1].content
        assert b"/ByteRange" not in pdf  # not sealed
