"""The synthetic population: deterministic, valid INSZ numbers, stable named fixtures."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from hub.identifiers import insz_century, is_valid_insz
from simulators.population_data import (
    RELATIONS,
    WELL_KNOWN,
    CodedPeriod,
    Person,
    PersonFacts,
    Population,
    Residence,
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
    "foreigner": "83661504165",
    "mover": "90641205778",
    "burial_declared": "48710212856",
    "large_household_head": "75621107156",
    "deceased": "39652002171",
    "struck_off": "80700309941",
    "criminal_record": "02611906359",
    "police_check_refused": "01680821967",
    "several_surnames": "50650001337",
    "incomplete_birth": "55600004080",
    "no_first_names": "53600002157",
    "grandchild": "19630806282",
    "reference_address": "71681907759",
    "renumbered": "92670408661",
    "renumbered_old": "92470408618",
    "emigrated": "86712314810",
    "bis_number": "88431015149",
    "unknown": "80622999753",
    "invalid_check": "80622999700",
}
FIXTURE_HOUSEHOLDS = 11
BIS_NUMBERS = {WELL_KNOWN["bis_number"]}


def test_same_seed_gives_the_same_population() -> None:
    assert generate_population(7) == generate_population(7)
    assert generate_population(11, households=20) == generate_population(11, households=20)


def test_another_seed_gives_another_population() -> None:
    assert generate_population(7) != generate_population(8)


def test_household_count_includes_the_fixtures() -> None:
    assert len(generate_population(households=60).households) == 60
    assert len(generate_population(households=FIXTURE_HOUSEHOLDS).households) == FIXTURE_HOUSEHOLDS
    with pytest.raises(ValueError):
        generate_population(households=FIXTURE_HOUSEHOLDS - 1)


@pytest.mark.parametrize("seed", [7, 1, 2024])
def test_every_insz_is_a_valid_unique_test_person_number(seed: int) -> None:
    population = generate_population(seed, households=120)
    persons = list(population.persons())
    assert len({p.insz for p in persons}) == len(persons)
    for person in persons:
        insz = person.insz
        assert is_valid_insz(insz), insz
        offset = 40 if insz in BIS_NUMBERS else 60
        born, precision = person.birth_date, person.birth_precision
        month = 0 if precision == "year" else born.month
        day = born.day if precision == "day" else 0
        assert insz[:6] == f"{born.year % 100:02d}{month + offset:02d}{day:02d}", insz
        assert (61 <= int(insz[2:4]) <= 72) or precision == "year" or insz in BIS_NUMBERS
        # From 2000 the check digits are computed on "2" + the first nine digits.
        assert insz_century(insz) == (2000 if born.year >= 2000 else 1900), insz
        assert person.sex == ("M" if int(insz[6:9]) % 2 else "V"), insz
        assert population.by_insz(insz) is person


def test_households_are_plausible(population: Population) -> None:
    generated = population.households[FIXTURE_HOUSEHOLDS:]
    sizes = Counter(len(h.members) for h in generated)
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
    assert cohabitant is not None and cohabitant.relation_code == "22"
    parent = population.by_insz(WELL_KNOWN["parent"])
    assert parent is not None and parent.relation_code == "06"
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


# ----- register facts -----

DAY = timedelta(days=1)


def _assert_contiguous(periods: Sequence[Residence | CodedPeriod], what: str) -> None:
    assert periods, what
    for earlier, later in itertools.pairwise(periods):
        assert earlier.end is not None and earlier.begin <= earlier.end, what
        assert later.begin == earlier.end + DAY, what


@pytest.mark.parametrize("seed", [7, 1])
def test_facts_are_consistent_with_the_households(seed: int) -> None:
    population = generate_population(seed, households=120)
    for person in population.persons():
        facts = population.facts_of(person.insz)
        assert facts is not None, person.insz
        what = f"{person.insz} ({person.relation_code})"
        if person.insz not in BIS_NUMBERS:  # only the KSZ knows a bis number: no residence
            _assert_contiguous(facts.residences, what)
        _assert_contiguous(facts.nationalities, what)
        _assert_contiguous(facts.civil_states, what)
        assert not facts.residences or facts.residences[0].begin >= person.birth_date, what
        assert facts.civil_states[0] == CodedPeriod(
            "10", "Ongehuwd", person.birth_date, facts.civil_states[0].end
        ), what
        assert [n.code for n in facts.current_nationalities] == [person.nationality_code], what
        household = population.household_of(person.insz)
        if household is None:
            assert facts.residence is None, what
            continue
        assert facts.residence is not None and facts.residence.address == household.address
        assert facts.death is None, what
        if facts.birth_place is not None and facts.birth_place.nis_code is not None:
            assert facts.residences[0].begin == person.birth_date, what
            assert facts.birth_place.nis_code == facts.residences[0].address.nis_code, what
        for earlier, later in itertools.pairwise(facts.residences):
            assert earlier.address.nis_code != later.address.nis_code, what


@pytest.mark.parametrize("seed", [7, 1])
def test_partners_share_their_union(seed: int) -> None:
    population = generate_population(seed, households=120)
    married = cohabiting = 0
    for household in population.households:
        head = household.head
        for partner in (m for m in household.members if m.relation_code in ("02", "22")):
            mine, theirs = population.facts_of(head.insz), population.facts_of(partner.insz)
            assert mine is not None and theirs is not None
            if partner.relation_code == "02":
                married += 1
                assert mine.civil_state == theirs.civil_state
                assert mine.civil_state is not None and mine.civil_state.code == "20"
                assert mine.cohabitation is None and theirs.cohabitation is None
            else:
                cohabiting += 1
                assert mine.cohabitation is not None and theirs.cohabitation is not None
                assert mine.cohabitation.partner_insz == partner.insz
                assert theirs.cohabitation.partner_insz == head.insz
                assert mine.cohabitation.begin == theirs.cohabitation.begin
                assert mine.cohabitation.nis_code == household.address.nis_code
    assert married > 5 and cohabiting > 2


def test_facts_are_deterministic_and_fixture_facts_ignore_the_seed() -> None:
    assert generate_population(7).facts == generate_population(7).facts
    one, other = generate_population(7), generate_population(99)
    for insz in WELL_KNOWN.values():
        assert one.facts_of(insz) == other.facts_of(insz)


def test_fixture_facts() -> None:
    population = generate_population()

    def facts(key: str) -> PersonFacts:
        found = population.facts_of(WELL_KNOWN[key])
        assert found is not None
        return found

    deceased = facts("deceased")
    assert deceased.death is not None and deceased.death.date.year == 2024
    assert deceased.residence is None and population.household_of(WELL_KNOWN["deceased"]) is None
    struck_off = facts("struck_off")
    assert struck_off.death is None and struck_off.residence is None
    assert struck_off.residences[-1].end is not None and struck_off.residences[-1].end.year == 2023
    assert [n.code for n in facts("foreigner").current_nationalities] == ["129"]
    mover = facts("mover")
    assert [r.address.nis_code for r in mover.residences] == ["44021", "24062", "31005", "44021"]
    assert [r.begin.year for r in mover.residences] == [1990, 2001, 2010, 2015]
    burial = facts("burial_declared").burial
    assert burial is not None and burial.declared.year == 2022
    assert (burial.method, burial.rite) == ("05", "08")
    for key in ("single", "household_head", "partner", "child", "extended_head", "parent"):
        assert facts(key).death is None and facts(key).burial is None, key
    single = facts("single")
    assert single.civil_state is not None and single.civil_state.code == "10"
    assert single.cohabitation is None
    head = facts("household_head")
    assert head.civil_state is not None and head.civil_state.code == "20"
    large = population.household_of(WELL_KNOWN["large_household_head"])
    assert large is not None and len(large.members) == 9
    assert struck_off.struck_off is not None and [s.code for s in struck_off.statuses] == ["99991"]
    assert [s.code for s in deceased.statuses] == ["99990"]
    emigrated = facts("emigrated")
    assert emigrated.abroad is not None and emigrated.abroad.country == "126"
    assert [s.code for s in emigrated.statuses] == ["992"]
    assert population.household_of(WELL_KNOWN["emigrated"]) is None
    assert facts("bis_number").residences == () and facts("bis_number").abroad is not None
    reference = facts("reference_address").residence
    assert reference is not None and reference.reference is not None


def test_variety_of_the_named_personas() -> None:
    """Incomplete dates, several surnames, no first names, the positions, a replaced number."""
    population = generate_population()

    def person(key: str) -> Person:
        found = population.by_insz(WELL_KNOWN[key])
        assert found is not None
        return found

    head = person("several_surnames")
    assert head.last_names == ("El Amrani", "Benali") and head.birth_date_text == "1950-05-00"
    assert head.nationality_code == "354"
    assert person("incomplete_birth").birth_date_text == "1955-00-00"
    assert person("no_first_names").first_names == ()
    assert person("no_first_names").relation_code == "09"
    assert person("grandchild").relation_code == "05"
    household = population.household_of(head.insz)
    assert household is not None and len(household.members) == 4
    assert population.current_insz(WELL_KNOWN["renumbered_old"]) == WELL_KNOWN["renumbered"]
    assert population.by_insz(WELL_KNOWN["renumbered_old"]) is None
    assert int(WELL_KNOWN["bis_number"][2:4]) == 43  # March + 40: a bis number, sex known
