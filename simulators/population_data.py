"""A deterministic, synthetic population for the simulated government back ends.

Nobody here is a real person: every INSZ has its birth month shifted by 60 (months 61-72), the
range MAGDA reserves for its own test persons, with valid mod-97 check digits. The counter's
parity carries the sex (odd = male, even = female), as in a real INSZ.

The same ``seed`` always yields the same population. A few hand-made households (see
:data:`WELL_KNOWN`) are part of every population, whatever the seed, so tests and the demo can
name them without depending on the random part.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = [
    "NATIONALITIES",
    "RELATIONS",
    "WELL_KNOWN",
    "Address",
    "Household",
    "Person",
    "Population",
    "generate_population",
    "make_insz",
]

# Ages are computed against a fixed date, not today, so a population never drifts over time.
REFERENCE_DATE = date(2025, 1, 1)
_TEST_MONTH_OFFSET = 60

RELATIONS: dict[str, str] = {
    "01": "Referentiepersoon",
    "02": "Echtgeno(o)t(e)",
    "03": "Zoon of dochter",
    "08": "Vader of moeder",
    "10": "Wettelijk samenwonende",
    "99": "Niet verwant",
}

# NIS country codes as the national register uses them for nationality.
NATIONALITIES: dict[str, str] = {
    "150": "Belg",
    "129": "Nederlander",
    "111": "Fransman",
    "103": "Duitser",
    "128": "Italiaan",
    "139": "Pool",
    "124": "Roemeen",
}
_BELGIAN = "150"
_FOREIGN = [code for code in NATIONALITIES if code != _BELGIAN]


@dataclass(frozen=True)
class _Municipality:
    nis_code: str
    name: str
    postcodes: tuple[str, ...]
    streets: tuple[str, ...]


_COMMON_STREETS = (
    "Kerkstraat",
    "Stationsstraat",
    "Dorpsstraat",
    "Molenstraat",
    "Schoolstraat",
    "Nieuwstraat",
    "Kapelstraat",
    "Beukenlaan",
    "Lindelaan",
    "Veldstraat",
    "Kouter",
    "Meersstraat",
)

_MUNICIPALITIES = (
    _Municipality("11002", "Antwerpen", ("2000", "2018", "2060"),
                  ("Meir", "Lange Nieuwstraat", "Kammenstraat", "Mechelsesteenweg")),
    _Municipality("44021", "Gent", ("9000",),
                  ("Korenmarkt", "Veldstraat", "Overpoortstraat", "Sint-Pietersnieuwstraat")),
    _Municipality("24062", "Leuven", ("3000",),
                  ("Bondgenotenlaan", "Naamsestraat", "Tiensestraat", "Diestsestraat")),
    _Municipality("31005", "Brugge", ("8000",),
                  ("Steenstraat", "Langestraat", "Ezelstraat", "Katelijnestraat")),
    _Municipality("71022", "Hasselt", ("3500",),
                  ("Demerstraat", "Koning Albertstraat", "Kuringersteenweg", "Thonissenlaan")),
    # Grimbergen is NIS 23025 (23062 is Overijse, also listed).
    _Municipality("23025", "Grimbergen", ("1850",),
                  ("Sint-Servaasstraat", "Prinsenstraat", "Vilvoordsesteenweg", "Abdijstraat")),
    _Municipality("23062", "Overijse", ("3090",),
                  ("Brusselsesteenweg", "Stationsplein", "Druivenstraat", "Terhulpensesteenweg")),
)

_MALE_NAMES = (
    "Jan", "Pieter", "Luc", "Koen", "Tom", "Bart", "Wim", "Geert", "Dirk", "Stijn", "Jens",
    "Arne", "Lars", "Wout", "Seppe", "Lucas", "Noah", "Liam", "Vic", "Mathis", "Jef", "Staf",
)
_FEMALE_NAMES = (
    "An", "Els", "Katrien", "Sofie", "Lies", "Hilde", "Greet", "Inge", "Leen", "Eva", "Lotte",
    "Fien", "Noor", "Marie", "Lore", "Hanne", "Emma", "Louise", "Mila", "Ella", "Roos", "Mieke",
)
_LAST_NAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Vermeulen", "Van den Bossche", "De Clercq", "Pauwels", "Hermans",
    "Aerts", "Lambrechts", "Verstraete", "Van Damme", "De Wilde", "Cools", "Verhoeven",
    "Vandenberghe", "Smets", "Declercq", "Martens", "Van Hoof", "Segers",
)
_HOUSEHOLD_SIZE_WEIGHTS = ((1, 28), (2, 30), (3, 16), (4, 15), (5, 7), (6, 4))


@dataclass(frozen=True)
class Address:
    """A main residence (hoofdverblijfplaats)."""

    street: str
    house_number: str
    box: str | None
    postcode: str
    nis_code: str
    municipality: str


@dataclass(frozen=True)
class Person:
    """One synthetic inhabitant; ``relation_*`` is the relation to the household's head."""

    insz: str
    first_names: tuple[str, ...]
    last_name: str
    birth_date: date
    sex: str  # "M" or "V"
    nationality_code: str
    nationality_description: str
    relation_code: str
    relation_description: str
    household_id: str


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
class Population:
    """All households, with look-ups by INSZ."""

    households: tuple[Household, ...]
    _persons: dict[str, Person] = field(init=False, repr=False, compare=False)
    _households: dict[str, Household] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        persons: dict[str, Person] = {}
        by_insz: dict[str, Household] = {}
        for household in self.households:
            for person in household.members:
                if person.insz in persons:
                    raise ValueError(f"duplicate INSZ in population: {person.insz}")
                persons[person.insz] = person
                by_insz[person.insz] = household
        # Frozen dataclass: the indexes are derived once, here.
        object.__setattr__(self, "_persons", persons)
        object.__setattr__(self, "_households", by_insz)

    def persons(self) -> Iterator[Person]:
        """Every person, household by household."""
        for household in self.households:
            yield from household.members

    def by_insz(self, insz: str) -> Person | None:
        """The person with this INSZ (11 digits), or None."""
        return self._persons.get(insz)

    def household_of(self, insz: str) -> Household | None:
        """The household this INSZ belongs to, or None."""
        return self._households.get(insz)


