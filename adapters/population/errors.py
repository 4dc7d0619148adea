"""Refusals specific to population certificates. Each code is stable in the contract."""

from __future__ import annotations

from hub.errors import FactsDoNotHold, MappingError, NotAllowed

__all__ = [
    "AlreadyMarried",
    "NeverResidedInMunicipality",
    "NoBurialDeclaration",
    "NoLegalCohabitation",
    "NoMainResidence",
    "NotBelgian",
    "RegistrationRefused",
    "SubjectDeceased",
    "SubjectMismatch",
    "SubjectNotInHousehold",
    "UnsupportedAttest",
]


class UnsupportedAttest(MappingError):
    """An attest the schema lets through that the catalogue or the mapping does not serve: our
    tables disagree (a defect, dead-lettered), never the front office's mistake."""

    default_code = "UNSUPPORTED_ATTEST"


class SubjectNotInHousehold(FactsDoNotHold):
    """MAGDA answered a household that does not contain the person we asked about.

    The register's answer is what it is: no certificate about this person can be built from it,
    and asking again gives the same answer (MAGDA's own mock data has such a household).
    """

    default_code = "SUBJECT_NOT_IN_HOUSEHOLD"


class SubjectMismatch(FactsDoNotHold):
    """MAGDA answered about another INSZ than the one asked, without announcing a new INSZ
    (``30004``): the data may be another person's, so no certificate is made from it."""

    default_code = "SUBJECT_MISMATCH"


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


class RegistrationRefused(NotAllowed):
    """RegistreerInschrijving answered ``Resultaat`` 0 ("Niet geslaagd"): MAGDA did not put the
    subject in our repertorium, so it will not answer about them. ``details`` carry MAGDA's own
    reason (``Resultaat/@Beschrijving`` and any ``Uitzonderingen``). No retry changes that; an
    operator must look at the client's access (its Hoedanigheid) at MAGDA."""

    default_code = "REPERTORIUM_REGISTRATION_REFUSED"
