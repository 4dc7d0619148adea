"""GeefPersoon 02.02: a person's current register facts, subject to the repertorium.

The answer is ``Inhoud/Persoon`` (MAGDA's ``PersoonType``) with its children in the schema's
order: INSZ, Naam, Geslacht, Statussen, Beheerder, Register, Nationaliteiten, Geboorte,
Overlijden, BurgerlijkeStaten, Adressen, Referentiepersoon (for a member: the head and the
member's own position), Gezinsleden (for a head: the others), WettelijkeSamenwoning, Begraving
and LijkbezorgingEnRitueel. As in MAGDA's answers, the deceased, people struck off and people
who left for abroad keep their last Belgian ``Hoofdverblijfplaats``; a ``Status`` (99990,
99991, 992) says why it is no longer current. ``Persoon/@Bron`` is the source asked
(``Vraag/Inhoud/Bron``); a bis number is answered from the KSZ only.
"""

from __future__ import annotations

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import Found, find_subject, is_bis_number, requested_source
from simulators.magda.services.xmlparts import (
    abroad_parts,
    beheerder,
    burgerlijke_staat,
    geboorte,
    geslacht,
    gezinslid,
    hoofdverblijfplaats,
    household_member_list,
    lijkbezorging,
    naam,
    nationaliteit,
    overlijden,
    register,
    spouse,
    status,
    wettelijke_samenwoning,
)
from simulators.population_data import Population

__all__ = ["PERSON", "answer_person"]

NAMESPACE = "http://magda.vlaanderen.be/persoon/soap/geefpersoon/v02_02"


def answer_person(question: Question, registers: Registers) -> Answer:
    """Inhoud/Persoon for Criteria/INSZ; Bron KSZ is needed for a bis number."""
    found = find_subject(question, registers, service="GeefPersoon", repertorium=True)
    if isinstance(found, Answer):
        return found
    inhoud = etree.Element("Inhoud")
    persoon(inhoud, found, registers.population, source=requested_source(question))
    return Answer(inhoud=inhoud, uitzonderingen=found.warnings,
                  outcome="renumbered" if found.warnings else "ok")


def persoon(parent: etree._Element, found: Found, population: Population, *, source: str
            ) -> etree._Element:
    """Append ``Persoon`` (PersoonType) for ``found``."""
    person, facts = found.person, found.facts
    element = sub(parent, "Persoon")
    element.set("Bron", source)
    if facts.residences:
        element.set("DatumCreatie", facts.residences[0].begin.isoformat())
    sub(element, "INSZ", person.insz)
    naam(element, person)
    geslacht(element, person)
    if facts.statuses:
        statussen = sub(element, "Statussen")
        for value in facts.statuses:
            status(statussen, value)
    beheerder(element, facts)
    register(element, person, facts, bis=is_bis_number(person.insz))
    nationaliteiten = sub(element, "Nationaliteiten")
    for period in facts.current_nationalities:
        nationaliteit(nationaliteiten, period, person, end=False)
    geboorte(element, person, facts)
    if facts.death is not None:
        overlijden(element, facts.death)
    if facts.civil_state is not None:
        state = facts.civil_state
        partner = spouse(person, population) if state.code == "20" else None
        burgerlijke_staat(sub(element, "BurgerlijkeStaten"), state, person, end=False,
                          partner=partner)
    _adressen(element, found)
    household = population.household_of(person.insz)
    if household is not None and household.head.insz != person.insz:
        gezinslid(element, "Referentiepersoon", household.head,
                  population.facts_of(person.insz), position=person)
    elif household is not None:
        household_member_list(element, household, population)
    cohabitation = facts.cohabitation
    cohabitant = None if cohabitation is None else population.by_insz(cohabitation.partner_insz)
    if cohabitation is not None and cohabitant is not None:
        wettelijke_samenwoning(element, cohabitation, cohabitant)
    if facts.burial is not None:
        lijkbezorging(element, facts.burial)
    return element


def _adressen(parent: etree._Element, found: Found) -> None:
    facts = found.facts
    last = facts.last_residence
    if last is None and facts.abroad is None:
        return
    adressen = sub(parent, "Adressen")
    if last is not None:
        hoofdverblijfplaats(adressen, last)
    if facts.abroad is not None:
        abroad_parts(adressen, facts.abroad)


PERSON = ServiceSpec(
    name="GeefPersoon",
    version="02.02",
    namespace=NAMESPACE,
    wsdl="GeefPersoon-02.02/GeefPersoon.wsdl",
    schema="GeefPersoon-02.02/GeefPersoon.xsd",
    handler=answer_person,
)
