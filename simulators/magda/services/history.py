"""GeefHistoriekPersoon 02.02: residence, nationality and civil-status histories.

Criteria ``Datum`` with ``Op="1"`` selects the periods in effect on that day; ``Op="0"`` the
periods in effect on or after it (ending on or after it, or still open). Period ends are
inclusive, so a period ending on the day itself still counts for both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Protocol, TypeVar

from lxml import etree

from simulators.magda.envelopes import sub
from simulators.magda.services.base import Answer, Question, Registers, ServiceSpec
from simulators.magda.services.lookup import find_person
from simulators.magda.services.xmlparts import address, coded, naam, place

__all__ = ["HISTORY", "answer_history"]

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


def answer_history(question: Question, registers: Registers) -> Answer:
    """Inhoud/Persoon with the Historiek selected by Criteria/Datum and its Op attribute."""
    found = find_person(question, registers, repertorium=True)
    if isinstance(found, Answer):
        return found
    person, facts = found
    criterium = question.element.find("Inhoud/Criteria/Datum")
    day = _criteria_day(None if criterium is None else criterium.text)
    op = "1" if criterium is not None and criterium.get("Op") == "1" else "0"

    inhoud = etree.Element("Inhoud")
    persoon = sub(inhoud, "Persoon")
    sub(persoon, "INSZ", person.insz)
    naam(persoon, person)
    if facts.death is not None:
        overlijden = sub(persoon, "Overlijden")
        sub(overlijden, "Datum", facts.death.date.isoformat())
        place(overlijden, facts.death.place)
    historiek = sub(persoon, "Historiek")
    plaatsen = sub(historiek, "Hoofdverblijfplaatsen")
    for residence in select_periods(facts.residences, day, op):
        plaats = sub(plaatsen, "Hoofdverblijfplaats")
        address(sub(plaats, "Adres"), residence.address)
        sub(plaats, "Begindatum", residence.begin.isoformat())
        if residence.end is not None:
            sub(plaats, "Einddatum", residence.end.isoformat())
    nationaliteiten = sub(historiek, "Nationaliteiten")
    for nationality in select_periods(facts.nationalities, day, op):
        coded(nationaliteiten, "Nationaliteit", nationality, history=True)
    staten = sub(historiek, "BurgerlijkeStaten")
    for state in select_periods(facts.civil_states, day, op):
        coded(staten, "BurgerlijkeStaat", state, history=True)
    return Answer(inhoud=inhoud)


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
