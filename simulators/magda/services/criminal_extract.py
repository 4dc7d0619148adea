"""GeefUittrekselStrafregister 02.00: request a criminal-record extract, later fetch it.

An ``Aanvraag`` registers an extract and answers its Identificatienummer with status
IN_BEHANDELING (20002 / 30003 for a bad or unknown INSZ; 20120 when model 596.1 or 596.2 comes
without an Activiteit, 20121 for an activity that model does not know). An ``Ophaling`` of a ready
extract answers the PDF as an MTOM/XOP attachment; of one still in progress 40401, of a refused
one 40402, of an unknown number 30001. Progress: :mod:`simulators.magda.strafregister`.
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
from simulators.magda.strafregister import (
    IN_PROGRESS,
    REFUSED,
    STATUSES,
    Extract,
    ExtractRequest,
)
from simulators.population_judicial import ACTIVITIES
from simulators.population_model import MUNICIPALITIES

__all__ = ["CRIMINAL_EXTRACT", "answer_criminal_extract", "extract_subject"]

NAMESPACE = (
    "http://webservice.geefuittrekselstrafregisterdienst-02_00.justitie-02_00.vip.vlaanderen.be"
)
_ORIGIN = "STRAFREGISTER"


def extract_subject(vraag: etree._Element) -> str | None:
    """The INSZ of a request (a fetch names an extract by its number, not a person)."""
    value = vraag.findtext("Inhoud/Criteria/INSZ")
    return value.strip() if value else None


def _text(element: etree._Element, path: str) -> str | None:
    value = element.findtext(path)
    return (value.strip() or None) if value is not None else None


def answer_criminal_extract(question: Question, registers: Registers) -> Answer:
    """Inhoud/Aanvraag for an Aanvraag, Inhoud/Uittreksel for an Ophaling."""
    inhoud = question.element.find("Inhoud")
    assert inhoud is not None  # the schema requires it
    criteria = inhoud.find("Criteria")
    assert criteria is not None  # the schema requires it
    if criteria.find("INSZ") is not None:
        return _request(question, registers, inhoud, criteria)
    return _fetch(registers, _text(criteria, "Identificatienummer") or "")


def _request(
    question: Question, registers: Registers, inhoud: etree._Element, aanvraag: etree._Element
) -> Answer:
    found = find_person(question, registers, repertorium=False)
    if isinstance(found, Answer):
        return found
    person = found[0]
    # A 596.x extract's activity is part of its type code: "<model>-<activity>".
    model, _, named = (_text(aanvraag, "TypeUittreksel") or "").partition("-")
    activity = named or None
    if model in ACTIVITIES and activity is None:
        return refusal("20120", f"Activiteit verplicht voor model {model}", "activity-missing")
    if model not in ACTIVITIES:
        activity = None  # only 596.1 and 596.2 are per activity
    elif activity not in ACTIVITIES[model]:
        return refusal("20121", f"Onbekende activiteit {activity} voor model {model}",
                       "activity-unknown")
    extract = registers.strafregister.request(ExtractRequest(
        insz=person.insz,
        type=model,
        language=_text(aanvraag, "Taal") or "nl",
        insz_on_extract=_text(aanvraag, "INSZOpUittreksel") in ("true", "1"),
        nis_code=_text(inhoud, "Gemeente/NISCode") or "",
        requester=_text(inhoud, "Gemeente/Aanvrager") or "",
        activity=activity,
        remark=_text(aanvraag, "Opmerking"),
        reference=_text(aanvraag, "Referentie"),
        client=question.client,
        refuse=registers.population.judicial_of(person.insz).police_check_refused,
    ))
    answer = etree.Element("Inhoud")
    element = sub(answer, "Aanvraag")
    sub(element, "Identificatienummer", extract.number)
    # A new request is always in progress, even when the settings make it ready at once.
    status = sub(element, "Status")
    sub(status, "Code", IN_PROGRESS)
    sub(status, "Omschrijving", STATUSES[IN_PROGRESS])
    return Answer(inhoud=answer, outcome="requested")


def _fetch(registers: Registers, number: str) -> Answer:
    strafregister = registers.strafregister
    extract = strafregister.get(number)
    if extract is None:
        return refusal("30001", "Geen uittreksel met dit identificatienummer", "not-found",
                       oorsprong=_ORIGIN)
    status = strafregister.status(extract)
    if status == IN_PROGRESS:
        return refusal("40401", "Uittreksel nog niet beschikbaar", "not-ready", oorsprong=_ORIGIN)
    if status == REFUSED:
        return refusal("40402", "Uittreksel geweigerd", "refused", oorsprong=_ORIGIN)
    strafregister.fetched(extract)
    document = _document(registers, extract)
    inhoud = etree.Element("Inhoud")
    uittreksel = sub(inhoud, "Uittreksel")
    sub(uittreksel, "Identificatienummer", extract.number)
    sub(uittreksel, "TypeUittreksel", extract.request.type)
    sub(uittreksel, "Bestandsnaam", extract_file_name(extract.number))
    pdf = sub(uittreksel, "Document")
    factory = registers.documents
    pending = PendingDocument(pdf, lambda: factory.extract(document),
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
        requested=extract.requested,
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