def make_insz(birth_date: date, counter: int) -> str:
    """A test-person INSZ: birth month + 60, the counter (odd = M), valid mod-97 check digits."""
    if not 1 <= counter <= 998:
        raise ValueError("the INSZ counter is 001-998")
    first9 = (
        f"{birth_date.year % 100:02d}{birth_date.month + _TEST_MONTH_OFFSET:02d}"
        f"{birth_date.day:02d}{counter:03d}"
    )
    # Births from 2000 have their check computed on "2" + the first nine digits.
    base = int(("2" if birth_date.year >= 2000 else "") + first9)
    return f"{first9}{97 - base % 97:02d}"


# ----- the well-known fixtures -----

@dataclass(frozen=True)
class _Fixture:
    key: str | None
    first_names: tuple[str, ...]
    last_name: str
    birth_date: date
    counter: int
    relation: str
    nationality: str = _BELGIAN


def _fixture_households() -> list[tuple[Address, list[_Fixture]]]:
    return [
        (
            Address("Kerkstraat", "12", None, "2000", "11002", "Antwerpen"),
            [
                _Fixture("household_head", ("Jan", "Karel"), "Peeters", date(1985, 7, 30),
                         33, "01"),
                _Fixture("partner", ("Sofie",), "Janssens", date(1987, 3, 14), 124, "02"),
                _Fixture(None, ("Lotte",), "Peeters", date(2012, 5, 2), 46, "03"),
                _Fixture("child", ("Seppe",), "Peeters", date(2015, 11, 21), 17, "03"),
            ],
        ),
        (
            Address("Korenmarkt", "3", "2B", "9000", "44021", "Gent"),
            [_Fixture("single", ("Els",), "Maes", date(1972, 1, 9), 202, "01")],
        ),
        (
            Address("Naamsestraat", "58", None, "3000", "24062", "Leuven"),
            [
                _Fixture("cohabitant_head", ("Wout",), "Claes", date(1994, 9, 5), 151, "01"),
                _Fixture("cohabitant", ("Marie", "Louise"), "Dubois", date(1995, 2, 28),
                         88, "10", "111"),
                _Fixture(None, ("Noor",), "Claes", date(2021, 6, 17), 64, "03"),
            ],
        ),
        (
            Address("Abdijstraat", "7", None, "1850", "23025", "Grimbergen"),
            [
                _Fixture("extended_head", ("Geert",), "Wouters", date(1968, 12, 1), 5, "01"),
                _Fixture(None, ("Hilde",), "Segers", date(1970, 4, 19), 96, "02"),
                _Fixture(None, ("Arne",), "Wouters", date(2001, 8, 8), 219, "03"),
                _Fixture(None, ("Fien",), "Wouters", date(2004, 10, 30), 38, "03"),
                _Fixture("parent", ("Maria", "Josephina"), "Wouters", date(1941, 3, 3),
                         142, "08"),
                _Fixture(None, ("Piotr",), "Nowak", date(1990, 7, 12), 303, "99", "139"),
            ],
        ),
    ]


