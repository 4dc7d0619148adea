"""The synthetic population's data model and reference tables.

People live in households (what GeefGezinssamenstelling answers); every person also has register
facts (:class:`PersonFacts`: residence, nationality and civil-status histories, death, legal
cohabitation, burial declaration), which is what GeefPersoon and GeefHistoriekPersoon answer.
A few people (the deceased, people struck off the register) belong to no household. The
population also holds civil-status acts (:mod:`simulators.population_acts`) and what the criminal
record knows (:mod:`simulators.population_judicial`).

Periods carry an inclusive ``end``: the last day the period applied; ``None`` while it is current.
The next period of the same kind begins the day after.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from simulators.population_acts import CivilAct
from simulators.population_judicial import JudicialFacts

__all__ = [
    "BELGIAN",
    "BURIAL_METHODS",
    "BURIAL_RITES",
    "CIVIL_STATES",
    "COUNTRIES",
    "MUNICIPALITIES",
    "NATIONALITIES",
    "PARTNER_RELATIONS",
    "REFERENCE_DATE",
    "RELATIONS",
    "STATUS_DECEASED",
    "STATUS_EMIGRATED",
    "STATUS_STRUCK_OFF",
    "Abroad",
    "Address",
    "BurialDeclaration",
    "CodedPeriod",
    "Cohabitation",
    "DatePrecision",
    "Death",
    "Household",
    "Municipality",
    "Person",
    "PersonFacts",
    "Place",
    "Population",
    "ReferenceAddress",
    "RegisterStatus",
    "Residence",
    "make_insz",
    "register_date",
]

# Ages and histories are computed against a fixed date, not today, so a population never drifts.
REFERENCE_DATE = date(2025, 1, 1)
_TEST_MONTH_OFFSET = 60

# The position in the household (Positie), with the national register's codes as MAGDA answers
# them: 01 the reference person, 02 spouse, 03 son or daughter, 05 grandchild, 06 father or
# mother, 09 brother or sister, 12 not related, 22 legal cohabitant.
RELATIONS: dict[str, str] = {
    "01": "Referentiepersoon",
    "02": "Echtgeno(o)t(e)",
    "03": "Zoon of dochter",
    "05": "Kleinzoon of kleindochter",
    "06": "Vader of moeder",
    "09": "Broer of zus",
    "12": "Niet verwant",
    "22": "Wettelijk samenwonende",
}
PARTNER_RELATIONS = ("02", "22")
"""Positions of the head's partner: married (02) or legal cohabitant (22)."""

# NIS country codes as the national register uses them for nationality.
NATIONALITIES: dict[str, str] = {
    "150": "Belg",
    "129": "Nederlander",
    "111": "Fransman",
    "103": "Duitser",
    "128": "Italiaan",
    "139": "Pool",
    "124": "Roemeen",
    "354": "Marokkaan",
}
BELGIAN = "150"

COUNTRIES: dict[str, tuple[str, str]] = {
    "150": ("BEL", "BELGIE"),
    "129": ("NLD", "Nederland"),
    "111": ("FRA", "Frankrijk"),
    "103": ("DEU", "Duitsland"),
    "128": ("ITA", "Italië"),
    "139": ("POL", "Polen"),
    "124": ("ROU", "Roemenië"),
    "354": ("MAR", "Marokko"),
    "126": ("SWE", "Zweden"),
}
"""NIS country code -> (ISO 3166 alpha-3, name as MAGDA writes it): the Land of places."""

CIVIL_STATES: dict[str, str] = {
    "10": "Ongehuwd",
    "20": "Gehuwd",
    "30": "Weduw(e)naar",
    "40": "Uit de echt gescheiden",
}

# Wijze van lijkbezorging and ritueel as MAGDA answers them (LijkbezorgingEnRitueel). The codes
# 04, 05, 09 and the rites are the ones MAGDA's published answers carry; 01 (burial) is ours.
BURIAL_METHODS: dict[str, str] = {
    "01": "Begraving",
    "04": "Crematie gevolgd door bijzetting van de as in het columbarium van de begraafplaats",
    "05": "Crematie gevolgd door verstrooiing van de as in de strooiweide van de begraafplaats",
    "09": "Crematie gevolgd door bewaring van de as op een andere plaats dan de begraafplaats",
}

