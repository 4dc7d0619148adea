"""Outcomes specific to criminal-record extracts. Each code is stable in the contract."""

from __future__ import annotations

from hub.errors import FactsDoNotHold, InvalidInput, NotAllowed

__all__ = ["ExtractRefused", "ExtractTimedOut", "NotEntitled", "UnknownActivity"]


class NotEntitled(NotAllowed):
    default_code = "NOT_ENTITLED"


class UnknownActivity(InvalidInput):
    default_code = "UNKNOWN_ACTIVITY"


class ExtractRefused(FactsDoNotHold):
    default_code = "EXTRACT_REFUSED"


class ExtractTimedOut(FactsDoNotHold):
    default_code = "EXTRACT_TIMED_OUT"
