"""RegistreerInschrijving 02.01: register subjects in the repertorium for a client.

As MAGDA: a subject is a person (``PERS``, ``Sleutel`` an INSZ) or a company (``OND``, a KBO
number); the answer's ``Inhoud/Resultaat`` says whether it worked, 1 "Wel geslaagd" or
0 "Niet geslaagd" (MAGDA's own failed answers carry no Uitzondering, only that Resultaat).
"""

from __future__ import annotations

from lxml import etree

from hub.identifiers import IdentifierError, is_valid_insz, normalize_kbo
from simulators.magda.envelopes import Uitzondering, sub
from simulators.magda.repertorium import Registration
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import refusal

__all__ = ["NAMESPACE", "REGISTRATION", "answer_registration", "registration_subject"]

NAMESPACE = "http://webservice.registreerinschrijvingdienst-02_01.repertorium-02_01.vip.vlaanderen.be"
PERSON, COMPANY = "PERS", "OND"
SUCCEEDED, FAILED = ("1", "Wel geslaagd"), ("0", "Niet geslaagd")
_SUBJECTS = "Inhoud/Inschrijving/BetrokkenSubject/Subjecten/Subject"


def registration_subject(vraag: etree._Element) -> str | None:
    """The first subject's key (an INSZ or KBO number), for fault matching and the calls log."""
    value = vraag.findtext(f"{_SUBJECTS}/Sleutel")
    return value.strip() if value else None


def _valid_kbo(value: str) -> bool:
    try:
        return normalize_kbo(value) == value
    except IdentifierError:
        return False


def _resultaat(result: tuple[str, str], warnings: tuple[Uitzondering, ...] = (),
               outcome: str = "ok") -> Answer:
    inhoud = etree.Element("Inhoud")
    sub(inhoud, "Resultaat", result[0]).set("Beschrijving", result[1])
    return Answer(inhoud, warnings, outcome)


def _refused(inschrijving: etree._Element, client: str | None) -> bool:
    """What MAGDA does not register: a subject of another kind than the registration says or
    of an unknown kind, a registration for another client, an end before the begin."""
    kind = (inschrijving.findtext("BetrokkenSubject/Type") or "").strip()
    kinds = {(s.findtext("Type") or "").strip()
             for s in inschrijving.findall("BetrokkenSubject/Subjecten/Subject")}
    if kind not in (PERSON, COMPANY) or kinds != {kind}:
        return True
    if client is not None and (inschrijving.findtext("Identificatie") or "").strip() != client:
        return True
    begin = (inschrijving.findtext("Periode/Begin") or "").strip()
    einde = (inschrijving.findtext("Periode/Einde") or "").strip()
    return bool(begin and einde and einde < begin)


def answer_registration(question: Question, registers: Registers) -> Answer:
    """Register every subject for ``Inschrijving/Identificatie``; Resultaat 1.

    Resultaat 0 for what MAGDA refuses (see :func:`_refused`); 20002 / 20007 (nothing
    registered) for an INSZ / KBO number with wrong check digits, 30003 for an unknown person;
    a pair registered before still answers Resultaat 1, with a WAARSCHUWING 40143 per such key.
    """
    inschrijving = question.element.find("Inhoud/Inschrijving")
    assert inschrijving is not None  # the schema requires it
    if _refused(inschrijving, question.client):
        return _resultaat(FAILED, outcome="refused")
    kind = (inschrijving.findtext("BetrokkenSubject/Type") or "").strip()
    keys = [(s.findtext("Sleutel") or "").strip() for s in question.element.findall(_SUBJECTS)]
    if kind == PERSON:
        if not all(is_valid_insz(key) for key in keys):
            return refusal("20002", "INSZ is ongeldig (controlegetal)", "invalid-insz")
        if any(registers.population.by_insz(key) is None for key in keys):
            return refusal("30003", "INSZ bestaat niet", "not-found", oorsprong="RR")
    elif not all(_valid_kbo(key) for key in keys):
        return refusal("20007", "Ondernemingsnummer is ongeldig (controlegetal)", "invalid-kbo")
    warnings: list[Uitzondering] = []
    for key in keys:
        registration = Registration(
            client=(inschrijving.findtext("Identificatie") or "").strip(),
            insz=key,
            begin=(inschrijving.findtext("Periode/Begin") or "").strip(),
            einde=_stripped(inschrijving.findtext("Periode/Einde")),
            hoedanigheid=_stripped(inschrijving.findtext("Hoedanigheid")),
            afzender=question.client,
            subject_type=kind,
        )
        if not registers.repertorium.register(registration):
            diagnose = ("INSZ" if kind == PERSON else "Onderneming") + " reeds ingeschreven"
            warnings.append(Uitzondering("40143", diagnose, type="WAARSCHUWING"))
    return _resultaat(SUCCEEDED, tuple(warnings),
                      "already-registered" if warnings else "ok")


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
