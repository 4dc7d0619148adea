"""The hand-made people every population contains, whatever the seed (see ``population_data``).

Their register facts come from fixed plans plus a random source seeded by the household id only,
so they never depend on the population's seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from simulators.population_facts import HouseholdPlan, PersonPlan, civil_history, household_facts
from simulators.population_model import (
    BELGIAN,
    NATIONALITIES,
    RELATIONS,
    Abroad,
    Address,
    BurialDeclaration,
    CodedPeriod,
    DatePrecision,
    Death,
    Household,
    Person,
    PersonFacts,
    Place,
    ReferenceAddress,
    Residence,
    make_insz,
)

__all__ = [
    "FIXTURE_FACTS",
    "FIXTURE_HOUSEHOLDS",
    "FIXTURE_KEYS",
    "FIXTURE_OTHERS",
    "FIXTURE_RENUMBERED",
]

_ANTWERPEN = Place("Antwerpen", "11002")
_GENT = Place("Gent", "44021")


@dataclass(frozen=True)
class _Fixture:
    key: str | None
    first_names: tuple[str, ...]
    last_name: str
    birth_date: date
    counter: int
    relation: str | None
    nationality: str = BELGIAN
    plan: PersonPlan = field(default_factory=PersonPlan)
    precision: DatePrecision = "day"
    other_last_names: tuple[str, ...] = ()
    month_offset: int = 60
    """60 for MAGDA's test persons; 40 for a bis number (sex known)."""


@dataclass(frozen=True)
class _FixtureHousehold:
    address: Address
    members: tuple[_Fixture, ...]
    since: date
    union: date | None = None


def _single(born: date) -> PersonPlan:
    return PersonPlan(civil_states=civil_history(born))


_GENT_MOVER = Address("Overpoortstraat", "45", "3", "9000", "44021", "Gent")
_MOVER_BORN = date(1990, 4, 12)
_NADOR = Place("Nador", country="354")
_RENUMBERED_BORN = date(1992, 7, 4)
_RENUMBERED_COUNTER = 86


