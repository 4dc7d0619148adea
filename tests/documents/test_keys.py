"""Signing identities: PEM and PKCS#12, passwords from a file or the environment, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from hub.devpki import KeyPair, generate_self_signed
from hub.documents.keys import SigningKeySpec, load_signing_identity
from hub.errors import ConfigurationError
from tests.documents.factories import ISSUED, write_pair

SECRET = "correct horse battery staple"


def _pkcs12(pair: KeyPair, path: Path, password: str) -> Path:
    key = serialization.load_pem_private_key(pair.key.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(pair.cert.read_bytes())
    data = pkcs12.serialize_key_and_certificates(
        b"gent", key, cert, None,  # type: ignore[arg-type]
        serialization.BestAvailableEncryption(password.encode()),
    )
    path.write_bytes(data)
    return path


def test_pem_pair_loads_with_its_facts(gent_pair: KeyPair) -> None:
    identity = load_signing_identity(SigningKeySpec(key=gent_pair.key, cert=gent_pair.cert),
                                     now=ISSUED)
    assert identity.subject.startswith("CN=Stad Gent document signing")
    assert identity.not_after > ISSUED + dt.timedelta(days=800)
    assert len(identity.fingerprint_sha256.split(":")) == 32
    assert not identity.expires_within(30, ISSUED)


def test_pkcs12_with_password_file(gent_pair: KeyPair, tmp_path: Path) -> None:
    bundle = _pkcs12(gent_pair, tmp_path / "gent.p12", SECRET)
    password = tmp_path / "password"
    password.write_text(SECRET + "\n")  # as `echo` writes it
    spec = SigningKeySpec(pkcs12=bundle, password_file=password)
    identity = load_signing_identity(spec, now=ISSUED)
    assert identity.certificate == x509.load_pem_x509_certificate(gent_pair.cert.read_bytes())
    # The password is nowhere in what could reach a log.
    assert SECRET not in repr(identity) and SECRET not in repr(spec)


def test_encrypted_pem_key_with_password_file(gent_pair: KeyPair, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(gent_pair.key.read_bytes(), password=None)
    encrypted = tmp_path / "gent.key"
    encrypted.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(SECRET.encode()),
    ))
    password = tmp_path / "password"
    password.write_text(SECRET)
    spec = SigningKeySpec(key=str(encrypted), cert=str(gent_pair.cert),  # type: ignore[arg-type]
                          password_file=str(password))  # type: ignore[arg-type]
    assert load_signing_identity(spec, now=ISSUED).subject.startswith("CN=Stad Gent")
    with pytest.raises(ConfigurationError, match="wrong or missing password"):
        load_signing_identity(SigningKeySpec(key=encrypted, cert=gent_pair.cert), now=ISSUED)


def test_pkcs12_with_password_from_environment(
    gent_pair: KeyPair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = _pkcs12(gent_pair, tmp_path / "gent.p12", SECRET)
    monkeypatch.setenv("LOKET_TEST_GENT_P12_PASSWORD", SECRET)
    spec = SigningKeySpec(pkcs12=bundle, password_env="LOKET_TEST_GENT_P12_PASSWORD")
    assert load_signing_identity(spec, now=ISSUED).subject.startswith("CN=Stad Gent")


def test_wrong_password_is_refused(gent_pair: KeyPair, tmp_path: Path) -> None:
    bundle = _pkcs12(gent_pair, tmp_path / "gent.p12", SECRET)
    password = tmp_path / "password"
    password.write_text("not it")
    with pytest.raises(ConfigurationError, match="wrong password") as caught:
        load_signing_identity(SigningKeySpec(pkcs12=bundle, password_file=password), now=ISSUED)
    assert "not it" not in str(caught.value)


def test_unset_password_variable_is_named(gent_pair: KeyPair, tmp_path: Path) -> None:
    bundle = _pkcs12(gent_pair, tmp_path / "gent.p12", SECRET)
    spec = SigningKeySpec(pkcs12=bundle, password_env="LOKET_TEST_NOT_SET_ANYWHERE")
    with pytest.raises(ConfigurationError, match="LOKET_TEST_NOT_SET_ANYWHERE"):
        load_signing_identity(spec, now=ISSUED)


def test_key_and_certificate_that_do_not_belong_together(
    gent_pair: KeyPair, tmp_path: Path
) -> None:
    other = generate_self_signed(tmp_path, "other", "someone else")
    with pytest.raises(ConfigurationError, match="do not belong together"):
        load_signing_identity(SigningKeySpec(key=gent_pair.key, cert=other.cert), now=ISSUED)


def test_missing_key_file_is_a_clear_start_up_error(tmp_path: Path) -> None:
    spec = SigningKeySpec(key=tmp_path / "leuven.key", cert=tmp_path / "leuven.crt")
    with pytest.raises(ConfigurationError, match=r"cannot read the signing key .*leuven\.key"):
        load_signing_identity(spec, now=ISSUED)


def test_a_spec_without_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="either pkcs12, or both key and cert"):
        load_signing_identity(SigningKeySpec(), now=ISSUED)


def test_expired_certificate_is_refused(tmp_path: Path) -> None:
    pair = write_pair(tmp_path, "expired", not_before=ISSUED - dt.timedelta(days=400),
                      not_after=ISSUED - dt.timedelta(days=1))
    with pytest.raises(ConfigurationError, match="expired on"):
        load_signing_identity(SigningKeySpec(key=pair.key, cert=pair.cert), now=ISSUED)


def test_not_yet_valid_certificate_is_refused(tmp_path: Path) -> None:
    pair = write_pair(tmp_path, "future", not_before=ISSUED + dt.timedelta(days=1),
                      not_after=ISSUED + dt.timedelta(days=400))
    with pytest.raises(ConfigurationError, match="not valid before"):
        load_signing_identity(SigningKeySpec(key=pair.key, cert=pair.cert), now=ISSUED)


def test_certificate_expiring_within_30_days_is_reported(tmp_path: Path) -> None:
    pair = write_pair(tmp_path, "soon", not_before=ISSUED - dt.timedelta(days=300),
                      not_after=ISSUED + dt.timedelta(days=20))
    identity = load_signing_identity(SigningKeySpec(key=pair.key, cert=pair.cert), now=ISSUED)
    assert identity.expires_within(30, ISSUED)
    assert not identity.expires_within(10, ISSUED)
