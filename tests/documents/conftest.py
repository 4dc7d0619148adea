"""Fixtures for the document tests: one tenant's signing identity, loaded once."""

from __future__ import annotations

import pytest

from hub.devpki import KeyPair, generate_self_signed
from hub.documents.keys import SigningIdentity, SigningKeySpec, load_signing_identity
from tests.documents.factories import ISSUED


@pytest.fixture(scope="session")
def gent_pair(tmp_path_factory: pytest.TempPathFactory) -> KeyPair:
    return generate_self_signed(
        tmp_path_factory.mktemp("gent"), "gent-documents", "Stad Gent document signing"
    )


@pytest.fixture(scope="session")
def gent_spec(gent_pair: KeyPair) -> SigningKeySpec:
    return SigningKeySpec(key=gent_pair.key, cert=gent_pair.cert)


@pytest.fixture(scope="session")
def gent_identity(gent_spec: SigningKeySpec) -> SigningIdentity:
    return load_signing_identity(gent_spec, now=ISSUED)
