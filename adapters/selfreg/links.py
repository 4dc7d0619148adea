"""Links to the self-registration page of the government user management (loket.md).

A user without a user right or work relation, who does not know their local administrator,
follows such a link to ask for one. Pure: a request in, the URL out, or an
:class:`~hub.errors.InvalidInput` whose ``code`` names the rule that was broken.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hub.errors import InvalidInput
from hub.identifiers import IdentifierError, normalize_kbo

__all__ = [
    "BASES",
    "ENVIRONMENTS",
    "KINDS",
    "SelfRegistrationRequest",
    "add_selfreg_arguments",
    "build_self_registration_url",
    "selfreg_from_args",
]

BASES = {
    "test": "https://zelfregistratie-gebruikersbeheer-ti.vlaanderen.be/user/",
    "production": "https://zelfregistratie-gebruikersbeheer.vlaanderen.be/user/",
}
_PAGES = {"user-right": "aanvraag?", "work-relation": "aanvraag_werkrelatie?"}
ENVIRONMENTS = tuple(BASES)
KINDS = tuple(_PAGES)
_OPTIONAL = ("application", "user_right", "context", "organisation_code")


@dataclass(frozen=True)
class SelfRegistrationRequest:
    """What the link asks for.

    ``environment``: ``test`` or ``production``; ``kind``: ``user-right`` (page ``aanvraag``) or
    ``work-relation`` (page ``aanvraag_werkrelatie``). ``target_group`` (``dg``) is required;
    exactly one of ``application`` (``an``: the user picks among its rights) and ``user_right``
    (``ec``: one fixed right). ``context`` (``ctx``) and ``organisation_code`` (``oc``, a KBO
    number) are optional. Values are trimmed before use.
    """

    environment: str
    kind: str
    target_group: str
    application: str | None = None
    user_right: str | None = None
    context: str | None = None
    organisation_code: str | None = None

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> SelfRegistrationRequest:
        """Build from a job's JSON parameters (the field names; ``kind`` defaults to
        ``user-right`` as on the command line). Unknown names and non-text values are refused.
        """
        fields = ("environment", "kind", "target_group", *_OPTIONAL)
        unknown = sorted(set(parameters) - set(fields))
        if unknown:
            raise InvalidInput(
                f"unknown self-registration parameters: {', '.join(unknown)}",
                code="SELFREG_UNKNOWN_PARAMETER",
            )
        values: dict[str, str | None] = {}
        for name in fields:
            value = parameters.get(name)
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{name} must be text", code="SELFREG_NOT_TEXT")
            values[name] = value
        return cls(
            environment=values["environment"] or "",
            kind=values["kind"] or "user-right",
            target_group=values["target_group"] or "",
            application=values["application"],
            user_right=values["user_right"],
            context=values["context"],
            organisation_code=values["organisation_code"],
        )


def _refuse(code: str, message: str) -> InvalidInput:
    return InvalidInput(message, code=code)


def _checked(request: SelfRegistrationRequest) -> dict[str, str]:
    """The trimmed parameter values in link order, after every rule held."""
    if request.environment not in BASES:
        raise _refuse("SELFREG_UNKNOWN_ENVIRONMENT",
                      f"environment must be one of {', '.join(ENVIRONMENTS)}, "
                      f"not {request.environment!r}")
    if request.kind not in _PAGES:
        raise _refuse("SELFREG_UNKNOWN_KIND",
                      f"kind must be one of {', '.join(KINDS)}, not {request.kind!r}")
    target_group = request.target_group.strip()
    if not target_group:
        raise _refuse("SELFREG_TARGET_GROUP_REQUIRED", "a target group (dg) is required")
    given: dict[str, str] = {}
    for name in _OPTIONAL:
        value = getattr(request, name)
        if value is None:
            continue
        # A blank value would produce "&ctx=" — a link the page reads as a different request.
        if not value.strip():
            raise _refuse("SELFREG_EMPTY_VALUE",
                          f"{name} is given but blank: leave it out or give a value")
        given[name] = value.strip()
    if "application" in given and "user_right" in given:
        raise _refuse("SELFREG_APPLICATION_AND_RIGHT",
                      "give an application (an) or a user right (ec), not both")
    if "application" not in given and "user_right" not in given:
        raise _refuse("SELFREG_APPLICATION_OR_RIGHT_REQUIRED",
                      "an application (an) or a user right (ec) is required")
    ordered: dict[str, str] = {}
    if "application" in given:
        ordered["an"] = given["application"]
    else:
        ordered["ec"] = given["user_right"]
    ordered["dg"] = target_group
    if "context" in given:
        ordered["ctx"] = given["context"]
    if "organisation_code" in given:
        try:
            ordered["oc"] = normalize_kbo(given["organisation_code"])
        except IdentifierError as exc:
            raise _refuse("SELFREG_BAD_ORGANISATION_CODE",
                          f"the organisation code (oc) must be a KBO number: {exc.message}"
                          ) from exc
    return ordered


def build_self_registration_url(request: SelfRegistrationRequest) -> str:
    """The self-registration link, e.g. ``…-ti.vlaanderen.be/user/aanvraag?&an=45&dg=EA``.

    Parameters come in a fixed order (``an``/``ec``, ``dg``, ``ctx``, ``oc``), each introduced
    by ``&`` — also the first, as in the official example — with fully URL-encoded values.
    """
    parameters = _checked(request)
    query = "".join(f"&{key}={quote(value, safe='')}" for key, value in parameters.items())
    return BASES[request.environment] + _PAGES[request.kind] + query


def add_selfreg_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``loket-hub selfreg-url`` to ``parser``.

    The combination rules are left to :func:`build_self_registration_url`, so the CLI and the
    job refuse with the same codes and messages.
    """
    parser.add_argument("--environment", choices=ENVIRONMENTS, required=True,
                        help="which user-management site the link points to")
    parser.add_argument("--work-relation", action="store_true",
                        help="ask for a work relation (aanvraag_werkrelatie) "
                             "instead of a user right (aanvraag)")
    parser.add_argument("--target-group", metavar="CODE",
                        help="target group (dg), e.g. EA; required")
    parser.add_argument("--application", metavar="ID",
                        help="application (an): the user chooses among its rights")
    parser.add_argument("--user-right", metavar="CODE",
                        help="one fixed user right (ec); instead of --application")
    parser.add_argument("--context", metavar="TEXT", help="context (ctx), optional")
    parser.add_argument("--organisation-code", metavar="KBO",
                        help="organisation code (oc): the organisation's KBO number, optional")


def selfreg_from_args(args: argparse.Namespace) -> SelfRegistrationRequest:
    """The request described by arguments parsed with :func:`add_selfreg_arguments`."""
    return SelfRegistrationRequest(
        environment=args.environment,
        kind="work-relation" if args.work_relation else "user-right",
        target_group=args.target_group or "",
        application=args.application,
        user_right=args.user_right,
        context=args.context,
        organisation_code=args.organisation_code,
    )