def _households() -> list[_FixtureHousehold]:
    # The first four households are pinned by golden files: never change their people.
    return [
        _FixtureHousehold(
            Address("Kerkstraat", "12", None, "2000", "11002", "Antwerpen"),
            (
                _Fixture("household_head", ("Jan", "Karel"), "Peeters", date(1985, 7, 30),
                         33, "01"),
                _Fixture("partner", ("Sofie",), "Janssens", date(1987, 3, 14), 124, "02"),
                _Fixture(None, ("Lotte",), "Peeters", date(2012, 5, 2), 46, "03"),
                _Fixture("child", ("Seppe",), "Peeters", date(2015, 11, 21), 17, "03"),
            ),
            since=date(2011, 9, 1), union=date(2010, 6, 12),
        ),
        _FixtureHousehold(
            Address("Korenmarkt", "3", "2B", "9000", "44021", "Gent"),
            (_Fixture("single", ("Els",), "Maes", date(1972, 1, 9), 202, "01",
                      plan=_single(date(1972, 1, 9))),),
            since=date(2008, 4, 1),
        ),
        _FixtureHousehold(
            Address("Naamsestraat", "58", None, "3000", "24062", "Leuven"),
            (
                _Fixture("cohabitant_head", ("Wout",), "Claes", date(1994, 9, 5), 151, "01"),
                _Fixture("cohabitant", ("Marie", "Louise"), "Dubois", date(1995, 2, 28),
                         88, "22", "111"),
                _Fixture(None, ("Noor",), "Claes", date(2021, 6, 17), 64, "03"),
            ),
            since=date(2018, 10, 1), union=date(2019, 5, 4),
        ),
        _FixtureHousehold(
            Address("Abdijstraat", "7", None, "1850", "23025", "Grimbergen"),
            (
                _Fixture("extended_head", ("Geert",), "Wouters", date(1968, 12, 1), 5, "01"),
                _Fixture(None, ("Hilde",), "Segers", date(1970, 4, 19), 96, "02"),
                _Fixture("police_check_refused", ("Arne",), "Wouters", date(2001, 8, 8), 219,
                         "03"),
                _Fixture(None, ("Fien",), "Wouters", date(2004, 10, 30), 38, "03"),
                _Fixture("parent", ("Maria", "Josephina"), "Wouters", date(1941, 3, 3), 142,
                         "06", plan=PersonPlan(civil_states=civil_history(
                             date(1941, 3, 3), ("20", date(1962, 5, 12)),
                             ("30", date(2016, 11, 3))))),
                _Fixture(None, ("Piotr",), "Nowak", date(1990, 7, 12), 303, "12", "139"),
            ),
            since=date(1999, 3, 1), union=date(1994, 8, 20),
        ),
        _FixtureHousehold(
            Address("Sint-Pietersnieuwstraat", "120", None, "9000", "44021", "Gent"),
            (_Fixture("foreigner", ("Joost",), "de Vries", date(1983, 6, 15), 41, "01", "129",
                      plan=PersonPlan(birth_place=Place("Rotterdam", country="129"), earlier=(),
                                      civil_states=civil_history(date(1983, 6, 15)))),),
            since=date(2016, 9, 1),
        ),
        _FixtureHousehold(
            _GENT_MOVER,
            (_Fixture("mover", ("Lars",), "Vermeulen", _MOVER_BORN, 57, "01", plan=PersonPlan(
                birth_place=_GENT,
                earlier=(
                    Residence(Address("Veldstraat", "18", None, "9000", "44021", "Gent"),
                              _MOVER_BORN, date(2001, 8, 31)),
                    Residence(Address("Tiensestraat", "77", None, "3000", "24062", "Leuven"),
                              date(2001, 9, 1), date(2010, 6, 30)),
                    Residence(Address("Langestraat", "9", None, "8000", "31005", "Brugge"),
                              date(2010, 7, 1), date(2015, 2, 28)),
                ),
                civil_states=civil_history(_MOVER_BORN),
            )),),
            since=date(2015, 3, 1),
        ),
        _FixtureHousehold(
            Address("Katelijnestraat", "33", None, "8000", "31005", "Brugge"),
            (_Fixture("burial_declared", ("Greet",), "De Wilde", date(1948, 11, 2), 128, "01",
                      plan=PersonPlan(
                          civil_states=civil_history(date(1948, 11, 2), ("20", date(1969, 9, 6)),
                                                     ("30", date(2019, 1, 20))),
                          burial=BurialDeclaration("05", "08",
                                                   date(2022, 3, 15), "31005", "Brugge"),
                      )),),
            since=date(2005, 10, 1),
        ),
        _FixtureHousehold(
            Address("Kuringersteenweg", "210", None, "3500", "71022", "Hasselt"),
            (
                _Fixture("large_household_head", ("Dirk",), "Mertens", date(1975, 2, 11),
                         71, "01"),
                _Fixture(None, ("Inge",), "Aerts", date(1977, 8, 23), 160, "02"),
                _Fixture("criminal_record", ("Jens",), "Mertens", date(2002, 1, 19), 63, "03"),
                _Fixture(None, ("Lore",), "Mertens", date(2004, 5, 7), 94, "03"),
                _Fixture(None, ("Wout",), "Mertens", date(2006, 9, 30), 115, "03"),
                _Fixture(None, ("Hanne",), "Mertens", date(2009, 3, 12), 130, "03"),
                _Fixture(None, ("Vic",), "Mertens", date(2012, 12, 1), 187, "03"),
                _Fixture(None, ("Mila",), "Mertens", date(2016, 6, 25), 216, "03"),
                _Fixture(None, ("Staf",), "Mertens", date(1947, 10, 14), 9, "06"),
            ),
            since=date(2001, 5, 1), union=date(2000, 7, 8),
        ),
        # Born in Morocco, registered with incomplete birth dates; several surnames; a brother
        # registered without first names; a grandchild.
        _FixtureHousehold(
            Address("Kammenstraat", "41", "2", "2060", "11002", "Antwerpen"),
            (
                _Fixture("several_surnames", ("Mohamed", "Ali"), "El Amrani", date(1950, 5, 1),
                         13, "01", "354", precision="month", other_last_names=("Benali",),
                         plan=PersonPlan(birth_place=_NADOR, earlier=())),
                _Fixture("incomplete_birth", ("Fatima",), "Benali", date(1955, 1, 1), 40, "02",
                         "354", precision="year",
                         plan=PersonPlan(birth_place=_NADOR, earlier=())),
                _Fixture("no_first_names", (), "El Amrani", date(1953, 1, 1), 21, "09", "354",
                         precision="year", plan=PersonPlan(
                             birth_place=_NADOR, earlier=(),
                             civil_states=civil_history(date(1953, 1, 1)))),
                _Fixture("grandchild", ("Yasmine",), "El Amrani", date(2019, 3, 8), 62, "05"),
            ),
            since=date(1998, 2, 1), union=date(1974, 8, 1),
        ),
        # Registered at the OCMW's address: a reference address.
        _FixtureHousehold(
            Address("Onderbergen", "86", None, "9000", "44021", "Gent", street_code="3521"),
            (_Fixture("reference_address", ("Pieter", "Jozef"), "Goossens", date(1971, 8, 19), 77,
                      "01", plan=PersonPlan(
                          civil_states=civil_history(date(1971, 8, 19)),
                          reference=ReferenceAddress(
                              date(2020, 2, 1), "1",
                              "Referentieadres bij het OCMW (persoon zonder verblijfplaats)")),
                      ),),
            since=date(2020, 2, 1),
        ),
        # Known first by a bis number, which the national register later replaced (30004).
        _FixtureHousehold(
            Address("Thonissenlaan", "19", "5", "3500", "71022", "Hasselt"),
            (_Fixture("renumbered", ("Ioana", "Maria"), "Popescu", _RENUMBERED_BORN,
                      _RENUMBERED_COUNTER, "01", "124", plan=PersonPlan(
                          birth_place=Place("Cluj-Napoca", country="124"), earlier=(),
                          civil_states=civil_history(_RENUMBERED_BORN))),),
            since=date(2017, 10, 1),
        ),
    ]


