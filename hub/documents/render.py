"""Render a :class:`~hub.ports.CertificateModel` to certificate XML (namespace below).

The output is deterministic for the same model and issue time, so a document differs from
another of the same facts only in its signature and dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from lxml import etree

from hub.config import TenantSettings
from hub.ports import CertificateModel

__all__ = ["AVAILABILITY", "CERTIFICATE_NS", "render_certificate_xml"]

CERTIFICATE_NS = "urn:loket-hub:certificate:v1"
# Delivered documents stay downloadable from the personal page for three months.
AVAILABILITY = dt.timedelta(days=92)


def _q(name: str) -> str:
    return f"{{{CERTIFICATE_NS}}}{name}"


def _append(parent: etree._Element, name: str, value: Any) -> None:
    if isinstance(value, Mapping):
        element = etree.SubElement(parent, _q(name))
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, list | tuple):
        for item in value:
            _append(parent, name, item)
    elif value is not None:
        element = etree.SubElement(parent, _q(name))
        element.text = value.isoformat() if isinstance(value, dt.date) else str(value)


def render_certificate_xml(
    model: CertificateModel,
    *,
    tenant: TenantSettings,
    reference: str,
    backend_reference: str | None,
    issued_at: dt.datetime,
) -> etree._Element:
    """Build the unsigned certificate element tree."""
    root = etree.Element(_q("Certificate"), nsmap={None: CERTIFICATE_NS})
    _append(root, "Kind", model.kind)
    _append(root, "Title", model.title)
    _append(root, "Language", model.language)
    _append(root, "Issuer", {"Name": tenant.name, "NisCode": tenant.nis_code})
    _append(root, "Reference", reference)
    _append(root, "BackendReference", backend_reference)
    _append(root, "IssuedAt", issued_at.isoformat(timespec="seconds"))
    _append(root, "AvailableUntil", (issued_at + AVAILABILITY).date())
    _append(root, "Subject", {"Identifier": model.subject_identifier})
    _append(root, "Facts", model.facts)
    return root
