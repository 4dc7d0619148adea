"""The fixtures' civil-status acts and criminal-record facts, whatever the population's seed.

Acts are drawn up where the register says the people were: a birth act in the birth place, other
acts in the municipality of residence on that day, or of the last residence for someone no longer
on it (see ``population_data`` for which fixture exercises what). People an act names who are
not on the register have no INSZ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from simulators.population_acts import AVAILABLE, NOT_DIGITISED, SUBJECT_ROLE, ActPerson, CivilAct
from simulators.population_fixtures import (
    FIXTURE_FACTS,
    FIXTURE_HOUSEHOLDS,
    FIXTURE_KEYS,
    FIXTURE_OTHERS,
)
from simulators.population_judicial import Conviction, JudicialFacts
from simulators.population_model import Person

__all__ = ["ACT_OF_EACH_KIND", "FIXTURE_ACTS", "FIXTURE_JUDICIAL", "WELL_KNOWN_ACTS"]

_PEOPLE = {p.insz: p for p in [*(m for h in FIXTURE_HOUSEHOLDS for m in h.members),
                               *FIXTURE_OTHERS]}


@dataclass(frozen=True)
class _Outsider:
    """Someone an act names who is not on the register."""

    first_names: tuple[str, ...]
    last_name: str


def _person(key: str) -> Person:
    return _PEOPLE[FIXTURE_KEYS[key]]


def _member(head_key: str, first_name: str) -> Person:
    """An unnamed fixture, found by first name in the household of ``head_key``."""
    household_id = _person(head_key).household_id
    household = next(h for h in FIXTURE_HOUSEHOLDS if h.id == household_id)
    return next(m for m in household.members if first_name in m.first_names)


def _in_act(role: str, who: Person | _Outsider) -> ActPerson:
    if isinstance(who, _Outsider):
        return ActPerson(role, who.first_names, who.last_name)
    return ActPerson(role, who.first_names, who.last_name, who.insz, who.birth_date)


def _birth_town(person: Person) -> tuple[str, str]:
    place = FIXTURE_FACTS[person.insz].birth_place
    assert place is not None and place.nis_code is not None, person.insz
    return place.nis_code, place.name


def _home_town(person: Person, day: date) -> tuple[str, str]:
    """Where ``person`` lived on ``day`` (their first address before they were on the register)."""
    residences = FIXTURE_FACTS[person.insz].residences
    current = next((r for r in residences if r.begin <= day and (r.end is None or day <= r.end)),
                   residences[0])
    return current.address.nis_code, current.address.municipality


def _last_town(person: Person) -> tuple[str, str]:
    """The municipality of ``person``'s last main residence (current or not)."""
    last = FIXTURE_FACTS[person.insz].residences[-1].address
    return last.nis_code, last.municipality


def _act(
    serial: int, kind: str, drawn_up: date, town: tuple[str, str],
    *people: tuple[str, Person | _Outsider], status: str = AVAILABLE,
) -> CivilAct:
    nis_code, municipality = town
    return CivilAct(
        reference=f"AKTE-{nis_code}-{drawn_up.year}-{serial:06d}",
        type=kind,
        status=status,
        drawn_up=drawn_up,
        nis_code=nis_code,
        municipality=municipality,
        persons=tuple(_in_act(role, who) for role, who in people),
    )


def _birth(serial: int, child: Person, *parents: tuple[str, Person | _Outsider],
           status: str = AVAILABLE) -> CivilAct:
    # Declared two days after the birth, in the municipality of birth.
    return _act(serial, "GEBOORTE", child.birth_date + timedelta(days=2), _birth_town(child),
                (SUBJECT_ROLE, child), *parents, status=status)


