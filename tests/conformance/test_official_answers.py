"""Every official MAGDA answer, replayed through the hub end to end, for every attest it can serve.

The MAGDA simulator serves MAGDA's own mock answers (``official_answers``: by service, version and
INSZ, ``notfound.xml`` for a persona without one, as MAGDA's mock does). For each official test
persona and each population attest, a job goes through RabbitMQ, the worker, SOAP over HTTP,
the mapping, the documents and back. Each outcome is checked against what the answer itself
says, read here with plain XPath (an oracle that shares no code with the hub's mapping):
a delivered certificate carries the answer's facts; a refusal is one the answer's facts justify.
No ``MAPPING_ERROR``, no crash. The counts per attest are printed, one line each.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from adapters.population.catalogue import load_catalogue
from hub.contract import Outcome
from hub.devpki import KeyPair
from hub.testing import HubHarness, make_job, running_test_hub
from tests.conformance.reference import official_answers, reference_dir
from tests.integration.test_end_to_end import hub_settings

pytestmark = pytest.mark.broker

CERT = "{urn:loket-hub:certificate:v1}"
GENT_NIS = "44021"
HISTORY_PERIODS = "HistoriekAdressen/HistoriekHoofdverblijfplaats/Hoofdverblijfplaats"
SOURCES = {"person": "GeefPersoon", "history": "GeefHistoriekPersoon",
           "household": "GeefGezinssamenstelling"}
# What a MAGDA FOUT means for a job (domain/magda.md): not found, or retried and then failed.
FOUT_OUTCOMES = {
    "30001": (Outcome.REJECTED, "SUBJECT_UNKNOWN"),
    "30002": (Outcome.REJECTED, "SUBJECT_UNKNOWN"),
    "30003": (Outcome.REJECTED, "SUBJECT_UNKNOWN"),
    "99994": (Outcome.FAILED, "BACKEND_UNAVAILABLE"),
    "99996": (Outcome.FAILED, "BACKEND_UNAVAILABLE"),
}


def _check_ok(digits: str, prefix: str) -> bool:
    return 97 - int(prefix + digits[:9]) % 97 == int(digits[9:])


def insz_valid(insz: str) -> bool:
    """MAGDA's own rule: 11 digits, mod-97 in either century."""
    return len(insz) == 11 and insz.isdigit() and (_check_ok(insz, "") or _check_ok(insz, "2"))


@dataclass(frozen=True)
class Expected:
    outcome: Outcome
    code: str | None = None
    why: str = ""


