"""hub.documents.cms: the PAdES CMS assembled from DER parts is pyHanko's own, byte for byte
(RSA PKCS#1 v1.5 is deterministic, so the same digest gives the same signature)."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib

import pytest
from asn1crypto import cms, core
from cryptography import x509
from pyhanko.keys import load_private_key_from_pemder
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from hub.devca import DevCa, generate_dev_ca
from hub.documents.cms import CmsSigner, der
from hub.documents.keys import SigningIdentity, SigningKeySpec, load_signing_identity
from hub.documents.longterm import asn1_cert
from hub.documents.pdf_signature import PadesSigner

DIGEST = hashlib.sha256(b"the signed byte range of a certificate").digest()


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> DevCa:
    return generate_dev_ca(tmp_path_factory.mktemp("ca"), {"gent": "Stad Gent"})


@pytest.fixture(scope="module")
def identity(ca: DevCa) -> SigningIdentity:
    key, cert = ca.signing["gent"]
    return load_signing_identity(SigningKeySpec(key=key, cert=cert), now=dt.datetime.now(dt.UTC))


@pytest.fixture(scope="module")
def token(ca: DevCa) -> bytes:
    """A real RFC 3161 token from pyHanko's own test TSA with the CA's TSA key."""
    tsa_cert = asn1_cert(x509.load_pem_x509_certificates(ca.tsa.read_bytes())[0])
    stamper = DummyTimeStamper(tsa_cert, load_private_key_from_pemder(ca.tsa_key, None))
    made: cms.ContentInfo = asyncio.run(stamper.async_timestamp(DIGEST, "sha256"))
    encoded: bytes = made.dump()
    return encoded


class _FixedStamper(TimeStamper):
    """pyHanko's side of the comparison: always the same token, the imprint it was asked for
    kept."""

    def __init__(self, token: bytes) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token, self.asked = token, b""

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        self.asked = message_digest
        return cms.ContentInfo.load(self.token)


def _pyhanko(identity: SigningIdentity, timestamper: TimeStamper | None) -> cms.ContentInfo:
    signer = PadesSigner(identity)._signer  # pyHanko's Signer with our signed attributes
    made: cms.ContentInfo = asyncio.run(signer.async_sign(
        DIGEST, "sha256", use_pades=True, timestamper=timestamper,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=dt.datetime.now(dt.UTC))))
    return made


def _ours(identity: SigningIdentity) -> CmsSigner:
    certs = [asn1_cert(c).dump() for c in (identity.certificate, *identity.chain)]
    return CmsSigner(identity.key, certs)


def _same(ours: bytes, theirs: cms.ContentInfo) -> None:
    mine = cms.ContentInfo.load(ours)
    assert mine["content_type"].native == theirs["content_type"].native == "signed_data"
    for part in ("version", "digest_algorithms", "encap_content_info", "signer_infos"):
        assert mine["content"][part].dump() == theirs["content"][part].dump(), part
    # pyHanko keeps its certificates in a Python set: the same ones, in an order of chance.
    assert {c.dump() for c in mine["content"]["certificates"]} == {
        c.dump() for c in theirs["content"]["certificates"]}
    assert ours == mine.dump()  # and asn1crypto reads it back to the same bytes


def test_a_b_b_signature_is_pyhankos(identity: SigningIdentity) -> None:
    _same(_ours(identity).sign(DIGEST), _pyhanko(identity, None))


def test_a_time_stamped_signature_is_pyhankos_and_stamps_the_signature_value(
    identity: SigningIdentity, token: bytes
) -> None:
    asked: list[bytes] = []

    def tsa(digest: bytes) -> bytes:
        asked.append(digest)
        return token

    ours = _ours(identity).sign(DIGEST, tsa)
    stamper = _FixedStamper(token)
    _same(ours, _pyhanko(identity, stamper))
    signature = cms.ContentInfo.load(ours)["content"]["signer_infos"][0]["signature"].native
    assert asked == [hashlib.sha256(signature).digest()] == [stamper.asked]
    unsigned = cms.ContentInfo.load(ours)["content"]["signer_infos"][0]["unsigned_attrs"]
    assert unsigned[0]["type"].native == "signature_time_stamp_token"
    assert unsigned[0]["values"][0].dump() == token


def test_the_signer_and_its_ca_are_embedded_once_each_signer_first(
    identity: SigningIdentity,
) -> None:
    certificates = cms.ContentInfo.load(_ours(identity).sign(DIGEST))["content"]["certificates"]
    assert [c.chosen.dump() for c in certificates] == [
        asn1_cert(c).dump() for c in (identity.certificate, *identity.chain)]
    assert len(identity.chain) == 1  # the issuing CA: the case pyHanko used to embed twice


@pytest.mark.parametrize("size", [0, 1, 127, 128, 255, 256, 65535, 65536])
def test_der_lengths_are_asn1cryptos(size: int) -> None:
    assert der(0x04, b"x" * size) == core.OctetString(b"x" * size).dump()


def test_a_digest_that_is_not_sha256_is_refused(identity: SigningIdentity) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        _ours(identity).sign(DIGEST[:20])
