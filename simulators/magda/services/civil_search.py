"""ZoekAktenBurgerlijkeStand 02.00: search civil-status acts (DABS) by reference, type or person.

Every criterion given must hold. The person criteria (INSZ, Naam, Voornaam, Geboortedatum) must
all hold for one and the same BetrokkenPersoon; INSZ matches a person in any role. Naam is a
last name and Voornaam one of the first names, both compared without regard to case. No
criterion at all is 20100; an INSZ with bad check digits 20002; no act 30001.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lxml import etree

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import refusal
from simulators.population_acts import ACT_STATUSES, ROLES, ActPerson, CivilAct

__all__ = ["CIVIL_SEARCH", "answer_civil_search"]

NAMESPACE = "http://webservice.zoekaktenburgerlijkestanddienst-02_00.persoon-02_00.vip.vlaanderen.be"


@dataclass(frozen=True)
class _Criteria:
    reference: str | None
    type: str | None
    insz: str | None
    last_name: str | None
    first_name: str | None
    birth_date: date | None
    nis_code: str | None

    def empty(self) -> bool:
        return all(value is None for value in vars(self).values())

    def matches(self, act: CivilAct) -> bool:
        return (
            self.reference in (None, act.reference)
            and self.type in (None, act.type)
            and self.nis_code in (None, act.nis_code)
            and any(self._is(person) for person in act.persons)
        )

    def _is(self, person: ActPerson) -> bool:
        return (
            self.insz in (None, person.insz)
            and (self.last_name is None or self.last_name == person.last_name.casefold())
            and (self.first_name is None
                 or self.first_name in (name.casefold() for name in person.first_names))
            and self.birth_date in (None, person.birth_date)
        )


def _text(criteria: etree._Element, path: str) -> str | None:
    value = criteria.findtext(path)
    return (value.strip() or None) if value is not None else None


def _day(text: str) -> date:
    # xs:date may carry a time zone; the day is what counts. Years outside 1-9999 match nobody.
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return date.min


def _criteria(criteria: etree._Element) -> _Criteria:
    last_name, first_name = _text(criteria, "Naam"), _text(criteria, "Voornaam")
    # Geboortedatum is MAGDA's partial date (Jaar, Maand?, Dag?): a complete one is matched; a
    # partial one is not used (the simulator's acts know full dates only).
    parts = [_text(criteria, f"Geboortedatum/{part}") or "" for part in ("Jaar", "Maand", "Dag")]
    born = "-".join(p.zfill(2) for p in parts) if all(parts) else None
    return _Criteria(
        # MAGDA's search names no act reference; DocumentType is the type's code as text.
        reference=None,
        type=_text(criteria, "DocumentType"),
        insz=_text(criteria, "INSZ"),
        last_name=None if last_name is None else last_name.casefold(),
        first_name=None if first_name is None else first_name.casefold(),
        birth_date=None if born is None else _day(born),
        nis_code=_text(criteria, "GemeenteVanOpmaak"),
    )


def answer_civil_search(question: Question, registers: Registers) -> Answer:
    """Inhoud/Akten with every act that meets the criteria, oldest first."""
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
    akten = sub(inhoud, "Akten")
    for act in found:
        _akte(sub(akten, "Akte"), act)
    return Answer(inhoud=inhoud)


def _coded(parent: etree._Element, tag: str, code: str, description: str) -> None:
    element = sub(parent, tag)
    sub(element, "Code", code)
    sub(element, "Omschrijving", description)


def _akte(element: etree._Element, act: CivilAct) -> None:
    sub(element, "DocumentReferte", act.reference)
    _coded(element, "DocumentType", act.type, act.type_description)
    _coded(element, "DocumentStatus", act.status, ACT_STATUSES[act.status])
    sub(element, "DatumOpmaak", act.drawn_up.isoformat())
    gemeente = sub(element, "GemeenteVanOpmaak")
    sub(gemeente, "NISCode", act.nis_code)
    sub(gemeente, "Naam", act.municipality)
    personen = sub(element, "BetrokkenPersonen")
    for person in act.persons:
        betrokkene = sub(personen, "BetrokkenPersoon")
        if person.insz is not None:
            sub(betrokkene, "INSZ", person.insz)
        naam = sub(betrokkene, "Naam")
        voornamen = sub(naam, "Voornamen")
        for first_name in person.first_names:
            sub(voornamen, "Voornaam", first_name)
        sub(naam, "Achternaam", person.last_name)
        _coded(betrokkene, "Rol", person.role, ROLES[person.role])


CIVIL_SEARCH = ServiceSpec(
    name="ZoekAktenBurgerlijkeStand",
    version="02.00",
    namespace=NAMESPACE,
    wsdl="ZoekAktenBurgerlijkeStand-02.00/ZoekAktenBurgerlijkeStand.wsdl",
    schema="ZoekAktenBurgerlijkeStand-02.00/ZoekAktenBurgerlijkeStand.xsd",
    handler=answer_civil_search,
)
