"""Pure mappings: MAGDA answer XML → domain model → certificate model. No I/O.

Tested with golden files: ``tests/golden/population/<case>.xml`` → ``<case>.json``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree

from adapters.population.errors import SubjectNotInHousehold
from hub.errors import MappingError
from hub.ports import CertificateModel

__all__ = [
    "Address",
    "Household",
    "HouseholdMember",
    "household_certificate",
    "household_from_inhoud",
]

REFERENCE_PERSON = "01"

TITLES = {
    "nl": "Uittreksel uit het bevolkingsregister: samenstelling van het gezin",
    "fr": "Extrait du registre de la population : composition de ménage",
    "de": "Auszug aus dem Bevölkerungsregister: Haushaltszusammensetzung",
    "en": "Extract from the population register: household composition",
}


@dataclass(frozen=True)
class Address:
    street: str
    house_number: str
    box: str | None
    postal_code: str
    municipality_nis: str
    municipality_name: str


@dataclass(frozen=True)
class HouseholdMember:
    insz: str
    first_names: tuple[str, ...]
    last_name: str
    birth_date: dt.date
    sex: str
    nationality_code: str | None
    nationality: str | None
    relation_code: str
    relation: str | None


@dataclass(frozen=True)
class Household:
    main_residence: Address
    members: tuple[HouseholdMember, ...]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["members"] = list(data["members"])
        for member in data["members"]:
            member["birth_date"] = member["birth_date"].isoformat()
            member["first_names"] = list(member["first_names"])
        return data


def _text(element: etree._Element, path: str, *, required: bool = True) -> str | None:
    value: str | None = element.findtext(path)
    if value is None or not value.strip():
        if required:
            raise MappingError(f"household answer lacks {path}", details={"path": path})
        return None
    return value.strip()


def _required(element: etree._Element, path: str) -> str:
    value = _text(element, path)
    assert value is not None  # _text raised otherwise
    return value


def _address(element: etree._Element) -> Address:
    return Address(
        street=_required(element, "Straat"),
        house_number=_required(element, "Huisnummer"),
        box=_text(element, "Busnummer", required=False),
        postal_code=_required(element, "Postcode"),
        municipality_nis=_required(element, "Gemeente/NISCode"),
        municipality_name=_required(element, "Gemeente/Naam"),
    )


def _member(element: etree._Element) -> HouseholdMember:
    try:
        birth_date = dt.date.fromisoformat(_required(element, "Geboortedatum"))
    except ValueError as exc:
        raise MappingError("household member has an unreadable Geboortedatum") from exc
    first_names = tuple(
        (v.text or "").strip() for v in element.findall("Naam/Voornamen/Voornaam") if v.text
    )
    return HouseholdMember(
        insz=_required(element, "INSZ"),
        first_names=first_names,
        last_name=_required(element, "Naam/Achternaam"),
        birth_date=birth_date,
        sex=_required(element, "Geslacht/Code"),
        nationality_code=_text(element, "Nationaliteit/Code", required=False),
        nationality=_text(element, "Nationaliteit/Omschrijving", required=False),
        relation_code=_required(element, "RelatieTotReferentiepersoon/Code"),
        relation=_text(element, "RelatieTotReferentiepersoon/Omschrijving", required=False),
    )


def household_from_inhoud(inhoud: etree._Element | None) -> Household:
    """``Antwoord/Inhoud`` of GeefGezinssamenstelling → :class:`Household`."""
    if inhoud is None:
        raise MappingError("household answer has no Inhoud")
    gezin = inhoud.find("Gezin")
    if gezin is None:
        raise MappingError("household answer has no Gezin")
    residence = gezin.find("Hoofdverblijfplaats")
    if residence is None:
        raise MappingError("household answer has no Hoofdverblijfplaats")
    members = tuple(_member(m) for m in gezin.findall("Gezinsleden/Gezinslid"))
    if not members:
        raise MappingError("household answer has no members")
    # The reference person first, then by birth date: the order a certificate reads in.
    ordered = sorted(
        members, key=lambda m: (m.relation_code != REFERENCE_PERSON, m.birth_date, m.insz)
    )
    return Household(main_residence=_address(residence), members=tuple(ordered))


def household_certificate(
    household: Household, *, subject_insz: str, language: str
) -> CertificateModel:
    """The certificate's content: the main residence and every member with their relation."""
    if subject_insz not in {m.insz for m in household.members}:
        raise SubjectNotInHousehold("the household answered does not contain the subject")
    address = household.main_residence
    facts: dict[str, Any] = {
        "Household": {
            "MainResidence": {
                "Street": address.street,
                "HouseNumber": address.house_number,
                "Box": address.box,
                "PostalCode": address.postal_code,
                "Municipality": address.municipality_name,
                "NisCode": address.municipality_nis,
            },
            "MemberCount": len(household.members),
            "Member": [
                {
                    "Insz": m.insz,
                    "LastName": m.last_name,
                    "FirstNames": " ".join(m.first_names),
                    "BirthDate": m.birth_date.isoformat(),
                    "Sex": m.sex,
                    "Nationality": m.nationality,
                    "RelationCode": m.relation_code,
                    "Relation": m.relation,
                }
                for m in household.members
            ],
        }
    }
    return CertificateModel(
        kind="household-composition",
        title=TITLES.get(language, TITLES["nl"]),
        language=language,
        subject_identifier=subject_insz,
        facts=facts,
    )
