"""Refusals specific to population certificates. Each code is stable in the contract."""

from __future__ import annotations

from hub.errors import FactsDoNotHold, InvalidInput, MappingError

__all__ = [
    "AlreadyMarried",
    "NeverResidedInMunicipality",
    "NoBurialDeclaration",
    "NoLegalCohabitation",
    "NoMainResidence",
    "NotBelgian",
    "SubjectDeceased",
    "SubjectNotInHousehold",
    "UnsupportedAttest",
]


class UnsupportedAttest(InvalidInput):
    default_code = "UNSUPPORTED_ATTEST"


class SubjectNotInHousehold(MappingError):
    """MAGDA answered a household that does not contain the person we asked about."""

    default_code = "SUBJECT_NOT_IN_HOUSEHOLD"


class SubjectDeceased(FactsDoNotHold):
    default_code = "SUBJECT_DECEASED"


class NotBelgian(FactsDoNotHold):
    default_code = "NOT_BELGIAN"


class NoMainResidence(FactsDoNotHold):
    default_code = "NO_MAIN_RESIDENCE"


class NeverResidedInMunicipality(FactsDoNotHold):
    default_code = "NEVER_RESIDED_IN_MUNICIPALITY"


class NoLegalCohabitation(FactsDoNotHold):
    default_code = "NO_LEGAL_COHABITATION"


class NoBurialDeclaration(FactsDoNotHold):
    default_code = "NO_BURIAL_DECLARATION"


class AlreadyMarried(FactsDoNotHold):
    default_code = "ALREADY_MARRIED"
