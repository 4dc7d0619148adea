"""GeefPersoon and GeefHistoriekPersoon answers → :class:`Person` and :class:`PersonHistory`.

Pure: XML element in, frozen dataclasses out. Tested with golden files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree

from adapters.population.mapping.common import (
    Address,
    Place,
    address,
    date_at,
    optional_date,
    place,
    required,
    text,
)
from hub.errors import MappingError

__all__ = [
    "BELGIAN",
    "BurialDeclaration",
    "CivilStatus",
    "Cohabitation",
    "Death",
    "Nationality",
    "Person",
    "PersonHistory",
    "ResidencePeriod",
    "history_from_inhoud",
    "person_from_inhoud",
]

BELGIAN = "150"
MARRIED = "20"


@dataclass(frozen=True)
class Nationality:
    code: str
    description: str | None
    since: dt.date | None
    until: dt.date | None = None


@dataclass(frozen=True)
class CivilStatus:
    code: str
    description: str | None
    since: dt.date | None
    until: dt.date | None = None


@dataclass(frozen=True)
class ResidencePeriod:
    address: Address
    since: dt.date
    until: dt.date | None = None


@dataclass(frozen=True)
class Death:
    date: dt.date
    place: Place | None


@dataclass(frozen=True)
class Cohabitation:
    partner_insz: str
    partner_name: str
    since: dt.date
    municipality: Place | None


@dataclass(frozen=True)
class BurialDeclaration:
    manner_code: str
    manner: str | None
    rite_code: str | None
    rite: str | None
    declared_on: dt.date
    municipality: Place | None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class Person:
    insz: str
    first_names: tuple[str, ...]
    last_name: str
    birth_date: dt.date
    birth_place: Place | None
    sex: str
    nationalities: tuple[Nationality, ...]
    civil_status: CivilStatus | None
    residence: ResidencePeriod | None
    death: Death | None
    cohabitation: Cohabitation | None
    burial: BurialDeclaration | None

    @property
    def full_name(self) -> str:
        return " ".join((*self.first_names, self.last_name))

    @property
    def is_belgian(self) -> bool:
        return any(n.code == BELGIAN for n in self.nationalities)

    @property
    def is_married(self) -> bool:
        return self.civil_status is not None and self.civil_status.code == MARRIED

    def to_dict(self) -> dict[str, Any]:
        return dict(_jsonable(asdict(self)))


@dataclass(frozen=True)
class PersonHistory:
    insz: str
    first_names: tuple[str, ...]
    last_name: str
    death: Death | None
    residences: tuple[ResidencePeriod, ...]
    nationalities: tuple[Nationality, ...]
    civil_statuses: tuple[CivilStatus, ...]

    @property
    def full_name(self) -> str:
        return " ".join((*self.first_names, self.last_name))

    @property
    def current_residence(self) -> ResidencePeriod | None:
        open_periods = [r for r in self.residences if r.until is None]
        return open_periods[-1] if open_periods else None

    def to_dict(self) -> dict[str, Any]:
        return dict(_jsonable(asdict(self)))


def _first_names(element: etree._Element) -> tuple[str, ...]:
    return tuple(
        (v.text or "").strip() for v in element.findall("Naam/Voornamen/Voornaam") if v.text
    )


def _persoon(inhoud: etree._Element | None) -> etree._Element:
    persoon = inhoud.find("Persoon") if inhoud is not None else None
    if persoon is None:
        raise MappingError("person answer has no Inhoud/Persoon")
    return persoon


def _nationality(element: etree._Element) -> Nationality:
    return Nationality(
        code=required(element, "Code"),
        description=text(element, "Omschrijving"),
        since=optional_date(element, "Begindatum"),
        until=optional_date(element, "Einddatum"),
    )


def _civil_status(element: etree._Element) -> CivilStatus:
    return CivilStatus(
        code=required(element, "Code"),
        description=text(element, "Omschrijving"),
        since=optional_date(element, "Begindatum"),
        until=optional_date(element, "Einddatum"),
    )


def _residence(element: etree._Element) -> ResidencePeriod:
    adres = element.find("Adres")
    if adres is None:
        raise MappingError("Hoofdverblijfplaats has no Adres")
    return ResidencePeriod(
        address=address(adres),
        since=date_at(element, "Begindatum"),
        until=optional_date(element, "Einddatum"),
    )


def _death(element: etree._Element | None) -> Death | None:
    if element is None:
        return None
    return Death(date=date_at(element, "Datum"), place=place(element.find("Plaats")))


def _cohabitation(element: etree._Element | None) -> Cohabitation | None:
    if element is None:
        return None
    partner = element.find("Partner")
    if partner is None:
        raise MappingError("WettelijkeSamenwoning has no Partner")
    return Cohabitation(
        partner_insz=required(partner, "INSZ"),
        partner_name=" ".join((*_first_names(partner), required(partner, "Naam/Achternaam"))),
        since=date_at(element, "Begindatum"),
        municipality=place(element.find("Gemeente")),
    )


def person_from_inhoud(inhoud: etree._Element | None) -> Person:
    """``Antwoord/Inhoud`` of GeefPersoon 02.02 → :class:`Person`."""
    persoon = _persoon(inhoud)
    residence = persoon.find("Hoofdverblijfplaats")
    cohabitation = persoon.find("WettelijkeSamenwoning")
    burial = persoon.find("Teraardebestelling")
    civil_status = persoon.find("BurgerlijkeStaat")
    return Person(
        insz=required(persoon, "INSZ"),
        first_names=_first_names(persoon),
        last_name=required(persoon, "Naam/Achternaam"),
        birth_date=date_at(persoon, "Geboorte/Datum"),
        birth_place=place(persoon.find("Geboorte/Plaats")),
        sex=required(persoon, "Geslacht/Code"),
        nationalities=tuple(
            _nationality(n) for n in persoon.findall("Nationaliteiten/Nationaliteit")
        ),
        civil_status=_civil_status(civil_status) if civil_status is not None else None,
        residence=_residence(residence) if residence is not None else None,
        death=_death(persoon.find("Overlijden")),
        cohabitation=_cohabitation(cohabitation),
        burial=BurialDeclaration(
            manner_code=required(burial, "Wijze/Code"),
            manner=text(burial, "Wijze/Omschrijving"),
            rite_code=text(burial, "Ritueel/Code"),
            rite=text(burial, "Ritueel/Omschrijving"),
            declared_on=date_at(burial, "Datum"),
            municipality=place(burial.find("Gemeente")),
        )
        if burial is not None
        else None,
    )


def history_from_inhoud(inhoud: etree._Element | None) -> PersonHistory:
    """``Antwoord/Inhoud`` of GeefHistoriekPersoon 02.02 → :class:`PersonHistory`."""
    persoon = _persoon(inhoud)
    historiek = persoon.find("Historiek")
    if historiek is None:
        raise MappingError("history answer has no Historiek")
    residences = sorted(
        (_residence(r) for r in historiek.findall("Hoofdverblijfplaatsen/Hoofdverblijfplaats")),
        key=lambda r: r.since,
    )
    return PersonHistory(
        insz=required(persoon, "INSZ"),
        first_names=_first_names(persoon),
        last_name=required(persoon, "Naam/Achternaam"),
        death=_death(persoon.find("Overlijden")),
        residences=tuple(residences),
        nationalities=tuple(
            _nationality(n) for n in historiek.findall("Nationaliteiten/Nationaliteit")
        ),
        civil_statuses=tuple(
            _civil_status(c) for c in historiek.findall("BurgerlijkeStaten/BurgerlijkeStaat")
        ),
    )
