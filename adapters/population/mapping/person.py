"""GeefPersoon and GeefHistoriekPersoon 02.02 answers → :class:`Person` and :class:`PersonHistory`.

Pure: XML element in, frozen dataclasses out. Read as MAGDA publishes it
(``PersoonType`` and ``HistoriekPersoonType`` of ``PersoonDomein-v3``): ``Inhoud/Persoon`` and
``Inhoud/HistoriekPersoon``, every fact dated by its ``DatumBegin``/``DatumEinde`` attributes.
A fact whose ``DatumEinde`` is given is over; the register's current value is the one without.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapters.population.errors import SubjectMismatch
from adapters.population.mapping.common import (
    Address,
    PartialDate,
    Place,
    address,
    date_attribute,
    names,
    partial_date,
    place,
    required,
    text,
    to_plain,
)
from hub.errors import MappingError

__all__ = [
    "BELGIAN",
    "BurialDeclaration",
    "CivilStatus",
    "Cohabitation",
    "Death",
    "ForeignAddress",
    "Nationality",
    "Person",
    "PersonHistory",
    "RegisterStatus",
    "ResidencePeriod",
    "history_from_inhoud",
    "person_from_inhoud",
    "require_subject",
]

RENUMBERED = "30004"
"""MAGDA's WAARSCHUWING that the person has a new INSZ: the answer is about the new one."""

BELGIAN = "150"
MARRIED = "20"


@dataclass(frozen=True)
class Nationality:
    code: str
    description: str | None
    since: PartialDate | None
    until: PartialDate | None = None


@dataclass(frozen=True)
class CivilStatus:
    code: str
    description: str | None
    since: PartialDate | None
    until: PartialDate | None = None


@dataclass(frozen=True)
class ResidencePeriod:
    """A main residence (``Hoofdverblijfplaats``); ``reference_address`` when it is one."""

    address: Address
    since: PartialDate | None
    until: PartialDate | None = None
    reference_address: bool = False


@dataclass(frozen=True)
class ForeignAddress:
    """A residence or post address abroad: the country and the lines the register holds."""

    kind: str
    """``residence`` (VerblijfplaatsBuitenland) or ``post`` (PostadresBuitenland)."""
    country: str | None
    lines: tuple[str, ...]
    since: PartialDate | None
    until: PartialDate | None = None


@dataclass(frozen=True)
class RegisterStatus:
    """``Statussen/Status``: why the register no longer counts the person as living here.

    MAGDA keeps a person's last ``Hoofdverblijfplaats`` (without ``DatumEinde``) when they
    died (99990), left for abroad (992), were struck off (9999x) or declared absent (99996):
    the status in force says that residence is no longer current.
    """

    code: str
    description: str | None
    since: PartialDate | None


DECEASED_STATUS = "99990"


@dataclass(frozen=True)
class Death:
    date: PartialDate | None
    place: Place | None


@dataclass(frozen=True)
class Cohabitation:
    partner_insz: str | None
    partner_name: str | None
    since: PartialDate | None
    municipality: Place | None


@dataclass(frozen=True)
class BurialDeclaration:
    """``LijkbezorgingEnRitueel``: the declared manner of disposal and rites."""

    manner_code: str
    manner: str | None
    rite_code: str | None
    rite: str | None
    declared_on: PartialDate | None
    municipality: Place | None


@dataclass(frozen=True)
class Person:
    insz: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    birth_date: PartialDate | None
    birth_place: Place | None
    sex: str | None
    nationalities: tuple[Nationality, ...]
    civil_status: CivilStatus | None
    residence: ResidencePeriod | None
    death: Death | None
    cohabitation: Cohabitation | None
    burial: BurialDeclaration | None
    addresses_abroad: tuple[ForeignAddress, ...] = ()
    statuses: tuple[RegisterStatus, ...] = ()

    @property
    def last_name(self) -> str | None:
        return " ".join(self.last_names) or None

    @property
    def full_name(self) -> str:
        return " ".join((*self.first_names, *self.last_names))

    @property
    def current_residence(self) -> ResidencePeriod | None:
        """The main residence, unless a register status says it is no longer current."""
        return None if self.statuses else self.residence

    @property
    def is_deceased(self) -> bool:
        return self.death is not None or any(s.code == DECEASED_STATUS for s in self.statuses)

    @property
    def is_belgian(self) -> bool:
        return any(n.code == BELGIAN for n in self.nationalities)

    @property
    def is_married(self) -> bool:
        return self.civil_status is not None and self.civil_status.code == MARRIED

    def to_dict(self) -> dict[str, Any]:
        return dict(to_plain(self))


