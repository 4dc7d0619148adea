"""Pure mappings of the population register: answer XML → domain model → certificate model."""

from adapters.population.mapping.certificates import Issuer, build_certificate
from adapters.population.mapping.household import Household, household_from_inhoud
from adapters.population.mapping.person import (
    Person,
    PersonHistory,
    history_from_inhoud,
    person_from_inhoud,
    require_subject,
)

__all__ = [
    "Household",
    "Issuer",
    "Person",
    "PersonHistory",
    "build_certificate",
    "history_from_inhoud",
    "household_from_inhoud",
    "person_from_inhoud",
    "require_subject",
]
