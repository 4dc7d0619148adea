"""WS-Security verification of zeep BinarySignature envelopes, and the hardened parser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lxml import etree

from hub.devpki import KeyPair
from simulators.wssecurity import (
    SignatureVerificationError,
    SignatureVerifier,
    UnsafeXMLError,
    load_trusted_certificates,
    parse_untrusted_xml,
)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"
INSZ = "85673003360"


@pytest.fixture(scope="module")
def verifier(pki: dict[str, KeyPair]) -> SignatureVerifier:
    return SignatureVerifier.from_files([pki["trusted"].cert])


def _refusal(verifier: SignatureVerifier, document: bytes) -> str:
    with pytest.raises(SignatureVerificationError) as caught:
        verifier.verify(parse_untrusted_xml(document))
    return caught.value.reason


def test_a_hub_signature_verifies(
    verifier: SignatureVerifier, build_request: Callable[..., bytes], pki: dict[str, KeyPair]
) -> None:
    envelope = parse_untrusted_xml(build_request(INSZ))
    result = verifier.verify(envelope)
    body_id = envelope.find(f"{{{SOAP_NS}}}Body").get(WSU_ID)
    assert result.signed_ids == (body_id,)
    assert result.certificate == load_trusted_certificates([pki["trusted"].cert])[0]


def test_unsigned_is_refused(
    verifier: SignatureVerifier, build_request: Callable[..., bytes]
) -> None:
    assert "Header" in _refusal(verifier, build_request(INSZ, signer=None))


def test_one_changed_byte_in_the_body_is_refused(
    verifier: SignatureVerifier, build_request: Callable[..., bytes]
) -> None:
    document = build_request(INSZ)
    tampered = document.replace(b"<INSZ>85673003360<", b"<INSZ>85673003361<")
    assert len(tampered) == len(document) and tampered != document
    assert "does not verify" in _refusal(verifier, tampered)


def test_an_untrusted_certificate_is_refused(
    verifier: SignatureVerifier, build_request: Callable[..., bytes]
) -> None:
    assert "not trusted" in _refusal(verifier, build_request(INSZ, signer="untrusted"))


def test_a_signature_that_does_not_cover_the_body_is_refused(
    verifier: SignatureVerifier, build_request: Callable[..., bytes]
) -> None:
    envelope = parse_untrusted_xml(build_request(INSZ))
    body = envelope.find(f"{{{SOAP_NS}}}Body")
    body.set(WSU_ID, "id-something-else")
    with pytest.raises(SignatureVerificationError, match="matches no wsu:Id"):
        verifier.verify(envelope)


def test_a_wrapped_body_with_a_duplicate_id_is_refused(
    verifier: SignatureVerifier, build_request: Callable[..., bytes]
) -> None:
    # Signature wrapping: keep the signed Body as a decoy, put another Body with the same id.
    envelope = parse_untrusted_xml(build_request(INSZ))
    body = envelope.find(f"{{{SOAP_NS}}}Body")
    decoy = etree.SubElement(envelope.find(f"{{{SOAP_NS}}}Header"), "Wrapper")
    decoy.append(etree.fromstring(etree.tostring(body)))
    with pytest.raises(SignatureVerificationError, match="duplicate id"):
        verifier.verify(envelope)


def test_a_wrapped_body_carrying_the_id_as_xml_id_is_refused(
    verifier: SignatureVerifier, build_request: Callable[..., bytes]
) -> None:
    # The copy carries the Body's id as xml:id, not wsu:Id: libxml2 then sees the id twice.
    envelope = parse_untrusted_xml(build_request(INSZ))
    body = envelope.find(f"{{{SOAP_NS}}}Body")
    decoy = etree.SubElement(envelope.find(f"{{{SOAP_NS}}}Header"), "Wrapper")
    copy = etree.fromstring(etree.tostring(body))
    copy.set("{http://www.w3.org/XML/1998/namespace}id", body.get(WSU_ID))
    del copy.attrib[WSU_ID]
    decoy.append(copy)
    with pytest.raises(SignatureVerificationError, match="duplicate id"):
        verifier.verify(envelope)


def test_a_token_without_certificate_bytes_is_refused(
    verifier: SignatureVerifier, build_request: Callable[..., bytes]
) -> None:
    envelope = parse_untrusted_xml(build_request(INSZ))
    token = envelope.find(".//{*}BinarySecurityToken")
    token.text = "not base64!"
    with pytest.raises(SignatureVerificationError, match="base64"):
        verifier.verify(envelope)


def test_no_trusted_certificates_means_nothing_verifies(
    build_request: Callable[..., bytes],
) -> None:
    assert "not trusted" in _refusal(SignatureVerifier([]), build_request(INSZ))


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
        b'<!DOCTYPE a SYSTEM "http://example.invalid/a.dtd"><a/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'.encode(
            "utf-16"
        ),
        b"<a><b></a>",
        b"",
    ],
    ids=["internal-entity", "external-dtd", "utf16-doctype", "not-well-formed", "empty"],
)
def test_the_parser_refuses_doctypes_and_broken_xml(document: bytes) -> None:
    with pytest.raises(UnsafeXMLError):
        parse_untrusted_xml(document)


def test_the_parser_refuses_oversized_documents() -> None:
    with pytest.raises(UnsafeXMLError, match="larger"):
        parse_untrusted_xml(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
