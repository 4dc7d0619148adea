"""MTOM/XOP: a reply as ``multipart/related`` whose root part is the SOAP envelope and whose
other parts are binary attachments, referenced from the XML by ``xop:Include href="cid:…"``.

The criminal record sends its PDF this way. Attachments are kept as bytes beside the XML rather
than inlined as base64, so a multi-megabyte PDF never becomes one huge text node. Only the reply
signature needs the other view, :func:`reassemble`: the XOP-decoded infoset the gateway signed.
"""

from __future__ import annotations

import base64
import binascii
import copy
from email.message import Message
from urllib.parse import unquote

from lxml import etree
from requests_toolbelt.multipart.decoder import MultipartDecoder, NonMultipartContentTypeException

from hub.errors import BackendError, MappingError

__all__ = ["XOP_NS", "XopError", "document_bytes", "is_multipart", "reassemble", "unpack"]

XOP_NS = "http://www.w3.org/2004/08/xop/include"


class XopError(ValueError):
    """An ``xop:Include`` that cannot be decoded: not a ``cid:`` reference, not alone in its
    element, or naming a part the package does not hold."""


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
            if content_id in attachments:
                # Two parts under one Content-ID: which one an xop:Include means would be a
                # guess, and the signature check and the mapping must never guess differently.
                raise BackendError(f"multipart answer with two parts {content_id!r}",
                                   code="BACKEND_ANSWER_UNREADABLE")
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


def reassemble(envelope: etree._Element, attachments: dict[str, bytes]) -> etree._Element:
    """The XOP-decoded infoset of ``envelope``: a copy with every ``xop:Include`` replaced by the
    base64 of the part it names (``envelope`` itself when it has none). Raises :class:`XopError`.

    XOP 1.0 (section 3.3, interpreting a package): each ``xop:Include`` is replaced by character
    information items holding the *canonical lexical form* of ``xs:base64Binary`` of the part's
    octets, i.e. base64 without line breaks or other whitespace; section 3.2 only lets a producer
    optimise content that is already in that form, and the ``xop:Include`` is then the element's
    only child. That is what :func:`base64.b64encode` gives, so a sender that signed the Body
    with the document inline and externalised it afterwards (as WS-Security over MTOM does)
    signed exactly the characters we put back here, and the signature verifies on the copy.
    Whitespace-only text around an Include (a pretty-printing stack) is dropped; any other
    content beside it is refused, since no decoder could say what was signed.
    """
    includes = list(envelope.iter(f"{{{XOP_NS}}}Include"))
    if not includes:
        return envelope
    decoded = copy.deepcopy(envelope)
    for include in list(decoded.iter(f"{{{XOP_NS}}}Include")):
        parent = include.getparent()
        href = include.get("href", "")
        if parent is None:
            raise XopError("an xop:Include cannot be the document element")
        # MAGDA's BestandType puts the Include after a Naam element: the decoded characters
        # then stand where the Include stood (after Naam), as the sender signed them. Text
        # beside it is still refused.
        before = include.getprevious()
        beside = (before.tail if before is not None else parent.text) or ""
        if beside.strip() or (include.tail or "").strip() or include.getnext() is not None:
            raise XopError(f"an xop:Include in {etree.QName(parent).localname} is not alone")
        if not href.strip().startswith("cid:"):
            raise XopError(f"an xop:Include with a non-cid reference {href!r}")
        content_id = _cid(href)
        if content_id not in attachments:
            raise XopError(f"an xop:Include names a missing part {content_id!r}")
        encoded = base64.b64encode(attachments[content_id]).decode("ascii")
        parent.remove(include)
        if before is not None:
            before.tail = encoded
        else:
            parent.text = encoded
    return decoded