BURIAL_RITES: dict[str, str] = {
    "01": "een uitvaartplechtigheid volgens de Katholieke Godsdienst",
    "02": "een uitvaartplechtigheid volgens de Protestantse Godsdienst",
    "06": "een uitvaartplechtigheid volgens de Islamitische Godsdienst",
    "07": "een uitvaartplechtigheid volgens de Vrijzinnige Godsdienst",
    "08": "een uitvaartplechtigheid volgens Neutraal Filosofische overtuiging",
}

# Register statuses (Statussen/Status) of people no longer at a Belgian main residence.
STATUS_DECEASED = ("99990", "Overleden")
STATUS_STRUCK_OFF = ("99991", "Afvoering van ambtswege")
STATUS_EMIGRATED = ("992", "Afgeschreven naar het buitenland")

DatePrecision = Literal["day", "month", "year"]
"""How much of a register date is known: all of it, year and month, or the year only."""


@dataclass(frozen=True)
class Municipality:
    """A municipality the synthetic people live in, with a few of its postcodes and streets."""

    nis_code: str
    name: str
    postcodes: tuple[str, ...]
    streets: tuple[str, ...]


MUNICIPALITIES = (
    Municipality("11002", "Antwerpen", ("2000", "2018", "2060"),
                 ("Meir", "Lange Nieuwstraat", "Kammenstraat", "Mechelsesteenweg")),
    Municipality("44021", "Gent", ("9000",),
                 ("Korenmarkt", "Veldstraat", "Overpoortstraat", "Sint-Pietersnieuwstraat")),
    Municipality("24062", "Leuven", ("3000",),
                 ("Bondgenotenlaan", "Naamsestraat", "Tiensestraat", "Diestsestraat")),
    Municipality("31005", "Brugge", ("8000",),
                 ("Steenstraat", "Langestraat", "Ezelstraat", "Katelijnestraat")),
    Municipality("71022", "Hasselt", ("3500",),
                 ("Demerstraat", "Koning Albertstraat", "Kuringersteenweg", "Thonissenlaan")),
    # Grimbergen is NIS 23025 (23062 is Overijse, also listed).
    Municipality("23025", "Grimbergen", ("1850",),
                 ("Sint-Servaasstraat", "Prinsenstraat", "Vilvoordsesteenweg", "Abdijstraat")),
    Municipality("23062", "Overijse", ("3090",),
                 ("Brusselsesteenweg", "Stationsplein", "Druivenstraat", "Terhulpensesteenweg")),
)
"""Order matters: the generator draws from this tuple, so reordering changes every population."""


@dataclass(frozen=True)
class Address:
    """A main residence (hoofdverblijfplaats).

    With a ``street_code`` (the national register's code of the street) the names are the
    register's own spelling, not the address register's: MAGDA then answers them as
    ``NietGestandaardiseerdeStraatnaam``/``NietGestandaardiseerdeGemeentenaam`` with a
    ``StraatCode``, as for about a fifth of its published personas.
    """

    street: str
    house_number: str
    box: str | None
    postcode: str
    nis_code: str
    municipality: str
    street_code: str | None = None


@dataclass(frozen=True)
class Person:
    """One synthetic inhabitant; ``relation_*`` is the relation to the household's head.

    ``household_id`` and the relation are None for a person in no household (deceased, struck off).
    """

    insz: str
    first_names: tuple[str, ...]
    last_name: str
    birth_date: date
    sex: str  # "M" or "V"
    nationality_code: str
    nationality_description: str
    relation_code: str | None
    relation_description: str | None
    household_id: str | None
    birth_precision: DatePrecision = "day"
    """``month``: the day of birth is unknown (``1950-05-00``); ``year``: month and day too."""
    other_last_names: tuple[str, ...] = ()
    """Further surnames after ``last_name``, in the register's order."""

    @property
    def last_names(self) -> tuple[str, ...]:
        """Every surname, ``last_name`` first."""
        return (self.last_name, *self.other_last_names)

    @property
    def birth_date_text(self) -> str:
        """The birth date as the register writes it, ``00`` for what is unknown."""
        return register_date(self.birth_date, self.birth_precision)


@dataclass(frozen=True)
class Household:
    """A household: the reference person comes first in ``members``."""

    id: str
    address: Address
    members: tuple[Person, ...]

    @property
    def head(self) -> Person:
        """The reference person (relation code 01)."""
        return self.members[0]


