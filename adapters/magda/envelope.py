"""The MAGDA request context and the defensive reading of a reply.

A reply is read with a hardened parser: no DTD, no entities, no network, no huge text nodes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from adapters.magda.errors import MagdaException
from adapters.magda.xop import is_multipart, unpack
from hub.errors import BackendError, ConfigurationError, OurFault

__all__ = ["ParsedReply", "RequestIdentity", "build_verzoek", "parse_reply", "safe_parser"]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


@dataclass(frozen=True)
class RequestIdentity:
    """How we present ourselves in ``Context/Bericht/Afzender``.

    ``hoedanigheid`` is the capacity code MAGDA assigned to the client: required configuration
    (``check-config`` refuses an identity without it), always sent.
    """

    client_identification: str
    hoedanigheid: str
    receiver_identification: str


def build_verzoek(
    *,
    service: str,
    version: str,
    identity: RequestIdentity,
    inhoud: dict[str, Any],
    referte: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The ``Verzoek`` for zeep: one ``Vraag`` per message, one fresh reference for both."""
    if not identity.hoedanigheid:
        raise ConfigurationError(
            f"{service}: no Hoedanigheid for {identity.client_identification}: set "
            "magda.hoedanigheid (or the tenant's [magda] hoedanigheid)",
            code="MAGDA_HOEDANIGHEID_MISSING",
        )
    local = now.astimezone()
    return {
        "Context": {
            "Naam": service,
            "Versie": version,
            "Bericht": {
                "Type": "VRAAG",
                "Tijdstip": {
                    # A plain YYYY-MM-DD: MAGDA's Datum is ten characters, no time zone.
                    "Datum": local.date().isoformat(),
                    # Some MAGDA services refuse a time without exactly three decimals.
                    "Tijd": local.strftime("%H:%M:%S.") + f"{local.microsecond // 1000:03d}",
                },
                "Afzender": {
                    "Identificatie": identity.client_identification,
                    "Referte": referte,
                    "Hoedanigheid": identity.hoedanigheid,
                },
                "Ontvanger": {"Identificatie": identity.receiver_identification},
            },
        },
        "Vragen": {"Vraag": {"Referte": referte, "Inhoud": inhoud}},
    }


def new_reference() -> str:
    return str(uuid.uuid4())


def safe_parser(*, huge_tree: bool = False) -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=huge_tree,
        # Whitespace stays: removing it would break the digest of a signed Body.
    )


@dataclass(frozen=True)
class ParsedReply:
    inhoud: etree._Element | None
    warnings: tuple[MagdaException, ...]
    errors: tuple[MagdaException, ...]
    reply_reference: str | None
    attachments: dict[str, bytes] = field(default_factory=dict)


def _exceptions(parent: etree._Element | None) -> list[MagdaException]:
    if parent is None:
        return []
    return [
        MagdaException(
            code=(u.findtext("Identificatie") or "").strip(),
            origin=(u.findtext("Oorsprong") or "").strip(),
            type=(u.findtext("Type") or "").strip(),
            diagnosis=(u.findtext("Diagnose") or "").strip(),
        )
        for u in parent.findall("Uitzondering")
    ]


def _fault(fault: etree._Element, service: str) -> Exception:
    text = (fault.findtext("faultstring") or "").strip()
    code = text.split(" ", 1)[0].rstrip(":")
    details = {"service": service, "fault": text}
    if code == "10001":
        return OurFault(f"{service} refused our request as malformed: {text}",
                        code="BACKEND_REQUEST_INVALID", details=details)
    if code == "ERR_025":
        return ConfigurationError(f"{service} refused our WS-Security signature: {text}",
                                  code="BACKEND_SIGNATURE_REFUSED", details=details)
    return BackendError(f"{service} answered a SOAP fault: {text}", details=details)


def parse_reply(
    content: bytes,
    status: int,
    *,
    service: str,
    expected_referte: str,
    content_type: str = "text/xml",
    huge_tree: bool = False,
    verify: Callable[[etree._Element, dict[str, bytes]], object] | None = None,
) -> tuple[etree._Element, ParsedReply]:
    """Read a MAGDA reply. Transport problems and faults raise; exceptions are returned.

    ``verify`` (the reply-signature policy) sees the envelope and its MTOM parts after the
    fault check (faults are never signed) and before anything of the Repliek is read.
    """
    attachments: dict[str, bytes] = {}
    if is_multipart(content_type):
        content, attachments = unpack(content, content_type)
    try:
        document = etree.fromstring(content, safe_parser(huge_tree=huge_tree))
    except etree.XMLSyntaxError as exc:
        if status != 200:
            raise BackendError(f"{service} answered HTTP {status}",
                               details={"http_status": status}) from exc
        raise BackendError(f"{service} answered unreadable XML",
                           code="BACKEND_ANSWER_UNREADABLE") from exc
    tree = document.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise BackendError(f"{service} answered with a DTD; refused",
                           code="BACKEND_ANSWER_UNSAFE")
    body = document.find(f"{{{SOAP_ENV}}}Body")
    fault = body.find(f"{{{SOAP_ENV}}}Fault") if body is not None else None
    if fault is not None:
        raise _fault(fault, service)
    if status != 200:
        raise BackendError(f"{service} answered HTTP {status}", details={"http_status": status})
    if verify is not None:
        verify(document, attachments)
    if body is None or len(body) == 0:
        raise BackendError(f"{service} answered without a SOAP Body",
                           code="BACKEND_ANSWER_UNREADABLE")
    repliek = body[0].find("Repliek")
    if repliek is None:
        raise BackendError(f"{service} answered without Repliek", code="BACKEND_ANSWER_UNREADABLE")
    reply_reference = repliek.findtext("Context/Bericht/Afzender/Referte")
    message_level = _exceptions(repliek.find("Uitzonderingen"))
    antwoord = None
    for candidate in repliek.findall("Antwoorden/Antwoord"):
        if (candidate.findtext("Referte") or "").strip() == expected_referte:
            antwoord = candidate
    question_level = _exceptions(antwoord.find("Uitzonderingen")) if antwoord is not None else []
    every = message_level + question_level
    errors = tuple(e for e in every if e.is_error)
    if antwoord is None and not errors:
        raise BackendError(f"{service} answered no Antwoord for our question",
                           code="BACKEND_ANSWER_UNREADABLE")
    return document, ParsedReply(
        inhoud=antwoord.find("Inhoud") if antwoord is not None else None,
        warnings=tuple(e for e in every if not e.is_error),
        errors=errors,
        reply_reference=reply_reference,
        attachments=attachments,
    )
