"""Finding the subject of a person question, with MAGDA's refusals in MAGDA's order and shape.

For GeefPersoon, GeefHistoriekPersoon and GeefGezinssamenstelling (:func:`find_subject`).
Order: 20002 (check digits), 30001 (no data for this INSZ at the source asked: unknown, or a
bis number asked of the national register), 40003 (the calling client did not register the
INSZ in the repertorium; known people only, as at MAGDA). A former INSZ (a replaced bis number)
answers the person it became, with the warning 30004.

30001 comes as MAGDA's published answers have it, per service: GeefPersoon from the national
register (``Oorsprong`` RR, ``Omstandigheid`` 140), the history and household services from
MAGDA itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import Uitzondering
from simulators.magda.services.base import Answer, Question, Registers
from simulators.population_data import Person, PersonFacts

__all__ = [
    "NOT_FOUND",
    "Found",
    "find_person",
    "find_subject",
    "is_bis_number",
    "not_found",
    "refusal",
    "requested_source",
]

NOT_FOUND = "Geen gegevens gevonden voor de vraag"
_NOT_FOUND_SHAPE = {
    # service -> (Oorsprong, Omstandigheid), as in MAGDA's notfound answers
    "GeefPersoon": ("RR", "140"),
    "GeefHistoriekPersoon": ("MAGDA", None),
    "GeefGezinssamenstelling": ("MAGDA", None),
}


@dataclass(frozen=True)
class Found:
    """The subject of a question: the person, their facts, and a warning to add (30004)."""

    person: Person
    facts: PersonFacts
    warnings: tuple[Uitzondering, ...] = ()


def refusal(code: str, diagnose: str, outcome: str, *, oorsprong: str = "MAGDA",
            omstandigheid: str | None = None) -> Answer:
    """An Antwoord with one FOUT and no Inhoud."""
    return Answer(uitzonderingen=(Uitzondering(code, diagnose, oorsprong=oorsprong,
                                               omstandigheid=omstandigheid),),
                  outcome=outcome)


def not_found(service: str) -> Answer:
    """30001 in the shape MAGDA answers it for ``service``."""
    oorsprong, omstandigheid = _NOT_FOUND_SHAPE.get(service, ("MAGDA", None))
    return refusal("30001", NOT_FOUND, "not-found", oorsprong=oorsprong,
                   omstandigheid=omstandigheid)


def is_bis_number(insz: str) -> bool:
    """A bis number: birth month + 20 (sex unknown) or + 40 (sex known), months 20-52."""
    return 20 <= int(insz[2:4]) <= 52


def requested_source(question: Question) -> str:
    """``Vraag/Inhoud/Bron``: RR (the national register) unless KSZ was asked."""
    return (question.element.findtext("Inhoud/Bron") or "RR").strip()


def find_person(
    question: Question, registers: Registers, *, repertorium: bool
) -> tuple[Person, PersonFacts] | Answer:
    """The person in ``question.insz`` and their facts, or the refusal (services other than the
    three person services: 20002, 30003 for an unknown INSZ, 40003 when ``repertorium``)."""
    insz = question.insz or ""
    if not is_valid_insz(insz):
        return refusal("20002", "INSZ is ongeldig (controlegetal)", "invalid-insz")
    person = registers.population.by_insz(insz)
    facts = registers.population.facts_of(insz)
    if person is None or facts is None:
        return refusal("30003", "INSZ bestaat niet", "not-found", oorsprong="RR")
    if (
        repertorium
        and registers.enforce_repertorium
        and not registers.repertorium.is_registered(question.client, insz)
    ):
        return refusal("40003", "Geen inschrijving in het repertorium voor dit INSZ",
                       "not-registered")
    return person, facts


def find_subject(
    question: Question, registers: Registers, *, service: str, repertorium: bool
) -> Found | Answer:
    """The person in ``question.insz`` with their facts, or the refusal to answer.

    A bis number is only known to the KSZ: asked with ``Bron`` RR it has no data (30001).
    """
    insz = question.insz or ""
    if not is_valid_insz(insz):
        return refusal("20002", "INSZ is ongeldig (controlegetal)", "invalid-insz")
    population = registers.population
    warnings: tuple[Uitzondering, ...] = ()
    current = population.current_insz(insz)
    if current is not None:
        warnings = (Uitzondering("30004", "De persoon heeft een nieuw INSZ", oorsprong="RR",
                                 type="WAARSCHUWING", annotaties=(("Oud INSZ", insz),)),)
    subject = current or insz
    person = population.by_insz(subject)
    facts = population.facts_of(subject)
    if person is None or facts is None:
        return not_found(service)
    if is_bis_number(subject) and requested_source(question) != "KSZ":
        return not_found(service)
    if (
        repertorium
        and registers.enforce_repertorium
        # A former number cannot be registered (it is no one's now): the current one counts.
        and not registers.repertorium.is_registered(question.client, subject)
    ):
        return refusal("40003", "Geen inschrijving in het repertorium voor dit INSZ",
                       "not-registered")
    return Found(person, facts, warnings)
