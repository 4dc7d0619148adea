"""GeefStatusUittrekselStrafregister and GeefTypesUittrekselStrafregister 02.00.

Status: the question is ``Inhoud{Gemeente{NISCode, Aanvrager}, Criteria{INSZ?, Referentie?,
KlaarVoorDownload?, Paginering?}}``. Every extract that meets all criteria given (none given:
every extract) counts as one status query about it, which is what moves it on
(:mod:`simulators.magda.strafregister`). ``KlaarVoorDownload`` 1 keeps only the KLAAR ones in the
answer (the others are still counted as asked about). The answer is
``Inhoud/StatusUittrekselStrafregister{Pagina, InformatieUittreksels?}``
(``justitie:StatusUittrekselStrafregisterType``): one page of ``Paginering/ResultatenPerPagina``
extracts (10 when not asked; MAGDA does not publish its default), oldest first, and how many
pages and results there are. Nothing found is a Pagina with no InformatieUittreksels, not an
error; an INSZ with bad check digits is 20002.

Types: ``Inhoud/TypesUittreksel{Code, Omschrijving}`` once per code a request may carry in
TypeUittreksel (:data:`simulators.population_judicial.TYPE_CODES`), in Dutch whatever the Taal.
"""

from __future__ import annotations

from lxml import etree

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import refusal
from simulators.magda.strafregister import READY, Extract
from simulators.population_judicial import TYPE_CODES, type_code

__all__ = ["CRIMINAL_STATUS", "CRIMINAL_TYPES", "answer_criminal_status", "answer_types"]

STATUS_NAMESPACE = (
    "http://webservice.geefstatusuittrekselstrafregisterdienst-02_00.justitie-02_00.vip.vlaanderen.be"
)
TYPES_NAMESPACE = (
    "http://webservice.geeftypesuittrekselstrafregisterdienst-02_00.justitie-02_00.vip.vlaanderen.be"
)
PAGE_SIZE = 10
"""Results per page when the question does not say (MAGDA allows 10 to 100)."""


def _text(element: etree._Element, path: str) -> str | None:
    value = element.findtext(path)
    return (value.strip() or None) if value is not None else None


def _int(element: etree._Element, path: str, default: int) -> int:
    value = _text(element, path)
    return default if value is None else int(value)  # the schema makes it an xs:int


def answer_criminal_status(question: Question, registers: Registers) -> Answer:
    """Inhoud/StatusUittrekselStrafregister: one page of the extracts found."""
    criteria = question.element.find("Inhoud/Criteria")
    assert criteria is not None  # the schema requires it
    insz = _text(criteria, "INSZ")
    if insz is not None and not is_valid_insz(insz):
        return refusal("20002", "INSZ is ongeldig (controlegetal)", "invalid-insz")
    ready_only = _text(criteria, "KlaarVoorDownload") == "1"
    size = _int(criteria, "Paginering/ResultatenPerPagina", PAGE_SIZE)
    page = _int(criteria, "Paginering/Paginanummer", 1)
    strafregister = registers.strafregister
    listed: list[tuple[Extract, str]] = []
    for extract in strafregister.matching(insz=insz, reference=_text(criteria, "Referentie")):
        status = strafregister.poll(extract)
        if not ready_only or status == READY:
            listed.append((extract, status))
    shown = listed[(page - 1) * size: page * size]
    inhoud = etree.Element("Inhoud")
    answer = sub(inhoud, "StatusUittrekselStrafregister")
    pagina = sub(answer, "Pagina")
    sub(pagina, "Paginanummer", str(page))
    sub(pagina, "TotaalAantalPaginas", str(-(-len(listed) // size)))
    sub(pagina, "TotaalAantalResultaten", str(len(listed)))
    if shown:
        informatie = sub(answer, "InformatieUittreksels")
        for extract, status in shown:
            _informatie(sub(informatie, "InformatieUittreksel"), extract, status)
    return Answer(inhoud=inhoud, outcome="ok" if shown else "none")


def _informatie(element: etree._Element, extract: Extract, status: str) -> None:
    """Fill a ``justitie:InformatieUittrekselType``, in MAGDA's order."""
    request = extract.request
    sub(element, "Status", status)
    sub(element, "INSZ", request.insz)
    sub(element, "Taal", request.language)
    sub(element, "TypeUittreksel", type_code(request.type, request.activity))
    sub(element, "Identificatienummer", extract.number)
    sub(element, "Gedownload", "1" if extract.downloads else "0")
    sub(element, "DatumAanvraag", extract.requested.isoformat(timespec="seconds"))
    if request.remark is not None:
        sub(element, "Opmerking", request.remark)
    if request.reference is not None:
        sub(element, "Referentie", request.reference)


def answer_types(question: Question, registers: Registers) -> Answer:
    """Inhoud with one TypesUittreksel{Code, Omschrijving} per type code."""
    inhoud = etree.Element("Inhoud")
    for code, (_, _, description) in TYPE_CODES.items():
        element = sub(inhoud, "TypesUittreksel")
        sub(element, "Code", code)
        sub(element, "Omschrijving", description)
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
