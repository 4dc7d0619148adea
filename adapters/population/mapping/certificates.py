"""Domain model → certificate model, one small builder per certificate. Pure.

A certificate whose facts do not hold is refused with a precise :mod:`errors` code instead of
being rendered: proof of life for a deceased person, Belgian nationality for a foreigner, …
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from adapters.population.catalogue import CertificateSpec
from adapters.population.errors import (
    AlreadyMarried,
    NeverResidedInMunicipality,
    NoBurialDeclaration,
    NoLegalCohabitation,
    NoMainResidence,
    NotBelgian,
    SubjectDeceased,
    UnsupportedAttest,
)
from adapters.population.mapping.common import PartialDate
from adapters.population.mapping.household import Household, address_facts, household_facts
from adapters.population.mapping.person import (
    BELGIAN,
    Person,
    PersonHistory,
    ResidencePeriod,
    require_subject,
)
from hub.ports import CertificateModel

__all__ = ["Issuer", "build_certificate"]

Answer = Household | Person | PersonHistory


@dataclass(frozen=True)
class Issuer:
    """The tenant facts a certificate needs: whose municipality history counts."""

    nis_code: str
    name: str


def _date(value: PartialDate | None) -> str | None:
    return None if value is None else str(value)


def _period(period: ResidencePeriod) -> dict[str, Any]:
    facts = {
        "Address": address_facts(period.address),
        "Since": _date(period.since),
        "Until": _date(period.until),
    }
    if period.reference_address:
        facts["ReferenceAddress"] = "true"
    return facts


def _who(person: Person) -> dict[str, Any]:
    return {
        "Insz": person.insz,
        "LastName": person.last_name,
        "FirstNames": " ".join(person.first_names) or None,
        "BirthDate": _date(person.birth_date),
        "BirthPlace": person.birth_place.name or person.birth_place.country
        if person.birth_place else None,
        "Sex": person.sex,
    }


def _who_history(history: PersonHistory) -> dict[str, Any]:
    return {
        "Insz": history.insz,
        "LastName": history.last_name,
        "FirstNames": " ".join(history.first_names) or None,
        "BirthDate": _date(history.birth_date),
    }


def _residence(person: Person) -> dict[str, Any]:
    residence = person.current_residence
    if residence is None:
        raise NoMainResidence("the register has no current main residence for this person")
    facts = {**address_facts(residence.address), "Since": _date(residence.since)}
    if residence.reference_address:
        facts["ReferenceAddress"] = "true"
    return facts


def _nationalities(person: Person) -> list[dict[str, Any]]:
    return [
        {"Code": n.code, "Description": n.description, "Since": _date(n.since)}
        for n in person.nationalities
    ]


def _belgian(person: Person) -> list[dict[str, Any]]:
    if not person.is_belgian:
        raise NotBelgian("the register does not record Belgian nationality for this person")
    return [n for n in _nationalities(person) if n["Code"] == BELGIAN]


def _belgian_nationality(person: Person, _: Issuer) -> dict[str, Any]:
    return {"Person": _who(person), "Nationality": _belgian(person)}


def _main_residence(person: Person, _: Issuer) -> dict[str, Any]:
    return {"Person": _who(person), "MainResidence": _residence(person)}


def _proof_of_life(person: Person, _: Issuer) -> dict[str, Any]:
    facts: dict[str, Any] = {"Person": _who(person), "Alive": "true"}
    if person.current_residence is not None:
        facts["MainResidence"] = _residence(person)
    return facts


def _residence_and_nationality(person: Person, _: Issuer) -> dict[str, Any]:
    return {
        "Person": _who(person),
        "MainResidence": _residence(person),
        "Nationality": _belgian(person),
    }


def _residence_for_marriage(person: Person, _: Issuer) -> dict[str, Any]:
    if person.is_married:
        raise AlreadyMarried("the register records this person as married")
    status = person.civil_status
    return {
        "Person": _who(person),
        "MainResidence": _residence(person),
        "CivilStatus": {"Code": status.code, "Description": status.description}
        if status
        else None,
        "Nationality": _nationalities(person),
    }


def _legal_cohabitation(person: Person, _: Issuer) -> dict[str, Any]:
    cohabitation = person.cohabitation
    if cohabitation is None:
        raise NoLegalCohabitation("no legal cohabitation is registered for this person")
    return {
        "Person": _who(person),
        "LegalCohabitation": {
            "PartnerInsz": cohabitation.partner_insz,
            "PartnerName": cohabitation.partner_name,
            "Since": _date(cohabitation.since),
            "Municipality": cohabitation.municipality.name if cohabitation.municipality else None,
        },
    }


def _burial_manner(person: Person, _: Issuer) -> dict[str, Any]:
    burial = person.burial
    if burial is None:
        raise NoBurialDeclaration("no declaration of the manner of burial or rites is registered")
    facts: dict[str, Any] = {
        "Person": _who(person),
        "BurialDeclaration": {
            "MannerCode": burial.manner_code,
            "Manner": burial.manner,
            "RiteCode": burial.rite_code,
            "Rite": burial.rite,
            "DeclaredOn": _date(burial.declared_on),
            "Municipality": burial.municipality.name if burial.municipality else None,
        },
    }
    if person.death is not None:
        facts["Death"] = {"Date": _date(person.death.date)}
    return facts


def _history_in_municipality(history: PersonHistory, issuer: Issuer) -> dict[str, Any]:
    periods = [r for r in history.residences if r.address.municipality_nis == issuer.nis_code]
    if not periods:
        raise NeverResidedInMunicipality(
            f"the register has no main residence of this person in {issuer.name}",
            details={"nis_code": issuer.nis_code},
        )
    return {
        "Person": _who_history(history),
        "Municipality": {"Name": issuer.name, "NisCode": issuer.nis_code},
        "ResidencePeriod": [_period(p) for p in periods],
    }


def _full_history(history: PersonHistory, _: Issuer) -> dict[str, Any]:
    if not history.residences:
        raise NoMainResidence("the register has no main residence history for this person")
    return {
        "Person": _who_history(history),
        "ResidencePeriod": [_period(p) for p in history.residences],
    }


_PERSON_BUILDERS: dict[str, Callable[[Person, Issuer], dict[str, Any]]] = {
    "belgian-nationality": _belgian_nationality,
    "main-residence": _main_residence,
    "proof-of-life": _proof_of_life,
    "residence-and-nationality": _residence_and_nationality,
    "residence-for-marriage": _residence_for_marriage,
    "legal-cohabitation": _legal_cohabitation,
    "burial-manner": _burial_manner,
}
_HISTORY_BUILDERS: dict[str, Callable[[PersonHistory, Issuer], dict[str, Any]]] = {
    "main-residence-history-municipality": _history_in_municipality,
    "main-residence-history": _full_history,
}


def build_certificate(
    spec: CertificateSpec,
    answer: Answer,
    *,
    subject_insz: str,
    issuer: Issuer,
    language: str,
    warning_codes: Iterable[str] = (),
) -> CertificateModel:
    """The certificate model for ``spec`` from the matching answer, or a precise refusal.

    ``warning_codes``: the answer's MAGDA warnings (a ``30004`` makes an answer about the
    person's new INSZ one about the person asked for).
    """
    facts: dict[str, Any]
    if isinstance(answer, Household):
        facts = household_facts(answer, subject_insz=subject_insz)
    else:
        require_subject(answer.insz, subject_insz, warning_codes)
        if answer.is_deceased and not spec.allowed_for_deceased:
            died = None if answer.death is None else _date(answer.death.date)
            raise SubjectDeceased(
                "the register records this person as deceased",
                details={"date_of_death": died},
            )
        if isinstance(answer, Person) and spec.id in _PERSON_BUILDERS:
            facts = _PERSON_BUILDERS[spec.id](answer, issuer)
        elif isinstance(answer, PersonHistory) and spec.id in _HISTORY_BUILDERS:
            facts = _HISTORY_BUILDERS[spec.id](answer, issuer)
        else:
            raise UnsupportedAttest(f"no builder for {spec.id!r} from this answer")
    return CertificateModel(
        kind=spec.id,
        title=spec.title(language),
        language=language,
        subject_identifier=subject_insz,
        facts=facts,
    )
