"""GeefStatusUittrekselStrafregister and GeefTypesUittrekselStrafregister 02.00.

Status: every extract that meets all criteria given (INSZ, Referentie, Identificatienummer; none
given: every extract), oldest first; each one listed counts as one status query about it, which
is what moves it on (:mod:`simulators.magda.strafregister`). ``KlaarVoorDownload`` true keeps
only the KLAAR ones in the answer (the others are still counted as asked about). Nothing found
is an empty Inhoud, not an error; an INSZ with bad check digits is 20002.

Types: the four models with, for 596.1 and 596.2, their activities.
"""

from __future__ import annotations

from lxml import etree

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import refusal
from simulators.magda.strafregister import READY, STATUSES
from simulators.population_judicial import ACTIVITIES, EXTRACT_TYPES

__all__ = ["CRIMINAL_STATUS", "CRIMINAL_TYPES", "answer_criminal_status", "answer_types"]

STATUS_NAMESPACE = (
    "http://webservice.geefstatusuittrekselstrafregisterdienst-02_00.justitie-02_00.vip.vlaanderen.be"
)
TYPES_NAMESPACE = (
    "http://webservice.geeftypesuittrekselstrafregisterdienst-02_00.justitie-02_00.vip.vlaanderen.be"
)


def _text(element: etree._Element, path: str) -> str | None:
    value = element.findtext(path)
    return (value.strip() or None) if value is not None else None


def answer_criminal_status(question: Question, registers: Registers) -> Answer:
    """Inhoud with one InformatieUittreksel per extract found."""
    criteria = question.element.find("Inhoud/Criteria")
    assert criteria is not None  # the schema requires it
    insz = _text(criteria, "INSZ")
    if insz is not None and not is_valid_insz(insz):
        return refusal("20002", "INSZ is ongeldig (controlegetal)", "invalid-insz")
    ready_only = _text(criteria, "KlaarVoorDownload") in ("true", "1")
    strafregister = registers.strafregister
    # MAGDA's status question has no Identificatienummer: by INSZ and/or Referentie.
    found = strafregister.matching(insz=insz, reference=_text(criteria, "Referentie"),
                                   number=None)
    inhoud = etree.Element("Inhoud")
    for extract in found:
        status = strafregister.poll(extract)
        if ready_only and status != READY:
            continue
        info = sub(inhoud, "InformatieUittreksel")
        sub(info, "Identificatienummer", extract.number)
        sub(info, "TypeUittreksel", extract.request.type)
        element = sub(info, "Status")
        sub(element, "Code", status)
        sub(element, "Omschrijving", STATUSES[status])
        sub(info, "DatumAanvraag", extract.requested.isoformat())
        sub(info, "Gedownload", "true" if extract.downloads else "false")
    return Answer(inhoud=inhoud, outcome="ok" if len(inhoud) else "none")


def answer_types(question: Question, registers: Registers) -> Answer:
    """Inhoud/Types: every model, with its activities where it has them (Dutch, any Taal)."""
    inhoud = etree.Element("Inhoud")
    types = sub(inhoud, "Types")
    for code, description in EXTRACT_TYPES.items():
        element = sub(types, "Type")
        sub(element, "Code", code)
        sub(element, "Omschrijving", description)
        if code in ACTIVITIES:
            activiteiten = sub(element, "Activiteiten")
            for activity, label in ACTIVITIES[code].items():
                activiteit = sub(activiteiten, "Activiteit")
                sub(activiteit, "Code", activity)
                sub(activiteit, "Omschrijving", label)
    return Answer(inhoud=inhoud)


CRIMINAL_STATUS = ServiceSpec(
    name="GeefStatusUittrekselStrafregister",
    version="02.00",
    namespace=STATUS_NAMESPACE,
    wsdl="GeefStatusUittrekselStrafregister-02.00/GeefStatusUittrekselStrafregister.wsdl",
    schema="GeefStatusUittrekselStrafregister-02.00/GeefStatusUittrekselStrafregister.xsd",
    handler=answer_criminal_status,
)

CRIMINAL_TYPES = ServiceSpec(
    name="GeefTypesUittrekselStrafregister",
    version="02.00",
    namespace=TYPES_NAMESPACE,
    wsdl="GeefTypesUittrekselStrafregister-02.00/GeefTypesUittrekselStrafregister.wsdl",
    schema="GeefTypesUittrekselStrafregister-02.00/GeefTypesUittrekselStrafregister.xsd",
    handler=answer_types,
)
