"""GeefGezinssamenstelling 02.02 answer → :class:`Household` → certificate facts. Pure, no I/O.

MAGDA's answer is ``Inhoud/Gezinsleden/Gezinslid+`` (``GezinslidVerplichtINSZType``): each member
with ``INSZ``, ``Naam``, ``Geslacht``, ``Geboortedatum``, ``Positie`` in the household (code
``01`` is the reference person) and ``Adressen/Hoofdverblijfplaats`` of their own. The
household's address is the reference person's main residence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapters.population.errors import SubjectNotInHousehold
from adapters.population.mapping.common import (
    Address,
    PartialDate,
    address,
    date_attribute,
    names,
    partial_date,
    required,
    text,
    to_plain,
)
from hub.errors import MappingError

__all__ = ["Household", "HouseholdMember", "household_facts", "household_from_inhoud"]

REFERENCE_PERSON = "01"


@dataclass(frozen=True)
class HouseholdMember:
    insz: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    birth_date: PartialDate | None
    sex: str | None
    relation_code: str
    relation: str | None
    address: Address | None
    member_since: PartialDate | None = None

    @property
    def last_name(self) -> str | None:
        return " ".join(self.last_names) or None


@dataclass(frozen=True)
class Household:
    main_residence: Address | None
    members: tuple[HouseholdMember, ...]

    def to_dict(self) -> dict[str, Any]:
        return dict(to_plain(self))


def _member(element: etree._Element) -> HouseholdMember:
    name = names(element.find("Naam"))
    residence = element.find("Adressen/Hoofdverblijfplaats")
    return HouseholdMember(
        insz=required(element, "INSZ"),
        first_names=name.first_names,
        last_names=name.last_names,
        birth_date=partial_date(element, "Geboortedatum"),
        sex=text(element, "Geslacht/Code"),
        relation_code=required(element, "Positie/Code"),
        relation=text(element, "Positie/Omschrijving"),
        address=None if residence is None else address(residence),
        member_since=date_attribute(element, "DatumBegin"),
    )


def _order(member: HouseholdMember) -> tuple[bool, bool, PartialDate, str]:
    # The reference person first, then by birth date (undated last): how a certificate reads.
    born = member.birth_date
    return (member.relation_code != REFERENCE_PERSON, born is None, born or PartialDate(0),
            member.insz)


def household_from_inhoud(inhoud: etree._Element | None) -> Household:
    """``Antwoord/Inhoud`` of GeefGezinssamenstelling 02.02 → :class:`Household`."""
    if inhoud is None:
        raise MappingError("household answer has no Inhoud")
    gezinsleden = inhoud.find("Gezinsleden")
    if gezinsleden is None:
        raise MappingError("household answer has no Gezinsleden")
    members = tuple(sorted((_member(m) for m in gezinsleden.findall("Gezinslid")), key=_order))
    if not members:
        raise MappingError("household answer has no members")
    head = next((m for m in members if m.relation_code == REFERENCE_PERSON), None)
    residence = head.address if head is not None and head.address is not None else next(
        (m.address for m in members if m.address is not None), None
    )
    return Household(main_residence=residence, members=members)


def address_facts(a: Address) -> dict[str, Any]:
    """An address as certificate facts (the keys the templates know)."""
    return {
        "Street": a.street,
        "HouseNumber": a.house_number,
        "Box": a.box,
        "PostalCode": a.postal_code,
        "Municipality": a.municipality_name,
        "NisCode": a.municipality_nis,
        "Country": a.country if a.country_nis not in (None, "150") else None,
    }


def household_facts(household: Household, *, subject_insz: str) -> dict[str, Any]:
    """The certificate's content: the household's address and every member with their position.

    A member whose own main residence differs from the household's carries it.
    """
    if subject_insz not in {m.insz for m in household.members}:
        raise SubjectNotInHousehold("the household answered does not contain the subject")
    members = []
    for m in household.members:
        member: dict[str, Any] = {
            "Insz": m.insz,
            "LastName": m.last_name,
            "FirstNames": " ".join(m.first_names) or None,
            "BirthDate": None if m.birth_date is None else str(m.birth_date),
            "Sex": m.sex,
            "RelationCode": m.relation_code,
            "Relation": m.relation,
        }
        if m.address is not None and m.address != household.main_residence:
            member["Address"] = address_facts(m.address)
        members.append(member)
    facts: dict[str, Any] = {"MemberCount": len(household.members), "Member": members}
    if household.main_residence is not None:
        facts = {"MainResidence": address_facts(household.main_residence), **facts}
    return {"Household": facts}
