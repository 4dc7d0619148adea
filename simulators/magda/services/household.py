"""GeefGezinssamenstelling 02.02: the household of a person, from the synthetic population."""

from __future__ import annotations

from lxml import etree

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import Uitzondering, sub
from simulators.magda.services.base import Answer, Question, ServiceSpec
from simulators.population_data import Address, Person, Population

__all__ = ["HOUSEHOLD", "answer_household"]

NAMESPACE = "http://magda.vlaanderen.be/persoon/soap/geefgezinssamenstelling/v02_02"


def answer_household(question: Question, population: Population) -> Answer:
    """The Gezin of the person in Criteria/INSZ, 20002 for bad check digits, 30003 if unknown."""
    insz = question.insz or ""
    if not is_valid_insz(insz):
        return Answer(
            uitzonderingen=(Uitzondering("20002", "INSZ is ongeldig (controlegetal)"),),
            outcome="invalid-insz",
        )
    household = population.household_of(insz)
    if household is None:
        return Answer(
            uitzonderingen=(Uitzondering("30003", "INSZ bestaat niet", oorsprong="RR"),),
            outcome="not-found",
        )
    inhoud = etree.Element("Inhoud")
    gezin = sub(inhoud, "Gezin")
    _address(sub(gezin, "Hoofdverblijfplaats"), household.address)
    leden = sub(gezin, "Gezinsleden")
    for person in household.members:
        _member(sub(leden, "Gezinslid"), person)
    return Answer(inhoud=inhoud)


def _address(element: etree._Element, address: Address) -> None:
    sub(element, "Straat", address.street)
    sub(element, "Huisnummer", address.house_number)
    if address.box is not None:
        sub(element, "Busnummer", address.box)
    sub(element, "Postcode", address.postcode)
    gemeente = sub(element, "Gemeente")
    sub(gemeente, "NISCode", address.nis_code)
    sub(gemeente, "Naam", address.municipality)


def _member(element: etree._Element, person: Person) -> None:
    sub(element, "INSZ", person.insz)
    naam = sub(element, "Naam")
    voornamen = sub(naam, "Voornamen")
    for first_name in person.first_names:
        sub(voornamen, "Voornaam", first_name)
    sub(naam, "Achternaam", person.last_name)
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
