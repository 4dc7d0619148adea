"""GeefGezinssamenstelling 02.02: the household of a person, from the synthetic population.

The answer is ``Inhoud/Gezinsleden/Gezinslid+`` (MAGDA's ``GezinslidVerplichtINSZType``), the
reference person first. Each member comes with their own ``Positie`` and their own address
(``Adressen/Hoofdverblijfplaats`` since the day they joined), the source (``Bron`` RR) and the
municipality that keeps their file (``Beheerder``), as in MAGDA's answers. The head carries no
``DatumBegin``; every other member carries the day they joined.
"""

from __future__ import annotations

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import find_subject, not_found, refusal
from simulators.magda.services.xmlparts import (
    beheerder,
    coded,
    geslacht,
    hoofdverblijfplaats,
    naam,
    periods,
)
from simulators.population_data import Person, PersonFacts

__all__ = ["HOUSEHOLD", "answer_household"]

NAMESPACE = "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"
DECEASED = "40098"


def answer_household(question: Question, registers: Registers) -> Answer:
    """The Gezinsleden of the household of the person in Criteria/INSZ.

    20002 for bad check digits, 30001 for an unknown INSZ or a known person in no household
    (struck off, emigrated, a bis number), 40098 for a deceased person (their household no
    longer exists). Not subject to the repertorium.
    """
    found = find_subject(question, registers, service="GeefGezinssamenstelling",
                        repertorium=False)
    if isinstance(found, Answer):
        return found
    if found.facts.death is not None:
        return refusal(DECEASED, "De persoon is overleden: geen gezinssamenstelling",
                       "deceased", oorsprong="RR")
    population = registers.population
    household = population.household_of(found.person.insz)
    if household is None:
        return not_found("GeefGezinssamenstelling")
    inhoud = etree.Element("Inhoud")
    leden = sub(inhoud, "Gezinsleden")
    for person in household.members:
        facts = population.facts_of(person.insz)
        assert facts is not None  # the population refuses a member without facts
        _member(leden, person, facts, head=person is household.head)
    return Answer(inhoud=inhoud, uitzonderingen=found.warnings,
                  outcome="renumbered" if found.warnings else "ok")


def _member(parent: etree._Element, person: Person, facts: PersonFacts, *, head: bool) -> None:
    residence = facts.residence
    element = sub(parent, "Gezinslid")
    if not head and residence is not None:
        periods(element, residence.begin)
    sub(element, "INSZ", person.insz)
    naam(element, person)
    geslacht(element, person)
    sub(element, "Geboortedatum", person.birth_date_text)
    coded(element, "Positie", person.relation_code or "01", person.relation_description)
    if residence is not None:
        hoofdverblijfplaats(sub(element, "Adressen"), residence)
    coded(element, "Bron", "RR", "Rijksregister")
    beheerder(element, facts)


HOUSEHOLD = ServiceSpec(
    name="GeefGezinssamenstelling",
    version="02.02",
    namespace=NAMESPACE,
    wsdl="GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.wsdl",
    schema="GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.xsd",
    handler=answer_household,
)
