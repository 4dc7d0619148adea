"""SOAP 1.1 envelopes, faults and the MAGDA reply frame (Repliek, Context, Uitzonderingen).

Only the service's root element is namespaced; everything below it is unqualified, as in MAGDA.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lxml import etree

from simulators.wssecurity import SOAP11_NS

__all__ = [
    "ERR_FORMAT",
    "ERR_SIGNATURE",
    "GATEWAY_ID",
    "GATEWAY_NAME",
    "Uitzondering",
    "belgian_today",
    "envelope",
    "envelope_bytes",
    "fault_bytes",
    "reply_context",
    "sub",
    "tijdstip",
    "uitzonderingen",
]

ERR_FORMAT = "10001 - Fout formaat in de vraag"
ERR_SIGNATURE = "ERR_025: Verification Failure"
GATEWAY_ID = "vip.vlaanderen.be"
GATEWAY_NAME = "MagdaGateway"


def _brussels() -> tzinfo:
    # MAGDA stamps local Belgian time; fall back to UTC on a machine without tz data.
    try:
        return ZoneInfo("Europe/Brussels")
    except ZoneInfoNotFoundError:
        return UTC


_TZ = _brussels()


def belgian_today() -> date:
    """Today's date in Belgium, as MAGDA dates what it registers."""
    return datetime.now(UTC).astimezone(_TZ).date()


@dataclass(frozen=True)
class Uitzondering:
    """One MAGDA exception (level 2 on Repliek, level 3 on Antwoord)."""

    code: str
    diagnose: str
    oorsprong: str = "MAGDA"
    type: str = "FOUT"
    omstandigheid: str | None = None
    annotaties: tuple[tuple[str, str], ...] = ()


def sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    """Append an unqualified child element, with text when given."""
    child = etree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child


def tijdstip(parent: etree._Element, now: datetime | None = None) -> etree._Element:
    """Append Tijdstip{Datum, Tijd HH:mm:ss.SSS} in Belgian local time."""
    moment = (now or datetime.now(UTC)).astimezone(_TZ)
    element = sub(parent, "Tijdstip")
    sub(element, "Datum", moment.date().isoformat())
    sub(element, "Tijd", f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}")
    return element


def reply_context(parent: etree._Element, request_context: etree._Element | None,
                  service: str, version: str) -> etree._Element:
    """Append the reply Context: ANTWOORD, from the gateway, to the request's sender."""
    context = sub(parent, "Context")
    sub(context, "Naam", service)
    sub(context, "Versie", _text(request_context, "Versie") or f"{version}.0000")
    bericht = sub(context, "Bericht")
    sub(bericht, "Type", "ANTWOORD")
    tijdstip(bericht)
    afzender = sub(bericht, "Afzender")
    sub(afzender, "Identificatie", GATEWAY_ID)
    sub(afzender, "Naam", GATEWAY_NAME)
    sub(afzender, "Referte", str(uuid.uuid4()))
    sender = None if request_context is None else request_context.find("Bericht/Afzender")
    if sender is not None:
        ontvanger = sub(bericht, "Ontvanger")
        for field in ("Identificatie", "Referte", "Hoedanigheid"):
            value = sender.findtext(field)
            if value is not None:
                sub(ontvanger, field, value)
    return context


def uitzonderingen(parent: etree._Element, items: list[Uitzondering]) -> etree._Element:
    """Append Uitzonderingen with one Uitzondering per item."""
    container = sub(parent, "Uitzonderingen")
    for item in items:
        element = sub(container, "Uitzondering")
        sub(element, "Identificatie", item.code)
        sub(element, "Oorsprong", item.oorsprong)
        sub(element, "Type", item.type)
        tijdstip(element)
        sub(element, "Diagnose", item.diagnose)
        if item.omstandigheid is not None:
            sub(element, "Omstandigheid", item.omstandigheid)
        if item.annotaties:
            annotaties = sub(element, "Annotaties")
            for naam, waarde in item.annotaties:
                annotatie = sub(annotaties, "Annotatie")
                sub(annotatie, "Naam", naam)
                sub(annotatie, "Waarde", waarde)
    return container


def envelope(payload: etree._Element) -> etree._Element:
    """A SOAP 1.1 envelope with an empty Header (room for wsse:Security) around ``payload``."""
    root = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soapenv": SOAP11_NS})
    sub(root, f"{{{SOAP11_NS}}}Header")
    sub(root, f"{{{SOAP11_NS}}}Body").append(payload)
    return root


def envelope_bytes(payload: etree._Element) -> bytes:
    """Wrap a body element in a SOAP 1.1 envelope and serialise it as UTF-8."""
    return bytes(etree.tostring(envelope(payload), xml_declaration=True, encoding="UTF-8"))


def fault_bytes(faultstring: str, *, faultcode: str = "Client", detail: str | None = None) -> bytes:
    """A SOAP 1.1 Fault envelope; ``faultcode`` is Client or Server."""
    fault = etree.Element(f"{{{SOAP11_NS}}}Fault", nsmap={"soapenv": SOAP11_NS})
    sub(fault, "faultcode", f"soapenv:{faultcode}")
    sub(fault, "faultstring", faultstring)
    if detail is not None:
        sub(sub(fault, "detail"), "Omschrijving", detail)
    return envelope_bytes(fault)


def _text(element: etree._Element | None, path: str) -> str | None:
    return None if element is None else element.findtext(path)