@dataclass(frozen=True)
class Place:
    """A place of birth or death: a Belgian municipality (with NIS code) or a place abroad.

    ``country`` is the NIS country code (:data:`COUNTRIES`): 150 for Belgium.
    """

    name: str
    nis_code: str | None = None
    country: str = BELGIAN


@dataclass(frozen=True)
class ReferenceAddress:
    """The main residence is a reference address (referentieadres) since ``begin``.

    People without a residence of their own (homeless people at the OCMW, bargemen, fairground
    people) are registered at someone else's address; ``situation`` says why.
    """

    begin: date
    situation_code: str
    situation: str


@dataclass(frozen=True)
class Residence:
    """A period at a main residence, from ``begin`` to ``end`` (inclusive; None while current)."""

    address: Address
    begin: date
    end: date | None = None
    reference: ReferenceAddress | None = None


@dataclass(frozen=True)
class Abroad:
    """Registered abroad: the residence abroad (at a Belgian diplomatic post) and/or a post
    address abroad, from ``begin``, in ``country`` (a NIS code of :data:`COUNTRIES`)."""

    begin: date
    country: str
    post_code: str | None = None
    """The diplomatic post's code (VerblijfplaatsBuitenland); None: only a post address."""
    post_name: str | None = None
    lines: tuple[str, ...] = ()
    """The post address abroad, one line each (PostadresBuitenland); () for none."""


@dataclass(frozen=True)
class RegisterStatus:
    """A register status (Statussen/Status): code, description, since ``begin``."""

    code: str
    description: str
    begin: date


@dataclass(frozen=True)
class CodedPeriod:
    """A nationality or civil status held from ``begin`` to ``end`` (inclusive; None = current)."""

    code: str
    description: str
    begin: date
    end: date | None = None


@dataclass(frozen=True)
class Death:
    """Date and place of death."""

    date: date
    place: Place | None


@dataclass(frozen=True)
class Cohabitation:
    """A declared legal cohabitation (wettelijke samenwoning) with ``partner_insz``."""

    partner_insz: str
    begin: date
    nis_code: str
    municipality: str


@dataclass(frozen=True)
class BurialDeclaration:
    """A declared last wish on burial (wijze van teraardebestelling), codes as in the tables."""

    method: str
    rite: str | None
    declared: date
    nis_code: str
    municipality: str


@dataclass(frozen=True)
class PersonFacts:
    """What the population register knows about one person beyond the household."""

    birth_place: Place | None
    residences: tuple[Residence, ...]
    """Oldest first; the last one is current when its ``end`` is None."""
    nationalities: tuple[CodedPeriod, ...]
    civil_states: tuple[CodedPeriod, ...]
    death: Death | None = None
    cohabitation: Cohabitation | None = None
    burial: BurialDeclaration | None = None
    abroad: Abroad | None = None
    struck_off: date | None = None
    """The day of striking off ex officio (afvoering van ambtswege), if struck off."""

    @property
    def statuses(self) -> tuple[RegisterStatus, ...]:
        """The register's statuses: deceased, struck off, emigrated; () for the others."""
        found: list[RegisterStatus] = []
        if self.death is not None:
            found.append(RegisterStatus(*STATUS_DECEASED, self.death.date))
        if self.struck_off is not None:
            found.append(RegisterStatus(*STATUS_STRUCK_OFF, self.struck_off))
        if self.abroad is not None and self.abroad.post_code is not None:
            found.append(RegisterStatus(*STATUS_EMIGRATED, self.abroad.begin))
        return tuple(found)

    @property
    def last_residence(self) -> Residence | None:
        """The current main residence, or the last one (deceased, struck off, emigrated)."""
        return self.residences[-1] if self.residences else None

    @property
    def residence(self) -> Residence | None:
        """The current main residence; None when deceased or struck off."""
        current = [r for r in self.residences if r.end is None]
        return current[-1] if current else None

    @property
    def current_nationalities(self) -> tuple[CodedPeriod, ...]:
        """The nationalities held now (for the deceased: at death)."""
        return tuple(n for n in self.nationalities if n.end is None)

    @property
    def civil_state(self) -> CodedPeriod | None:
        """The current civil status."""
        current = [c for c in self.civil_states if c.end is None]
        return current[-1] if current else None