def _acts() -> dict[str, CivilAct]:
    head, partner, child = _person("household_head"), _person("partner"), _person("child")
    single, mover, parent = _person("single"), _person("mover"), _person("parent")
    cohabitant, cohabitant_head = _person("cohabitant"), _person("cohabitant_head")
    deceased, extended = _person("deceased"), _person("extended_head")
    noor = _member("cohabitant_head", "Noor")
    death = FIXTURE_FACTS[deceased.insz].death
    assert death is not None and death.place is not None and death.place.nis_code is not None
    wedding, divorce = date(2010, 6, 12), date(1993, 11, 5)
    renamed, late, recognised = date(2019, 10, 15), date(2020, 2, 14), noor.birth_date
    return {
        "birth_single": _birth(17, single, ("VADER", _Outsider(("Marc",), "Maes")),
                               ("MOEDER", _Outsider(("Rita",), "Van Acker"))),
        "birth_mover": _birth(412, mover, ("VADER", _Outsider(("Peter",), "Vermeulen")),
                              ("MOEDER", _Outsider(("Ann",), "De Backer"))),
        "birth_child": _birth(123, child, ("VADER", head), ("MOEDER", partner)),
        "birth_parent_not_digitised": _birth(
            89, parent, ("VADER", _Outsider(("Jozef",), "Wouters")),
            ("MOEDER", _Outsider(("Josephina",), "Verhaegen")), status=NOT_DIGITISED),
        "marriage_head": _act(58, "HUWELIJK", wedding, _home_town(head, wedding),
                              ("ECHTGENOOT1", head), ("ECHTGENOOT2", partner),
                              ("GETUIGE", _Outsider(("Tom",), "Peeters")),
                              ("GETUIGE", _Outsider(("Lies",), "Janssens"))),
        "death_deceased": _act(231, "OVERLIJDEN", death.date + timedelta(days=1),
                               (death.place.nis_code, death.place.name), (SUBJECT_ROLE, deceased)),
        "name_change_single": _act(7, "NAAMSWIJZIGING", renamed, _home_town(single, renamed),
                                   (SUBJECT_ROLE, single)),
        # Two recognitions that both name ``cohabitant``: INSZ + ERKENNING is ambiguous.
        "recognition_cohabitant_1": _act(44, "ERKENNING", recognised,
                                         _home_town(cohabitant, recognised), (SUBJECT_ROLE, noor),
                                         ("ERKENNER", cohabitant_head), ("MOEDER", cohabitant)),
        "recognition_cohabitant_2": _act(19, "ERKENNING", late, _home_town(cohabitant, late),
                                         (SUBJECT_ROLE, _Outsider(("Lucas",), "Dubois")),
                                         ("ERKENNER", _Outsider(("Thomas",), "Lefèvre")),
                                         ("MOEDER", cohabitant)),
        # An earlier marriage; the register history of this fixture is left as it was.
        "divorce_extended": _act(3, "ECHTSCHEIDING", divorce, _home_town(extended, divorce),
                                 ("ECHTGENOOT1", extended),
                                 ("ECHTGENOOT2", _Outsider(("Ann",), "Verbeke"))),
        **_more_acts(),
    }


def _more_acts() -> dict[str, CivilAct]:
    """One available act of every other type (see ``ACT_OF_EACH_KIND``).

    None names ``single``, ``household_head`` or ``foreigner`` (their search answers are pinned)
    or ``cohabitant`` in a recognition, and none is drawn up in Hasselt.
    """
    partner, mover, struck_off = _person("partner"), _person("mover"), _person("struck_off")
    cohabitant, cohabitant_head = _person("cohabitant"), _person("cohabitant_head")
    widow, noor = _person("burial_declared"), _member("cohabitant_head", "Noor")
    adopted, prenatal, stillborn = date(1988, 2, 9), date(1990, 1, 22), date(1974, 5, 16)
    first_name, gender = date(2018, 3, 12), date(2018, 9, 24)
    naturalised, absent = date(2024, 10, 8), date(2024, 12, 2)
    named = noor.birth_date + timedelta(days=4)
    return {
        # A full adoption of ``partner`` as an infant, by a couple not on the register.
        "adoption_partner": _act(301, "ADOPTIE", adopted, _home_town(partner, adopted),
                                 (SUBJECT_ROLE, partner),
                                 ("ADOPTANT", _Outsider(("Patrick",), "Janssens")),
                                 ("ADOPTANT", _Outsider(("Martine",), "Goossens"))),
        # A nationality declaration; her register facts (French, pinned) were left as they were.
        "nationality_cohabitant": _act(517, "BELGISCHE_NATIONALITEIT", naturalised,
                                       _home_town(cohabitant, naturalised),
                                       (SUBJECT_ROLE, cohabitant)),
        # ``mover``'s father recognised him before he was born; the birth act names him too.
        "prenatal_recognition_mover": _act(38, "ERKENNING_VOOR_GEBOORTE", prenatal,
                                           _birth_town(mover), (SUBJECT_ROLE, mover),
                                           ("ERKENNER", _Outsider(("Peter",), "Vermeulen")),
                                           ("MOEDER", _Outsider(("Ann",), "De Backer"))),
        # Declared absent by the court, where he last lived (struck off since 2023).
        "absence_struck_off": _act(12, "VERKLARING_AFWEZIGHEID", absent, _last_town(struck_off),
                                   (SUBJECT_ROLE, struck_off)),
        "first_name_change_mover": _act(884, "VOORNAAMSWIJZIGING", first_name,
                                        _home_town(mover, first_name), (SUBJECT_ROLE, mover)),
        "gender_change_mover": _act(905, "GESLACHTSWIJZIGING", gender, _home_town(mover, gender),
                                    (SUBJECT_ROLE, mover)),
        # A stillborn child is never on the register: the act is found through its mother.
        "stillborn_burial_declared": _act(61, "LEVENLOOS_KIND", stillborn,
                                          _home_town(widow, stillborn),
                                          (SUBJECT_ROLE, _Outsider(("Anja",), "Vandamme")),
                                          ("VADER", _Outsider(("Roger",), "Vandamme")),
                                          ("MOEDER", widow)),
        # Noor's parents chose her last name when they declared her birth.
        "name_choice_cohabitants": _act(45, "NAAMKEUZE", named, _home_town(cohabitant, named),
                                            (SUBJECT_ROLE, noor), ("VADER", cohabitant_head),
                                            ("MOEDER", cohabitant)),
    }