@dataclass(frozen=True)
class PersonHistory:
    insz: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    birth_date: PartialDate | None
    death: Death | None
    residences: tuple[ResidencePeriod, ...]
    nationalities: tuple[Nationality, ...]
    civil_statuses: tuple[CivilStatus, ...]
    addresses_abroad: tuple[ForeignAddress, ...] = ()
    statuses: tuple[RegisterStatus, ...] = ()

    @property
    def is_deceased(self) -> bool:
        return self.death is not None or any(s.code == DECEASED_STATUS for s in self.statuses)

    @property
    def last_name(self) -> str | None:
        return " ".join(self.last_names) or None

    @property
    def full_name(self) -> str:
        return " ".join((*self.first_names, *self.last_names))

    @property
    def current_residence(self) -> ResidencePeriod | None:
        open_periods = [r for r in self.residences if r.until is None]
        return open_periods[-1] if open_periods else None

    def to_dict(self) -> dict[str, Any]:
        return dict(to_plain(self))


def _current(elements: list[etree._Element]) -> list[etree._Element]:
    """The facts still in force: no ``DatumEinde``."""
    return [e for e in elements if not (e.get("DatumEinde") or "").strip()]


def _by_start(element: etree._Element) -> tuple[bool, PartialDate]:
    begin = date_attribute(element, "DatumBegin")
    return (begin is not None, begin or PartialDate(0))


def _latest(elements: list[etree._Element]) -> etree._Element | None:
    """The current fact that started last (the register's present value)."""
    current = _current(elements)
    return max(current, key=_by_start) if current else None


def _nationality(element: etree._Element) -> Nationality:
    return Nationality(
        code=required(element, "Code"),
        description=text(element, "Omschrijving"),
        since=date_attribute(element, "DatumBegin"),
        until=date_attribute(element, "DatumEinde"),
    )


def _civil_status(element: etree._Element) -> CivilStatus:
    return CivilStatus(
        code=required(element, "Code"),
        description=text(element, "Omschrijving"),
        since=date_attribute(element, "DatumBegin"),
        until=date_attribute(element, "DatumEinde"),
    )


def _residence(element: etree._Element) -> ResidencePeriod:
    return ResidencePeriod(
        address=address(element),
        since=date_attribute(element, "DatumBegin"),
        until=date_attribute(element, "DatumEinde"),
        reference_address=element.find("ReferentieAdres") is not None,
    )


def _abroad(element: etree._Element, kind: str) -> ForeignAddress:
    """``VerblijfplaatsBuitenland`` / ``PostadresBuitenland``: ``Land``, ``Teksten/Tekst*``."""
    lines = tuple(
        t.text.strip() for t in element.findall("Teksten/Tekst") if t.text and t.text.strip()
    )
    return ForeignAddress(
        kind=kind,
        country=text(element, "Land/Naam"),
        lines=lines,
        since=date_attribute(element, "DatumBegin"),
        until=date_attribute(element, "DatumEinde"),
    )


def _statuses(elements: list[etree._Element]) -> tuple[RegisterStatus, ...]:
    return tuple(
        RegisterStatus(required(e, "Code"), text(e, "Omschrijving"),
                       date_attribute(e, "DatumBegin"))
        for e in _current(elements)
    )


def _death(element: etree._Element | None) -> Death | None:
    if element is None:
        return None
    return Death(date=partial_date(element, "Datum"), place=place(element.find("Plaats")))


def _cohabitation(elements: list[etree._Element]) -> Cohabitation | None:
    """The legal cohabitation in force: not ended (``Beeindiging`` or ``DatumEinde``)."""
    current = [e for e in _current(elements) if e.find("Beeindiging") is None]
    if not current:
        return None
    element = max(current, key=_by_start)
    partner = element.find("Partner")
    partner_names = names(None if partner is None else partner.find("Naam"))
    return Cohabitation(
        partner_insz=None if partner is None else text(partner, "INSZ"),
        partner_name=partner_names.full_name or None,
        since=partial_date(element, "Datum") or date_attribute(element, "DatumBegin"),
        municipality=place(element.find("Plaats")),
    )


def _burial(element: etree._Element | None) -> BurialDeclaration | None:
    if element is None:
        return None
    return BurialDeclaration(
        manner_code=required(element, "WijzeVanLijkbezorging/Code"),
        manner=text(element, "WijzeVanLijkbezorging/Omschrijving"),
        rite_code=text(element, "Ritueel/Code"),
        rite=text(element, "Ritueel/Omschrijving"),
        declared_on=partial_date(element, "DatumDocument")
        or date_attribute(element, "DatumBegin"),
        municipality=place(element.find("PlaatsRegistratie")),
    )