def _fixture_person(fixture: _Fixture, household_id: str) -> Person:
    return Person(
        insz=make_insz(fixture.birth_date, fixture.counter),
        first_names=fixture.first_names,
        last_name=fixture.last_name,
        birth_date=fixture.birth_date,
        sex="M" if fixture.counter % 2 else "V",
        nationality_code=fixture.nationality,
        nationality_description=NATIONALITIES[fixture.nationality],
        relation_code=fixture.relation,
        relation_description=RELATIONS[fixture.relation],
        household_id=household_id,
    )


def _build_fixtures() -> tuple[list[Household], dict[str, str]]:
    households: list[Household] = []
    keys: dict[str, str] = {}
    for index, (address, fixtures) in enumerate(_fixture_households(), start=1):
        household_id = f"HH-{index:04d}"
        members = tuple(_fixture_person(f, household_id) for f in fixtures)
        households.append(Household(household_id, address, members))
        for fixture, person in zip(fixtures, members, strict=True):
            if fixture.key is not None:
                keys[fixture.key] = person.insz
    return households, keys


_FIXTURE_HOUSEHOLDS, _FIXTURE_KEYS = _build_fixtures()

WELL_KNOWN: dict[str, str] = {
    **_FIXTURE_KEYS,
    # Valid check digits and a test-person month, but never part of any population.
    "unknown": make_insz(date(1980, 2, 29), 997),
    # Eleven digits whose check can never match: 97 - (n mod 97) is 01-97, never 00.
    "invalid_check": make_insz(date(1980, 2, 29), 997)[:9] + "00",
}
"""Stable INSZ numbers of named fixtures, identical for every seed (see the module docstring)."""


# ----- the random part -----

