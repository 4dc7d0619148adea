"""GeefPersoon 02.02: a person's current register facts, subject to the repertorium."""

from __future__ import annotations

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import find_person
from simulators.magda.services.xmlparts import address, coded, gemeente, naam, place
from simulators.population_data import (
    BURIAL_METHODS,
    BURIAL_RITES,
    Person,
    PersonFacts,
    Population,
)

__all__ = ["PERSON", "answer_person"]

NAMESPACE = "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02"


def answer_person(question: Question, registers: Registers) -> Answer:
    """Inhoud/Persoon for Criteria/INSZ; Bron and Taal are accepted and make no difference."""
    found = find_person(question, registers, repertorium=True)
    if isinstance(found, Answer):
        return found
    person, facts = found
    inhoud = etree.Element("Inhoud")
    _persoon(sub(inhoud, "Persoon"), person, facts, registers.population)
    return Answer(inhoud=inhoud)


def _persoon(
    element: etree._Element, person: Person, facts: PersonFacts, population: Population
) -> None:
    sub(element, "INSZ", person.insz)
    naam(element, person)
    geboorte = sub(element, "Geboorte")
    sub(geboorte, "Datum", person.birth_date.isoformat())
    place(geboorte, facts.birth_place)
    sub(sub(element, "Geslacht"), "Code", person.sex)
    nationaliteiten = sub(element, "Nationaliteiten")
    for nationality in facts.current_nationalities:
        coded(nationaliteiten, "Nationaliteit", nationality, history=False)
    if facts.civil_state is not None:
        coded(element, "BurgerlijkeStaat", facts.civil_state, history=False)
    if facts.residence is not None:
        hoofdverblijfplaats = sub(element, "Hoofdverblijfplaats")
        address(sub(hoofdverblijfplaats, "Adres"), facts.residence.address)
        sub(hoofdverblijfplaats, "Begindatum", facts.residence.begin.isoformat())
    if facts.death is not None:
        overlijden = sub(element, "Overlijden")
        sub(overlijden, "Datum", facts.death.date.isoformat())
        place(overlijden, facts.death.place)
    _cohabitation(element, facts, population)
    _burial(element, facts)


def _cohabitation(element: etree._Element, facts: PersonFacts, population: Population) -> None:
    cohabitation = facts.cohabitation
    partner = None if cohabitation is None else population.by_insz(cohabitation.partner_insz)
    if cohabitation is None or partner is None:
        return
    samenwoning = sub(element, "WettelijkeSamenwoning")
    partner_element = sub(samenwoning, "Partner")
    sub(partner_element, "INSZ", partner.insz)
    naam(partner_element, partner)
    sub(samenwoning, "Begindatum", cohabitation.begin.isoformat())
    gemeente(samenwoning, cohabitation.nis_code, cohabitation.municipality)


def _burial(element: etree._Element, facts: PersonFacts) -> None:
    burial = facts.burial
    if burial is None:
        return
    teraardebestelling = sub(element, "Teraardebestelling")
    wijze = sub(teraardebestelling, "Wijze")
    sub(wijze, "Code", burial.method)
    sub(wijze, "Omschrijving", BURIAL_METHODS[burial.method])
    if burial.rite is not None:
        ritueel = sub(teraardebestelling, "Ritueel")
        sub(ritueel, "Code", burial.rite)
        sub(ritueel, "Omschrijving", BURIAL_RITES[burial.rite])
    sub(teraardebestelling, "Datum", burial.declared.isoformat())
    gemeente(teraardebestelling, burial.nis_code, burial.municipality)


PERSON = ServiceSpec(
    name="GeefPersoon",
    version="02.02",
    namespace=NAMESPACE,
    wsdl="GeefPersoon-02.02/GeefPersoon.wsdl",
    schema="GeefPersoon-02.02/GeefPersoon.xsd",
    handler=answer_person,
)
