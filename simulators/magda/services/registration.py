"""RegistreerInschrijving 02.01: register (client, INSZ) pairs in the repertorium."""

from __future__ import annotations

from lxml import etree

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import Uitzondering, sub
from simulators.magda.repertorium import Registration
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import refusal

__all__ = ["REGISTRATION", "answer_registration", "registration_subject"]

NAMESPACE = "http://magda.vlaanderen.be/repertorium/soap/registreerinschrijving/v02_01"
_SUBJECTS = "Inhoud/Inschrijving/BetrokkenSubject/Subjecten/Subject"


def registration_subject(vraag: etree._Element) -> str | None:
    """The first subject's key (an INSZ), for fault matching and the calls log."""
    value = vraag.findtext(f"{_SUBJECTS}/Sleutel")
    return value.strip() if value else None


def answer_registration(question: Question, registers: Registers) -> Answer:
    """Register every subject for ``Inschrijving/Identificatie``; Resultaat 1.

    20002 / 30003 (nothing registered) when a key is invalid / unknown; a pair registered before
    still answers the Inhoud, with a WAARSCHUWING 40143 per such INSZ.
    """
    element = question.element
    keys = [(s.findtext("Sleutel") or "").strip() for s in element.findall(_SUBJECTS)]
    if not all(is_valid_insz(key) for key in keys):
        return refusal("20002", "INSZ is ongeldig (controlegetal)", "invalid-insz")
    if any(registers.population.by_insz(key) is None for key in keys):
        return refusal("30003", "INSZ bestaat niet", "not-found", oorsprong="RR")
    inschrijving = element.find("Inhoud/Inschrijving")
    assert inschrijving is not None  # the schema requires it
    warnings: list[Uitzondering] = []
    for key in keys:
        registration = Registration(
            client=(inschrijving.findtext("Identificatie") or "").strip(),
            insz=key,
            begin=(inschrijving.findtext("Periode/Begin") or "").strip(),
            einde=_stripped(inschrijving.findtext("Periode/Einde")),
            hoedanigheid=_stripped(inschrijving.findtext("Hoedanigheid")),
            afzender=question.client,
        )
        if not registers.repertorium.register(registration):
            warnings.append(Uitzondering("40143", "INSZ reeds ingeschreven", type="WAARSCHUWING"))
    inhoud = etree.Element("Inhoud")
    sub(inhoud, "Resultaat", "1")
    return Answer(inhoud, tuple(warnings), "already-registered" if warnings else "ok")


def _stripped(value: str | None) -> str | None:
    return None if value is None else value.strip()


REGISTRATION = ServiceSpec(
    name="RegistreerInschrijving",
    version="02.01",
    namespace=NAMESPACE,
    wsdl="RegistreerInschrijving-02.01/RegistreerInschrijving.wsdl",
    schema="RegistreerInschrijving-02.01/RegistreerInschrijving.xsd",
    handler=answer_registration,
    subject=registration_subject,
)
