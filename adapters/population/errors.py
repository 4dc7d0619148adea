"""Refusals specific to population certificates."""

from __future__ import annotations

from hub.errors import InvalidInput, MappingError

__all__ = ["SubjectNotInHousehold", "UnsupportedAttest"]


class UnsupportedAttest(InvalidInput):
    default_code = "UNSUPPORTED_ATTEST"


class SubjectNotInHousehold(MappingError):
    """MAGDA answered a household that does not contain the person we asked about."""

    default_code = "SUBJECT_NOT_IN_HOUSEHOLD"
