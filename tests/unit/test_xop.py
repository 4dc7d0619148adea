"""XOP decoding for reply signatures: what ``reassemble`` puts back, and what it refuses."""

from __future__ import annotations

import base64

import pytest
from lxml import etree

from adapters.magda.xop import XOP_NS, XopError, reassemble, unpack
from hub.errors import BackendError

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 3


def _envelope(document: str) -> etree._Element:
    return etree.fromstring(
        f'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:xop="{XOP_NS}"><e:Body><A><Document>{document}</Document></A></e:Body>'
        f"</e:Envelope>"
    )


def test_an_include_becomes_the_canonical_base64_of_its_part() -> None:
    envelope = _envelope('<xop:Include href="cid:pdf%40loket"/>')
    decoded = reassemble(envelope, {"pdf@loket": PDF})
    document = decoded.find(".//Document")
    assert document is not None and len(document) == 0
    # One line, no whitespace: xs:base64Binary's canonical form, as the sender signed it.
    assert document.text == base64.b64encode(PDF).decode("ascii")
    assert "\n" not in (document.text or "")
    # The envelope the mapping reads keeps its Include (no huge text node there).
    assert envelope.find(f".//Document/{{{XOP_NS}}}Include") is not None


def test_an_envelope_without_includes_is_returned_as_it_is() -> None:
    envelope = _envelope("QUJD")
    assert reassemble(envelope, {}) is envelope


def test_whitespace_around_an_include_is_dropped() -> None:
    decoded = reassemble(_envelope('\n  <xop:Include href="cid:a"/>\n'), {"a": b"abc"})
    assert decoded.findtext(".//Document") == "YWJj"


def test_an_include_after_a_name_decodes_where_it_stood() -> None:
    # MAGDA's criminal-record BestandType: Naam, then the xop:Include.
    decoded = reassemble(_envelope('<Naam>u.pdf</Naam><xop:Include href="cid:a"/>'), {"a": b"abc"})
    document = decoded.find(".//Document")
    assert document is not None
    assert (document.text, document.findtext("Naam"), document[0].tail) == (None, "u.pdf", "YWJj")


@pytest.mark.parametrize(
    ("document", "parts", "problem"),
    [
        ('<xop:Include href="cid:a"/>', {}, "missing part"),
        ('<xop:Include href="http://example.org/a"/>', {"a": b"x"}, "non-cid"),
        ('QUJD<xop:Include href="cid:a"/>', {"a": b"x"}, "not alone"),
        ('<xop:Include href="cid:a"/><xop:Include href="cid:b"/>', {"a": b"x", "b": b"y"},
         "not alone"),
        ('<Naam>u</Naam>QUJD<xop:Include href="cid:a"/>', {"a": b"x"}, "not alone"),
    ],
)
def test_an_include_that_cannot_be_decoded_is_refused(
    document: str, parts: dict[str, bytes], problem: str
) -> None:
    with pytest.raises(XopError, match=problem):
        reassemble(_envelope(document), parts)


def test_two_parts_under_one_content_id_are_refused() -> None:
    boundary = "b"
    part = (b"--b\r\nContent-Type: application/pdf\r\nContent-ID: <a>\r\n\r\n%PDF\r\n")
    root = b'--b\r\nContent-Type: application/xop+xml\r\nContent-ID: <root>\r\n\r\n<e/>\r\n'
    body = root + part + part + b"--b--\r\n"
    content_type = f'multipart/related; type="application/xop+xml"; start="<root>"; ' \
                   f'boundary="{boundary}"'
    with pytest.raises(BackendError, match="two parts"):
        unpack(body, content_type)
