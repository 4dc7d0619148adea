"""Issue-5 wiring: which key signs for which tenant, start-up refusals, `loket-hub verify`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.population.catalogue import load_catalogue
from hub.app import signing_identities
from hub.config import REPO_ROOT, SigningSettings, load_settings, load_tenants
from hub.devpki import KeyPair, generate_self_signed
from hub.documents.pool import DocumentWorkers
from hub.errors import ConfigurationError
from hub.ports import CertificateModel

TENANTS = load_tenants(REPO_ROOT / "mappings/tenants")
# The shipped tenants without their own [signing] table: they sign with the default identity.
BARE = {slug: dataclasses.replace(t, signing=SigningSettings()) for slug, t in TENANTS.items()}


def test_a_tenant_without_a_key_is_a_clear_start_up_error() -> None:
    settings = load_settings(environ={})
    settings = dataclasses.replace(
        settings, documents=dataclasses.replace(settings.documents, signing=SigningSettings())
    )
    with pytest.raises(ConfigurationError) as info:
        signing_identities(settings, BARE)
    assert "antwerpen, gent, leuven" in info.value.message
    assert "[signing]" in info.value.message


def test_a_tenant_with_its_own_key_signs_with_it(tmp_path: Path) -> None:
    own = generate_self_signed(tmp_path, "gent-docs", "Stad Gent document signing")
    tenants = dict(BARE)
    tenants["gent"] = dataclasses.replace(
        tenants["gent"], signing=SigningSettings(key=str(own.key), cert=str(own.cert))
    )
    specs, refs = signing_identities(load_settings(environ={}), tenants)
    assert refs == {"gent": "gent", "leuven": "default", "antwerpen": "default"}
    assert specs["gent"].cert == own.cert


def test_every_shipped_tenant_signs_long_term_with_its_own_certificate() -> None:
    specs, refs = signing_identities(load_settings(environ={}), TENANTS)
    assert refs == {slug: slug for slug in TENANTS}
    for slug, spec in specs.items():
        assert spec.cert is not None and spec.cert.name == f"signing-{slug}.crt"
        assert spec.long_term.level in ("B-LT", "B-LTA") and not spec.long_term.problems()
    assert specs["antwerpen"].long_term.level == "B-LTA"


def test_an_unusable_key_stops_the_pool_at_start(tmp_path: Path, pki: dict[str, KeyPair]) -> None:
    other = generate_self_signed(tmp_path, "other", "mismatch")
    specs, _ = signing_identities(load_settings(environ={}), BARE)
    broken = dataclasses.replace(specs["default"], key=other.key, cert=pki["document-signing"].cert)
    with pytest.raises(ConfigurationError, match="default"):
        DocumentWorkers(1, {"default": broken}, mode="thread")


async def test_loket_hub_verify_says_who_signed_and_when(
    tmp_path: Path, pki: dict[str, KeyPair]
) -> None:
    specs, _ = signing_identities(load_settings(environ={}), BARE)
    pair = pki["document-signing"]
    spec = dataclasses.replace(specs["default"], key=pair.key, cert=pair.cert)
    workers = DocumentWorkers(1, {"default": spec}, mode="thread")
    model = CertificateModel(
        kind="proof-of-life", title=load_catalogue()["proof-of-life"].title("nl"),
        language="nl", subject_identifier="85073003328",
        facts={"Person": {"Insz": "85073003328", "LastName": "Peeters"}, "Alive": "true"},
    )
    # Issued now: the development certificate is made at run time, valid from a few minutes ago,
    # and `verify` checks the signature at the document's signing time.
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    xml, pdf = await workers.render_and_sign(model, TENANTS["gent"], "job-1", "ref-1", issued,
                                             "default")
    workers.close()
    for name, content in (("c.xml", xml), ("c.pdf", pdf)):
        path = tmp_path / name
        path.write_bytes(content)
        done = subprocess.run(
            [sys.executable, "-m", "hub.cli", "verify", str(path), "--trust", str(pair.cert)],
            capture_output=True, text=True, check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "VALID" in done.stdout
        assert "loket-hub dev document signing" in done.stdout
        assert issued.date().isoformat() in done.stdout
        tampered = bytearray(content)
        # XML: a fact; PDF (compressed text): a byte well inside the signed range.
        where = content.find(b"Peeters") if name.endswith(".xml") else len(content) // 3
        tampered[where] ^= 0x01
        path.write_bytes(bytes(tampered))
        done = subprocess.run(
            [sys.executable, "-m", "hub.cli", "verify", str(path), "--trust", str(pair.cert)],
            capture_output=True, text=True, check=False,
        )
        assert done.returncode == 1
        assert "INVALID" in done.stdout


def test_loket_hub_verify_trusts_a_pkcs12_tenant_and_a_tenants_ca(
    tmp_path: Path, pki: dict[str, KeyPair], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --trust: every configured identity, PKCS#12 ones too, and the CA roots."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from hub.cli import main
    from hub.documents.keys import SigningKeySpec, load_signing_identity
    from hub.documents.render import render_certificate_xml
    from hub.documents.xades import XadesSigner
    from tests.documents.factories import GENT, model

    pair = generate_self_signed(tmp_path, "leuven-docs", "Stad Leuven document signing")
    bundle, password = tmp_path / "leuven.p12", tmp_path / "leuven.pass"
    password.write_text("s3cret\n")
    bundle.write_bytes(pkcs12.serialize_key_and_certificates(
        b"leuven",
        serialization.load_pem_private_key(pair.key.read_bytes(), None),  # type: ignore[arg-type]
        x509.load_pem_x509_certificate(pair.cert.read_bytes()), None,
        serialization.BestAvailableEncryption(b"s3cret")))
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    for slug in ("gent", "antwerpen"):  # CA-issued identities, trusted through their root
        (tenants / f"{slug}.toml").write_text(
            (REPO_ROOT / f"mappings/tenants/{slug}.toml").read_text(encoding="utf-8"))
    (tenants / "leuven.toml").write_text(
        'name = "Stad Leuven"\nnis_code = "24062"\n'
        'connector_urn = "urn://leuven.be/cs-connector/loket-hub"\n'
        f'[signing]\npkcs12 = "{bundle}"\npassword_file = "{password}"\n'
        '[magda]\nhoedanigheid = "1300"\n')
    config = tmp_path / "loket.toml"
    config.write_text(f'tenants_dir = "{tenants}"\n')
    issued = dt.datetime.now(dt.UTC).replace(microsecond=0)
    identity = load_signing_identity(SigningKeySpec(pkcs12=bundle, password_file=password),
                                     now=issued)
    xml = tmp_path / "c.xml"
    root = render_certificate_xml(model("household-composition"), tenant=GENT,
                                  reference="job-1", backend_reference=None, issued_at=issued)
    xml.write_bytes(XadesSigner(identity).sign(root, signing_time=issued))
    assert main(["--config", str(config), "verify", str(xml)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("VALID XML signature") and "Stad Leuven" in out and "level: B-B" in out
    stranger = generate_self_signed(tmp_path, "stranger", "Stad Leuven document signing")
    assert main(["--config", str(config), "verify", str(xml), "--trust", str(stranger.cert)]) == 1
