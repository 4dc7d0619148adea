"""XAdES-BES on certificate XML: checked by the independent xmlsec1 tool and by signxml."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import etree

from hub.devpki import KeyPair, generate_self_signed
from hub.documents.keys import SigningIdentity, SigningKeySpec, load_signing_identity
from hub.documents.render import render_certificate_xml
from hub.documents.xades import XADES_NS, XadesSigner
from hub.errors import SignatureError
from tests.documents.factories import GENT, ISSUED, model

needs_xmlsec1 = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed")
DS = "http://www.w3.org/2000/09/xmldsig#"


def _signed(identity: SigningIdentity, reference: str = "job-1") -> bytes:
    root = render_certificate_xml(
        model("household-composition"), tenant=GENT, reference=reference,
        backend_reference="magda-1", issued_at=ISSUED,
    )
    return XadesSigner(identity).sign(root, signing_time=ISSUED)


def _xmlsec1(document: bytes, cert: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "certificate.xml"
    path.write_bytes(document)
    return subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(cert),
         "--id-attr:Id", f"{XADES_NS}:SignedProperties", str(path)],
        capture_output=True, text=True, check=False,
    )


@needs_xmlsec1
def test_xmlsec1_verifies_all_three_references(
    gent_identity: SigningIdentity, gent_pair: KeyPair, tmp_path: Path
) -> None:
    done = _xmlsec1(_signed(gent_identity), gent_pair.cert, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[:2] == ["OK", "SignedInfo References (ok/all): 3/3"]


@needs_xmlsec1
def test_one_changed_byte_fails_xmlsec1_and_signxml(
    gent_identity: SigningIdentity, gent_pair: KeyPair, tmp_path: Path
) -> None:
    document = _signed(gent_identity)
    tampered = document.replace(b"Peeters", b"Peeterz", 1)
    assert len(tampered) == len(document) and tampered != document
    done = _xmlsec1(tampered, gent_pair.cert, tmp_path)
    assert done.returncode == 1
    assert "FAIL" in done.stderr.splitlines()
    with pytest.raises(SignatureError, match="Digest mismatch for reference 0"):
        XadesSigner(gent_identity).verify(tampered)


def test_a_changed_signing_time_breaks_the_signature(gent_identity: SigningIdentity) -> None:
    document = _signed(gent_identity)
    signed_time = ISSUED.isoformat(timespec="seconds").encode()
    later = (ISSUED + dt.timedelta(seconds=1)).isoformat(timespec="seconds").encode()
    changed = document.replace(b">" + signed_time + b"</xades:SigningTime>",
                               b">" + later + b"</xades:SigningTime>")
    assert changed != document
    with pytest.raises(SignatureError, match="Digest mismatch for reference 1"):
        XadesSigner(gent_identity).verify(changed)


def test_signxml_reports_signer_and_signing_time(gent_identity: SigningIdentity) -> None:
    verified = XadesSigner(gent_identity).verify(_signed(gent_identity))
    assert verified.signer_subject == gent_identity.subject
    assert verified.signing_time == ISSUED
    # What the signature covers is the certificate document itself, without the signature.
    assert verified.signed_root.tag == "{urn:loket-hub:certificate:v1}Certificate"
    assert verified.signed_root.find(f"{{{DS}}}Signature") is None


def test_signed_properties_carry_signing_time_and_certificate_digest(
    gent_identity: SigningIdentity,
) -> None:
    root = etree.fromstring(_signed(gent_identity))
    props = root.find(f".//{{{XADES_NS}}}SignedSignatureProperties")
    assert props is not None
    assert props.findtext(f"{{{XADES_NS}}}SigningTime") == ISSUED.isoformat(timespec="seconds")
    digest = props.find(f"{{{XADES_NS}}}SigningCertificateV2/{{{XADES_NS}}}Cert")
    assert digest is not None
    references = root.findall(f".//{{{DS}}}SignedInfo/{{{DS}}}Reference")
    assert [r.get("URI", "")[:1] for r in references] == ["", "#", "#"]
    for reference in references:  # every reference names exclusive C14N explicitly
        algorithms = [t.get("Algorithm") for t in reference.iter(f"{{{DS}}}Transform")]
        assert algorithms[-1] == "http://www.w3.org/2001/10/xml-exc-c14n#"


def test_another_signer_is_not_trusted(
    gent_identity: SigningIdentity, tmp_path: Path
) -> None:
    pair = generate_self_signed(tmp_path, "intruder", "Stad Gent document signing")
    intruder = load_signing_identity(SigningKeySpec(key=pair.key, cert=pair.cert), now=ISSUED)
    with pytest.raises(SignatureError):
        XadesSigner(gent_identity).verify(_signed(intruder))


def test_two_signed_documents_differ_only_inside_the_signature(
    gent_identity: SigningIdentity,
) -> None:
    first, second = _signed(gent_identity), _signed(gent_identity)
    assert first != second  # signxml's random Ids

    def without_signature(document: bytes) -> bytes:
        return re.sub(rb"<ds:Signature .*</ds:Signature>", b"", document, flags=re.S)

    assert without_signature(first) == without_signature(second)
    assert first.count(b"<ds:Signature ") == 1
