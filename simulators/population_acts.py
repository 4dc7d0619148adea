"""Civil-status acts (DABS, databank akten burgerlijke stand): the model and its code lists.

An act (akte) has a stable reference (``AKTE-<NIS code>-<year>-<serial>``), a type, a status
(digitised or not), the day and municipality it was drawn up in, and the people it concerns,
each with a role. The code lists are data, as the hub keeps them in ``mappings/``: a new code
must never need a schema change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "ACT_STATUSES",
    "ACT_TYPES",
    "AVAILABLE",
    "NOT_DIGITISED",
    "ROLES",
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
"""DocumentStatus/Code -> Omschrijving; only digitised acts can be delivered."""

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
"""Rol/Code -> Omschrijving. BETROKKENE is the person the act is about."""


@dataclass(frozen=True)
class ActPerson:
    """Someone an act names; people outside the register have no INSZ (and often no birth date)."""

    role: str
    first_names: tuple[str, ...]
    last_name: str
    insz: str | None = None
    birth_date: date | None = None

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
    """DatumOpmaak."""
    nis_code: str
    municipality: str
    persons: tuple[ActPerson, ...]

    @property
    def type_description(self) -> str:
        """The Omschrijving of the act's type ("Akte van geboorte")."""
        return ACT_TYPES[self.type]

    def mentions(self, insz: str) -> bool:
        """Whether any person in the act has this INSZ."""
        return any(person.insz == insz for person in self.persons)
