"""GeefAkteBurgerlijkeStand 02.00: an act's extract (uittreksel) or copy (afschrift) as a PDF.

The answer is ``Inhoud/AkteBurgerlijkeStand{DocumentReferte, Uittreksel|Afschrift{Document}}``
(``persoon:AkteBurgerlijkeStandType``): the PDF inline as base64 in ``Document``, sealed unless
sealing is off, with its ``Formaat`` (and for an extract its ``Taal`` and ``Model``) as
attributes. An unknown reference is 30001; an act that was never digitised is 30010.
Entitlement to a copy is the client's business, as at DABS: the simulator delivers whatever is
asked.
"""

from __future__ import annotations

from lxml import etree

from simulators.magda.documents import COPY, EXTRACT, ActDelivery
from simulators.magda.envelopes import sub
from simulators.magda.services.base import (
    Answer,
    PendingDocument,
    Question,
    Registers,
    ServiceSpec,
)
from simulators.magda.services.lookup import refusal
from simulators.population_acts import NOT_DIGITISED

__all__ = ["CIVIL_ACT", "answer_civil_act"]

NAMESPACE = "http://webservice.geefakteburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be"


FORMAT = "PDF"
"""Document/@Formaat: the only format the simulator makes (a request's Formaat is not read)."""
DEFAULT_MODEL = "1"
"""Document/@Model of an extract asked without one (MAGDA's request requires a Model)."""


def answer_civil_act(question: Question, registers: Registers) -> Answer:
    """Inhoud/AkteBurgerlijkeStand with the act's Uittreksel or Afschrift."""
    criteria = question.element.find("Inhoud/Criteria")
    assert criteria is not None  # the schema requires it
    chosen = criteria.find("CriteriaUittreksel")
    kind = EXTRACT
    if chosen is None:
        chosen, kind = criteria.find("CriteriaAfschrift"), COPY
    assert chosen is not None  # the schema's choice
    reference = (chosen.findtext("DocumentReferte") or "").strip()
    act = registers.population.act(reference)
    if act is None:
        return refusal("30001", "Geen akte gevonden", "not-found", oorsprong="DABS")
    if act.status == NOT_DIGITISED:
        return refusal("30010", "Akte niet gedigitaliseerd", "not-digitised", oorsprong="DABS")
    language = (chosen.findtext("Taal") or "").strip()
    model = (chosen.findtext("Model") or "").strip() or None
    delivery = ActDelivery(
        kind=kind,
        language=language,
        issuing_nis_code=(question.element.findtext("Inhoud/GemeenteVanAfgifte") or "").strip(),
        model=model,
    )
    inhoud = etree.Element("Inhoud")
    akte = sub(inhoud, "AkteBurgerlijkeStand")
    sub(akte, "DocumentReferte", act.reference)
    pdf = sub(sub(akte, kind), "Document")
    pdf.set("Formaat", FORMAT)
    if kind == EXTRACT:
        pdf.set("Taal", language)
        pdf.set("Model", model or DEFAULT_MODEL)
    factory = registers.documents
    pending = PendingDocument(pdf, lambda: factory.act(act, delivery))
    return Answer(inhoud=inhoud, documents=(pending,))


CIVIL_ACT = ServiceSpec(
    name="GeefAkteBurgerlijkeStand",
    version="02.00",
    namespace=NAMESPACE,
    wsdl="GeefAkteBurgerlijkeStand-02.00/GeefAkteBurgerlijkeStand.wsdl",
    schema="GeefAkteBurgerlijkeStand-02.00/GeefAkteBurgerlijkeStand.xsd",
    handler=answer_civil_act,
)
