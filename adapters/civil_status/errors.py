"""Outcomes specific to civil-status acts. Each code is stable in the contract."""

from __future__ import annotations

from hub.errors import FactsDoNotHold, NotAllowed, NotFound

__all__ = ["ActNotDigitised", "ActNotFound", "AmbiguousAct", "NotEntitled"]


class ActNotFound(NotFound):
    default_code = "ACT_NOT_FOUND"


class AmbiguousAct(FactsDoNotHold):
    """Several acts match: the front office lets the citizen choose one by its reference."""

    default_code = "AMBIGUOUS_ACT"


class ActNotDigitised(FactsDoNotHold):
    default_code = "ACT_NOT_DIGITISED"


class NotEntitled(NotAllowed):
    default_code = "NOT_ENTITLED"
