"""XML pieces several person services share: names, addresses, places, coded values."""

from __future__ import annotations

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.population_data import Address, CodedPeriod, Person, Place

__all__ = ["address", "coded", "gemeente", "naam", "place"]


def address(element: etree._Element, value: Address) -> None:
    """Fill an AdresType element: Straat, Huisnummer, Busnummer?, Postcode, Gemeente."""
    sub(element, "Straat", value.street)
    sub(element, "Huisnummer", value.house_number)
    if value.box is not None:
        sub(element, "Busnummer", value.box)
    sub(element, "Postcode", value.postcode)
    gemeente(element, value.nis_code, value.municipality)


def gemeente(parent: etree._Element, nis_code: str, name: str) -> None:
    """Append Gemeente{NISCode, Naam}."""
    element = sub(parent, "Gemeente")
    sub(element, "NISCode", nis_code)
    sub(element, "Naam", name)


def naam(parent: etree._Element, person: Person) -> None:
    """Append Naam{Voornamen{Voornaam+}, Achternaam}."""
    element = sub(parent, "Naam")
    voornamen = sub(element, "Voornamen")
    for first_name in person.first_names:
        sub(voornamen, "Voornaam", first_name)
    sub(element, "Achternaam", person.last_name)


def place(parent: etree._Element, value: Place | None) -> None:
    """Append Plaats{NISCode?, Naam} when the place is known."""
    if value is None:
        return
    element = sub(parent, "Plaats")
    if value.nis_code is not None:
        sub(element, "NISCode", value.nis_code)
    sub(element, "Naam", value.name)


def coded(parent: etree._Element, tag: str, period: CodedPeriod, *, history: bool) -> None:
    """Append ``tag``{Code, Omschrijving, Begindatum, Einddatum?}; the end only for history."""
    element = sub(parent, tag)
    sub(element, "Code", period.code)
    sub(element, "Omschrijving", period.description)
    sub(element, "Begindatum", period.begin.isoformat())
    if history and period.end is not None:
        sub(element, "Einddatum", period.end.isoformat())
