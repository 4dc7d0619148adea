"""GeefGezinssamenstelling 02.02: the household of a person, from the synthetic population."""

from __future__ import annotations

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import find_person, refusal
from simulators.magda.services.xmlparts import address, naam
from simulators.population_data import Person

__all__ = ["HOUSEHOLD", "answer_household"]

NAMESPACE = "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"


def answer_household(question: Question, registers: Registers) -> Answer:
    """The Gezin of the person in Criteria/INSZ.

    20002 for bad check digits, 30003 if unknown, 30001 for a known person in no household
    (deceased, struck off). Not subject to the repertorium.
    """
    found = find_person(question, registers, repertorium=False)
    if isinstance(found, Answer):
        return found
    household = registers.population.household_of(found[0].insz)
    if household is None:
        return refusal("30001", "Geen gegevens gevonden", "no-data", oorsprong="RR")
    inhoud = etree.Element("Inhoud")
    gezin = sub(inhoud, "Gezin")
    address(sub(gezin, "Hoofdverblijfplaats"), household.address)
    leden = sub(gezin, "Gezinsleden")
    for person in household.members:
        _member(sub(leden, "Gezinslid"), person)
    return Answer(inhoud=inhoud)


def _member(element: etree._Element, person: Person) -> None:
    sub(element, "INSZ", person.insz)
    naam(element, person)
    sub(element, "Geboortedatum", person.birth_date.isoformat())
    sub(sub(element, "Geslacht"), "Code", person.sex)
    nationaliteit = sub(element, "Nationaliteit")
    sub(nationaliteit, "Code", person.nationality_code)
    sub(nationaliteit, "Omschrijving", person.nationality_description)
    relatie = sub(element, "RelatieTotReferentiepersoon")
    sub(relatie, "Code", person.relation_code)
    sub(relatie, "Omschrijving", person.relation_description)


HOUSEHOLD = ServiceSpec(
    name="GeefGezinssamenstelling",
    version="02.02",
    namespace=NAMESPACE,
    wsdl="GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.wsdl",
    schema="GeefGezinssamenstelling-02.02/GeefGezinssamenstelling.xsd",
    handler=answer_household,
)