@dataclass(frozen=True)
class Population:
    """All households, the people in no household, every person's facts, and look-ups by INSZ."""

    households: tuple[Household, ...]
    facts: Mapping[str, PersonFacts] = field(hash=False)
    others: tuple[Person, ...] = ()
    """Known to the register but in no household: the deceased and people struck off."""
    acts: tuple[CivilAct, ...] = ()
    """Civil-status acts (DABS), oldest first."""
    judicial: Mapping[str, JudicialFacts] = field(default_factory=dict, hash=False)
    """Criminal-record facts by INSZ; anyone not listed has a clean record."""
    renumbered: Mapping[str, str] = field(default_factory=dict, hash=False)
    """A former INSZ (a replaced bis number) -> the person's INSZ now (MAGDA: 30004)."""
    _persons: dict[str, Person] = field(init=False, repr=False, compare=False)
    _households: dict[str, Household] = field(init=False, repr=False, compare=False)
    _acts: dict[str, CivilAct] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        persons: dict[str, Person] = {}
        by_insz: dict[str, Household] = {}
        members = [(p, h) for h in self.households for p in h.members]
        for person, household in [*members, *((p, None) for p in self.others)]:
            if person.insz in persons:
                raise ValueError(f"duplicate INSZ in population: {person.insz}")
            if person.insz not in self.facts:
                raise ValueError(f"no register facts for {person.insz}")
            persons[person.insz] = person
            if household is not None:
                by_insz[person.insz] = household
        acts = {act.reference: act for act in self.acts}
        if len(acts) != len(self.acts):
            raise ValueError("duplicate act reference in population")
        named = {p.insz for act in self.acts for p in act.persons if p.insz is not None}
        unknown = sorted((named | set(self.judicial) | set(self.renumbered.values()))
                         - set(persons))
        if unknown:
            raise ValueError(f"acts or criminal record name unknown INSZ: {', '.join(unknown)}")
        # Frozen dataclass: the indexes are derived once, here.
        object.__setattr__(self, "_persons", persons)
        object.__setattr__(self, "_households", by_insz)
        object.__setattr__(self, "_acts", acts)

    def persons(self) -> Iterator[Person]:
        """Every person, household by household, then those in no household."""
        for household in self.households:
            yield from household.members
        yield from self.others

    def by_insz(self, insz: str) -> Person | None:
        """The person with this INSZ (11 digits), or None."""
        return self._persons.get(insz)

    def current_insz(self, insz: str) -> str | None:
        """The INSZ that replaced this former one (a bis number), or None."""
        return self.renumbered.get(insz)

    def household_of(self, insz: str) -> Household | None:
        """The household this INSZ belongs to, or None."""
        return self._households.get(insz)

    def facts_of(self, insz: str) -> PersonFacts | None:
        """The register facts of this INSZ, or None for an unknown person."""
        return self.facts.get(insz)

    def act(self, reference: str) -> CivilAct | None:
        """The act with this DocumentReferte, or None."""
        return self._acts.get(reference)

    def judicial_of(self, insz: str) -> JudicialFacts:
        """What the criminal record holds about this INSZ (a clean record when nothing)."""
        return self.judicial.get(insz, _CLEAN_RECORD)


_CLEAN_RECORD = JudicialFacts()


def register_date(day: date, precision: DatePrecision = "day") -> str:
    """``day`` as MAGDA's OnvolledigeDatumType: ``YYYY-MM-DD``, ``00`` for the unknown parts."""
    if precision == "year":
        return f"{day.year:04d}-00-00"
    if precision == "month":
        return f"{day.year:04d}-{day.month:02d}-00"
    return day.isoformat()


def make_insz(
    birth_date: date, counter: int, *, precision: DatePrecision = "day",
    month_offset: int = _TEST_MONTH_OFFSET,
) -> str:
    """A test-person INSZ: birth month + 60, the counter (odd = M), valid mod-97 check digits.

    Unknown parts of the birth date count as 00 (month 00 + 60 = 60). ``month_offset`` 40 makes
    a bis number of a person whose sex is known (20: unknown).
    """
    if not 1 <= counter <= 998:
        raise ValueError("the INSZ counter is 001-998")
    month = 0 if precision == "year" else birth_date.month
    day = 0 if precision != "day" else birth_date.day
    first9 = f"{birth_date.year % 100:02d}{month + month_offset:02d}{day:02d}{counter:03d}"
    # Births from 2000 have their check computed on "2" + the first nine digits.
    base = int(("2" if birth_date.year >= 2000 else "") + first9)
    return f"{first9}{97 - base % 97:02d}"
