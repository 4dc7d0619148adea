"""GeefGezinssamenstelling answer → :class:`Household` → certificate facts. Pure, no I/O.

Tested with golden files: ``tests/golden/population/household-*.xml`` → ``.json``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from lxml import etree

from adapters.population.errors import SubjectNotInHousehold
from adapters.population.mapping.common import Address, address, date_at, required, text
from hub.errors import MappingError

__all__ = ["Household", "HouseholdMember", "household_facts", "household_from_inhoud"]

REFERENCE_PERSON = "01"


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


def _member(element: etree._Element) -> HouseholdMember:
    first_names = tuple(
        (v.text or "").strip() for v in element.findall("Naam/Voornamen/Voornaam") if v.text
    )
    return HouseholdMember(
        insz=required(element, "INSZ"),
        first_names=first_names,
        last_name=required(element, "Naam/Achternaam"),
        birth_date=date_at(element, "Geboortedatum"),
        sex=required(element, "Geslacht/Code"),
        nationality_code=text(element, "Nationaliteit/Code"),
        nationality=text(element, "Nationaliteit/Omschrijving"),
        relation_code=required(element, "RelatieTotReferentiepersoon/Code"),
        relation=text(element, "RelatieTotReferentiepersoon/Omschrijving"),
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
    return Household(main_residence=address(residence), members=tuple(ordered))


def household_facts(household: Household, *, subject_insz: str) -> dict[str, Any]:
    """The certificate's content: the main residence and every member with their relation."""
    if subject_insz not in {m.insz for m in household.members}:
        raise SubjectNotInHousehold("the household answered does not contain the subject")
    residence = household.main_residence
    return {
        "Household": {
            "MainResidence": {
                "Street": residence.street,
                "HouseNumber": residence.house_number,
                "Box": residence.box,
                "PostalCode": residence.postal_code,
                "Municipality": residence.municipality_name,
                "NisCode": residence.municipality_nis,
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
