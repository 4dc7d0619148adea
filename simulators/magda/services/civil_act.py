"""GeefAkteBurgerlijkeStand 02.00: an act's extract (uittreksel) or copy (afschrift) as a PDF.

The PDF comes inline (``Document``, base64), sealed unless sealing is off. An unknown reference
is 30001; an act that was never digitised is 30010. Entitlement to a copy is the client's
business, as at DABS: the simulator delivers whatever is asked.
"""

from __future__ import annotations

from lxml import etree

from simulators.magda.documents import COPY, EXTRACT, ActDelivery, act_file_name
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


def answer_civil_act(question: Question, registers: Registers) -> Answer:
    """Inhoud/Uittreksel or Inhoud/Afschrift{DocumentReferte, Bestandsnaam, Document}."""
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
    delivery = ActDelivery(
        kind=kind,
        language=(chosen.findtext("Taal") or "").strip(),
        issuing_nis_code=(question.element.findtext("Inhoud/GemeenteVanAfgifte") or "").strip(),
        model=(chosen.findtext("Model") or "").strip() or None,
    )
    inhoud = etree.Element("Inhoud")
    document = sub(inhoud, kind)
    sub(document, "DocumentReferte", act.reference)
    sub(document, "Bestandsnaam", act_file_name(kind, act.reference))
    pdf = sub(document, "Document")
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
