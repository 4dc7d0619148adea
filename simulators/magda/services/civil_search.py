"""ZoekAktenBurgerlijkeStand 02.00: search civil-status acts (DABS) by type, status, date or person.

The criteria are MAGDA's (``persoon:CriteriaZoekAktenBurgerlijkeStandType``): DocumentType (the
type's code), DocumentStatus, DatumCreatie, INSZ, Naam, Voornaam, Geboortedatum,
GemeenteVanOpmaak and the required ZoekInRijksregister flag. Every criterion given must hold. The
person criteria (INSZ, Naam, Voornaam, Geboortedatum) must all hold for one and the same
BetrokkenPersoon; INSZ matches a person in any role. Naam is a last name and Voornaam one of the
first names, both compared without regard to case. A partial date (Jaar, Maand?, Dag?) matches
every day it covers. No criterion at all (only ZoekInRijksregister) is 20100; an INSZ with bad
check digits 20002; no act 30001.

The answer is ``Inhoud/AkteBurgerlijkeStandSynopsisLijst`` with one synopsis per act, oldest
first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml import etree

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import refusal
from simulators.population_acts import (
    ACT_ORIGINS,
    ACT_STATUSES,
    INSZ_ORIGINS,
    ROLES,
    ActPerson,
    CivilAct,
)

__all__ = ["CIVIL_SEARCH", "answer_civil_search", "synopsis"]

NAMESPACE = "http://webservice.zoekaktenburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be"


@dataclass(frozen=True)
class _PartialDate:
    """Jaar, Maand?, Dag? as a criterion: every part given must hold."""

    year: int
    month: int | None
    day: int | None

    def covers(self, value: date | None) -> bool:
        return (
            value is not None
            and value.year == self.year
            and self.month in (None, value.month)
            and self.day in (None, value.day)
        )


@dataclass(frozen=True)
class _Criteria:
    type: str | None
    status: str | None
    created: _PartialDate | None
    insz: str | None
    last_name: str | None
    first_name: str | None
    birth_date: _PartialDate | None
    nis_code: str | None

    def empty(self) -> bool:
        return all(value is None for value in vars(self).values())

    def matches(self, act: CivilAct) -> bool:
        return (
            self.type in (None, act.type)
            and self.status in (None, act.status_code)
            and (self.created is None or self.created.covers(act.drawn_up))
            and self.nis_code in (None, act.nis_code)
            and any(self._is(person) for person in act.persons)
        )

    def _is(self, person: ActPerson) -> bool:
        return (
            self.insz in (None, person.insz)
            and (self.last_name is None or self.last_name == person.last_name.casefold())
            and (self.first_name is None
                 or self.first_name in (name.casefold() for name in person.first_names))
            and (self.birth_date is None or self.birth_date.covers(person.birth_date))
        )


def _text(criteria: etree._Element, path: str) -> str | None:
    value = criteria.findtext(path)
    return (value.strip() or None) if value is not None else None


def _number(text: str | None) -> int | None:
    # Maand is one or two characters for the schema: anything but a number matches nothing.
    if text is None:
        return None
    return int(text) if text.isdigit() else -1


def _partial(criteria: etree._Element, path: str) -> _PartialDate | None:
    element = criteria.find(path)
    if element is None:
        return None
    year = _number(_text(element, "Jaar"))
    assert year is not None  # the schema requires Jaar
    return _PartialDate(year, _number(_text(element, "Maand")), _number(_text(element, "Dag")))


def _criteria(criteria: etree._Element) -> _Criteria:
    last_name, first_name = _text(criteria, "Naam"), _text(criteria, "Voornaam")
    status = _text(criteria, "DocumentStatus")
    return _Criteria(
        type=_text(criteria, "DocumentType"),
        # "01" and "1" are the same two-digit code.
        status=None if status is None else str(int(status)),
        created=_partial(criteria, "DatumCreatie"),
        insz=_text(criteria, "INSZ"),
        last_name=None if last_name is None else last_name.casefold(),
        first_name=None if first_name is None else first_name.casefold(),
        birth_date=_partial(criteria, "Geboortedatum"),
        nis_code=_text(criteria, "GemeenteVanOpmaak"),
    )


def answer_civil_search(question: Question, registers: Registers) -> Answer:
    """Inhoud/AkteBurgerlijkeStandSynopsisLijst: a synopsis of every act found, oldest first."""
    element = question.element.find("Inhoud/Criteria")
    assert element is not None  # the schema requires it
    criteria = _criteria(element)
    if criteria.empty():
        return refusal("20100", "Onvoldoende criteria", "insufficient-criteria")
    if criteria.insz is not None and not is_valid_insz(criteria.insz):
        return refusal("20002", "INSZ is ongeldig (controlegetal)", "invalid-insz")
    found = [act for act in registers.population.acts if criteria.matches(act)]
    if not found:
        return refusal("30001", "Geen akten gevonden", "not-found", oorsprong="DABS")
    inhoud = etree.Element("Inhoud")
    lijst = sub(inhoud, "AkteBurgerlijkeStandSynopsisLijst")
    for act in found:
        synopsis(sub(lijst, "AkteBurgerlijkeStandSynopsis"), act)
    return Answer(inhoud=inhoud)


def _coded(parent: etree._Element, tag: str, code: str, description: str) -> None:
    element = sub(parent, tag)
    sub(element, "Code", code)
    sub(element, "Omschrijving", description)


def synopsis(element: etree._Element, act: CivilAct) -> None:
    """Fill a ``persoon:AkteBurgerlijkeStandSynopsisType``, in MAGDA's order.

    A synopsis names no one: each BetrokkenPersoon is an INSZ (when the person has one), a role
    and where the INSZ comes from. The municipality is its NIS code only.
    """
    sub(element, "DocumentReferte", act.reference)
    creatie = sub(element, "DatumCreatie")
    sub(creatie, "Jaar", f"{act.drawn_up.year:04d}")
    sub(creatie, "Maand", f"{act.drawn_up.month:02d}")
    sub(creatie, "Dag", f"{act.drawn_up.day:02d}")
    _coded(element, "DocumentType", act.type, act.type_description)
    _coded(element, "DocumentStatus", act.status_code, ACT_STATUSES[act.status])
    _coded(element, "HerkomstAkte", act.origin_code, ACT_ORIGINS[act.origin_code])
    personen = sub(element, "BetrokkenPersonen")
    for person in act.persons:
        betrokkene = sub(personen, "BetrokkenPersoon")
        if person.insz is not None:
            sub(betrokkene, "INSZ", person.insz)
        _coded(betrokkene, "Rol", person.role_code, ROLES[person.role])
        origin = person.insz_origin_code
        _coded(betrokkene, "HerkomstINSZ", origin, INSZ_ORIGINS[origin])
    sub(element, "GemeenteVanOpmaak", act.nis_code)


CIVIL_SEARCH = ServiceSpec(
    name="ZoekAktenBurgerlijkeStand",
    version="02.00",
    namespace=NAMESPACE,
    wsdl="ZoekAktenBurgerlijkeStand-02.00/ZoekAktenBurgerlijkeStand.wsdl",
    schema="ZoekAktenBurgerlijkeStand-02.00/ZoekAktenBurgerlijkeStand.xsd",
    handler=answer_civil_search,
)
