"""MTOM/XOP replies: the SOAP envelope as the root MIME part, each document as a binary part.

The HTTP reply is ``multipart/related; type="application/xop+xml";
start="<root.message@loket-sim>"; start-info="text/xml"; boundary="…"``. The root part is
``application/xop+xml; charset=UTF-8; type="text/xml"``; each attachment part carries
``Content-Type``, ``Content-Transfer-Encoding: binary`` and ``Content-ID: <…>``, and its element
in the envelope holds ``<xop:Include href="cid:…"/>``.

A reply signature covers the envelope with the documents inline as base64 (the XOP infoset, as
WS-Security with MTOM prescribes): a verifier first puts the attachment bytes back, exactly.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from lxml import etree

__all__ = ["ROOT_CONTENT_ID", "XOP_NS", "Attachment", "externalise", "multipart_related"]

XOP_NS = "http://www.w3.org/2004/08/xop/include"
ROOT_CONTENT_ID = "root.message@loket-sim"
_CRLF = b"\r\n"


@dataclass(frozen=True)
class Attachment:
    """One binary part and the element in the envelope that refers to it."""

    element: etree._Element
    content_id: str
    content_type: str
    data: bytes


def externalise(attachments: Sequence[Attachment], _envelope: etree._Element) -> None:
    """Replace each attachment's inline base64 by an ``xop:Include`` (after signing)."""
    for attachment in attachments:
        children = [c for c in attachment.element if isinstance(c.tag, str)]
        if children:
            children[-1].tail = None
        else:
            attachment.element.text = None
        include = etree.SubElement(attachment.element, f"{{{XOP_NS}}}Include",
                                   nsmap={"xop": XOP_NS})
        # RFC 2392: a cid URL is the Content-ID without brackets, URL-encoded.
        include.set("href", "cid:" + quote(attachment.content_id, safe="@.-_~"))


def multipart_related(root: bytes, attachments: Sequence[Attachment]) -> tuple[bytes, str]:
    """The multipart body and its Content-Type header value."""
    boundary = f"MIMEBoundary_{uuid.uuid4().hex}"
    parts = [_part(root, (
        'Content-Type: application/xop+xml; charset=UTF-8; type="text/xml"',
        "Content-Transfer-Encoding: binary",
        f"Content-ID: <{ROOT_CONTENT_ID}>",
    ), boundary)]
    for attachment in attachments:
        parts.append(_part(attachment.data, (
            f"Content-Type: {attachment.content_type}",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: <{attachment.content_id}>",
        ), boundary))
    body = b"".join(parts) + f"--{boundary}--".encode() + _CRLF
    content_type = (
        'multipart/related; type="application/xop+xml"; '
        f'start="<{ROOT_CONTENT_ID}>"; start-info="text/xml"; boundary="{boundary}"'
    )
    return body, content_type


def _part(data: bytes, headers: tuple[str, ...], boundary: str) -> bytes:
    head = _CRLF.join([f"--{boundary}".encode(), *(h.encode("ascii") for h in headers)])
    return head + _CRLF + _CRLF + data + _CRLF
