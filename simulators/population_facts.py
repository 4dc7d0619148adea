"""Register facts for the members of one household, consistent with that household.

The household's address is every member's current main residence, from the day the household
moved in (or the member's birth, if later); most people lived at one to three addresses in other
municipalities before. Head and a partner with position 02 are married ("20") since the same day;
head and a partner with position 22 declared a legal cohabitation with each other in the
household's municipality. Anything a :class:`PersonPlan` fixes is taken as given.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from simulators.population_model import (
    BELGIAN,
    BURIAL_METHODS,
    BURIAL_RITES,
    CIVIL_STATES,
    MUNICIPALITIES,
    NATIONALITIES,
    PARTNER_RELATIONS,
    REFERENCE_DATE,
    Address,
    BurialDeclaration,
    CodedPeriod,
    Cohabitation,
    Household,
    Municipality,
    Person,
    PersonFacts,
    Place,
    ReferenceAddress,
    Residence,
)

__all__ = [
    "HouseholdPlan",
    "PersonPlan",
    "add_years",
    "civil_history",
    "household_facts",
    "random_address",
]

_COMMON_STREETS = (
    "Kerkstraat", "Stationsstraat", "Dorpsstraat", "Molenstraat", "Schoolstraat", "Nieuwstraat",
    "Kapelstraat", "Beukenlaan", "Lindelaan", "Veldstraat", "Kouter", "Meersstraat",
)
# Where foreign nationals were born: a place abroad has a name and no Belgian NIS code.
_BORN_ABROAD = {
    "129": "Rotterdam", "111": "Lille", "103": "Aachen", "128": "Napoli", "139": "Kraków",
    "124": "Cluj-Napoca", "354": "Nador",
}
_FOREIGN = [code for code in NATIONALITIES if code != BELGIAN]
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class PersonPlan:
    """Hand-made facts for one fixture person; whatever is left None is derived."""

    birth_place: Place | None = None
    earlier: tuple[Residence, ...] | None = None
    """Residences before the current one, oldest first; ``()`` for none."""
    nationalities: tuple[CodedPeriod, ...] | None = None
    civil_states: tuple[CodedPeriod, ...] | None = None
    burial: BurialDeclaration | None = None
    reference: ReferenceAddress | None = None
    """The current residence is a reference address (referentieadres)."""


@dataclass(frozen=True)
class HouseholdPlan:
    """Hand-made household dates and per-person plans (by INSZ) for a fixture household."""

    since: date | None = None
    """The day the household moved into its current address."""
    union: date | None = None
    """Marriage (position 02) or legal cohabitation (position 22) of the head and partner."""
    people: Mapping[str, PersonPlan] = field(default_factory=dict, hash=False)


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years; 29 February becomes the 28th in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def random_address(rng: random.Random, town: Municipality) -> Address:
    """An address in ``town``; the draws' order is part of every seed's population."""
    street = rng.choice(town.streets + _COMMON_STREETS)
    box = str(rng.randrange(1, 30)) if rng.random() < 0.2 else None
    return Address(
        street=street,
        house_number=str(rng.randrange(1, 240)),
        box=box,
        postcode=rng.choice(town.postcodes),
        nis_code=town.nis_code,
        municipality=town.name,
    )


def civil_history(born: date, *changes: tuple[str, date]) -> tuple[CodedPeriod, ...]:
    """Ongehuwd from birth, then each ``(code, from)``; each period ends the day before the next."""
    steps = [("10", born), *changes]
    ends: list[date | None] = [begin - _DAY for _, begin in steps[1:]]
    return tuple(
        CodedPeriod(code, CIVIL_STATES[code], begin, end)
        for (code, begin), end in zip(steps, [*ends, None], strict=True)
    )


def household_facts(
    household: Household, rng: random.Random, plan: HouseholdPlan | None = None,
    *, extras: bool = True,
) -> dict[str, PersonFacts]:
    """Facts for every member, by INSZ; ``extras`` allows random naturalisations and burials."""
    plan = plan or HouseholdPlan()
    head = household.head
    partner = next((m for m in household.members if m.relation_code in PARTNER_RELATIONS), None)
    since = plan.since or _between(
        rng, max(add_years(head.birth_date, 18), add_years(REFERENCE_DATE, -25)),
        REFERENCE_DATE - timedelta(days=60),
    )
    union = None
    if partner is not None:
        adult = max(add_years(head.birth_date, 18), add_years(partner.birth_date, 18))
        # A legal cohabitation is declared where the couple lives, so not before moving in.
        earliest = adult if partner.relation_code == "02" else max(adult, since)
        union = plan.union or _between(rng, earliest, REFERENCE_DATE - timedelta(days=30))
    facts: dict[str, PersonFacts] = {}
    for person in household.members:
        partner_insz = None
        if partner is not None and person in (head, partner):
            partner_insz = partner.insz if person is head else head.insz
        facts[person.insz] = _person_facts(
            rng, person, household, plan.people.get(person.insz, PersonPlan()),
            since=since, extras=extras, union=union, partner_insz=partner_insz,
            married=partner is not None and partner.relation_code == "02",
        )
    return facts


def _person_facts(
    rng: random.Random, person: Person, household: Household, plan: PersonPlan, *,
    since: date, union: date | None, partner_insz: str | None, married: bool, extras: bool,
) -> PersonFacts:
    nationalities = plan.nationalities or _nationalities(rng, person, extras)
    current = Residence(household.address, max(since, person.birth_date), reference=plan.reference)
    born_abroad = nationalities[0].code != BELGIAN and person.birth_date < current.begin
    earlier = plan.earlier
    if earlier is None:
        earlier = _earlier_residences(rng, person.birth_date, current, born_abroad)
    residences = (*earlier, current)
    birth_place = plan.birth_place or _birth_place(residences, nationalities, born_abroad, person)
    cohabitation = None
    if union is None or partner_insz is None:
        civil = _civil_states(rng, person)
    elif married:
        civil = civil_history(person.birth_date, ("20", union))
    else:
        civil = civil_history(person.birth_date)
        cohabitation = Cohabitation(partner_insz, union, household.address.nis_code,
                                    household.address.municipality)
    burial = plan.burial
    if burial is None and extras:
        burial = _maybe_burial(rng, person, residences)
    return PersonFacts(
        birth_place=birth_place,
        residences=residences,
        nationalities=nationalities,
        civil_states=plan.civil_states or civil,
        cohabitation=cohabitation,
        burial=burial,
    )


def _between(rng: random.Random, first: date, last: date) -> date:
    """A day from ``first`` to ``last`` inclusive (``first`` when the range is empty)."""
    return first + timedelta(days=rng.randrange(max(0, (last - first).days) + 1))


def _age(born: date) -> int:
    years = REFERENCE_DATE.year - born.year
    return years - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (born.month, born.day))


def _nationalities(rng: random.Random, person: Person, extras: bool) -> tuple[CodedPeriod, ...]:
    code = person.nationality_code
    if extras and code == BELGIAN and _age(person.birth_date) >= 25 and rng.random() < 0.06:
        former = rng.choice(_FOREIGN)
        naturalised = _between(rng, add_years(person.birth_date, 18),
                               REFERENCE_DATE - timedelta(days=90))
        return (
            CodedPeriod(former, NATIONALITIES[former], person.birth_date, naturalised - _DAY),
            CodedPeriod(BELGIAN, NATIONALITIES[BELGIAN], naturalised),
        )
    return (CodedPeriod(code, NATIONALITIES[code], person.birth_date),)


def _earlier_residences(
    rng: random.Random, born: date, current: Residence, born_abroad: bool
) -> tuple[Residence, ...]:
    # Someone born abroad is on the register from arrival, which may be the current address.
    start = _between(rng, born, current.begin) if born_abroad else born
    span = (current.begin - start).days
    if span <= 0:
        return ()
    count = min(rng.choices((1, 2, 3), weights=(45, 35, 20))[0], span)
    cuts = sorted(rng.sample(range(1, span), count - 1))
    begins = [start, *(start + timedelta(days=cut) for cut in cuts)]
    ends = [*(begin - _DAY for begin in begins[1:]), current.begin - _DAY]
    # Each earlier address lies in another municipality than the one that followed it.
    towns: list[Municipality] = []
    following = current.address.nis_code
    for _ in begins:
        town = rng.choice([m for m in MUNICIPALITIES if m.nis_code != following])
        towns.insert(0, town)
        following = town.nis_code
    return tuple(
        Residence(random_address(rng, town), begin, end)
        for town, begin, end in zip(towns, begins, ends, strict=True)
    )


def _birth_place(
    residences: tuple[Residence, ...], nationalities: tuple[CodedPeriod, ...],
    born_abroad: bool, person: Person,
) -> Place:
    if born_abroad or residences[0].begin != person.birth_date:
        country = nationalities[0].code
        if country == BELGIAN or country not in _BORN_ABROAD:
            # A Belgian born abroad: somewhere in a neighbouring country.
            return Place("Maastricht", country="129")
        return Place(_BORN_ABROAD[country], country=country)
    first = residences[0].address
    return Place(first.municipality, first.nis_code)


def _civil_states(rng: random.Random, person: Person) -> tuple[CodedPeriod, ...]:
    born = person.birth_date
    age = _age(born)
    if age < 25:
        return civil_history(born)
    if person.relation_code == "06" and age >= 50:
        final = rng.choices(("30", "40", "10"), weights=(70, 20, 10))[0]
    elif age >= 50:
        final = rng.choices(("10", "40", "30"), weights=(55, 30, 15))[0]
    else:
        final = rng.choices(("10", "40"), weights=(65, 35))[0]
    if final == "10":
        return civil_history(born)
    married = _between(rng, add_years(born, 20), add_years(REFERENCE_DATE, -3))
    ended = _between(rng, add_years(married, 1), REFERENCE_DATE - timedelta(days=30))
    return civil_history(born, ("20", married), (final, ended))


def _maybe_burial(
    rng: random.Random, person: Person, residences: tuple[Residence, ...]
) -> BurialDeclaration | None:
    if _age(person.birth_date) < 40 or rng.random() >= 0.04:
        return None
    declared = _between(rng, max(add_years(person.birth_date, 18), add_years(REFERENCE_DATE, -15)),
                        REFERENCE_DATE - timedelta(days=30))
    # Declared at the municipality of residence on that day.
    where = next((r.address for r in residences
                  if r.begin <= declared and (r.end is None or declared <= r.end)),
                 residences[-1].address)
    rite = rng.choice(sorted(BURIAL_RITES)) if rng.random() < 0.7 else None
    return BurialDeclaration(rng.choice(sorted(BURIAL_METHODS)), rite, declared,
                             where.nis_code, where.municipality)
