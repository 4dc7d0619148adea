"""Small pure readers shared by the population mappings, in MAGDA's own answer structure.

MAGDA's person types (``PersoonDomein-v3``) share a few shapes, read here once:
- dates are ``OnvolledigeDatumType``: ``YYYY-MM-DD`` where ``00`` stands for an unknown day,
  month or year (``2000-00-00``), mostly as ``DatumBegin``/``DatumEinde`` attributes of the
  fact they date; they become :class:`PartialDate`, never a guessed full date;
- names are ``Naam{Achternamen/Achternaam+, Voornamen/Voornaam*}``;
- addresses are OSLO ``Adresvoorstelling``: ``Straatnaam/String``, ``Huisnummer``,
  ``Busnummer``, ``Postcode``, ``Gemeentenaam/String``, ``Land/String``, then ``NISCodeGemeente``;
- places are ``Plaats{Gemeente{NISCode, Naam}, Land{NISCode, ISOCode, Naam}}``.
Whatever the answer leaves out stays ``None`` or empty in the model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapters.magda.xmlread import required, text
from hub.errors import MappingError

__all__ = [
    "Address",
    "Names",
    "PartialDate",
    "Place",
    "address",
    "date_attribute",
    "names",
    "partial_date",
    "place",
    "required",
    "taalstring",
    "text",
    "to_plain",
]

_PARTIAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A register date whose day, month or year may be unknown (``0``).

    ``str()`` gives MAGDA's own form, ``2000-00-00``; :attr:`known` the full date, if it is one.
    """

    year: int
    month: int = 0
    day: int = 0

    @classmethod
    def parse(cls, value: str) -> PartialDate:
        """MAGDA's ``[0-9]{4}-[0-1,9][0-9]-[0-3,9][0-9]``; a part out of range is unknown."""
        match = _PARTIAL.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"not a MAGDA date: {value!r}")
        year, month, day = (int(part) for part in match.groups())
        month = month if 1 <= month <= 12 else 0
        day = day if month and 1 <= day <= 31 else 0
        if month and day:
            try:
                dt.date(year or 1, month, day)
            except ValueError:
                day = 0
        return cls(year, month, day)

    @classmethod
    def of(cls, value: dt.date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    @property
    def known(self) -> dt.date | None:
        """The full date, when year, month and day are all known."""
        if self.year and self.month and self.day:
            return dt.date(self.year, self.month, self.day)
        return None

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def to_plain(value: Any) -> Any:
    """A model as JSON-ready values: dates as MAGDA writes them, tuples as lists."""
    if isinstance(value, PartialDate):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    return value


def _partial(value: str | None, where: str) -> PartialDate | None:
    if value is None or not value.strip():
        return None
    try:
        return PartialDate.parse(value)
    except ValueError as exc:
        raise MappingError(f"answer has an unreadable date at {where}",
                           details={"path": where}) from exc


def partial_date(element: etree._Element | None, path: str) -> PartialDate | None:
    """The date in the child at ``path`` (``Datum``, ``Geboortedatum``), if any."""
    if element is None:
        return None
    return _partial(element.findtext(path), path)


def date_attribute(element: etree._Element | None, name: str) -> PartialDate | None:
    """``DatumBegin`` or ``DatumEinde`` of a dated fact, if given."""
    if element is None:
        return None
    return _partial(element.get(name), f"@{name}")


def taalstring(element: etree._Element | None, path: str) -> str | None:
    """An OSLO ``Taalstring`` (``String`` with its ``Taal``): the string."""
    if element is None:
        return None
    child = element.find(path)
    if child is None:
        return None
    return text(child, "String") if child.find("String") is not None else text(element, path)


@dataclass(frozen=True)
class Names:
    """``Naam``: one or more last names, zero or more first names, in the register's order."""

    last_names: tuple[str, ...]
    first_names: tuple[str, ...]

    @property
    def last_name(self) -> str | None:
        return " ".join(self.last_names) or None

    @property
    def full_name(self) -> str:
        return " ".join((*self.first_names, *self.last_names))


_NO_NAMES = Names((), ())


def _words(element: etree._Element, path: str) -> tuple[str, ...]:
    return tuple(v.text.strip() for v in element.findall(path) if v.text and v.text.strip())


def names(element: etree._Element | None) -> Names:
    """``Naam`` of a person, partner or household member (empty when the answer has none)."""
    if element is None:
        return _NO_NAMES
    return Names(_words(element, "Achternamen/Achternaam"), _words(element, "Voornamen/Voornaam"))


@dataclass(frozen=True)
class Address:
    """An OSLO address as the register gives it; each part may be absent."""

    street: str | None
    house_number: str | None
    box: str | None
    postal_code: str | None
    municipality_nis: str | None
    municipality_name: str | None
    country: str | None = None
    country_nis: str | None = None


def address(element: etree._Element) -> Address:
    """An ``Adresvoorstelling`` (``Hoofdverblijfplaats`` and the like)."""
    return Address(
        street=taalstring(element, "Straatnaam"),
        house_number=text(element, "Huisnummer"),
        box=text(element, "Busnummer"),
        postal_code=text(element, "Postcode"),
        municipality_nis=text(element, "NISCodeGemeente"),
        municipality_name=taalstring(element, "Gemeentenaam"),
        country=taalstring(element, "Land"),
        country_nis=text(element, "NISCodeLand"),
    )


@dataclass(frozen=True)
class Place:
    """A municipality and/or country: ``Gemeente{NISCode, Naam}``, ``Land{NISCode, Naam}``."""

    nis_code: str | None
    name: str | None
    country_nis: str | None = None
    country: str | None = None


def place(element: etree._Element | None) -> Place | None:
    """``Plaats`` (or a bare ``Gemeente``): ``None`` when the answer says nothing of it."""
    if element is None:
        return None
    gemeente = element.find("Gemeente")
    if gemeente is None and element.find("Land") is None:
        gemeente = element  # a bare GemeenteType, such as LijkbezorgingEnRitueel/PlaatsRegistratie
    found = Place(
        nis_code=None if gemeente is None else text(gemeente, "NISCode"),
        name=None if gemeente is None else text(gemeente, "Naam"),
        country_nis=text(element, "Land/NISCode"),
        country=text(element, "Land/Naam"),
    )
    return None if found == Place(None, None) else found