def _others() -> list[tuple[_Fixture, PersonFacts]]:
    """People in no household: deceased, struck off ex officio, emigrated, only a bis number."""
    deceased_born, struck_born = date(1939, 5, 20), date(1980, 10, 3)
    emigrated_born, bis_born = date(1986, 11, 23), date(1988, 3, 10)
    return [
        (
            _Fixture("deceased", ("Jef",), "Lambrechts", deceased_born, 21, None),
            PersonFacts(
                birth_place=_ANTWERPEN,
                residences=(
                    Residence(Address("Lange Nieuwstraat", "5", None, "2000", "11002",
                                      "Antwerpen"), deceased_born, date(1965, 9, 30)),
                    # The last address ends on the day of death: no current residence.
                    Residence(Address("Mechelsesteenweg", "88", None, "2018", "11002",
                                      "Antwerpen", street_code="2841"),
                              date(1965, 10, 1), date(2024, 2, 11)),
                ),
                nationalities=(CodedPeriod(BELGIAN, NATIONALITIES[BELGIAN], deceased_born),),
                civil_states=civil_history(deceased_born, ("20", date(1965, 9, 18)),
                                           ("30", date(2015, 12, 4))),
                death=Death(date(2024, 2, 11), _ANTWERPEN),
            ),
        ),
        (
            _Fixture("struck_off", ("Koen",), "Hermans", struck_born, 99, None),
            PersonFacts(
                birth_place=Place("Hasselt", "71022"),
                residences=(
                    Residence(Address("Demerstraat", "14", None, "3500", "71022", "Hasselt"),
                              struck_born, date(2003, 1, 31)),
                    Residence(Address("Diestsestraat", "201", "4", "3000", "24062", "Leuven"),
                              date(2003, 2, 1), date(2012, 4, 30)),
                    # Struck off ex officio (ambtshalve afgevoerd) after this address.
                    Residence(Address("Brusselsesteenweg", "301", None, "3090", "23062",
                                      "Overijse"), date(2012, 5, 1), date(2023, 6, 30)),
                ),
                nationalities=(CodedPeriod(BELGIAN, NATIONALITIES[BELGIAN], struck_born),),
                civil_states=civil_history(struck_born),
                struck_off=date(2023, 7, 1),
            ),
        ),
        (
            _Fixture("emigrated", ("Annelies",), "Van Damme", emigrated_born, 148, None),
            PersonFacts(
                birth_place=_GENT,
                residences=(
                    Residence(Address("Veldstraat", "52", None, "9000", "44021", "Gent"),
                              emigrated_born, date(2010, 8, 31)),
                    # Left for Sweden: the last Belgian address stays on the register.
                    Residence(Address("Bondgenotenlaan", "130", "12", "3000", "24062", "Leuven"),
                              date(2010, 9, 1), date(2021, 8, 31)),
                ),
                nationalities=(CodedPeriod(BELGIAN, NATIONALITIES[BELGIAN], emigrated_born),),
                civil_states=civil_history(emigrated_born),
                abroad=Abroad(date(2021, 9, 1), "126", post_code="1372", post_name="Stockholm",
                              lines=("Storgatan 12", "114 55 Stockholm")),
            ),
        ),
        (
            # Never on the population register: only the KSZ knows him (Bron KSZ).
            _Fixture("bis_number", ("Tomasz",), "Kowalski", bis_born, 151, None, "139",
                     month_offset=40),
            PersonFacts(
                birth_place=Place("Kraków", country="139"),
                residences=(),
                nationalities=(CodedPeriod("139", NATIONALITIES["139"], bis_born),),
                civil_states=civil_history(bis_born),
                abroad=Abroad(date(2023, 4, 1), "139",
                              lines=("ul. Floriańska 15", "31-019 Kraków")),
            ),
        ),
    ]


