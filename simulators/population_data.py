"""A deterministic, synthetic population for the simulated government back ends.

Nobody here is a real person: every INSZ has its birth month shifted by 60 (months 61-72, 60
for an unknown month), the range MAGDA reserves for its own test persons, with valid mod-97
check digits; two named fixtures carry a bis number (month + 40) instead. The counter's parity
carries the sex (odd = male, even = female), as in a real INSZ.

Every person has a household entry (what GeefGezinssamenstelling answers) and register facts
(:class:`PersonFacts`: birth place, residence, nationality and civil-status histories, and
where applicable death, legal cohabitation and a burial declaration; what GeefPersoon and
GeefHistoriekPersoon answer), consistent with the household: see :mod:`simulators.population_facts`.

The same ``seed`` always yields the same population. Hand-made fixtures are part of every
population, whatever the seed, with the same facts; tests and the demo name them through
:data:`WELL_KNOWN` (INSZ values pinned in ``tests/simulators/test_sim_population.py``):

==========================  ===================================================================
key                         what it is for
==========================  ===================================================================
``household_head``          Jan Karel Peeters, Antwerpen: head of a family of four (partner,
                            two children); married ("20") to ``partner`` since 2010-06-12. The
                            "married" case: certificates of civil status, household.
``partner``                 Sofie Janssens, position 02, married to ``household_head``.
``child``                   Seppe Peeters, born 2015 (INSZ check computed with the 2000 rule).
``single``                  Els Maes, Gent, alone in her household: "10" Ongehuwd, no
                            cohabitation, no burial declaration.
``cohabitant_head``         Wout Claes, Leuven: legal cohabitation with ``cohabitant`` since
``cohabitant``              2019-05-04 in Leuven (24062); Marie Louise Dubois (position 22) is
                            French ("111"), born in Lille.
``extended_head``           Geert Wouters, Grimbergen: six members, positions 01/02/03/06/12.
``parent``                  Maria Josephina Wouters, position 06, widowed ("30").
``foreigner``               Joost de Vries, Dutch ("129" Nederlander), in Gent (44021) since
                            2016, born in Rotterdam: refusals of Belgian-nationality certificates.
``mover``                   Lars Vermeulen, Belgian: Gent 1990-2001, Leuven 2001-2010, Brugge
                            2010-2015, Gent again since 2015-03-01. Residence history; also the
                            "never lived in Antwerpen (11002)" case.
``burial_declared``         Greet De Wilde, Brugge, living, Belgian, widowed: declared
                            cremation with scattering ("05") and neutral rites ("08") on
                            2022-03-15 in Brugge (LijkbezorgingEnRitueel).
``large_household_head``    Dirk Mertens, Hasselt: head of a household of nine.
``criminal_record``         Jens Mertens, a son in that household: his criminal-record extract
                            carries one conviction line (every other extract says "Geen
                            veroordelingen").
``police_check_refused``    Arne Wouters, a son in ``extended_head``'s household: a 596.2 extract
                            ends GEWEIGERD once its police check is done (other models: KLAAR).
``several_surnames``        Mohamed Ali El Amrani Benali (two surnames), Moroccan ("354"), born
                            in Nador on an incomplete date, 1950-05-00 (INSZ day 00); head of a
                            household of four in Antwerpen, married to ``incomplete_birth``.
``incomplete_birth``        Fatima Benali, position 02, born 1955-00-00 (INSZ month 60, day 00).
``no_first_names``          a brother (position 09) registered without first names (no
                            ``Voornamen``), born 1953-00-00.
``grandchild``              Yasmine El Amrani, position 05, Belgian, born 2019 in Antwerpen.
``reference_address``       Pieter Jozef Goossens, Gent: his main residence is a reference
                            address at the OCMW since 2020-02-01 (``ReferentieAdres``), in the
                            register's own spelling (``StraatCode``, not standardised).
``renumbered``              Ioana Maria Popescu, Romanian, Hasselt, alone: first known by a bis
``renumbered_old``          number (``renumbered_old``, month + 40) that the register replaced.
                            Asked by the old number the person services answer her data with
                            the warning 30004 (annotation "Oud INSZ"); register the current one.
``deceased``                Jef Lambrechts, died 2024-02-11 in Antwerpen: Status 99990, his last
                            address kept (not standardised), in no household
                            (GeefGezinssamenstelling answers 40098).
``struck_off``              Koen Hermans, struck off ex officio (ambtshalve afgevoerd) on
                            2023-07-01: Status 99991, last address Overijse, in no household.
``emigrated``               Annelies Van Damme, Belgian, left Leuven for Sweden on 2021-09-01:
                            Status 992, a residence abroad (diplomatic post Stockholm) and a
                            post address abroad; in no household (30001).
``bis_number``              Tomasz Kowalski, Polish, only a bis number (month + 40): unknown to
                            the national register (Bron RR: 30001), answered with Bron KSZ
                            (Register BIS, a post address abroad, no residence).
``unknown``                 valid check digits, never in any population (30001).
``invalid_check``           eleven digits whose check never matches (20002).
==========================  ===================================================================

Everyone is alive unless said otherwise. Periods end on their last day (inclusive). Positions
in the household (``relation_code``) are the register's: 01 head, 02 spouse, 03 child, 05
grandchild, 06 parent, 09 brother or sister, 12 not related, 22 legal cohabitant. Every
INSZ is a MAGDA test number (month 61-72, or 60 when the birth month is unknown) except the two
bis numbers. How the MAGDA simulator renders these facts in MAGDA's answer structure:
:mod:`simulators.magda.services.xmlparts`.

Civil-status acts (DABS), the same in every population, named by :data:`WELL_KNOWN_ACTS`
(references pinned in ``tests/simulators/test_sim_civil_status.py``); generated people have none:

==============================  ===============================================================
key                             act (DocumentType, status) and what it is for
==============================  ===============================================================
``birth_single``                GEBOORTE of ``single`` (Gent, 1972); parents not on the register.
``birth_mover``                 GEBOORTE of ``mover`` (Gent, 1990).
``birth_child``                 GEBOORTE of ``child`` (Antwerpen, 2015), VADER ``household_head``,
                                MOEDER ``partner``: one act found through three INSZ.
``birth_parent_not_digitised``  GEBOORTE of ``parent`` (1941), NIET_GEDIGITALISEERD: found by the
                                search, refused (30010) by GeefAkteBurgerlijkeStand.
``marriage_head``               HUWELIJK of ``household_head`` (ECHTGENOOT1) and ``partner``
                                (ECHTGENOOT2), 2010-06-12, with two GETUIGE.
``death_deceased``              OVERLIJDEN of ``deceased`` (Antwerpen, 2024).
``name_change_single``          NAAMSWIJZIGING of ``single`` (2019): her second act.
``recognition_cohabitant_1``    ERKENNING of Noor Claes by ``cohabitant_head``, MOEDER
                                ``cohabitant`` (2021).
``recognition_cohabitant_2``    ERKENNING of her elder son (not on the register), MOEDER
                                ``cohabitant`` (2020): INSZ + ERKENNING finds two acts.
``divorce_extended``            ECHTSCHEIDING of ``extended_head`` from an earlier marriage (1993;
                                his register history was left as it was).
``adoption_partner``            ADOPTIE of ``partner`` as an infant (Leuven, 1988), two ADOPTANT
                                not on the register.
``nationality_cohabitant``      BELGISCHE_NATIONALITEIT of ``cohabitant`` by declaration (Leuven,
                                2024); her register facts (French) were left as they were.
``prenatal_recognition_mover``  ERKENNING_VOOR_GEBOORTE of ``mover`` by his father (Gent, 1990).
``absence_struck_off``          VERKLARING_AFWEZIGHEID of ``struck_off`` (Overijse, his last
                                residence, 2024).
``first_name_change_mover``     VOORNAAMSWIJZIGING of ``mover`` (Gent, 2018-03-12).
``gender_change_mover``         GESLACHTSWIJZIGING of ``mover`` (Gent, 2018-09-24).
``stillborn_burial_declared``   LEVENLOOS_KIND, MOEDER ``burial_declared`` (Leuven, 1974); the
                                child and father are not on the register.
``name_choice_cohabitants``    NAAMKEUZE for Noor Claes by her VADER ``cohabitant_head`` and
                                MOEDER ``cohabitant`` (Leuven, 2021).
==============================  ===============================================================

``foreigner`` has no act at all (a search by INSZ answers 30001), ``single`` has no ADOPTIE, and
no act is drawn up in Hasselt (71022).

:data:`ACT_OF_EACH_KIND` gives, for each of the 14 act types (DocumentType/Code), a fixture and
an available act of that type naming them: a search by that fixture's INSZ and that type finds
exactly this act (pinned in ``tests/simulators/test_sim_civil_status.py``). The fixture is the
act's BETROKKENE, except for HUWELIJK and ECHTSCHEIDING (ECHTGENOOT1: no BETROKKENE), ERKENNING
and NAAMKEUZE (``cohabitant_head`` as ERKENNER and VADER: Noor Claes has no key) and
LEVENLOOS_KIND (the MOEDER: a stillborn child is never on the register).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from simulators.population_acts import ACT_STATUSES, ACT_TYPES, ROLES, ActPerson, CivilAct
from simulators.population_civil import (
    ACT_OF_EACH_KIND,
    FIXTURE_ACTS,
    FIXTURE_JUDICIAL,
    WELL_KNOWN_ACTS,
)
from simulators.population_facts import household_facts, random_address
from simulators.population_fixtures import (
    FIXTURE_FACTS,
    FIXTURE_HOUSEHOLDS,
    FIXTURE_KEYS,
    FIXTURE_OTHERS,
    FIXTURE_RENUMBERED,
)
from simulators.population_judicial import (
    ACTIVITIES,
    EXTRACT_TYPES,
    POLICE_CHECK_TYPE,
    Conviction,
    JudicialFacts,
)
from simulators.population_model import (
    BELGIAN,
    BURIAL_METHODS,
    BURIAL_RITES,
    CIVIL_STATES,
    MUNICIPALITIES,
    NATIONALITIES,
    REFERENCE_DATE,
    RELATIONS,
    Address,
    BurialDeclaration,
    CodedPeriod,
    Cohabitation,
    Death,
    Household,
    Person,
    PersonFacts,
    Place,
    Population,
    Residence,
    make_insz,
)

__all__ = [
    "ACTIVITIES",
    "ACT_OF_EACH_KIND",
    "ACT_STATUSES",
    "ACT_TYPES",
    "BURIAL_METHODS",
    "BURIAL_RITES",
    "CIVIL_STATES",
    "EXTRACT_TYPES",
    "NATIONALITIES",
    "POLICE_CHECK_TYPE",
    "RELATIONS",
    "ROLES",
    "WELL_KNOWN",
    "WELL_KNOWN_ACTS",
    "ActPerson",
    "Address",
    "BurialDeclaration",
    "CivilAct",
    "CodedPeriod",
    "Cohabitation",
    "Conviction",
    "Death",
    "Household",
    "JudicialFacts",
    "Person",
    "PersonFacts",
    "Place",
    "Population",
    "Residence",
    "generate_population",
    "make_insz",
]

_FOREIGN = [code for code in NATIONALITIES if code != BELGIAN]

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


WELL_KNOWN: dict[str, str] = {
    **FIXTURE_KEYS,
    # The bis number ``renumbered`` had before: MAGDA answers 30004 and her data now.
    "renumbered_old": next(iter(FIXTURE_RENUMBERED)),
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
        return BELGIAN if self.rng.random() < 0.85 else self.rng.choice(_FOREIGN)

    def address(self) -> Address:
        return random_address(self.rng, self.rng.choice(MUNICIPALITIES))

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
                relation="02" if rng.random() < 0.7 else "22",
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
                               last_name=family_name, relation="06", nationality=nationality)
        if roll < 0.22:
            return self.person(household_id, age=rng.randrange(18, 70), sex=sex,
                               last_name=rng.choice(_LAST_NAMES), relation="12",
                               nationality=self.nationality())
        return self.person(household_id, age=rng.randrange(0, min(head_age - 18, 35)), sex=sex,
                           last_name=family_name, relation="03", nationality=nationality)


def generate_population(seed: int = 7, households: int = 60) -> Population:
    """A population of ``households`` households (the fixtures included), the same for a seed."""
    if households < len(FIXTURE_HOUSEHOLDS):
        raise ValueError(f"at least {len(FIXTURE_HOUSEHOLDS)} households (the fixtures)")
    reserved = {p.insz for h in FIXTURE_HOUSEHOLDS for p in h.members}
    reserved.update(p.insz for p in FIXTURE_OTHERS)
    reserved.add(WELL_KNOWN["unknown"])
    reserved.update(FIXTURE_RENUMBERED)
    generator = _Generator(random.Random(seed), reserved)
    generated = [
        generator.household(f"HH-{index:04d}")
        for index in range(len(FIXTURE_HOUSEHOLDS) + 1, households + 1)
    ]
    facts = dict(FIXTURE_FACTS)
    for household in generated:
        # A source per household, apart from the one that drew the households, so adding facts
        # never changed who lives where.
        facts.update(household_facts(household, random.Random(f"facts:{seed}:{household.id}")))
    return Population(tuple(FIXTURE_HOUSEHOLDS + generated), facts, tuple(FIXTURE_OTHERS),
                      acts=FIXTURE_ACTS, judicial=FIXTURE_JUDICIAL, renumbered=FIXTURE_RENUMBERED)
