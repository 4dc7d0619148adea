"""The synthetic population: deterministic, valid INSZ numbers, stable named fixtures."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from hub.identifiers import insz_century, is_valid_insz
from simulators.population_data import (
    RELATIONS,
    WELL_KNOWN,
    Population,
    generate_population,
    make_insz,
)

# Pinned on purpose: tests and the demo refer to these numbers, so they must never drift.
EXPECTED_WELL_KNOWN = {
    "household_head": "85673003360",
    "partner": "87631412475",
    "child": "15712101797",
    "single": "72610920212",
    "cohabitant_head": "94690515122",
    "cohabitant": "95622808846",
    "extended_head": "68720100554",
    "parent": "41630314203",
    "unknown": "80622999753",
    "invalid_check": "80622999700",
}


def test_same_seed_gives_the_same_population() -> None:
    assert generate_population(7) == generate_population(7)
    assert generate_population(11, households=20) == generate_population(11, households=20)


def test_another_seed_gives_another_population() -> None:
    assert generate_population(7) != generate_population(8)


def test_household_count_includes_the_fixtures() -> None:
    assert len(generate_population(households=60).households) == 60
    assert len(generate_population(households=4).households) == 4
    with pytest.raises(ValueError):
        generate_population(households=3)


@pytest.mark.parametrize("seed", [7, 1, 2024])
def test_every_insz_is_a_valid_unique_test_person_number(seed: int) -> None:
    population = generate_population(seed, households=120)
    persons = list(population.persons())
    assert len({p.insz for p in persons}) == len(persons)
    for person in persons:
        insz = person.insz
        assert is_valid_insz(insz), insz
        assert 61 <= int(insz[2:4]) <= 72, insz
        born = person.birth_date
        assert insz[:6] == f"{born.year % 100:02d}{born.month + 60:02d}{born.day:02d}"
        # From 2000 the check digits are computed on "2" + the first nine digits.
        assert insz_century(insz) == (2000 if born.year >= 2000 else 1900), insz
        assert person.sex == ("M" if int(insz[6:9]) % 2 else "V"), insz
        assert population.by_insz(insz) is person


def test_households_are_plausible(population: Population) -> None:
    sizes = Counter(len(h.members) for h in population.households)
    assert set(sizes) <= set(range(1, 7))
    assert sizes[1] > 0 and max(sizes) >= 5
    relations: Counter[str] = Counter()
    for household in population.households:
        assert [m.relation_code for m in household.members].count("01") == 1
        assert household.head.relation_code == "01"
        assert all(m.household_id == household.id for m in household.members)
        relations.update(m.relation_code for m in household.members)
    assert set(relations) == set(RELATIONS)
    municipalities = {(h.address.nis_code, h.address.municipality) for h in population.households}
    assert {
        ("11002", "Antwerpen"),
        ("44021", "Gent"),
        ("24062", "Leuven"),
        ("31005", "Brugge"),
        ("71022", "Hasselt"),
        ("23025", "Grimbergen"),
    } <= municipalities


def test_well_known_insz_values_are_pinned() -> None:
    assert WELL_KNOWN == EXPECTED_WELL_KNOWN


@pytest.mark.parametrize("seed", [7, 1, 99])
def test_well_known_fixtures_exist_in_every_population(seed: int) -> None:
    population = generate_population(seed)
    head = WELL_KNOWN["household_head"]
    household = population.household_of(head)
    assert household is not None and household.head.insz == head
    assert len(household.members) >= 3
    assert {m.insz for m in household.members} >= {WELL_KNOWN["partner"], WELL_KNOWN["child"]}
    single = population.household_of(WELL_KNOWN["single"])
    assert single is not None and len(single.members) == 1
    cohabitant = population.by_insz(WELL_KNOWN["cohabitant"])
    assert cohabitant is not None and cohabitant.relation_code == "10"
    parent = population.by_insz(WELL_KNOWN["parent"])
    assert parent is not None and parent.relation_code == "08"
    child = population.by_insz(WELL_KNOWN["child"])
    assert child is not None and child.birth_date >= date(2000, 1, 1)


@pytest.mark.parametrize("seed", [7, 1, 99])
def test_unknown_and_invalid_fixtures_are_not_in_the_population(seed: int) -> None:
    population = generate_population(seed, households=200)
    unknown = WELL_KNOWN["unknown"]
    assert is_valid_insz(unknown) and 61 <= int(unknown[2:4]) <= 72
    assert population.by_insz(unknown) is None
    assert population.household_of(unknown) is None
    assert not is_valid_insz(WELL_KNOWN["invalid_check"])


def test_make_insz_matches_known_check_digits() -> None:
    assert make_insz(date(1985, 7, 30), 33) == "856730033" + f"{97 - 856730033 % 97:02d}"
    # Born in 2000 or later: the check is computed on "2" + the first nine digits.
    assert make_insz(date(2015, 11, 21), 17) == "157121017" + f"{97 - 2157121017 % 97:02d}"
    with pytest.raises(ValueError):
        make_insz(date(1985, 7, 30), 999)