def _person(fixture: _Fixture, household_id: str | None) -> Person:
    relation = fixture.relation
    return Person(
        insz=make_insz(fixture.birth_date, fixture.counter, precision=fixture.precision,
                       month_offset=fixture.month_offset),
        first_names=fixture.first_names,
        last_name=fixture.last_name,
        birth_date=fixture.birth_date,
        sex="M" if fixture.counter % 2 else "V",
        nationality_code=fixture.nationality,
        nationality_description=NATIONALITIES[fixture.nationality],
        relation_code=relation,
        relation_description=None if relation is None else RELATIONS[relation],
        household_id=household_id,
        birth_precision=fixture.precision,
        other_last_names=fixture.other_last_names,
    )


def _build() -> tuple[list[Household], list[Person], dict[str, PersonFacts], dict[str, str]]:
    households: list[Household] = []
    facts: dict[str, PersonFacts] = {}
    keys: dict[str, str] = {}
    for index, spec in enumerate(_households(), start=1):
        household_id = f"HH-{index:04d}"
        members = tuple(_person(f, household_id) for f in spec.members)
        household = Household(household_id, spec.address, members)
        households.append(household)
        plans = {p.insz: f.plan for f, p in zip(spec.members, members, strict=True)}
        plan = HouseholdPlan(since=spec.since, union=spec.union, people=plans)
        # Seeded by the household id alone: fixture facts are the same for every seed.
        rng = random.Random(f"fixture-facts:{household_id}")
        facts.update(household_facts(household, rng, plan, extras=False))
        keys.update({f.key: p.insz for f, p in zip(spec.members, members, strict=True) if f.key})
    others: list[Person] = []
    for fixture, person_facts in _others():
        person = _person(fixture, None)
        others.append(person)
        facts[person.insz] = person_facts
        if fixture.key:
            keys[fixture.key] = person.insz
    return households, others, facts, keys


FIXTURE_HOUSEHOLDS, FIXTURE_OTHERS, FIXTURE_FACTS, FIXTURE_KEYS = _build()
"""The fixture households (ids HH-0001...), the people in no household, all their facts, and
the named keys -> INSZ."""

FIXTURE_RENUMBERED: dict[str, str] = {
    make_insz(_RENUMBERED_BORN, _RENUMBERED_COUNTER, month_offset=40): FIXTURE_KEYS["renumbered"],
}
"""Former INSZ (a replaced bis number) -> the INSZ now."""
