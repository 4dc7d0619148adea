"""Finding the subject of a person question, with MAGDA's refusals in MAGDA's order."""

from __future__ import annotations

from hub.identifiers import is_valid_insz
from simulators.magda.envelopes import Uitzondering
from simulators.magda.services.base import Answer, Question, Registers
from simulators.population_data import Person, PersonFacts

__all__ = ["find_person", "refusal"]


def refusal(code: str, diagnose: str, outcome: str, *, oorsprong: str = "MAGDA") -> Answer:
    """An Antwoord with one FOUT and no Inhoud."""
    return Answer(uitzonderingen=(Uitzondering(code, diagnose, oorsprong=oorsprong),),
                  outcome=outcome)


def find_person(
    question: Question, registers: Registers, *, repertorium: bool
) -> tuple[Person, PersonFacts] | Answer:
    """The person in ``question.insz`` with their facts, or the refusal to answer.

    20002 for bad check digits, 30003 for an unknown INSZ, then (``repertorium``, when enforced)
    40003 unless the calling client registered this INSZ: known people only, as at MAGDA.
    """
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