class _Generator:
    def __init__(self, rng: random.Random, reserved: set[str]) -> None:
        self.rng = rng
        self.used = set(reserved)

    def birth_date(self, age: int) -> date:
        latest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age) - timedelta(days=1)
        return latest - timedelta(days=self.rng.randrange(365))

    def insz(self, birth_date: date, sex: str) -> str:
        while True:
            counter = self.rng.randrange(1, 998)
            # The counter's parity is the sex: odd for men, even for women.
            if (counter % 2 == 1) != (sex == "M"):
                counter = counter + 1 if counter < 997 else counter - 1
            insz = make_insz(birth_date, counter)
            if insz not in self.used:
                self.used.add(insz)
                return insz

    def first_names(self, sex: str) -> tuple[str, ...]:
        pool = _MALE_NAMES if sex == "M" else _FEMALE_NAMES
        count = self.rng.choices((1, 2, 3), weights=(55, 35, 10))[0]
        return tuple(self.rng.sample(pool, count))

    def person(
        self, household_id: str, *, age: int, sex: str, last_name: str,
        relation: str, nationality: str,
    ) -> Person:
        born = self.birth_date(age)
        return Person(
            insz=self.insz(born, sex),
            first_names=self.first_names(sex),
            last_name=last_name,
            birth_date=born,
            sex=sex,
            nationality_code=nationality,
            nationality_description=NATIONALITIES[nationality],
            relation_code=relation,
            relation_description=RELATIONS[relation],
            household_id=household_id,
        )

    def nationality(self) -> str:
        return _BELGIAN if self.rng.random() < 0.85 else self.rng.choice(_FOREIGN)

    def address(self) -> Address:
        town = self.rng.choice(_MUNICIPALITIES)
        street = self.rng.choice(town.streets + _COMMON_STREETS)
        box = str(self.rng.randrange(1, 30)) if self.rng.random() < 0.2 else None
        return Address(
            street=street,
            house_number=str(self.rng.randrange(1, 240)),
            box=box,
            postcode=self.rng.choice(town.postcodes),
            nis_code=town.nis_code,
            municipality=town.name,
        )

    def household(self, household_id: str) -> Household:
        rng = self.rng
        sizes, weights = zip(*_HOUSEHOLD_SIZE_WEIGHTS, strict=True)
        size = rng.choices(sizes, weights=weights)[0]
        head_sex = rng.choice("MV")
        head_age = rng.randrange(22, 86) if size == 1 else rng.randrange(24, 70)
        family_name = rng.choice(_LAST_NAMES)
        nationality = self.nationality()
        members = [self.person(household_id, age=head_age, sex=head_sex,
                               last_name=family_name, relation="01", nationality=nationality)]
        if size >= 2 and rng.random() < 0.75:
            partner_sex = head_sex if rng.random() < 0.08 else ("V" if head_sex == "M" else "M")
            members.append(self.person(
                household_id,
                age=max(19, head_age + rng.randrange(-6, 7)),
                sex=partner_sex,
                last_name=rng.choice(_LAST_NAMES),
                relation="02" if rng.random() < 0.7 else "10",
                nationality=self.nationality(),
            ))
        while len(members) < size:
            members.append(self._extra_member(household_id, head_age, family_name, nationality))
        return Household(household_id, self.address(), tuple(members))

    def _extra_member(
        self, household_id: str, head_age: int, family_name: str, nationality: str
    ) -> Person:
        rng = self.rng
        roll = rng.random()
        sex = rng.choice("MV")
        if roll < 0.12 and head_age <= 62:
            return self.person(household_id, age=head_age + rng.randrange(22, 34), sex=sex,
                               last_name=family_name, relation="08", nationality=nationality)
        if roll < 0.22:
            return self.person(household_id, age=rng.randrange(18, 70), sex=sex,
                               last_name=rng.choice(_LAST_NAMES), relation="99",
                               nationality=self.nationality())
        return self.person(household_id, age=rng.randrange(0, min(head_age - 18, 35)), sex=sex,
                           last_name=family_name, relation="03", nationality=nationality)


def generate_population(seed: int = 7, households: int = 60) -> Population:
    """A population of ``households`` households (the fixtures included), the same for a seed."""
    if households < len(_FIXTURE_HOUSEHOLDS):
        raise ValueError(f"at least {len(_FIXTURE_HOUSEHOLDS)} households (the fixtures)")
    reserved = {p.insz for h in _FIXTURE_HOUSEHOLDS for p in h.members}
    reserved.add(WELL_KNOWN["unknown"])
    generator = _Generator(random.Random(seed), reserved)
    generated = [
        generator.household(f"HH-{index:04d}")
        for index in range(len(_FIXTURE_HOUSEHOLDS) + 1, households + 1)
    ]
    return Population(tuple(_FIXTURE_HOUSEHOLDS + generated))
