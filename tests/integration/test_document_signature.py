"""Certificate XML signed by the hub, checked by the independent xmlsec1 command-line tool."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.config import TenantSettings
from hub.devpki import KeyPair
from hub.documents.render import render_certificate_xml
from hub.documents.xml_signature import XmlDocumentSigner
from hub.errors import ConfigurationError, SignatureError
from hub.ports import CertificateModel

pytestmark = pytest.mark.skipif(shutil.which("xmlsec1") is None, reason="xmlsec1 not installed")

TENANT = TenantSettings("gent", "Stad Gent", "44021", "urn://gent.be/cs-connector/loket-hub")


def _signed(pair: KeyPair) -> bytes:
    model = CertificateModel(
        kind="household-composition",
        title="Samenstelling van het gezin",
        language="nl",
        subject_identifier="85073003328",
        facts={"Household": {"MemberCount": 2, "Member": [{"LastName": "Peeters"},
                                                          {"LastName": "Janssens"}]}},
    )
    root = render_certificate_xml(
        model, tenant=TENANT, reference="job-1", backend_reference="ref-1",
        issued_at=dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC),
    )
    return XmlDocumentSigner(pair.key, pair.cert).sign(root)


def _xmlsec1(path: Path, cert: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xmlsec1", "--verify", "--trusted-pem", str(cert), str(path)],
        capture_output=True, text=True, check=False,
    )


def test_signed_certificate_verifies_with_xmlsec1(pki: dict[str, KeyPair], tmp_path: Path) -> None:
    pair = pki["document-signing"]
    path = tmp_path / "certificate.xml"
    path.write_bytes(_signed(pair))
    done = _xmlsec1(path, pair.cert)
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stderr


def test_one_changed_byte_breaks_the_signature(pki: dict[str, KeyPair], tmp_path: Path) -> None:
    pair = pki["document-signing"]
    document = _signed(pair)
    tampered = document.replace(b"Janssens", b"Janssent", 1)
    assert tampered != document
    path = tmp_path / "tampered.xml"
    path.write_bytes(tampered)
    assert _xmlsec1(path, pair.cert).returncode != 0
    with pytest.raises(SignatureError):
        XmlDocumentSigner(pair.key, pair.cert).verify(tampered)


def test_another_certificate_is_not_trusted(
    pki: dict[str, KeyPair], untrusted_pair: KeyPair, tmp_path: Path
) -> None:
    path = tmp_path / "certificate.xml"
    path.write_bytes(_signed(untrusted_pair))
    assert _xmlsec1(path, pki["document-signing"].cert).returncode != 0


def test_missing_key_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        XmlDocumentSigner(tmp_path / "none.key", tmp_path / "none.crt")
