"""The central criminal record (Centraal Strafregister): extract models, activities, convictions.

Models: 593 (rehabilitation), 595 (general), 596.1 (a regulated activity, per activity) and
596.2 (activities with minors, per activity, after a police check). Everyone has a clean record
unless their :class:`JudicialFacts` say otherwise.

MAGDA's request has no activity element: a ``TypeUittreksel`` is one code from the flat list
GeefTypesUittrekselStrafregister gives (``TypesUittreksel{Code, Omschrijving}``). So the
simulator's list has one code per model without activities (``595``) and one per model and
activity for 596.1 and 596.2 (``596.1-TAXI``). MAGDA does not publish the codes: these are the
simulator's own (*unconfirmed*); the hub keeps the ones it sends in ``mappings/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = [
    "ACTIVITIES",
    "EXTRACT_TYPES",
    "POLICE_CHECK_TYPE",
    "TYPE_CODES",
    "Conviction",
    "JudicialFacts",
    "type_code",
]

EXTRACT_TYPES: dict[str, str] = {
    "593": "Model 593 – eerherstel",
    "595": "Model 595 – algemeen",
    "596.1": "Model 596.1 – gereglementeerde activiteit",
    "596.2": "Model 596.2 – activiteit met minderjarigen",
}
"""TypeUittreksel code -> Omschrijving."""

POLICE_CHECK_TYPE = "596.2"
"""The model that needs a police check: never automatic, and it can be refused."""

ACTIVITIES: dict[str, dict[str, str]] = {
    "596.1": {
        "BEWAKING": "Bewaking en beveiliging",
        "TAXI": "Taxivervoer",
        "HORECA": "Uitbating van een drankgelegenheid",
        "ONDERWIJS": "Onderwijs",
    },
    "596.2": {
        "ONDERWIJS": "Onderwijs",
        "KINDEROPVANG": "Kinderopvang",
        "JEUGDWERK": "Jeugdwerk",
        "SPORTBEGELEIDING": "Sportbegeleiding van minderjarigen",
        "GEZONDHEIDSZORG": "Gezondheidszorg voor minderjarigen",
    },
}
"""Per model that needs one: activity code -> Omschrijving."""


def type_code(model: str, activity: str | None = None) -> str:
    """The TypeUittreksel code of a model, or of a model and one of its activities."""
    return model if activity is None else f"{model}-{activity}"


def _type_codes() -> dict[str, tuple[str, str | None, str]]:
    codes: dict[str, tuple[str, str | None, str]] = {}
    for model, description in EXTRACT_TYPES.items():
        if model not in ACTIVITIES:
            codes[type_code(model)] = (model, None, description)
            continue
        for activity, label in ACTIVITIES[model].items():
            codes[type_code(model, activity)] = (model, activity, f"{description}: {label}")
    return codes


TYPE_CODES: dict[str, tuple[str, str | None, str]] = _type_codes()
"""TypeUittreksel code -> (model, activity or None, Omschrijving), in the order of the list."""


@dataclass(frozen=True)
class Conviction:
    """One line on an extract."""

    day: date
    court: str
    offence: str
    sentence: str


@dataclass(frozen=True)
class JudicialFacts:
    """What the criminal record holds about one person beyond "nothing"."""

    convictions: tuple[Conviction, ...] = ()
    police_check_refused: bool = False
    """A 596.2 extract ends GEWEIGERD once its police check is done."""
