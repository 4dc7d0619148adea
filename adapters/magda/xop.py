"""MTOM/XOP: a reply as ``multipart/related`` whose root part is the SOAP envelope and whose
other parts are binary attachments, referenced from the XML by ``xop:Include href="cid:…"``.

The criminal record sends its PDF this way. Attachments are kept as bytes beside the XML rather
than inlined as base64, so a multi-megabyte PDF never becomes one huge text node.
"""

from __future__ import annotations

import base64
import binascii
from email.message import Message
from urllib.parse import unquote

from lxml import etree
from requests_toolbelt.multipart.decoder import MultipartDecoder, NonMultipartContentTypeException

from hub.errors import BackendError, MappingError

__all__ = ["XOP_NS", "document_bytes", "is_multipart", "unpack"]

XOP_NS = "http://www.w3.org/2004/08/xop/include"


def is_multipart(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "multipart/related"


def _param(content_type: str, name: str) -> str | None:
    header = Message()
    header["Content-Type"] = content_type
    value = header.get_param(name)
    return value if isinstance(value, str) else None


def _cid(value: str) -> str:
    return unquote(value.strip().removeprefix("cid:").strip("<>"))


def unpack(content: bytes, content_type: str) -> tuple[bytes, dict[str, bytes]]:
    """The root part (the envelope) and the attachments keyed by Content-ID (no angle brackets)."""
    try:
        decoder = MultipartDecoder(content, content_type)
    except (NonMultipartContentTypeException, ValueError) as exc:
        raise BackendError(f"unreadable multipart answer: {exc}",
                           code="BACKEND_ANSWER_UNREADABLE") from exc
    start = _param(content_type, "start")
    root: bytes | None = None
    attachments: dict[str, bytes] = {}
    for index, part in enumerate(decoder.parts):
        raw_id = part.headers.get(b"Content-ID", b"").decode("ascii", "replace")
        content_id = _cid(raw_id) if raw_id else ""
        is_root = (start is not None and content_id == _cid(start)) or (
            start is None and index == 0
        )
        if is_root:
            root = part.content
        elif content_id:
            attachments[content_id] = part.content
    if root is None:
        raise BackendError("multipart answer without its root part",
                           code="BACKEND_ANSWER_UNREADABLE")
    return root, attachments


def document_bytes(element: etree._Element | None, attachments: dict[str, bytes]) -> bytes:
    """The bytes of a ``base64Binary`` element: an XOP attachment, or inline base64."""
    if element is None:
        raise MappingError("answer has no Document")
    include = element.find(f"{{{XOP_NS}}}Include")
    if include is not None:
        content_id = _cid(include.get("href", ""))
        if content_id not in attachments:
            raise MappingError(f"answer refers to a missing attachment {content_id!r}")
        return attachments[content_id]
    try:
        # xs:base64Binary may be wrapped over lines; anything else is not base64.
        return base64.b64decode("".join((element.text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MappingError("answer Document is not valid base64") from exc