_ACTS = _acts()
FIXTURE_ACTS: tuple[CivilAct, ...] = tuple(
    sorted(_ACTS.values(), key=lambda act: (act.drawn_up, act.reference))
)
"""Every fixture act, oldest first."""

WELL_KNOWN_ACTS: dict[str, str] = {key: act.reference for key, act in _ACTS.items()}
"""Stable DocumentReferte values of the named fixture acts (pinned in the simulator tests)."""

_ONE_OF_EACH: dict[str, tuple[str, str]] = {
    "ADOPTIE": ("partner", "adoption_partner"),
    "BELGISCHE_NATIONALITEIT": ("cohabitant", "nationality_cohabitant"),
    "ECHTSCHEIDING": ("extended_head", "divorce_extended"),
    "ERKENNING": ("cohabitant_head", "recognition_cohabitant_1"),
    "ERKENNING_VOOR_GEBOORTE": ("mover", "prenatal_recognition_mover"),
    "VERKLARING_AFWEZIGHEID": ("struck_off", "absence_struck_off"),
    "GESLACHTSWIJZIGING": ("mover", "gender_change_mover"),
    "LEVENLOOS_KIND": ("burial_declared", "stillborn_burial_declared"),
    "NAAMKEUZE": ("cohabitant_head", "name_choice_cohabitants"),
    "NAAMSWIJZIGING": ("single", "name_change_single"),
    "VOORNAAMSWIJZIGING": ("mover", "first_name_change_mover"),
    "GEBOORTE": ("child", "birth_child"),
    "HUWELIJK": ("household_head", "marriage_head"),
    "OVERLIJDEN": ("deceased", "death_deceased"),
}
ACT_OF_EACH_KIND: dict[str, tuple[str, str]] = {
    code: (person, WELL_KNOWN_ACTS[act]) for code, (person, act) in _ONE_OF_EACH.items()
}
"""DocumentType/Code -> (WELL_KNOWN key, DocumentReferte): for every act type, an available act
naming that fixture, the only act of its type that a search by the fixture's INSZ finds."""

FIXTURE_JUDICIAL: dict[str, JudicialFacts] = {
    FIXTURE_KEYS["criminal_record"]: JudicialFacts(convictions=(
        Conviction(date(2021, 5, 11), "Politierechtbank Limburg, afdeling Hasselt",
                   "Sturen onder invloed (art. 35 Wegverkeerswet)",
                   "Geldboete 1.600 EUR; verval van het recht tot sturen: 3 maanden"),
    )),
    FIXTURE_KEYS["police_check_refused"]: JudicialFacts(police_check_refused=True),
}
"""Criminal-record facts of the fixtures that have any."""