def _root(inhoud: etree._Element | None, name: str) -> etree._Element:
    found = inhoud.find(name) if inhoud is not None else None
    if found is None:
        raise MappingError(f"person answer has no Inhoud/{name}")
    return found


def person_from_inhoud(inhoud: etree._Element | None) -> Person:
    """``Antwoord/Inhoud`` of GeefPersoon 02.02 → :class:`Person`."""
    persoon = _root(inhoud, "Persoon")
    name = names(persoon.find("Naam"))
    adressen = persoon.find("Adressen")
    residence = None if adressen is None else adressen.find("Hoofdverblijfplaats")
    abroad = [] if adressen is None else [
        _abroad(e, kind)
        for tag, kind in (("VerblijfplaatsBuitenland", "residence"),
                          ("PostadresBuitenland", "post"))
        for e in adressen.findall(tag)
    ]
    civil = _latest(persoon.findall("BurgerlijkeStaten/BurgerlijkeStaat"))
    geboorte = persoon.find("Geboorte")
    return Person(
        insz=required(persoon, "INSZ"),
        first_names=name.first_names,
        last_names=name.last_names,
        birth_date=partial_date(geboorte, "Datum"),
        birth_place=place(None if geboorte is None else geboorte.find("Plaats")),
        sex=text(persoon, "Geslacht/Code"),
        nationalities=tuple(
            _nationality(n) for n in _current(persoon.findall("Nationaliteiten/Nationaliteit"))
        ),
        civil_status=None if civil is None else _civil_status(civil),
        residence=None if residence is None or residence.get("DatumEinde")
        else _residence(residence),
        death=_death(persoon.find("Overlijden")),
        cohabitation=_cohabitation(persoon.findall("WettelijkeSamenwoning")),
        burial=_burial(persoon.find("LijkbezorgingEnRitueel")),
        addresses_abroad=tuple(a for a in abroad if a.until is None),
        statuses=_statuses(persoon.findall("Statussen/Status")),
    )


def _sorted_periods(periods: list[ResidencePeriod]) -> tuple[ResidencePeriod, ...]:
    # Undated periods first (the register does not say when), then by start date.
    return tuple(sorted(periods, key=lambda r: (r.since is not None, r.since or PartialDate(0))))


def history_from_inhoud(inhoud: etree._Element | None) -> PersonHistory:
    """``Antwoord/Inhoud`` of GeefHistoriekPersoon 02.02 → :class:`PersonHistory`."""
    historiek = _root(inhoud, "HistoriekPersoon")
    name = names(_latest(historiek.findall("HistoriekNaam/Naam")))
    adressen = historiek.find("HistoriekAdressen")
    residences = [] if adressen is None else [
        _residence(r)
        for r in adressen.findall("HistoriekHoofdverblijfplaats/Hoofdverblijfplaats")
    ]
    abroad = [] if adressen is None else [
        _abroad(e, kind)
        for path, kind in (
            ("HistoriekVerblijfplaatsBuitenland/VerblijfplaatsBuitenland", "residence"),
            ("HistoriekPostadresBuitenland/PostadresBuitenland", "post"),
        )
        for e in adressen.findall(path)
    ]
    deaths = historiek.findall("HistoriekOverlijden/Overlijden")
    births = historiek.findall("HistoriekGeboorte/Geboorte")
    birth = _latest(births) if births else None
    return PersonHistory(
        insz=required(historiek, "INSZ"),
        first_names=name.first_names,
        last_names=name.last_names,
        birth_date=partial_date(birth, "Datum"),
        death=_death(_latest(deaths)),
        residences=_sorted_periods(residences),
        nationalities=tuple(
            _nationality(n) for n in historiek.findall("HistoriekNationaliteit/Nationaliteit")
        ),
        civil_statuses=tuple(
            _civil_status(c)
            for c in historiek.findall("HistoriekBurgerlijkeStaat/BurgerlijkeStaat")
        ),
        addresses_abroad=tuple(abroad),
        statuses=_statuses(historiek.findall("HistoriekStatus/Status")),
    )


def require_subject(answered: str, asked: str, warning_codes: Iterable[str] = ()) -> None:
    """Refuse an answer about another INSZ than the one asked, unless MAGDA announced
    (``30004``) that the person now has that INSZ: the data may be another person's."""
    if answered != asked and RENUMBERED not in set(warning_codes):
        raise SubjectMismatch(
            "the register answered about another national number than the one asked"
        )