def _all(element: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if element is None else element.findall(path)


def _current(elements: list[etree._Element]) -> list[etree._Element]:
    return [e for e in elements if not (e.get("DatumEinde") or "").strip()]


def _fout(root: etree._Element) -> str | None:
    for u in root.iterfind(".//Uitzondering"):
        if (u.findtext("Type") or "").strip() == "FOUT":
            return (u.findtext("Identificatie") or "").strip()
    return None


def _inhoud(root: etree._Element) -> etree._Element | None:
    return root.find("Repliek/Antwoorden/Antwoord/Inhoud")


def expected_for(attest: str, insz: str, root: etree._Element, deceased_ok: bool) -> Expected:
    """The outcome the answer's facts justify (checks in the order a clerk would make them)."""
    if not insz_valid(insz):
        return Expected(Outcome.REJECTED, "INVALID_INSZ", "fails mod-97 in both centuries")
    fout = _fout(root)
    if fout is not None:
        outcome, code = FOUT_OUTCOMES[fout]
        return Expected(outcome, code, f"MAGDA {fout}")
    inhoud = _inhoud(root)
    persoon = None if inhoud is None else (
        inhoud.find("Persoon") if inhoud.find("Persoon") is not None
        else inhoud.find("HistoriekPersoon"))
    answered = None if persoon is None else persoon.findtext("INSZ")
    renumbered = any(u.findtext("Identificatie") == "30004" for u in root.iter("Uitzondering"))
    if answered is not None and answered != insz and not renumbered:
        return Expected(Outcome.REJECTED, "SUBJECT_MISMATCH", f"the answer is about {answered}")
    dead = _all(persoon, "Overlijden") + _all(persoon, "HistoriekOverlijden/Overlijden")
    statuses = _current(_all(persoon, "Statussen/Status") + _all(persoon, "HistoriekStatus/Status"))
    dead += [s for s in statuses if s.findtext("Code") == "99990"]
    if dead and not deceased_ok:
        return Expected(Outcome.REJECTED, "SUBJECT_DECEASED", "Overlijden")
    # MAGDA keeps the last main residence of someone who left, was struck off or declared
    # absent; the register status in force says it no longer counts.
    residence = [] if statuses else _current(_all(persoon, "Adressen/Hoofdverblijfplaats"))
    belgian = any(n.findtext("Code") == "150"
                  for n in _current(_all(persoon, "Nationaliteiten/Nationaliteit")))
    if attest == "household-composition":
        members = {m.findtext("INSZ") for m in _all(inhoud, "Gezinsleden/Gezinslid")}
        return (Expected(Outcome.DELIVERED) if insz in members
                else Expected(Outcome.REJECTED, "SUBJECT_NOT_IN_HOUSEHOLD"))
    if attest in {"main-residence-history", "main-residence-history-municipality"}:
        periods = _all(persoon, HISTORY_PERIODS)
        if attest.endswith("municipality"):
            if not [p for p in periods if p.findtext("NISCodeGemeente") == GENT_NIS]:
                return Expected(Outcome.REJECTED, "NEVER_RESIDED_IN_MUNICIPALITY")
        elif not periods:
            return Expected(Outcome.REJECTED, "NO_MAIN_RESIDENCE")
        return Expected(Outcome.DELIVERED)
    needs_residence = attest in {"main-residence", "residence-and-nationality",
                                 "residence-for-marriage"}
    if attest == "residence-for-marriage":
        civil = _current(_all(persoon, "BurgerlijkeStaten/BurgerlijkeStaat"))
        if any(c.findtext("Code") == "20" for c in civil):
            return Expected(Outcome.REJECTED, "ALREADY_MARRIED")
    if needs_residence and not residence:
        return Expected(Outcome.REJECTED, "NO_MAIN_RESIDENCE")
    if attest in {"belgian-nationality", "residence-and-nationality"} and not belgian:
        return Expected(Outcome.REJECTED, "NOT_BELGIAN")
    if attest == "legal-cohabitation":
        living = [w for w in _current(_all(persoon, "WettelijkeSamenwoning"))
                  if w.find("Beeindiging") is None]
        if not living:
            return Expected(Outcome.REJECTED, "NO_LEGAL_COHABITATION")
    if attest == "burial-manner" and persoon is not None \
            and persoon.find("LijkbezorgingEnRitueel") is None:
        return Expected(Outcome.REJECTED, "NO_BURIAL_DECLARATION")
    return Expected(Outcome.DELIVERED)


def _words(element: etree._Element | None, path: str) -> str | None:
    words = [w.text.strip() for w in _all(element, path) if w.text and w.text.strip()]
    return " ".join(words) or None


def _fact(facts: etree._Element, path: str) -> str | None:
    found = facts.find("/".join(CERT + p for p in path.split("/")))
    return None if found is None else found.text


def check_facts(attest: str, insz: str, root: etree._Element, xml: bytes) -> list[str]:
    """Where the delivered certificate's facts differ from the answer's."""
    facts = etree.fromstring(xml).find(f"{CERT}Facts")
    assert facts is not None
    inhoud = _inhoud(root)
    problems: list[str] = []

    def same(label: str, ours: str | None, theirs: str | None) -> None:
        if (ours or None) != (theirs or None):
            problems.append(f"{label}: certificate {ours!r}, answer {theirs!r}")

    if attest == "household-composition":
        members = _all(inhoud, "Gezinsleden/Gezinslid")
        ours = {m.findtext(f"{CERT}Insz"): m for m in facts.iter(f"{CERT}Member")}
        same("MemberCount", _fact(facts, "Household/MemberCount"), str(len(members)))
        for member in members:
            number = member.findtext("INSZ")
            mine = ours.get(number)
            if mine is None:
                problems.append(f"member {number} missing")
                continue
            same("Member LastName", mine.findtext(f"{CERT}LastName"),
                 _words(member, "Naam/Achternamen/Achternaam"))
            same("Member FirstNames", mine.findtext(f"{CERT}FirstNames"),
                 _words(member, "Naam/Voornamen/Voornaam"))
            same("Member BirthDate", mine.findtext(f"{CERT}BirthDate"),
                 member.findtext("Geboortedatum"))
            same("Member Relation", mine.findtext(f"{CERT}RelationCode"),
                 member.findtext("Positie/Code"))
        return problems
    persoon = inhoud.find("Persoon") if inhoud is not None else None
    if persoon is None and inhoud is not None:
        persoon = inhoud.find("HistoriekPersoon")
    assert persoon is not None
    same("Insz", _fact(facts, "Person/Insz"), insz)
    naam = persoon.find("Naam")
    if naam is None:  # the history: the name in force that began last
        named = _current(_all(persoon, "HistoriekNaam/Naam"))
        naam = max(named, key=lambda n: n.get("DatumBegin") or "") if named else None
    same("LastName", _fact(facts, "Person/LastName"), _words(naam, "Achternamen/Achternaam"))
    same("FirstNames", _fact(facts, "Person/FirstNames"), _words(naam, "Voornamen/Voornaam"))
    if persoon.tag == "Persoon":
        same("BirthDate", _fact(facts, "Person/BirthDate"), persoon.findtext("Geboorte/Datum"))
        residence = _current(_all(persoon, "Adressen/Hoofdverblijfplaats"))
        if persoon.find("Statussen/Status") is not None and facts.find(
                f"{CERT}MainResidence") is not None:
            problems.append("a main residence certified for someone the register lists away")
        if residence and facts.find(f"{CERT}MainResidence") is not None:
            r = residence[0]
            same("Street", _fact(facts, "MainResidence/Street"),
                 r.findtext("Straatnaam/String"))
            same("HouseNumber", _fact(facts, "MainResidence/HouseNumber"),
                 r.findtext("Huisnummer"))
            same("PostalCode", _fact(facts, "MainResidence/PostalCode"), r.findtext("Postcode"))
            same("Municipality", _fact(facts, "MainResidence/Municipality"),
                 r.findtext("Gemeentenaam/String"))
            same("NisCode", _fact(facts, "MainResidence/NisCode"), r.findtext("NISCodeGemeente"))
            same("Since", _fact(facts, "MainResidence/Since"), r.get("DatumBegin"))
    else:
        periods = _all(persoon, HISTORY_PERIODS)
        if attest.endswith("municipality"):
            periods = [p for p in periods if p.findtext("NISCodeGemeente") == GENT_NIS]
        ours = list(facts.iter(f"{CERT}ResidencePeriod"))
        same("periods", str(len(ours)), str(len(periods)))
        theirs = sorted((p.get("DatumBegin") or "", p.findtext("Straatnaam/String") or "")
                        for p in periods)
        mine = sorted((p.findtext(f"{CERT}Since") or "",
                       p.findtext(f"{CERT}Address/{CERT}Street") or "") for p in ours)
        same("period starts and streets", repr(mine), repr(theirs))
    return problems


@dataclass(frozen=True)
class Case:
    attest: str
    insz: str
    answer: Path

    def root(self) -> etree._Element:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        return etree.parse(str(self.answer), parser).getroot()


def cases() -> Iterator[Case]:
    """Every official persona of the three services × every attest its answers can serve."""
    by_service: dict[str, dict[str, Path]] = {}
    for service in SOURCES.values():
        by_service[service] = {a.key: a.path for a in official_answers(service)}
    personas = sorted({key for answers in by_service.values() for key in answers}
                      - {"notfound", "success"})
    for attest, spec in sorted(load_catalogue().items()):
        answers = by_service[SOURCES[spec.source]]
        for insz in personas:
            yield Case(attest, insz, answers.get(insz, answers["notfound"]))


@pytest.fixture
async def official_simulator(pki: dict[str, KeyPair]) -> AsyncIterator[Any]:
    from simulators.magda import MagdaSimulatorSettings, start_magda_simulator

    sim = await start_magda_simulator(MagdaSimulatorSettings(
        port=0, trusted_certs=(pki["magda-client"].cert,),
        official_answers=reference_dir() / "answers",
    ))
    try:
        yield sim
    finally:
        await sim.close()


async def _run(harness: HubHarness, batch: list[Case]) -> list[Any]:
    futures = [await harness.client.publish(make_job(c.insz, attest=c.attest)) for c in batch]
    return list(await asyncio.wait_for(asyncio.gather(*futures), timeout=600))


async def test_every_official_answer_through_the_hub(
    official_simulator: Any, pki: dict[str, KeyPair], tmp_path: Path,
) -> None:
    catalogue = load_catalogue()
    all_cases = list(cases())
    assert len(all_cases) > 1000, "fewer official personas than MAGDA publishes"
    settings = hub_settings(official_simulator, pki, tmp_path)
    settings = dataclasses.replace(
        settings, broker=dataclasses.replace(settings.broker, retry_delays_s=(0.05, 0.05)),
    )
    counts: dict[str, Counter[str]] = {}
    wrong: list[str] = []
    invalid: set[str] = set()
    mismatched: set[str] = set()
    async with running_test_hub(settings) as harness:
        for start in range(0, len(all_cases), 400):
            batch = all_cases[start:start + 400]
            for case, result in zip(batch, await _run(harness, batch), strict=True):
                root = case.root()
                expected = expected_for(case.attest, case.insz, root,
                                        catalogue[case.attest].allowed_for_deceased)
                code = None if result.error is None else result.error.code
                label = "delivered" if result.outcome is Outcome.DELIVERED else (
                    f"{result.outcome.value}:{code}")
                counts.setdefault(case.attest, Counter())[label] += 1
                if expected.code == "INVALID_INSZ":
                    invalid.add(case.insz)
                if expected.code == "SUBJECT_MISMATCH":
                    mismatched.add(f"{case.insz} ({expected.why})")
                if (result.outcome, code) != (expected.outcome, expected.code):
                    wrong.append(f"{case.attest} {case.insz} ({case.answer.name}): got "
                                 f"{label}, expected {expected.outcome.value}:{expected.code} "
                                 f"({expected.why}); {result.error}")
                    continue
                if result.outcome is Outcome.DELIVERED:
                    xml = result.documents[0].content
                    wrong += [f"{case.attest} {case.insz}: {p}"
                              for p in check_facts(case.attest, case.insz, root, xml)]
    # Straight to the terminal, past pytest's capture (capsys would hand structlog a stream
    # that closes after this test): CI's log shows the counts.
    lines = [f"\n{len(all_cases)} jobs from MAGDA's official answers:"]
    for attest in sorted(counts):
        parts = ", ".join(f"{k} {v}" for k, v in sorted(counts[attest].items()))
        lines.append(f"official answers, {attest}: {parts}")
    if invalid:
        lines.append("official personas whose INSZ fails mod-97 in both centuries: "
                     + ", ".join(sorted(invalid)))
    if mismatched:
        lines.append("official answers about another INSZ than their file's: "
                     + ", ".join(sorted(mismatched)))
    print("\n".join(lines), file=sys.__stdout__, flush=True)
    assert not any("MAPPING_ERROR" in w for w in wrong), wrong[:20]
    assert wrong == [], f"{len(wrong)} outcomes differ from the answers:\n" + "\n".join(wrong[:40])
