"""Civil-status acts (DABS, databank akten burgerlijke stand): the model and its code lists.

An act (akte) has a stable reference (``AKTE-<NIS code>-<year>-<serial>``), a type, a status
(digitised or not), the day and municipality it was drawn up in, and the people it concerns,
each with a role. The code lists are data, as the hub keeps them in ``mappings/``: a new code
must never need a schema change.

MAGDA's synopsis (``persoon:AkteBurgerlijkeStandSynopsisType``) carries the type as an upper-case
code, but the status, the act's origin (HerkomstAkte), each person's role and the origin of
their INSZ (HerkomstINSZ) as one- or two-digit codes. MAGDA does not publish those code lists:
the numbers below are the simulator's own (*unconfirmed*), kept beside the names it uses inside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "ACT_ORIGINS",
    "ACT_STATUSES",
    "ACT_STATUS_CODES",
    "ACT_TYPES",
    "AVAILABLE",
    "DABS_START",
    "INSZ_ORIGINS",
    "NOT_DIGITISED",
    "ROLES",
    "ROLE_CODES",
    "SUBJECT_ROLE",
    "ActPerson",
    "CivilAct",
]

ACT_TYPES: dict[str, str] = {
    "ADOPTIE": "Akte van adoptie",
    "BELGISCHE_NATIONALITEIT": "Akte van Belgische nationaliteit",
    "ECHTSCHEIDING": "Akte van echtscheiding",
    "ERKENNING": "Akte van erkenning",
    "ERKENNING_VOOR_GEBOORTE": "Akte van erkenning voor de geboorte",
    "VERKLARING_AFWEZIGHEID": "Akte van gerechtelijke verklaring van afwezigheid",
    "GESLACHTSWIJZIGING": "Akte van wijziging van de registratie van het geslacht",
    "LEVENLOOS_KIND": "Akte van levenloos kind",
    "NAAMKEUZE": "Akte van naamkeuze",
    "NAAMSWIJZIGING": "Akte van naamsverandering",
    "VOORNAAMSWIJZIGING": "Akte van voornaamsverandering",
    "GEBOORTE": "Akte van geboorte",
    "HUWELIJK": "Akte van huwelijk",
    "OVERLIJDEN": "Akte van overlijden",
}
"""DocumentType/Code -> Omschrijving."""

AVAILABLE = "BESCHIKBAAR"
NOT_DIGITISED = "NIET_GEDIGITALISEERD"
ACT_STATUSES: dict[str, str] = {
    AVAILABLE: "Beschikbaar in DABS",
    NOT_DIGITISED: "Niet gedigitaliseerd",
}
"""Status -> Omschrijving; only digitised acts can be delivered."""
ACT_STATUS_CODES: dict[str, str] = {AVAILABLE: "1", NOT_DIGITISED: "2"}
"""Status -> DocumentStatus/Code as the synopsis gives it (two digits at most)."""

DABS_START = date(2019, 3, 31)
"""Acts drawn up from this day on are born digital in DABS; older ones were taken over."""
ACT_ORIGINS: dict[str, str] = {
    "1": "Opgemaakt in DABS",
    "2": "Overgenomen uit de papieren registers",
}
"""HerkomstAkte/Code -> Omschrijving."""
INSZ_ORIGINS: dict[str, str] = {
    "0": "Geen INSZ",
    "1": "Rijksregister",
    "2": "Kruispuntbank (bisregister)",
}
"""HerkomstINSZ/Code -> Omschrijving: the register a BetrokkenPersoon's INSZ comes from."""

SUBJECT_ROLE = "BETROKKENE"
ROLES: dict[str, str] = {
    SUBJECT_ROLE: "Betrokkene",
    "VADER": "Vader",
    "MOEDER": "Moeder",
    "ECHTGENOOT1": "Eerste echtgeno(o)t(e)",
    "ECHTGENOOT2": "Tweede echtgeno(o)t(e)",
    "ERKENNER": "Erkenner",
    "ADOPTANT": "Adoptant",
    "GETUIGE": "Getuige",
}
"""Role -> Omschrijving. BETROKKENE is the person the act is about."""
ROLE_CODES: dict[str, str] = {role: str(number) for number, role in enumerate(ROLES, start=1)}
"""Role -> Rol/Code as the synopsis gives it (BETROKKENE 1, VADER 2, ... GETUIGE 8)."""


@dataclass(frozen=True)
class ActPerson:
    """Someone an act names; people outside the register have no INSZ (and often no birth date)."""

    role: str
    first_names: tuple[str, ...]
    last_name: str
    insz: str | None = None
    birth_date: date | None = None

    @property
    def role_code(self) -> str:
        """Rol/Code."""
        return ROLE_CODES[self.role]

    @property
    def insz_origin_code(self) -> str:
        """HerkomstINSZ/Code (required even without an INSZ): none, a bis number (month + 20 or
        + 40: the KSZ's), or the national register's."""
        if self.insz is None:
            return "0"
        return "2" if 21 <= int(self.insz[2:4]) <= 52 else "1"

    @property
    def full_name(self) -> str:
        """First names, then the last name."""
        return " ".join((*self.first_names, self.last_name))


@dataclass(frozen=True)
class CivilAct:
    """One act in DABS."""

    reference: str
    """DocumentReferte, e.g. ``AKTE-44021-2015-000123``."""
    type: str
    status: str
    drawn_up: date
    """The day it was drawn up (the synopsis' DatumCreatie)."""
    nis_code: str
    municipality: str
    persons: tuple[ActPerson, ...]

    @property
    def status_code(self) -> str:
        """DocumentStatus/Code."""
        return ACT_STATUS_CODES[self.status]

    @property
    def origin_code(self) -> str:
        """HerkomstAkte/Code: born in DABS, or taken over from the paper registers."""
        return "1" if self.drawn_up >= DABS_START else "2"

    @property
    def type_description(self) -> str:
        """The Omschrijving of the act's type ("Akte van geboorte")."""
        return ACT_TYPES[self.type]

    def mentions(self, insz: str) -> bool:
        """Whether any person in the act has this INSZ."""
        return any(person.insz == insz for person in self.persons)
