"""GeefUittrekselStrafregister 02.00: request a criminal-record extract, later fetch it.

The question is MAGDA's: ``Inhoud{Gemeente{NISCode, Aanvrager}, Criteria}`` where the Criteria
either ask for a new extract (INSZ, INSZOpUittreksel, Taal, TypeUittreksel, Opmerking?,
Referentie?) or name one by its Identificatienummer. Both are answered with
``Inhoud/UittrekselStrafregister{INSZ, Status, Identificatienummer?, Bestand?}``
(``justitie:UittrekselStrafregisterType``):

- a new request registers an extract and answers its Identificatienummer with Status
  IN_BEHANDELING (20002 / 30003 for a bad or unknown INSZ, 20121 for a TypeUittreksel that is not
  in GeefTypesUittrekselStrafregister's list);
- fetching a KLAAR extract answers its ``Bestand{Naam, xop:Include}``: the PDF travels as an
  MTOM/XOP attachment, as MAGDA's schema has it (``Bestand`` holds an ``xop:Include``, never
  inline base64); fetching one still IN_BEHANDELING or GEWEIGERD answers that Status without a
  Bestand; an unknown number is 30001.

Progress: :mod:`simulators.magda.strafregister`.
"""

from __future__ import annotations

from lxml import etree

from simulators.magda.documents import ExtractDocument, extract_file_name
from simulators.magda.envelopes import sub
from simulators.magda.services.base import (
    Answer,
    PendingDocument,
    Question,
    Registers,
    ServiceSpec,
)
from simulators.magda.services.lookup import find_person, refusal
from simulators.magda.strafregister import IN_PROGRESS, READY, Extract, ExtractRequest
from simulators.population_judicial import TYPE_CODES
from simulators.population_model import MUNICIPALITIES

__all__ = ["CRIMINAL_EXTRACT", "answer_criminal_extract", "extract_subject"]

NAMESPACE = (
    "http://webservice.geefuittrekselstrafregisterdienst-02_00.justitie-02_00.vip.vlaanderen.be"
)
_ORIGIN = "CSR"
"""Oorsprong of the criminal record's own refusals (at most five characters in MAGDA's schema)."""


def extract_subject(vraag: etree._Element) -> str | None:
    """The INSZ of a new request (fetching by number names an extract, not a person)."""
    value = vraag.findtext("Inhoud/Criteria/INSZ")
    return value.strip() if value else None


def _text(element: etree._Element, path: str) -> str | None:
    value = element.findtext(path)
    return (value.strip() or None) if value is not None else None


def answer_criminal_extract(question: Question, registers: Registers) -> Answer:
    """Inhoud/UittrekselStrafregister for a new request or for fetching one by its number."""
    inhoud = question.element.find("Inhoud")
    assert inhoud is not None  # the schema requires it
    number = _text(inhoud, "Criteria/Identificatienummer")
    if number is None:
        return _request(question, registers, inhoud)
    return _fetch(registers, number)


def _request(question: Question, registers: Registers, inhoud: etree._Element) -> Answer:
    found = find_person(question, registers, repertorium=False)
    if isinstance(found, Answer):
        return found
    person = found[0]
    code = _text(inhoud, "Criteria/TypeUittreksel") or ""
    if code not in TYPE_CODES:
        return refusal("20121", f"Onbekend type uittreksel {code}", "type-unknown")
    model, activity, _ = TYPE_CODES[code]
    extract = registers.strafregister.request(ExtractRequest(
        insz=person.insz,
        type=model,
        language=_text(inhoud, "Criteria/Taal") or "nl",
        insz_on_extract=_text(inhoud, "Criteria/INSZOpUittreksel") == "1",
        nis_code=_text(inhoud, "Gemeente/NISCode") or "",
        requester=_text(inhoud, "Gemeente/Aanvrager") or "",
        activity=activity,
        remark=_text(inhoud, "Criteria/Opmerking"),
        reference=_text(inhoud, "Criteria/Referentie"),
        client=question.client,
        refuse=registers.population.judicial_of(person.insz).police_check_refused,
    ))
    # A new request is always in progress, even when the settings make it ready at once.
    answer, _ = _uittreksel(extract, IN_PROGRESS)
    return Answer(inhoud=answer, outcome="requested")


def _uittreksel(extract: Extract, status: str) -> tuple[etree._Element, etree._Element]:
    inhoud = etree.Element("Inhoud")
    uittreksel = sub(inhoud, "UittrekselStrafregister")
    sub(uittreksel, "INSZ", extract.request.insz)
    sub(uittreksel, "Status", status)
    sub(uittreksel, "Identificatienummer", extract.number)
    return inhoud, uittreksel


def _fetch(registers: Registers, number: str) -> Answer:
    strafregister = registers.strafregister
    extract = strafregister.get(number)
    if extract is None:
        return refusal("30001", "Geen uittreksel met dit identificatienummer", "not-found",
                       oorsprong=_ORIGIN)
    status = strafregister.status(extract)
    inhoud, uittreksel = _uittreksel(extract, status)
    if status != READY:
        return Answer(inhoud=inhoud, outcome=f"status:{status}")
    strafregister.fetched(extract)
    document = _document(registers, extract)
    bestand = sub(uittreksel, "Bestand")
    sub(bestand, "Naam", extract_file_name(extract.number))
    factory = registers.documents
    # The bytes go into Bestand (signed that way); on the wire an xop:Include after Naam.
    pending = PendingDocument(bestand, lambda: factory.extract(document),
                              content_id=f"uittreksel-{extract.number}@loket-sim")
    return Answer(inhoud=inhoud, documents=(pending,))


def _document(registers: Registers, extract: Extract) -> ExtractDocument:
    """A snapshot of what the extract prints, taken on the event loop."""
    request = extract.request
    population = registers.population
    person, facts = population.by_insz(request.insz), population.facts_of(request.insz)
    assert person is not None and facts is not None  # checked when it was requested
    town = next((m.name for m in MUNICIPALITIES if m.nis_code == request.nis_code), None)
    return ExtractDocument(
        number=extract.number,
        type=request.type,
        activity=request.activity,
        language=request.language,
        insz=person.insz,
        insz_on_extract=request.insz_on_extract,
        first_names=person.first_names,
        last_name=person.last_name,
        birth_date=person.birth_date,
        birth_place=None if facts.birth_place is None else facts.birth_place.name,
        nis_code=request.nis_code,
        municipality=town,
        requested=extract.requested.date(),
        remark=request.remark,
        convictions=population.judicial_of(person.insz).convictions,
    )


CRIMINAL_EXTRACT = ServiceSpec(
    name="GeefUittrekselStrafregister",
    version="02.00",
    namespace=NAMESPACE,
    wsdl="GeefUittrekselStrafregister-02.00/GeefUittrekselStrafregister.wsdl",
    schema="GeefUittrekselStrafregister-02.00/GeefUittrekselStrafregister.xsd",
    handler=answer_criminal_extract,
    subject=extract_subject,
)
