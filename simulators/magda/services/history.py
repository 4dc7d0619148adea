"""GeefHistoriekPersoon 02.02: a person's register history (``Inhoud/HistoriekPersoon``).

Criteria ``Datum`` with ``Op="1"`` selects the periods in effect on that day; ``Op="0"`` the
periods in effect on or after it (ending on or after it, or still open). Period ends are
inclusive, so a period ending on the day itself still counts for both.

As in MAGDA's answers, every list is newest first and a main residence carries its start only
(``DatumBegin``: the next period's start ends it; a ``HistoriekStatus`` says when the last one
stopped being current). Nationalities and civil states that ended carry ``DatumEinde``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Protocol, TypeVar

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import find_subject
from simulators.magda.services.xmlparts import (
    abroad_parts,
    burgerlijke_staat,
    geboorte,
    geslacht,
    gezinslid,
    hoofdverblijfplaats,
    naam,
    nationaliteit,
    overlijden,
    spouse,
    status,
    wettelijke_samenwoning,
)
from simulators.population_model import Abroad

__all__ = ["HISTORY", "answer_history", "select_periods"]

NAMESPACE = "http://magda.vlaanderen.be/persoon/soap/geefhistoriekpersoon/v02_02"
# xs:date may carry a time zone ("2005-06-01Z", "2005-06-01+02:00") and any year; the day counts.
_DAY = re.compile(r"\s*(-?)(\d{4,})-(\d{2})-(\d{2})")


class _Period(Protocol):
    @property
    def begin(self) -> date: ...

    @property
    def end(self) -> date | None: ...


P = TypeVar("P", bound=_Period)


def select_periods(periods: Sequence[P], day: date, op: str) -> list[P]:
    """The periods ``op`` selects around ``day`` ("1": in effect on it, "0": on or after it)."""
    if op == "1":
        return [p for p in periods if p.begin <= day and (p.end is None or day <= p.end)]
    return [p for p in periods if p.end is None or p.end >= day]


def _newest_first(periods: Sequence[P], day: date, op: str) -> list[P]:
    return sorted(select_periods(periods, day, op), key=lambda p: p.begin, reverse=True)


def answer_history(question: Question, registers: Registers) -> Answer:
    """Inhoud/HistoriekPersoon with the periods selected by Criteria/Datum and its Op."""
    found = find_subject(question, registers, service="GeefHistoriekPersoon", repertorium=True)
    if isinstance(found, Answer):
        return found
    person, facts, population = found.person, found.facts, registers.population
    criterium = question.element.find("Inhoud/Criteria/Datum")
    day = _criteria_day(None if criterium is None else criterium.text)
    op = "1" if criterium is not None and criterium.get("Op") == "1" else "0"

    inhoud = etree.Element("Inhoud")
    historiek = sub(inhoud, "HistoriekPersoon")
    if facts.residences:
        historiek.set("DatumCreatie", facts.residences[0].begin.isoformat())
    sub(historiek, "INSZ", person.insz)
    naam(sub(historiek, "HistoriekNaam"), person)
    geslacht(sub(historiek, "HistoriekGeslacht"), person)
    # A status lasts from its start: in effect on the day once begun, and always from it on.
    statuses = [s for s in facts.statuses if op == "0" or s.begin <= day]
    if statuses:
        container = sub(historiek, "HistoriekStatus")
        for value in sorted(statuses, key=lambda s: s.begin, reverse=True):
            status(container, value)
    nationalities = _newest_first(facts.nationalities, day, op)
    if nationalities:
        container = sub(historiek, "HistoriekNationaliteit")
        for period in nationalities:
            nationaliteit(container, period, person, end=True)
    geboorte(sub(historiek, "HistoriekGeboorte"), person, facts)
    if facts.death is not None:
        overlijden(sub(historiek, "HistoriekOverlijden"), facts.death)
    states = _newest_first(facts.civil_states, day, op)
    if states:
        container = sub(historiek, "HistoriekBurgerlijkeStaat")
        for state in states:
            partner = spouse(person, population) if state.code == "20" and state.end is None \
                else None
            burgerlijke_staat(container, state, person, end=True, partner=partner)
    residences = _newest_first(facts.residences, day, op)
    abroad = facts.abroad if facts.abroad is not None and (op == "0" or facts.abroad.begin <= day) \
        else None
    if residences or abroad is not None:
        adressen = sub(historiek, "HistoriekAdressen")
        if residences:
            container = sub(adressen, "HistoriekHoofdverblijfplaats")
            for residence in residences:
                hoofdverblijfplaats(container, residence)
        if abroad is not None:
            _abroad_history(adressen, abroad)
    household = population.household_of(person.insz)
    if household is not None and household.head.insz != person.insz:
        gezinslid(sub(historiek, "HistoriekReferentiepersoon"), "Referentiepersoon",
                  household.head, facts, position=person)
    cohabitation = facts.cohabitation
    cohabitant = None if cohabitation is None else population.by_insz(cohabitation.partner_insz)
    if cohabitation is not None and cohabitant is not None and (
        op == "0" or cohabitation.begin <= day
    ):
        wettelijke_samenwoning(sub(historiek, "HistoriekWettelijkeSamenwoning"), cohabitation,
                               cohabitant)
    return Answer(inhoud=inhoud, uitzonderingen=found.warnings,
                  outcome="renumbered" if found.warnings else "ok")


def _abroad_history(adressen: etree._Element, abroad: Abroad) -> None:
    """HistoriekVerblijfplaatsBuitenland and HistoriekPostadresBuitenland, one period each."""
    staging = etree.Element("staging")
    abroad_parts(staging, abroad)
    for element in list(staging):
        sub(adressen, f"Historiek{element.tag}").append(element)


def _criteria_day(text: str | None) -> date:
    """The schema-valid xs:date as a date; years outside 1-9999 clamp to the nearest end."""
    match = _DAY.match(text or "")
    if match is None or match.group(1) or int(match.group(2)) == 0:
        return date.min
    if int(match.group(2)) > 9999:
        return date.max
    return date(int(match.group(2)), int(match.group(3)), int(match.group(4)))


HISTORY = ServiceSpec(
    name="GeefHistoriekPersoon",
    version="02.02",
    namespace=NAMESPACE,
    wsdl="GeefHistoriekPersoon-02.02/GeefHistoriekPersoon.wsdl",
    schema="GeefHistoriekPersoon-02.02/GeefHistoriekPersoon.xsd",
    handler=answer_history,
)
